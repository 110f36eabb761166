"""Background jobs in one helper process, with results delivered on the GUI thread.

The helper is spawned on first use and kept (it has torch imported after the first job). A job
submitted under a key replaces any older job of that key that has not reported yet, so a burst
of edits asks for one preview, not twenty. A helper that dies is reported as the job's error
and replaced on the next submit.
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from PySide6.QtCore import QObject, QTimer

from engine.errors import DesignError

POLL_MS = 50


class Jobs(QObject):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._executor: ProcessPoolExecutor | None = None
        self._latest: dict[str, Future] = {}
        self._callbacks: dict[Future, tuple[Callable[[Any], None], Callable[[str], None]]] = {}
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)

    def submit(self, key: str, function: Callable[..., Any], *args: Any,
               done: Callable[[Any], None], failed: Callable[[str], None]) -> None:
        """Run `function(*args)` in the helper; call `done(result)` or `failed(reason)`."""
        if self._executor is None:
            self._executor = ProcessPoolExecutor(1, mp_context=mp.get_context("spawn"))
        try:
            future = self._executor.submit(function, *args)
        except BrokenProcessPool:
            self._executor = None
            failed("the helper process stopped; try again")
            return
        previous = self._latest.get(key)
        if previous is not None:
            previous.cancel()
            self._callbacks.pop(previous, None)
        self._latest[key] = future
        self._callbacks[future] = (done, failed)
        self._timer.start()

    def busy(self, key: str) -> bool:
        future = self._latest.get(key)
        return future is not None and not future.done()

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
            elif isinstance(error, BrokenProcessPool):
                self._executor = None
                failed("the helper process stopped unexpectedly; try again")
            else:
                failed(f"{type(error).__name__}: {error}")
        if not self._callbacks:
            self._timer.stop()

    def shutdown(self) -> None:
        self._timer.stop()
        self._callbacks.clear()
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
