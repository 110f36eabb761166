"""How quickly the designer appears and how smoothly it reacts on a large design.

1. Time to first window: a fresh `python` process starts the app and reports when the main
   window has painted; measured side by side with a bare QMainWindow in the same kind of
   process (median of several runs each).
2. Frame times of the canvas (`frames`: 30- and 300-node residual MLPs; `canvas`: DenseNet-121
   and EfficientNet-V2-L imported and ungrouped into one flat network of 429 and 1,094 cards):
   a plain repaint, pan, zoom, a node dragged and a parameter typed in the inspector, each at
   fit-all and at 100% zoom, the designs side by side in alternating rounds. Two edits: one
   that changes the edited card's shapes (it alternates between two widths that both leave
   the next layer in error, so the cards after it keep showing "?"), and one that changes
   every card after it (it alternates between a valid width and an invalid one, so hundreds
   of cards change their shapes, problems and sizes, and their wires move). A frame is the
   work of one step plus the events it triggers (the check) plus one paint of the whole
   canvas (the one the step asked for, or a synchronous repaint where it asked for none).
   Wires whose ends moved are routed, and wire labels and cards not drawn at the time given
   their new shapes, in short slices between events (designer.canvas.wire_router,
   designer.canvas.deferred), and the panels follow an edit's report a moment after
   the canvas (designer.document.PANELS_DELAY_MS): ", panels too" and ", wires too" are the
   times until they have caught up as well; "longest turn" is the longest single pass of the
   event loop while they did (the window cannot answer meanwhile).
   `canvas` also opens each design in a fresh window: the time to build it, then the time
   until every wire is routed and the longest the event loop is late (a 5 ms timer) meanwhile.
3. Training through the panel: how late a 5 ms timer fires in the window while the `cnn`
   template trains with its live plots on screen (idle window beside it), and the training
   speed against the same run headless (the engine's worker drained by a plain loop),
   alternating the two in ABBA order so that drift in the machine's load hits both alike.
   The first epoch of each run is left out (it warms caches).
4. Live curves with many points: the time to set a loss curve (raw and smoothed, with the
   panel's one-pixel pens) and repaint its plot, and to pan and zoom it, with 10,000 and 1,000,000
   points side by side (downsampling and clip-to-view on, as in the panel).

Run: python benchmarks/gui_responsiveness.py [--runs 5] [--frames 60] [--epochs 8] [--rounds 3]
     [--sections startup,frames,canvas,training,curves] [--interactions "edit parameter,..."]
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the project's packages before this folder's scripts
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


IMPORTED_MODELS = (("densenet121", "DenseNet-121"), ("efficientnet_v2_l", "EfficientNet-V2-L"))
EDIT, EDIT_DOWNSTREAM = "edit parameter", "edit shapes after it"
INTERACTIONS = ("repaint", "pan", "zoom", "drag node", EDIT, EDIT_DOWNSTREAM)
PANELS_TOO, WIRES_TOO, LONGEST_TURN = ", panels too", ", wires too", ", longest turn"
ZOOMS = ("fit-all", "100%")
EDITED_FIELDS = ("out_channels", "out_features")  # a parameter whose change moves shapes on

FLAT_IMPORT = """
import sys
import torch
from engine import save_design
from engine.blocks.grouping import ungroup
from engine.importing import import_network
from engine.layers.block_node import BLOCK_TYPE
from engine.layout import apply_layout
from tests.torchvision_models import build, input_size

name, path = sys.argv[1], sys.argv[2]
torch.manual_seed(0)
size = input_size(name)
design = import_network(build(name).eval(), torch.randn(2, 3, size, size)).design
network = design.default_network()
while uses := [n for n in design.nodes(network) if design.node(n).type == BLOCK_TYPE]:
    for use in uses:
        ungroup(design, use)
