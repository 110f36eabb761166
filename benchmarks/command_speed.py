"""How long people wait: the commands, the window's start-up and the Code tab (issue 17's rows).

Rows, measured side by side in alternating rounds (even rounds in the order below, odd rounds
reversed, so drift in the machine's load hits every row alike), each in a fresh process:

- `neuralcanvas export templates/cnn.ncnet -o x.py` (goal under 1 s: code export needs no torch)
- `neuralcanvas export ... --format onnx` (goal: importing torch plus under 2 s), beside
  `python -c "import torch"` alone
- `neuralcanvas check templates/cnn.ncnet` (goal under 0.3 s)
- the window's start-up to its first paint, with the cnn template loaded as on a first start
  (goal under 0.8 s), beside a bare QMainWindow in the same kind of process
- the Code tab's first show in that running window, raised a second after the first paint:
  the time until the code is on screen (goal under 300 ms), the longest event-loop stall
  meanwhile (a precise 5 ms timer, as benchmarks/gui_responsiveness.py measures it; goal no
  stall over 50 ms, the same window idle beside it), whether torch was imported into the
  editor (goal never) and the editor's resident memory before and after.

Then, from one `python -X importtime` run of each, the heavy modules each one imports (the
cumulative milliseconds of the first import of each).

Run: python benchmarks/command_speed.py [--rounds 5] [--only startup]
(`--only` keeps the rows whose label holds one of the words given, e.g. `--only check window`;
the Code tab and import tables then appear only when their rows were measured).
Uses the offscreen platform unless a display is available (e.g. under xvfb-run).
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from gui_responsiveness import ROOT, platform_env

CNN = ROOT / "templates" / "cnn.ncnet"
HEAVY = ("networkx", "numpy", "sklearn", "scipy", "torch", "torchvision", "sympy")
SETTLE_MS = 1000   # the window runs this long after its first paint before the Code tab shows
STALL_GOAL_MS = 50

# The same start as `neuralcanvas` on a first start (fresh settings: the cnn template, the
# Training dock raised); prints one JSON line. The helper processes it spawns leave out
# -X importtime, so an importtime run reports the editor's own imports only.
WINDOW_SCRIPT = """
import json, os, sys, tempfile, time
sys._xoptions.pop("importtime", None)
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from gui_responsiveness import TickRecorder
from PySide6.QtCore import QEvent, QEventLoop, QObject, QTimer
from designer.app import application, open_main_window
from designer.settings import AppSettings
from designer.theme import ThemeManager


def resident_mb():
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def wait(milliseconds):
    loop = QEventLoop()
    QTimer.singleShot(milliseconds, loop.quit)
    loop.exec()


