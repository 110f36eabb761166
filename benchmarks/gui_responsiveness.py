"""How quickly the designer appears and how smoothly it reacts on a large design.

1. Time to first window: a fresh `python` process starts the app and reports when the main
   window has painted; measured side by side with a bare QMainWindow in the same kind of
   process (median of several runs each).
2. Frame times while a design is panned, zoomed and edited (a parameter typed in the
   inspector, a node dragged), for a 30-node and a 300-node design side by side. A frame is
   the work of one step plus the events it triggers (checking, panels) plus a synchronous
   repaint of the canvas.

Run: python benchmarks/gui_responsiveness.py [--runs 5] [--frames 60]
Uses the offscreen platform unless a display is available (e.g. under xvfb-run).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FRAME_BUDGET_MS = 1000 / 60

FIRST_WINDOW_APP = """
import sys, tempfile
from pathlib import Path
from PySide6.QtCore import QEvent, QObject
from designer.app import application, open_main_window
from designer.settings import AppSettings
from designer.theme import ThemeManager

class FirstPaint(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint:
            print("torch" if "torch" in sys.modules else "no-torch", flush=True)
            sys.exit(0)
        return False

folder = Path(tempfile.mkdtemp())
app = application()
window = open_main_window(None, AppSettings(folder / "settings.ini"), ThemeManager(app),
                          folder / "recovery")
watcher = FirstPaint()
window.installEventFilter(watcher)
window.update()
app.exec()
"""

FIRST_WINDOW_BARE = """
import sys
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QMainWindow

class FirstPaint(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint:
            print("no-torch", flush=True)
            sys.exit(0)
        return False

app = QApplication([])
window = QMainWindow()
window.resize(1400, 900)
watcher = FirstPaint()
window.installEventFilter(watcher)
window.show()
app.exec()
"""


def platform_env() -> dict[str, str]:
    env = dict(os.environ)
    if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        env["QT_QPA_PLATFORM"] = "offscreen"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def time_to_first_paint(script: str, runs: int) -> tuple[list[float], bool]:
    """Wall-clock seconds from spawning the process to its window's first paint."""
    times, torch_loaded = [], False
    with tempfile.TemporaryDirectory() as home:
        env = platform_env() | {"XDG_DATA_HOME": home, "XDG_CONFIG_HOME": home}
        for _ in range(runs):
            start = time.perf_counter()
            done = subprocess.run([sys.executable, "-c", script], check=False, cwd=ROOT, env=env,
                                  capture_output=True, text=True, timeout=120)
            elapsed = time.perf_counter() - start
            if done.returncode != 0 or not done.stdout.strip():
                raise SystemExit(f"start-up run failed:\n{done.stderr}")
            torch_loaded |= done.stdout.split()[-1] == "torch"
            times.append(elapsed)
    return times, torch_loaded


# ---------------------------------------------------------------------------- frames

def large_design(layers: int):
    """A residual MLP with `layers` nodes: blocks of Linear, ReLU and Add skip connections."""
    from engine import Design
    from engine.layout import apply_layout

    design = Design(f"residual-{layers}")
    previous = design.add("Input", shape=(64,))
    count = 1
    while count < layers - 1:
        hidden = design.add("Linear", previous, out_features=64)
        activated = design.add("ReLU", hidden)
        previous = design.add("Add", activated, previous)
        count += 3
    design.add("Output", previous)
    apply_layout(design)
    return design


def frame_times(window, app, steps, repaint) -> list[float]:
    times = []
    for step in steps:
        start = time.perf_counter()
        step()
        app.processEvents()
        repaint()
        times.append((time.perf_counter() - start) * 1000)
    return times


def measure_frames(layers: int, frames: int) -> dict[str, list[float]]:
    from PySide6.QtCore import QPointF

    from designer.app import application
    from designer.commands import MoveNodes
    from designer.document import DesignDocument
    from designer.main_window import MainWindow
    from designer.settings import AppSettings

    app = application()
    folder = Path(tempfile.mkdtemp())
    document = DesignDocument(large_design(layers))
    window = MainWindow(document, AppSettings(folder / "settings.ini"), None, folder / "rec")
    window.resize(1600, 1000)
    window.show()
    app.processEvents()
    view = window.tabs.current_view()
    view.frame_all()
    view.reset_zoom()
    app.processEvents()
    repaint = view.viewport().repaint
    bar = view.horizontalScrollBar()

    def pan(i: int):
        return lambda: bar.setValue(bar.value() + (40 if i % 40 < 20 else -40))

    def zoom(i: int):
        return lambda: view.zoom_by(1.1 if i % 20 < 10 else 1 / 1.1)

    linears = [n for n in document.design.nodes() if document.design.node(n).type == "Linear"]
    target = linears[len(linears) // 2]
    view.centerOn(QPointF(*document.design.node(target).pos))
    document.set_selection([target])
    app.processEvents()
    spin = window.inspector.fields["out_features"].editor.spin

    def type_value(i: int):
        return lambda: spin.setValue(32 + i % 64)

    start = document.design.node(target).pos

    def drag(i: int):
        return lambda: document.push(MoveNodes(document.design,
                                               {target: (start[0] + i * 3, start[1] + i)},
                                               drag_id=1))

    results = {}
    for name, make in (("pan", pan), ("zoom", zoom), ("edit parameter", type_value),
                       ("drag node", drag)):
        results[name] = frame_times(window, app, [make(i) for i in range(frames)], repaint)
    window.document.undo_stack.setClean()
    window.close()
    return results


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="start-up runs per variant")
    parser.add_argument("--frames", type=int, default=60, help="frames per interaction")
    args = parser.parse_args()
    os.environ.update({k: v for k, v in platform_env().items() if k == "QT_QPA_PLATFORM"})
    platform = os.environ.get("QT_QPA_PLATFORM", "default display")

    print(f"Time to first window ({args.runs} fresh processes each, platform: {platform})")
    app_times, torch_loaded = time_to_first_paint(FIRST_WINDOW_APP, args.runs)
    bare_times, _ = time_to_first_paint(FIRST_WINDOW_BARE, args.runs)
    app_median, bare_median = statistics.median(app_times), statistics.median(bare_times)
    print(f"  {'':28}{'median s':>10}{'min s':>8}{'max s':>8}")
    print(f"  {'NeuralCanvas (cnn template)':28}{app_median:>10.2f}{min(app_times):>8.2f}"
          f"{max(app_times):>8.2f}")
    print(f"  {'bare QMainWindow':28}{bare_median:>10.2f}{min(bare_times):>8.2f}"
          f"{max(bare_times):>8.2f}")
    print(f"  ratio app / bare: {app_median / bare_median:.2f}; torch imported at start-up: "
          f"{'YES' if torch_loaded else 'no'}; target < 2 s: "
          f"{'met' if app_median < 2 else 'MISSED'}")

    print(f"\nFrame times in ms ({args.frames} frames per interaction; budget "
          f"{FRAME_BUDGET_MS:.1f} ms at 60 Hz)")
    small, large = measure_frames(30, args.frames), measure_frames(300, args.frames)
    print(f"  {'interaction':16}{'nodes':>6}{'median':>8}{'p95':>8}{'max':>8}"
          f"{'p95/budget':>12}")
    for name in small:
        for layers, results in ((30, small), (300, large)):
            values = results[name]
            p95 = percentile(values, 0.95)
            print(f"  {name:16}{layers:>6}{statistics.median(values):>8.2f}{p95:>8.2f}"
                  f"{max(values):>8.2f}{p95 / FRAME_BUDGET_MS:>12.2f}")
        ratio = statistics.median(large[name]) / statistics.median(small[name])
        print(f"  {'':16}{'300/30 median ratio':>30} {ratio:.2f}")


if __name__ == "__main__":
    main()
