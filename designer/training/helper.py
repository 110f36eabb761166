"""The executor of background jobs: the app's worker between runs, a spare process during one.

The worker runs jobs between runs, one at a time and in order. A job cannot wait hours behind
a run, nor run beside one in the same process (a job that crashes it would take the run
along), so while a run goes jobs go to a spare process, started for them and ended once the
run is over and they are done: two processes only while both are needed. No Qt here.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from engine.child_process import tie_to_parent
from engine.errors import DesignError
from engine.training.worker import TrainingService

QUIT_GRACE_S = 0.5
SPARE_CHECK_S = 1.0   # how often an idle helper looks whether its spare process can go


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
