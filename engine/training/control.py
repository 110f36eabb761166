"""Commands for a running trainer: set from another thread, read between training steps."""

from __future__ import annotations

import threading
from enum import StrEnum


class Command(StrEnum):
    """What a watcher can ask of a running trainer (sent to its worker by name)."""

    PAUSE = "pause"
    RESUME = "resume"
    STOP = "stop"
    CHECKPOINT = "checkpoint"


class Control:
    """Commands for a running trainer, set from another thread and read between steps."""

    def __init__(self) -> None:
        self.pending = False          # any command waiting: the only thing read every step
        self._running = threading.Event()
        self._running.set()
        self._stop = threading.Event()
        self._checkpoint = threading.Event()

    def pause(self) -> None:
        self._running.clear()
        self.pending = True

    def resume(self) -> None:
        self._running.set()
        self.pending = True

    def stop(self) -> None:
        self._stop.set()
        self._running.set()
        self.pending = True

    def checkpoint(self) -> None:
        self._checkpoint.set()
        self.pending = True

    def obey(self, command: Command) -> None:
        {Command.PAUSE: self.pause, Command.RESUME: self.resume, Command.STOP: self.stop,
         Command.CHECKPOINT: self.checkpoint}[command]()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def take_checkpoint_request(self) -> bool:
        requested = self._checkpoint.is_set()
        self._checkpoint.clear()
        return requested

    def wait_while_paused(self, timeout: float = 0.05) -> None:
        self._running.wait(timeout)

    def settle(self) -> None:
        """Clear `pending` once nothing is left to act on."""
        self.pending = self.paused or self.stopping or self._checkpoint.is_set()
