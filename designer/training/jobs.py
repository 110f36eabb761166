"""Background jobs, with results delivered on the GUI thread, in the app's one helper process.

The helper is the training worker (engine.training.worker), shared by every window: a process
with torch imported costs about 400 MB of its own (engine.child_process), so training and the
background jobs (previews, estimates, probes, predictions, imports, exports) share one; while a
run goes, jobs go to a spare process (designer.training.helper). The worker starts on first
use (a job, or the Training panel warming up) and is kept.

A job submitted under a key replaces any older job of that key that has not reported yet, so
a burst of edits asks for one preview, not twenty. A helper that dies is reported as the error
of the job it was running, and the next job starts a new one. When the app quits the helper is
ended at once (`shutdown_helper`); if the app is killed, it ends itself (engine.child_process).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from PySide6.QtCore import QObject, QTimer

from designer.training.helper import Helper
from engine.errors import DesignError
from engine.training.worker import TrainingService

POLL_MS = 50
_lock = threading.Lock()
_worker: TrainingService | None = None
_helper: Helper | None = None
_editor_thread: ThreadPoolExecutor | None = None


def worker(warm: bool = False) -> TrainingService:
    """The app's worker process, for training and background jobs alike: started on first
    use, and again when next needed once it has ended (`shutdown_helper`, a crash). `warm`:
    have it import and exercise what training needs now (the Training panel asks when it is
    shown), so that the first run starts quickly; jobs alone import only what they need."""
    global _worker
    with _lock:
        if _worker is None:
            _worker = TrainingService(warm=False)
    if warm:
        _worker.warm_up()
    return _worker


def helper() -> Helper:
    """The executor of background jobs shared by all windows (made on first use)."""
    global _helper
    with _lock:
        if _helper is None:
            _helper = Helper(worker)
        return _helper


def editor_thread() -> ThreadPoolExecutor:
    """A thread of the editor process for light torch-free jobs (the code view's text): they
    must not queue in the helper behind jobs that import torch, which took seconds."""
    global _editor_thread
    if _editor_thread is None:
        _editor_thread = ThreadPoolExecutor(1, thread_name_prefix="editor-jobs")
    return _editor_thread


def shutdown_helper() -> None:
    """End the helper now (the app is quitting): a job still running is abandoned, since its
    result has no window to go to, and so is a run. Waiting for them held up quitting for as
    long as they took, torch's import included."""
    global _helper
    with _lock:
        executor, _helper = _helper, None
        service = _worker
    if executor is not None:
        executor.shutdown(wait=False, cancel_futures=True)
    if service is not None:
        service.shutdown()


class Jobs(QObject):
    """The jobs of one window, run by `executor` (the helper process unless told)."""

    def __init__(self, parent: QObject | None = None,
                 executor: Callable[[], Executor] = helper) -> None:
        super().__init__(parent)
        self._executor = executor
        self._latest: dict[str, Future] = {}
        self._callbacks: dict[Future, tuple[Callable[[Any], None], Callable[[str], None]]] = {}
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)

    def submit(self, key: str, function: Callable[..., Any], *args: Any,
               done: Callable[[Any], None], failed: Callable[[str], None]) -> None:
        """Run `function(*args)` in the helper; call `done(result)` or `failed(reason)`."""
        future = self._executor().submit(function, *args)
        previous = self._latest.get(key)
        if previous is not None:
            previous.cancel()
            self._callbacks.pop(previous, None)
        self._latest[key] = future
        self._callbacks[future] = (done, failed)
        self._timer.start()

    def _poll(self) -> None:
        for future in [f for f in self._callbacks if f.done()]:
            done, failed = self._callbacks.pop(future)
            for key, latest in list(self._latest.items()):
                if latest is future:
                    del self._latest[key]
            if future.cancelled():
                continue
            error = future.exception()
            if error is None:
                done(future.result())
            elif isinstance(error, DesignError):
                failed(str(error))
            elif isinstance(error, BrokenProcessPool):  # the next job starts a new helper
                failed("the helper process stopped unexpectedly; try again")
            else:
                failed(f"{type(error).__name__}: {error}")
        if not self._callbacks:
            self._timer.stop()

    def shutdown(self) -> None:
        """Forget this window's jobs (the helper stays for other windows)."""
        self._timer.stop()
        for future in self._callbacks:
            future.cancel()
        self._callbacks.clear()
        self._latest.clear()