class FirstPaint(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and "paint" not in result:
            result["paint"] = time.monotonic()
            QTimer.singleShot(0, painted.quit)
        return False


result = {}
folder = Path(tempfile.mkdtemp())
app = application()
window = open_main_window(None, AppSettings(folder / "settings.ini"), ThemeManager(app),
                          folder / "recovery")
watcher = FirstPaint()
window.installEventFilter(watcher)
window.update()
painted = QEventLoop()
painted.exec()
if sys.argv[2] == "code":
    ticks = TickRecorder()
    ticks.start()
    wait({settle})
    result["idle stall"] = max(ticks.stop(), default=0.0)
    view = window.code_view
    result["rss before"] = resident_mb()
    ticks.start()
    start = time.perf_counter()
    window.docks["code"].raise_()
    blocked = (time.perf_counter() - start) * 1000
    shown = QEventLoop()
    view.codeChanged.connect(shown.quit)
    if not (view.is_current() and view.editor.toPlainText()):
        shown.exec()
    result["code tab"] = time.perf_counter() - start
    result["stall"] = max([blocked, *ticks.stop()])
    result["rss after"] = resident_mb()
result["torch"] = "torch" in sys.modules
print(json.dumps(result), flush=True)
os._exit(0)   # as the launcher ends the app: no interpreter teardown
""".replace("{settle}", str(SETTLE_MS))

BARE_WINDOW_SCRIPT = """
import json, os, time
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QMainWindow

class FirstPaint(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint:
            print(json.dumps({"paint": time.monotonic()}), flush=True)
            os._exit(0)
        return False

app = QApplication([])
window = QMainWindow()
window.resize(1400, 900)
watcher = FirstPaint()
window.installEventFilter(watcher)
window.show()
app.exec()
"""


def neuralcanvas() -> list[str]:
    """The installed `neuralcanvas` command (as a user runs it), else the launcher module."""
    script = Path(sysconfig.get_path("scripts")) / "neuralcanvas"
    return [sys.executable, str(script)] if script.is_file() else [sys.executable, "-m",
                                                                    "designer.launcher"]


@dataclass
class Row:
    """One thing measured: `argv` run in a fresh process each round (a window's process
    reports its first paint, and more, as a JSON line)."""

    label: str
    goal: str
    argv: Callable[[Path], list[str]]
    window: bool = False
    seconds: list[float] = field(default_factory=list)
    details: list[dict] = field(default_factory=list)


def command_rows() -> list[Row]:
    nc = neuralcanvas()
    return [
        Row("neuralcanvas export cnn -o x.py", "< 1 s",
            lambda tmp: [*nc, "export", str(CNN), "-o", str(tmp / "x.py"), "--force"]),
        Row("neuralcanvas export cnn --format onnx", "torch + < 2 s",
            lambda tmp: [*nc, "export", str(CNN), "--format", "onnx", "-o",
                         str(tmp / "x.onnx"), "--force"]),
        Row('python -c "import torch"', "(reference)",
            lambda tmp: [sys.executable, "-c", "import torch"]),
        Row("neuralcanvas check cnn", "< 0.3 s", lambda tmp: [*nc, "check", str(CNN)]),
        Row("window to first paint (cnn)", "< 0.8 s",
            lambda tmp: [sys.executable, "-c", WINDOW_SCRIPT, str(Path(__file__).parent),
                         "code"], window=True),
        Row("bare QMainWindow to first paint", "(reference)",
            lambda tmp: [sys.executable, "-c", BARE_WINDOW_SCRIPT], window=True),
    ]


def run_once(row: Row, env: dict[str, str], scratch: Path) -> None:
    """Run the row's process once; keep its time (to the first paint for a window) and what
    it reported."""
    start = time.monotonic()
    done = subprocess.run(row.argv(scratch), cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600, check=False)
    elapsed = time.monotonic() - start
    if done.returncode not in (0, 1):   # `check` exits 1 when the design has errors
        raise SystemExit(f"{row.label} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    report = json.loads(done.stdout.splitlines()[-1]) if row.window else {}
    row.seconds.append(report["paint"] - start if row.window else elapsed)
    row.details.append(report)


def measure(rows: list[Row], rounds: int) -> None:
    cache_bytecode()
    with tempfile.TemporaryDirectory() as home:
        scratch = Path(home)
        env = platform_env() | {"XDG_DATA_HOME": home, "XDG_CONFIG_HOME": home}
        for index in range(rounds):
            for row in rows if index % 2 == 0 else reversed(rows):
                run_once(row, env, scratch)
            print(f"  round {index + 1}/{rounds} done", file=sys.stderr, flush=True)


def cache_bytecode() -> None:
    """Compile the project's modules ahead, as an installed app has them, so that no row
    compiles a module just edited (PYTHONDONTWRITEBYTECODE, set on some machines, would
    have every process compile it again)."""
    for package in ("engine", "designer", "templates"):
        compileall.compile_dir(ROOT / package, quiet=1)


def spread(values: list[float]) -> str:
    return f"{min(values):.2f}-{max(values):.2f}"


def report(rows: list[Row]) -> None:
    print(f"\n  {'what':40}{'goal':>15}{'median s':>10}{'spread s':>13}{'n':>4}")
    for row in rows:
        print(f"  {row.label:40}{row.goal:>15}{statistics.median(row.seconds):>10.2f}"
              f"{spread(row.seconds):>13}{len(row.seconds):>4}")
    medians = {row.label: statistics.median(row.seconds) for row in rows}
    onnx, torch = "neuralcanvas export cnn --format onnx", 'python -c "import torch"'
    if onnx in medians and torch in medians:
        print(f"  ONNX export beyond importing torch: {medians[onnx] - medians[torch]:.2f} s "
              "(goal < 2 s)")
    window, bare = "window to first paint (cnn)", "bare QMainWindow to first paint"
    if window in medians and bare in medians:
        print(f"  window / bare window: {medians[window] / medians[bare]:.2f}")
    if window in medians:
        report_code_tab(next(row for row in rows if row.label == window).details)


def report_code_tab(details: list[dict]) -> None:
    shown = [d["code tab"] * 1000 for d in details]
    stalls = [d["stall"] for d in details]
    idle = [d["idle stall"] for d in details]
    before = [d["rss before"] for d in details]
    after = [d["rss after"] for d in details]
    print(f"\n  The Code tab raised {SETTLE_MS} ms after the window's first paint "
          f"({len(details)} windows)")
    print(f"  {'':40}{'goal':>15}{'median':>10}{'spread':>13}")
    print(f"  {'first show, ms':40}{'< 300':>15}{statistics.median(shown):>10.0f}"
          f"{f'{min(shown):.0f}-{max(shown):.0f}':>13}")
    print(f"  {'longest event-loop stall, ms':40}{f'< {STALL_GOAL_MS}':>15}"
          f"{statistics.median(stalls):>10.1f}{f'{min(stalls):.1f}-{max(stalls):.1f}':>13}")
    print(f"  {'  the same window idle before, ms':40}{'':>15}{statistics.median(idle):>10.1f}"
          f"{f'{min(idle):.1f}-{max(idle):.1f}':>13}")
    print(f"  {'editor resident memory before, MB':40}{'':>15}{statistics.median(before):>10.0f}")
    print(f"  {'editor resident memory after, MB':40}{'':>15}{statistics.median(after):>10.0f}")
    print(f"  torch imported into the editor: {'YES' if any(d['torch'] for d in details) else 'no'}"
          f" (goal: never)")


def heavy_imports(argv: list[str], env: dict[str, str]) -> dict[str, float]:
    """{heavy package: cumulative ms of its first import} from one `-X importtime` run."""
    done = subprocess.run([argv[0], "-X", "importtime", *argv[1:]], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    found: dict[str, float] = {}
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            _, cumulative, name = line.split("|")
            name = name.strip()
            if name in HEAVY and name not in found:
                found[name] = int(cumulative) / 1000
    return found


def report_imports(rows: list[Row]) -> None:
    print("\n  Heavy modules imported (python -X importtime, one run each; ms of the first "
          "import, '-' = not imported)")
    print(f"  {'':40}" + "".join(f"{name:>12}" for name in HEAVY))
    with tempfile.TemporaryDirectory() as home:
        scratch = Path(home)
        env = platform_env() | {"XDG_DATA_HOME": home, "XDG_CONFIG_HOME": home}
        for row in rows:
            if row.goal == "(reference)":
                continue
            found = heavy_imports(row.argv(scratch), env)
            label = "window + Code tab (editor)" if row.window else row.label
            print(f"  {label:40}" + "".join(
                f"{found[name]:>12.0f}" if name in found else f"{'-':>12}" for name in HEAVY))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="fresh processes per row")
    parser.add_argument("--only", nargs="+", metavar="WORD",
                        help="measure only the rows whose label holds one of these words")
    args = parser.parse_args()
    os.environ.update({k: v for k, v in platform_env().items() if k == "QT_QPA_PLATFORM"})
    load = os.getloadavg()[0]
    print(f"Waiting times ({args.rounds} alternating rounds; platform: "
          f"{os.environ.get('QT_QPA_PLATFORM', 'default display')}; {os.cpu_count()} cores)")
    print("  Caveat: the goals are for a quiet machine. On a loaded one every figure grows; "
          "compare medians and ratios measured in the same run.")
    rows = [row for row in command_rows()
            if not args.only or any(word.lower() in row.label.lower() for word in args.only)]
    measure(rows, args.rounds)
    report(rows)
    report_imports(rows)
    print(f"\n  load average: {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end "
          f"({os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
