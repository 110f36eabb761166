"""Work spread over the event loop's turns: a few milliseconds of it per turn, so the window
keeps drawing and answering while a large design's wires are routed or relabelled."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

SLICE_SECONDS = 0.008  # per turn: a frame at 60 Hz keeps room to draw
FIRST_SLICE_DELAY_MS = 16  # one frame: what started the work (an edit) is drawn first


class TurnSlices(QObject):
    """Calls `step` while `more()` says there is work, for up to `seconds` per turn of the
    event loop (one step at least), from a frame after `start`: the edit or the move that
    made the work is on screen before its follow-up takes a turn."""

    def __init__(self, parent: QObject, step: Callable[[], None], more: Callable[[], bool],
                 seconds: float = SLICE_SECONDS) -> None:
        super().__init__(parent)
        self._step, self._more = step, more
        self.seconds = seconds
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._slice)

    def start(self) -> None:
        if not self._timer.isActive():
            self._timer.start(FIRST_SLICE_DELAY_MS)

    def _slice(self) -> None:
        deadline = time.perf_counter() + self.seconds
        while self._more():
            self._step()
            if time.perf_counter() >= deadline:
                break
        if self._more():
            self._timer.start(0)
