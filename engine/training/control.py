"""Commands for a running trainer: set from another thread, read between training steps.

`Control` serves a run in one process. `AgreedControl` serves each process of a run that
trains in several (DistributedDataParallel): commands reach rank 0 alone, yet every process
must pause or stop at the same step, or the others wait forever in the next gradient
all-reduce; so the processes agree on what to do at steps they all know in advance.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from enum import StrEnum
from typing import Any

AGREE_EVERY = 8   # steps between agreements of the processes of a run (and at epoch ends)


class Command(StrEnum):
    """What a watcher can ask of a running trainer (sent to its worker by name)."""

    PAUSE = "pause"
    RESUME = "resume"
    STOP = "stop"
    CHECKPOINT = "checkpoint"


class Control:
    """Commands for a running trainer, set from another thread and read between steps."""

    agree_every = 0   # 0: act on a command at the next step, no agreement with other processes

    def __init__(self) -> None:
        self.pending = False          # any command waiting: the only thing read every step
        self._running = threading.Event()
        self._running.set()
        self._stop = threading.Event()
        self._checkpoint = threading.Event()
        self._lock = threading.RLock()   # a signal handler may obey while relay_to holds it
        self._relay: Callable[[Command], None] | None = None

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
        """Act on a command (and pass it on, when relaying to a run in other processes)."""
        with self._lock:
            {Command.PAUSE: self.pause, Command.RESUME: self.resume, Command.STOP: self.stop,
             Command.CHECKPOINT: self.checkpoint}[command]()
            if self._relay is not None:
                self._relay(command)

    def relay_to(self, send: Callable[[Command], None]) -> None:
        """Pass every command on to `send` from now on, starting with what the commands so far
        amount to: the run this control was made for trains in other processes."""
        with self._lock:
            self._relay = send
            if self.stopping:
                send(Command.STOP)
            elif self.paused:
                send(Command.PAUSE)
            if self._checkpoint.is_set():
                send(Command.CHECKPOINT)

    def agree(self) -> None:
        """Settle with the other processes of the run what the commands mean now: nothing
        to settle in one process."""

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


class AgreedControl(Control):
    """The control of one process of a run in several: the trainer asks it every AGREE_EVERY
    steps and at each epoch's start and end, the same steps in every process, and `agree`
    takes the largest of each process's flags (pause, stop) in one tiny all-reduce, so all of
    them see what rank 0 was told. While paused they agree again about 20 times a second.
    A checkpoint is rank 0's alone (the others write nothing): it needs no agreement."""

    agree_every = AGREE_EVERY

    def __init__(self, device: Any) -> None:
        super().__init__()
        self._device = device   # where the process group's backend reduces (NCCL: the GPU)
        self._agreed = (False, False)   # (paused, stopping) as every process sees them

    def agree(self) -> None:
        import torch
        import torch.distributed as dist

        flags = torch.tensor([super().paused, super().stopping], dtype=torch.int32,
                             device=self._device)
        dist.all_reduce(flags, op=dist.ReduceOp.MAX)
        paused, stopping = flags.tolist()
        self._agreed = (bool(paused), bool(stopping))

    @property
    def paused(self) -> bool:
        return self._agreed[0]

    @property
    def stopping(self) -> bool:
        return self._agreed[1]

    def wait_while_paused(self, timeout: float = 0.05) -> None:
        time.sleep(timeout)   # every process: a rank blocked in the all-reduce might spin
        self.agree()
