"""Background jobs in one helper process, with results delivered on the GUI thread.

One helper serves every window: it is spawned on first use and kept (with torch imported after
the first job). A job submitted under a key replaces any older job of that key that has not
reported yet, so a burst of edits asks for one preview, not twenty. A helper that dies is
reported as the error of the job it was running, and the next submit starts a new one. When
the app quits the helper is ended at once (`shutdown_helper`); if the app is killed, the
helper ends itself (engine.child_process).
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from PySide6.QtCore import QObject, QTimer

from engine.child_process import tie_to_parent
from engine.errors import DesignError

POLL_MS = 50
QUIT_GRACE_S = 0.5
_helper: ProcessPoolExecutor | None = None
_editor_thread: ThreadPoolExecutor | None = None


def helper() -> ProcessPoolExecutor:
    """The helper process shared by all windows: started on first use, and started again
    when the last one has died (killed, out of memory) or its pool reports itself broken."""
    global _helper
    if _helper is not None and not _is_alive(_helper):
        _helper.shutdown(wait=False)  # its pending jobs fail as BrokenProcessPool, not silently
        _helper = None
    if _helper is None:
        _helper = ProcessPoolExecutor(1, mp_context=mp.get_context("spawn"),
                                      initializer=tie_to_parent)
    return _helper


def editor_thread() -> ThreadPoolExecutor:
    """A thread of the editor process for light torch-free jobs (the code view's text): they
    must not queue in the helper behind jobs that import torch, which took seconds."""
    global _editor_thread
    if _editor_thread is None:
        _editor_thread = ThreadPoolExecutor(1, thread_name_prefix="editor-jobs")
    return _editor_thread


def _is_alive(executor: ProcessPoolExecutor) -> bool:
    """False once the pool knows it is broken or its process has ended (the pool notices a
    death only a moment later, so both are asked)."""
    processes = executor._processes.values()
    return not executor._broken and all(process.is_alive() for process in processes)


def shutdown_helper() -> None:
    """End the helper now (the app is quitting): a job still running is abandoned, since its
    result has no window to go to. Waiting for it (the executor's default, also at interpreter
    exit) held up quitting for as long as the job took, torch's import included."""
    global _helper
    if _helper is None:
        return
    executor, _helper = _helper, None
    processes = list(executor._processes.values())  # Python 3.14: executor.terminate_workers()
    executor.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(QUIT_GRACE_S)
        if process.is_alive():
            process.kill()
            process.join(QUIT_GRACE_S)


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
        try:
            future = self._executor().submit(function, *args)
        except BrokenProcessPool:  # it died between the check and the submit: the job never ran
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
            elif isinstance(error, BrokenProcessPool):  # the next submit starts a new helper
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
