"""SIGTERM and SIGINT end the app through its normal shutdown, not in the middle of it.

Python runs a signal handler only when the interpreter gets control, and inside Qt's event
loop it may not for a long time (or ever, on an idle window). So the C-level handler writes to
a socket (signal.set_wakeup_fd); a QSocketNotifier on the other end wakes the event loop, which
lets Python run the handler; the handler schedules `end` on the event loop.
"""

from __future__ import annotations

import signal
import socket
from collections.abc import Callable

from PySide6.QtCore import QObject, QSocketNotifier, QTimer

TERMINATION_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class TerminationSignals(QObject):
    """Calls `end()` on the event loop when the process receives SIGTERM or SIGINT.

    Install from the main thread; keep the object for as long as the event loop runs."""

    def __init__(self, end: Callable[[], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._end = end
        self._reader, self._writer = socket.socketpair()
        for end_of_pair in (self._reader, self._writer):
            end_of_pair.setblocking(False)
        self._previous_fd = signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)
        self._notifier = QSocketNotifier(self._reader.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._drain)
        self._previous_handlers = {number: signal.signal(number, self._on_signal)
                                   for number in TERMINATION_SIGNALS}

    def _drain(self) -> None:
        """Empty the socket; returning to Python here is what runs the pending handler."""
        try:
            while self._reader.recv(64):
                pass
        except BlockingIOError:
            pass

    def _on_signal(self, _number: int, _frame: object) -> None:
        QTimer.singleShot(0, self._end)

    def uninstall(self) -> None:
        """Give the signals back to what handled them before (the event loop has ended)."""
        for number, handler in self._previous_handlers.items():
            signal.signal(number, handler)
        signal.set_wakeup_fd(self._previous_fd)
        self._notifier.setEnabled(False)
        self._reader.close()
        self._writer.close()
