"""The app's helper processes end with it: quitting ends them at once, a killed app (kill -9)
takes them along within seconds, and SIGTERM/SIGINT close the window through its normal
shutdown (the layout saved, unsaved work kept for the next start)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from designer.autosave import find_recoveries
from designer.training import jobs

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")]

ROOT = Path(__file__).resolve().parents[1]
GONE_MS = 30_000  # children end the moment their parent does; generous for a loaded machine

# The real app (run_app), with the Training panel brought up as a user would click its tab:
# that starts the worker (which also runs the background jobs). Prints READY when it runs.
APP = textwrap.dedent("""
    import sys
    from PySide6.QtCore import QTimer
    from designer.app import application, run_app
    from designer.undo_commands import SetParams
    from designer.main_window import MainWindow

    def main():
        app = application()
        state = {"window": None}

        def poll():
            if state["window"] is None:
                found = [w for w in app.topLevelWidgets() if isinstance(w, MainWindow)]
                if not found:
                    return
                window = state["window"] = found[0]
                window.show_training()
                if "edit" in sys.argv:
                    design = window.document.design
                    window.document.push(SetParams(design, design.find("conv1"),
                                                   {"out_channels": 4}))
            session = state["window"].training.session
            if session.service is not None and session.service.worker_pid is not None:
                timer.stop()
                print("READY", flush=True)

        timer = QTimer()
        timer.timeout.connect(poll)
        timer.start(50)
        sys.exit(run_app([]))

    if __name__ == "__main__":
        main()
""")


def alive(pid: int) -> bool:
    """Running (a zombie waiting for its reaper counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X")


def descendants(pid: int) -> set[int]:
    """Every process below `pid` (children, their children, ...)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int(
                    (entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


class AppProcess:
    """The app in a subprocess with its own settings and data folders; never leaks."""

    def __init__(self, tmp_path: Path, *args: str) -> None:
        script = tmp_path / "app.py"
        script.write_text(APP)
        self.config, self.data = tmp_path / "config", tmp_path / "data"
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path),
               "XDG_CONFIG_HOME": str(self.config), "XDG_DATA_HOME": str(self.data),
               "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen([sys.executable, str(script), *args], cwd=ROOT,
                                        env=env, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True)
        self.children: set[int] = set()

    def wait_ready(self, qtbot) -> None:
        """Until the worker runs; then note every process below the app."""
        line = self.process.stdout.readline()  # the app prints READY or exits
        assert line.strip() == "READY", self.process.stderr.read()
        self.children = descendants(self.process.pid)

    def living_children(self) -> set[int]:
        return {pid for pid in self.children if alive(pid)}

    def clean_up(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)
        for pid in self.living_children():
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def start_app(tmp_path):
    started: list[AppProcess] = []

    def start(*args: str) -> AppProcess:
        app = AppProcess(tmp_path, *args)
        started.append(app)
        return app

    yield start
    for app in started:
        app.clean_up()


def test_a_killed_app_takes_its_worker_along(qtbot, start_app):
    app = start_app()
    app.wait_ready(qtbot)
    assert app.children  # the worker, which also runs the jobs (and mp's tracker)
    app.process.send_signal(signal.SIGKILL)
    app.process.wait(timeout=10)
    qtbot.waitUntil(lambda: not app.living_children(), timeout=GONE_MS)


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_and_sigint_shut_the_window_down_and_keep_unsaved_work(qtbot, start_app,
                                                                       number):
    app = start_app("edit")
    app.wait_ready(qtbot)
    app.process.send_signal(number)
    assert app.process.wait(timeout=60) == 0
    qtbot.waitUntil(lambda: not app.living_children(), timeout=GONE_MS)
    settings = (app.config / "NeuralCanvas" / "NeuralCanvas.conf").read_text()
    assert "geometry=" in settings  # the window's own shutdown ran: it saved its layout
    [folder] = {p.parent for p in app.data.rglob("recovery-*.ncnet")}
    [recovery] = find_recoveries(folder)  # offered at the next start
    conv = recovery.load().find("conv1")
    assert recovery.load().node(conv).params["out_channels"] == 4


def test_a_worker_ends_itself_when_its_parent_dies_without_the_kernels_help(qtbot, tmp_path):
    """The portable watch alone (other systems have no PR_SET_PDEATHSIG)."""
    script = tmp_path / "parent.py"
    script.write_text(textwrap.dedent("""
        import multiprocessing, threading

        def child(tied):
            import engine.child_process as child_process
            child_process._ask_kernel_to_kill_with_parent = lambda: None
            child_process.tie_to_parent()
            tied.set()
            threading.Event().wait()

        if __name__ == "__main__":
            context = multiprocessing.get_context("spawn")
            tied = context.Event()
            process = context.Process(target=child, args=(tied,))
            process.start()
            print(process.pid, tied.wait(60), flush=True)
            threading.Event().wait()
    """))
    parent = subprocess.Popen([sys.executable, str(script)], cwd=ROOT, stdout=subprocess.PIPE,
                              text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    pid, tied = parent.stdout.readline().split()
    child = int(pid)
    try:
        assert tied == "True" and alive(child)
        parent.kill()
        parent.wait(timeout=10)
        qtbot.waitUntil(lambda: not alive(child), timeout=GONE_MS)
    finally:
        parent.kill()
        parent.wait(timeout=10)
        if alive(child):
            os.kill(child, signal.SIGKILL)


def test_quitting_ends_a_busy_worker_instead_of_waiting_for_it(qtbot):
    """Quitting right after start-up: the worker is still importing torch and cannot read
    its commands, or it is inside a long job; it is terminated, not waited for (waiting is
    what held quitting up for 10-20 s)."""
    worker = jobs.worker(warm=True)._worker.process   # as the Training panel shown asks
    window_jobs = jobs.Jobs()
    window_jobs.submit("sleep", time.sleep, 600, done=lambda _r: None, failed=lambda _r: None)
    qtbot.waitUntil(worker.is_alive, timeout=10000)
    window_jobs.shutdown()
    jobs.shutdown_helper()
    assert worker.exitcode in (-signal.SIGTERM, -signal.SIGKILL)  # killed if slow to stop
    assert jobs._helper is None
