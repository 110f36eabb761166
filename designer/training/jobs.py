"""Background jobs, with results delivered on the GUI thread, in the app's one helper process.

The helper is the training worker (engine.training.worker), shared by every window: a process
with torch imported costs about 400 MB of its own (engine.child_process), so training and the
background jobs (previews, estimates, probes, predictions, imports, exports) share one. It runs
jobs between runs, one at a time and in order. A job cannot wait hours behind a run, nor run
beside one in the same process (a job that crashes it would take the run along), so while a
run goes jobs go to a spare process, started for them and ended once the run is over and they
are done. The worker starts on first use (a job, or the Training panel warming up) and is kept.

A job submitted under a key replaces any older job of that key that has not reported yet, so
a burst of edits asks for one preview, not twenty. A helper that dies is reported as the error
of the job it was running, and the next job starts a new one. When the app quits the helper is
ended at once (`shutdown_helper`); if the app is killed, it ends itself (engine.child_process).
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from PySide6.QtCore import QObject, QTimer

from engine.child_process import tie_to_parent
from engine.errors import DesignError
from engine.training.worker import TrainingService

POLL_MS = 50
QUIT_GRACE_S = 0.5
SPARE_CHECK_S = 1.0   # how often an idle helper looks whether its spare process can go
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


class Helper(Executor):
    """Runs each job in the worker between runs, and in a spare process while a run goes.

    A thread of this process hands the jobs over one at a time, waiting for each answer, so
    a job submitted later (or cancelled meanwhile) is still pending and can be cancelled."""

    def __init__(self, service: Callable[[], TrainingService]) -> None:
        self._service = service
        self._pending: queue.SimpleQueue[tuple[Future, Callable[..., Any], tuple] | None] = \
            queue.SimpleQueue()
        self._lock = threading.Lock()
        self._closed = False
        self._spare: ProcessPoolExecutor | None = None
        self._spare_jobs: set[Future] = set()
        threading.Thread(target=self._hand_over, name="helper-jobs", daemon=True).start()

    def submit(self, function: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        if kwargs:
            raise TypeError("helper jobs take positional arguments only")
        future: Future = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the helper has been shut down")
            self._pending.put((future, function, args))
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Take no more jobs; the spare process ends now (the worker is its owner's)."""
        with self._lock:
            self._closed = True
            spare, self._spare = self._spare, None
        while cancel_futures and not self._pending.empty():
            job = self._pending.get()
            if job is not None:
                job[0].cancel()
        self._pending.put(None)
        if spare is not None:
            end_pool(spare)

    def _hand_over(self) -> None:
        while True:
            try:
                job = self._pending.get(timeout=SPARE_CHECK_S)
            except queue.Empty:
                self._end_idle_spare()
                continue
            if job is None:
                return
            future, function, args = job
            if future.set_running_or_notify_cancel():
                self._run(future, function, args)

    def _run(self, future: Future, function: Callable[..., Any], args: tuple) -> None:
        with self._lock:   # shutting down waits for this, so no worker starts after it
            if self._closed:
                future.set_exception(BrokenProcessPool("the helper was shut down"))
                return
            service = self._service()
            try:
                call = service.call(function, *args)
            except DesignError as err:
                if service.active_run is None:   # the call itself was refused
                    future.set_exception(err)
                    return
                self._run_in_spare(future, function, args)
                return
        reply = call.result(timeout=None)
        if reply.lost:   # the next job starts a fresh worker
            future.set_exception(BrokenProcessPool(reply.error))
        elif reply.error is not None:
            future.set_exception(DesignError(reply.error))
        else:
            future.set_result(reply.value)

    def _run_in_spare(self, future: Future, function: Callable[..., Any], args: tuple) -> None:
        """A run is going: the job runs beside it in the spare process (hold the lock)."""
        if self._spare is not None and not _is_alive(self._spare):
            self._spare.shutdown(wait=False)   # its pending jobs fail as BrokenProcessPool
            self._spare = None
        if self._spare is None:
            self._spare = ProcessPoolExecutor(1, mp_context=mp.get_context("spawn"),
                                              initializer=tie_to_parent)
        inner = self._spare.submit(function, *args)
        self._spare_jobs.add(inner)
        inner.add_done_callback(lambda done: self._pass_on(done, future))

    def _pass_on(self, inner: Future, future: Future) -> None:
        with self._lock:
            self._spare_jobs.discard(inner)
        if inner.cancelled():
            future.set_exception(BrokenProcessPool("the helper was shut down"))
        elif inner.exception() is not None:
            future.set_exception(inner.exception())
        else:
            future.set_result(inner.result())

    def _end_idle_spare(self) -> None:
        """The spare process goes once no run needs it beside and it has no job left."""
        with self._lock:
            if (self._closed or self._spare is None or self._spare_jobs
                    or self._service().active_run is not None):
                return
            spare, self._spare = self._spare, None
        end_pool(spare)


def _is_alive(executor: ProcessPoolExecutor) -> bool:
    """False once the pool knows it is broken or its process has ended (the pool notices a
    death only a moment later, so both are asked)."""
    processes = executor._processes.values()
    return not executor._broken and all(process.is_alive() for process in processes)


def end_pool(executor: ProcessPoolExecutor) -> None:
    """End a process pool now, abandoning a job it is running."""
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