apply_layout(design, network)
save_design(design, path)
"""


def imported_design(name: str):
    """torchvision's `name` imported and ungrouped into one flat network (every layer a card,
    as in the issue's figures); built once in a separate process (torch stays out of this
    one) and kept in the temporary folder."""
    from engine import load_design

    path = Path(tempfile.gettempdir()) / "neuralcanvas-bench" / f"{name}-flat.ncnet"
    if not path.exists():
        path.parent.mkdir(exist_ok=True)
        subprocess.run([sys.executable, "-c", FLAT_IMPORT, name, str(path)], check=True,
                       cwd=ROOT, env=platform_env(), timeout=600)
    return load_design(path)


def settle(app, document) -> None:
    """Let the events an action queued run until the canvas shows its outcome (the check it
    triggered has run)."""
    app.processEvents()
    while document._check_timer.isActive():
        app.processEvents()


def wait_until(app, done) -> float:
    """Run the event loop until `done()`, then deliver what its last pass posted (the layout
    that a panel's new text asks for): left queued, it ran inside the next frame's time. The
    longest single pass in ms."""
    longest = 0.0
    while True:
        finished = done()
        began = time.perf_counter()
        if finished:
            app.sendPostedEvents()
        else:
            app.processEvents()
        longest = max(longest, (time.perf_counter() - began) * 1000)
        if finished:
            return longest


def warm_worker() -> float:
    """Start the app's worker and wait until its warm-up is done (s): a first start shows the
    Training panel, which warms the worker, and on two cores that import competes with the
    canvas for its first seconds. The canvas rows measure the editor once it is idle."""
    from designer.training import jobs

    began = time.perf_counter()
    reply = jobs.worker(warm=True).call(len, ()).result(timeout=600)   # queued behind it
    if reply is None or reply.error is not None:
        raise SystemExit(f"the app's worker did not warm up: {reply}")
    return time.perf_counter() - began


def open_window(design):
    from designer.app import application
    from designer.document import DesignDocument
    from designer.main_window import MainWindow
    from designer.settings import AppSettings
    from engine import Design

    app = application()
    folder = Path(tempfile.mkdtemp())
    window = MainWindow(DesignDocument(Design()), AppSettings(folder / "settings.ini"), None,
                        folder / "rec")
    window.resize(1600, 1000)
    # opened as File > Open does; a copy each: a window listens to its design, and one
    # closed here must not go on checking a design another window edits
    window.show_design(design.copy(), None)
    window.show()
    app.processEvents()
    return app, window


def edited_node(design, network: str) -> tuple[str, str]:
    """The middle one of the layers with a width parameter, and that parameter."""
    candidates = [(n, field) for n in design.nodes(network) for field in EDITED_FIELDS
                  if field in design.node(n).params]
    return candidates[len(candidates) // 2]


def paint_count(widget) -> Callable[[], int]:
    """A function that says how many times `widget` has painted so far (an event filter)."""
    from PySide6.QtCore import QEvent, QObject

    class PaintCounter(QObject):
        count = 0

        def eventFilter(self, watched, event) -> bool:
            if event.type() == QEvent.Type.Paint:
                self.count += 1
            return False

    counter = PaintCounter(widget)
    widget.installEventFilter(counter)
    return lambda: counter.count


class CanvasBench:
    """One design open in a main window, its canvas driven one interaction at a time. A frame
    is the step, the events it triggers (the check, wire routing) and a synchronous repaint
    of the canvas; the panels catching up after an edit is timed on its own."""

    def __init__(self, design) -> None:
        from designer.undo_commands import MoveNodes

        self.app, self.window = open_window(design)
        document = self.document = self.window.document
        self.view = self.window.tabs.current_view()
        self.paints = paint_count(self.view.viewport())   # one counter for every frame
        self.scene = self.view.network_scene()
        self.target, field_name = edited_node(document.design, document.network)
        document.set_selection([self.target])
        self.app.processEvents()
        field = self.window.inspector.fields[field_name].editor.field
        original = document.design.node(self.target).params[field_name]
        start = document.design.node(self.target).pos
        bar, view = self.view.horizontalScrollBar(), self.view
        self.steps = {
            "repaint": lambda i: None,
            "pan": lambda i: bar.setValue(bar.value() + (40 if i % 40 < 20 else -40)),
            "zoom": lambda i: view.zoom_by(1.1 if i % 20 < 10 else 1 / 1.1),
            "drag node": lambda i: document.push(MoveNodes(
                document.design, {self.target: (start[0] + i * 3, start[1] + i)}, drag_id=1)),
            EDIT: lambda i: (field.setText(str(original + 1 + i % 2)), field.commit()),
            EDIT_DOWNSTREAM: lambda i: (field.setText(str(original + (i + 1) % 2)),
                                        field.commit()),
        }

    def show(self, zoom: str) -> None:
        """Fit everything in the view, or show the edited node at 100%."""
        from PySide6.QtCore import QPointF

        self.view.frame_all()
        if zoom == "100%":
            self.view.reset_zoom()
            self.view.centerOn(QPointF(*self.document.design.node(self.target).pos))
        self.catch_up()
        self.view.viewport().repaint()

    def catch_up(self) -> float:
        """Let the check, the panels and the wires finish; the longest pass in ms."""
        return wait_until(self.app, lambda: not (self.document._check_timer.isActive()
                                                 or self.document.panels_pending()
                                                 or self.scene.wires_pending))

    def frames(self, interaction: str, count: int) -> dict[str, list[float]]:
        """{row: frame times}: the interaction's, and after an edit or a drag the time until
        the panels (which follow the canvas) and the wires (routed between events) have
        caught up, and the longest pass of the event loop meanwhile."""
        step, repaint = self.steps[interaction], self.view.viewport().repaint
        paints = self.paints
        times: dict[str, list[float]] = {interaction: []}
        step(-1)   # untimed: the first timed step starts from the state the others leave
        self.catch_up()
        for i in range(count):
            began = time.perf_counter()
            painted = paints()
            step(i)
            settle(self.app, self.document)
            if paints() == painted:   # one paint a frame: the step's own, or this one
                repaint()
            times[interaction].append((time.perf_counter() - began) * 1000)
            followers = []   # (row suffix, caught up?)
            if interaction.startswith("edit"):
                followers.append((PANELS_TOO, lambda: not self.document.panels_pending()))
            if interaction.startswith("edit") or interaction == "drag node":
                followers.append((WIRES_TOO, lambda: not self.scene.wires_pending))
            longest = 0.0
            for suffix, caught_up in followers:
                longest = max(longest, wait_until(self.app, caught_up))
                times.setdefault(interaction + suffix, []).append(
                    (time.perf_counter() - began) * 1000)
            if followers:
                times.setdefault(interaction + LONGEST_TURN, []).append(longest)
            self.catch_up()
        return times

    def close(self) -> None:
        self.document.undo_stack.setClean()
        self.window.close()


def measure_frames(designs: dict[str, Any], frames: int, rounds: int,
                   interactions: tuple[str, ...]) -> dict[str, dict[str, list[float]]]:
    """{design label: {"interaction @ zoom": frame times}}, the designs open side by side and
    measured in alternating rounds so that drift in the machine's load hits them alike."""
    benches = {label: CanvasBench(design) for label, design in designs.items()}
    for bench in benches.values():   # each window routes its wires after opening: those of
        bench.catch_up()             # one must not run inside the other's frames
    results: dict[str, dict[str, list[float]]] = {label: {} for label in designs}
    per_round = max(1, frames // rounds)
    try:
        for index in range(rounds):
            order = list(benches) if index % 2 == 0 else list(reversed(benches))
            for label in order:
                bench = benches[label]
                for zoom in ZOOMS:
                    bench.show(zoom)
                    for interaction in interactions:
                        for row, times in bench.frames(interaction, per_round).items():
                            results[label].setdefault(f"{row} @ {zoom}", []).extend(times)
    finally:
        for bench in benches.values():
            bench.close()
    return results


# ---------------------------------------------------------------------------- training

TICK_MS = 5


class TickRecorder:
    """A 5 ms precise timer that keeps when it fired; lateness is the extra wait."""

    def __init__(self) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.times: list[float] = []
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(lambda: self.times.append(time.perf_counter()))

    def start(self) -> None:
        self.times.clear()
        self.timer.start()

    def stop(self) -> list[float]:
        """Lateness of each tick in ms."""
        self.timer.stop()
        gaps = [(b - a) * 1000 - TICK_MS for a, b in zip(self.times, self.times[1:])]
        return [max(0.0, gap) for gap in gaps]


def cnn_design(epochs: int):
    from templates import load_template

    design = load_template("cnn")
    design.set_training(epochs=epochs)
    return design


def headless_speeds(service, epochs: int, folder: Path) -> tuple[list[float], list[float]]:
    """Train with the engine alone (its events drained by a plain 50 ms timer, nothing
    drawn) while the window sits idle; (lateness of each tick in ms, epoch speeds after the
    first)."""
    from PySide6.QtCore import QEventLoop, QTimer

    run = service.start(cnn_design(epochs), out_dir=str(folder))
    events = []
    loop = QEventLoop()

    def take_events() -> None:
        events.extend(run.events())
        if run.done:
            loop.quit()

    drain = QTimer()
    drain.timeout.connect(take_events)
    drain.start(50)
    ticks = TickRecorder()
    ticks.start()
    loop.exec()
    drain.stop()
    lateness = ticks.stop()
    if run.final.kind != "finished":
        raise SystemExit(f"headless run failed: {run.final}")
    return lateness, [e.samples_per_second for e in events if e.kind == "epoch"][1:]


def gui_run(window, app) -> tuple[list[float], list[float], float]:
    """Train through the panel; (lateness of each tick in ms, epoch speeds after the first,
    CPU time of this process as a share of the wall time)."""
    from PySide6.QtCore import QEventLoop, QTimer

    panel = window.training
    ticks = TickRecorder()
    loop = QEventLoop()
    poll = QTimer()
    poll.timeout.connect(lambda: loop.quit() if panel.session.live.final else None)
    poll.start(50)
    ticks.start()
    wall, cpu = time.perf_counter(), time.process_time()
    panel.train()
    loop.exec()
    share = (time.process_time() - cpu) / (time.perf_counter() - wall)
    poll.stop()
    lateness = ticks.stop()
    final = panel.session.live.final
    if final.kind != "finished":
        raise SystemExit(f"run in the panel failed: {final}")
    app.processEvents()
    return lateness, panel.session.live.epoch_speeds[1:], share


def idle_lateness(app, seconds: float) -> list[float]:
    from PySide6.QtCore import QEventLoop, QTimer

    ticks = TickRecorder()
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    ticks.start()
    loop.exec()
    return ticks.stop()


def measure_training(epochs: int, rounds: int) -> dict[str, list[float]]:
    from designer.app import application
    from designer.document import DesignDocument
    from designer.main_window import MainWindow
    from designer.settings import AppSettings
    from engine import save_design
    from engine.training.worker import TrainingService

    app = application()
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        path = folder / "cnn.ncnet"
        save_design(cnn_design(epochs), path)
        service = TrainingService()
        window = MainWindow(DesignDocument(cnn_design(epochs), path),
                            AppSettings(folder / "settings.ini"), None, folder / "rec")
        window.training.session.use_service(service)
        window.resize(1600, 1000)
        window.show()
        window.show_training()
        app.processEvents()
        results: dict[str, list[float]] = {"idle": idle_lateness(app, 3.0), "headless": [],
                                           "training": [], "headless speed": [],
                                           "gui speed": [], "round ratios": [], "gui cpu": []}
        try:
            headless_speeds(service, 2, folder / "warm-up")   # the worker imports torch once
            for index in range(rounds):
                # ABBA order: neither kind of run always goes first into a drifting load.
                order = ("headless", "panel") if index % 2 == 0 else ("panel", "headless")
                speeds: dict[str, list[float]] = {}
                for kind in order:
                    if kind == "headless":
                        lateness, speeds[kind] = headless_speeds(service, epochs,
                                                                 folder / f"headless-{index}")
                        results["headless"] += lateness
                    else:
                        lateness, speeds[kind], share = gui_run(window, app)
                        results["training"] += lateness
                        results["gui cpu"].append(share)
                results["headless speed"] += speeds["headless"]
                results["gui speed"] += speeds["panel"]
                results["round ratios"].append(statistics.median(speeds["panel"])
                                               / statistics.median(speeds["headless"]))
        finally:
            window.document.undo_stack.setClean()
            window.close()
            service.shutdown()
    return results


def report_training(results: dict[str, list[float]], epochs: int, rounds: int) -> None:
    print(f"\nTraining the cnn template through the panel ({rounds} rounds of {epochs} epochs, "
          f"alternating with headless runs; {TICK_MS} ms timer)")
    print(f"  {'event-loop lateness':24}{'ticks':>8}{'median ms':>11}{'p99 ms':>9}{'max ms':>9}")
    for name, label in (("idle", "idle window"), ("headless", "idle, engine training"),
                        ("training", "panel drawing the run")):
        values = results[name]
        print(f"  {label:24}{len(values):>8}{statistics.median(values):>11.2f}"
              f"{percentile(values, 0.99):>9.2f}{max(values):>9.2f}")
    during = results["training"]
    p99, stall = percentile(during, 0.99), max(during)
    print(f"  targets: p99 < 30 ms {'met' if p99 < 30 else 'MISSED'}; no stall over 100 ms "
          f"{'met' if stall < 100 else 'MISSED'}")
    headless = statistics.median(results["headless speed"])
    gui = statistics.median(results["gui speed"])
    print(f"  {'training speed':24}{'epochs':>8}{'median samples/s':>18}")
    print(f"  {'headless (engine alone)':24}{len(results['headless speed']):>8}{headless:>18.0f}")
    print(f"  {'through the panel':24}{len(results['gui speed']):>8}{gui:>18.0f}")
    ratios = results["round ratios"]
    ratio = statistics.median(ratios)
    print(f"  ratio panel / headless, median of the rounds' ratios (each pair run back to back): "
          f"{ratio:.3f} (rounds: {', '.join(f'{r:.2f}' for r in ratios)}; target >= 0.9: "
          f"{'met' if ratio >= 0.9 else 'MISSED'})")
    print(f"  the window's own CPU while training through the panel: "
          f"{statistics.median(results['gui cpu']):.1%} of one core (median of runs); "
          f"load average at the end {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def report_startup(runs: int, platform: str) -> None:
    print(f"Time to first window ({runs} fresh processes each, platform: {platform})")
    app_times, torch_loaded = time_to_first_paint(FIRST_WINDOW_APP, runs)
    bare_times, _ = time_to_first_paint(FIRST_WINDOW_BARE, runs)
    app_median, bare_median = statistics.median(app_times), statistics.median(bare_times)
    print(f"  {'':28}{'median s':>10}{'min s':>8}{'max s':>8}")
    print(f"  {'NeuralCanvas (cnn template)':28}{app_median:>10.2f}{min(app_times):>8.2f}"
          f"{max(app_times):>8.2f}")
    print(f"  {'bare QMainWindow':28}{bare_median:>10.2f}{min(bare_times):>8.2f}"
          f"{max(bare_times):>8.2f}")
    print(f"  ratio app / bare: {app_median / bare_median:.2f}; torch imported at start-up: "
          f"{'YES' if torch_loaded else 'no'}; target < 2 s: "
          f"{'met' if app_median < 2 else 'MISSED'}")


def report_frames(title: str, designs: dict[str, Any], frames: int, rounds: int,
                  interactions: tuple[str, ...]) -> None:
    nodes = {label: len(design.nodes(design.default_network()))
             for label, design in designs.items()}
    results = measure_frames(designs, frames, rounds, interactions)
    print(f"\n{title}: frame times in ms ({frames} frames per interaction in {rounds} "
          f"alternating rounds; budget {FRAME_BUDGET_MS:.1f} ms at 60 Hz)")
    header = "".join(f"{f'{label} ({nodes[label]} nodes)':>34}" for label in designs)
    print(f"  {'':44}{header}")
    print(f"  {'interaction @ zoom':44}" + f"{'median':>17}{'p95':>17}" * len(designs))
    for row in next(iter(results.values())):
        cells = "".join(f"{statistics.median(results[label][row]):>17.2f}"
                        f"{percentile(results[label][row], 0.95):>17.2f}" for label in designs)
        print(f"  {row:44}{cells}")

    def worst(kept, statistic=lambda values: percentile(values, 0.95)) -> float:
        return max((statistic(values) for by_row in results.values()
                    for row, values in by_row.items() if kept(row.split(" @ ")[0])),
                   default=0.0)

    frame = worst(lambda row: ", " not in row and not row.startswith("edit"))
    edit = worst(lambda row: row in (EDIT, EDIT_DOWNSTREAM))
    turn = worst(lambda row: row.endswith(LONGEST_TURN), max)
    print(f"  worst p95: interactions {frame:.1f} ms (target < {FRAME_BUDGET_MS:.1f}: "
          f"{'met' if frame < FRAME_BUDGET_MS else 'MISSED'}); parameter edits {edit:.1f} ms "
          f"(target < 33: {'met' if edit < 33 else 'MISSED'}); longest event-loop pass "
          f"while panels and wires caught up {turn:.1f} ms (target < 50: "
          f"{'met' if turn < 50 else 'MISSED'})")


def measure_opening(designs: dict[str, Any], rounds: int) -> dict[str, dict[str, list[float]]]:
    """{design label: {"built", "routed", "late": ms per opening}}: a fresh window on the
    design (built: until it is shown), then the event loop runs until every wire is routed
    (routed: from shown) while a 5 ms timer notes how late it fires (late: the worst)."""
    from PySide6.QtCore import QEventLoop, QTimer

    results: dict[str, dict[str, list[float]]] = {
        label: {"built": [], "routed": [], "late": []} for label in designs}
    for index in range(rounds):
        for label in (list(designs) if index % 2 == 0 else list(reversed(designs))):
            began = time.perf_counter()
            app, window = open_window(designs[label])
            shown = time.perf_counter()
            router = window.tabs.current_view().network_scene().router
            loop, poll, ticks = QEventLoop(), QTimer(), TickRecorder()
            poll.timeout.connect(lambda r=router, lp=loop: lp.quit() if not r.pending else None)
            poll.start(1)
            ticks.start()
            loop.exec()
            routed = time.perf_counter()
            poll.stop()
            results[label]["built"].append((shown - began) * 1000)
            results[label]["routed"].append((routed - shown) * 1000)
            results[label]["late"].append(max(ticks.stop(), default=0.0))
            window.document.undo_stack.setClean()
            window.close()
            window.deleteLater()
            app.processEvents()
    return results


def report_opening(designs: dict[str, Any], rounds: int) -> None:
    results = measure_opening(designs, rounds)
    print(f"\nOpening each design in a fresh window ({rounds} times, alternating; ms, median "
          f"[min-max])")
    print(f"  {'design':22}{'window built':>24}{'then wires routed':>24}"
          f"{'5 ms timer late, worst':>26}")
    for label, by_kind in results.items():
        cells = "".join(f"{statistics.median(values):>12.0f} [{min(values):.0f}-{max(values):.0f}]"
                        .rjust(width) for values, width in zip(by_kind.values(), (24, 24, 26)))
        print(f"  {label:22}{cells}")
    late = max(max(by_kind["late"]) for by_kind in results.values())
    print(f"  the event loop while the wires are routed: worst lateness {late:.0f} ms (target: "
          f"no stall over 50 ms: {'met' if late < 50 else 'MISSED'})")


# ---------------------------------------------------------------------------- curves

CURVE_SIZES = (10_000, 1_000_000)
REDRAW_PERIOD_MS = 100  # the panel redraws at most this often while a run goes


def measure_curves(frames: int) -> dict[int, dict[str, list[float]]]:
    """Milliseconds per frame (update, pan, zoom) of a loss plot with each number of points."""
    import numpy as np

    from designer.app import application
    from designer.training.plots import CurvePlot, CurveStyle

    app = application()
    generator = np.random.default_rng(0)
    results: dict[int, dict[str, list[float]]] = {}
    for size in CURVE_SIZES:
        steps = np.arange(size, dtype=np.float64)
        raw = 2.3 * np.exp(-steps / (size / 5)) + 0.05 * generator.random(size)
        smooth = np.convolve(raw, np.ones(50) / 50, mode="same")
        plot = CurvePlot("Loss")
        plot.resize(900, 320)
        plot.show()
        app.processEvents()
        box = plot.getPlotItem().vb
        timings: dict[str, list[float]] = {"update": [], "pan": [], "zoom": []}

        def frame(kind: str, step) -> None:
            start = time.perf_counter()
            step()
            plot.repaint()
            app.processEvents()
            timings[kind].append((time.perf_counter() - start) * 1000)

        for index in range(frames):
            shown = size - (frames - index) * 10   # the curve grows as a live run's does
            frame("update", lambda n=shown: (
                plot.set_curve("raw", steps[:n], raw[:n], CurveStyle("#4a7dbf", 1.0, faint=True)),
                plot.set_curve("loss", steps[:n], smooth[:n], CurveStyle("#4a7dbf", 1.0), "loss")))
        for index in range(frames):
            frame("pan", lambda i=index: box.setXRange(i * size / 200, size + i * size / 200,
                                                       padding=0))
        for index in range(frames):
            frame("zoom", lambda i=index: box.setXRange(0, size * (1 - 0.9 * i / frames),
                                                        padding=0))
        plot.close()
        results[size] = timings
    return results


def report_curves(results: dict[int, dict[str, list[float]]], frames: int) -> None:
    small, large = CURVE_SIZES
    print(f"\nA loss plot (raw and smoothed curves, 900x320) with {small:,} and {large:,} "
          f"points ({frames} frames each; ms)")
    print(f"  {'frame':10}{'points':>11}{'median':>8}{'p95':>8}{'max':>8}")
    worst = 0.0
    for kind in ("update", "pan", "zoom"):
        for size in CURVE_SIZES:
            values = results[size][kind]
            worst = max(worst, percentile(values, 0.95)) if size == large else worst
            print(f"  {kind:10}{size:>11,}{statistics.median(values):>8.2f}"
                  f"{percentile(values, 0.95):>8.2f}{max(values):>8.2f}")
        ratio = statistics.median(results[large][kind]) / statistics.median(results[small][kind])
        print(f"  {'':10}{'1M/10k median ratio':>27} {ratio:.2f}")
    print(f"  worst p95 with {large:,} points: {worst:.1f} ms (target: under the "
          f"{REDRAW_PERIOD_MS} ms redraw period: {'met' if worst < REDRAW_PERIOD_MS else 'MISSED'})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="start-up runs per variant")
    parser.add_argument("--frames", type=int, default=60, help="frames per interaction")
    parser.add_argument("--epochs", type=int, default=8, help="epochs per training run")
    parser.add_argument("--rounds", type=int, default=3, help="headless/panel run pairs")
    parser.add_argument("--sections", default="startup,frames,canvas,training,curves",
                        help="comma-separated: startup, frames, canvas, training, curves")
    parser.add_argument("--interactions", default=",".join(INTERACTIONS),
                        help=f"comma-separated canvas interactions: {', '.join(INTERACTIONS)}")
    args = parser.parse_args()
    sections = set(args.sections.split(","))
    interactions = tuple(args.interactions.split(","))
    unknown = set(interactions) - set(INTERACTIONS)
    if unknown:
        parser.error(f"unknown interactions {sorted(unknown)}; known: {', '.join(INTERACTIONS)}")
    os.environ.update({k: v for k, v in platform_env().items() if k == "QT_QPA_PLATFORM"})
    platform = os.environ.get("QT_QPA_PLATFORM", "default display")

    if "startup" in sections:
        report_startup(args.runs, platform)
    if sections & {"frames", "canvas"}:
        print(f"\nThe app's worker warmed up first, before the canvas is timed: "
              f"{warm_worker():.1f} s")
    if "frames" in sections:
        report_frames("Residual MLPs", {"residual-30": large_design(30),
                                        "residual-300": large_design(300)},
                      args.frames, args.rounds, interactions)
    if "canvas" in sections:
        imported = {label: imported_design(name) for name, label in IMPORTED_MODELS}
        report_opening(imported, args.rounds)
        report_frames("Imported designs, flattened", imported, args.frames, args.rounds,
                      interactions)
    if "training" in sections:
        report_training(measure_training(args.epochs, args.rounds), args.epochs, args.rounds)
    if "curves" in sections:
        report_curves(measure_curves(args.frames), args.frames)


if __name__ == "__main__":
    main()
