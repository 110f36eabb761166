"""Training in a separate process, so that a crash, a CUDA error or running out of memory can
never take the editor down, and the editor's GIL is never shared with training.

    service = TrainingService()            # spawns a warm worker (torch imported) at once
    run = service.start(design, out_dir="runs/1")
    while not run.done:
        for event in run.events(timeout=0.05):   # engine.training.events, in order
            ...
    run.pause(); run.resume(); run.stop(); run.checkpoint()
    call = service.call(function, *arguments)   # between runs: engine.training.worker_calls

The worker is spawned (never forked: forking after CUDA fails) and kept between runs, so after
the first run a new one reaches its first batch in well under a second. It gives back what a
run or call held when it ends (engine.child_process.give_back_memory). A worker that dies is
reported as a `failed` event with its exit status, and a fresh worker is started.

No command is lost: the worker makes a run's controls when the run is queued, so a Stop sent
right after Start reaches it even before it begins. The worker beats (writes the time into
shared memory every HEARTBEAT_S) from a thread of its own; a run whose worker has not beaten
for UNRESPONSIVE_S (stopped by SIGSTOP or a debugger, hung in native code) says so
(`Run.unresponsive`), and Stop then ends that worker instead of waiting for it. Events come back through a pipe that a
thread of this process reads, so reading them never blocks, whatever state the worker is in.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import queue
import signal
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, Self

from engine.child_process import give_back_memory, tie_to_parent
from engine.design import Design
from engine.errors import DesignError
from engine.training.control import Command, Control
from engine.training.events import FINAL, Ack, CheckpointWritten, Failed, Finished, RunMessage
from engine.training.labels import SettingError
from engine.training.worker_calls import Reply, ReplyBox, answer, packed, send_reply

_DAMAGING = frozenset({"crashed", "exception", "out_of_memory",  # replace the worker after
                       "unresponsive"})
QUIT_GRACE_S = 0.5   # how long a worker with a stopping run may take to quit; then SIGTERM
HEARTBEAT_S = 0.5    # how often the worker shows it is alive
UNRESPONSIVE_S = 5.0  # silence after which a run's worker counts as not responding
DRAIN_S = 0.01       # a gone worker's queue is read until nothing more comes for this long
STATE_AFTER = {Command.PAUSE: "paused", Command.RESUME: "running", Command.STOP: "stopping",
                Command.CHECKPOINT: "checkpointing"}


def _warm_up() -> None:
    """Import and exercise what every run needs, so the first batch comes quickly."""
    import torch
    import torch.utils.flop_counter
    from torch import nn

    import engine.training.trainer  # noqa: F401 - the trainer and the portable code

    model = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 1))
    optimizer = torch.optim.Adam(model.parameters())
    model(torch.zeros(2, 4)).sum().backward()
    optimizer.step()


def _beat(beats: Any) -> None:
    """Write the time every HEARTBEAT_S for as long as the process runs (a thread of its own,
    so a long step does not silence it; a stopped or hung process does). The monotonic clock
    is the system's, the same in every process."""
    while True:
        beats.value = time.monotonic()
        time.sleep(HEARTBEAT_S)


class _EventSender:
    """The worker's end of the event pipe; the trainer and the command thread both send."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._lock = threading.Lock()

    def put(self, event: RunMessage) -> None:
        with self._lock:
            self._connection.send(event)


def _worker_main(commands: Any, connection: Connection, beats: Any) -> None:
    """The worker process: run jobs one at a time until told to quit."""
    tie_to_parent()   # Ctrl+C is the app's; a killed app takes its worker with it
    threading.Thread(target=_beat, args=(beats,), name="heartbeat", daemon=True).start()
    events = _EventSender(connection)
    jobs: queue.Queue = queue.Queue()
    controls: dict[int, Control] = {}   # queued and running runs; a run's own from its "run"

    def listen() -> None:
        while True:
            message = commands.get()
            if message[0] == "run":
                controls[message[1]] = Control()   # before any command for the run can come
                jobs.put(message)
            elif message[0] in ("call", "warm"):
                jobs.put(message)
            elif message[0] == "quit":
                jobs.put(None)
                return
            else:
                command, run = message
                control = controls.get(run)
                if control is not None:   # None: the run has ended, nothing is left to do
                    control.obey(command)
                    events.put(Ack(run, command=command, state=STATE_AFTER[command]))

    threading.Thread(target=listen, name="commands", daemon=True).start()
    while (job := jobs.get()) is not None:
        if job[0] == "warm":
            _warm_up()
        elif job[0] == "call":
            send_reply(events.put, answer(*job[1:]))
        else:
            _train(job, events, controls[job[1]])
            controls.pop(job[1], None)
        del job
        give_back_memory()


def _train(job: tuple, events: _EventSender, control: Control) -> None:
    """One run, start to end (a function of its own so that nothing of it outlives it): here,
    or in torchrun's processes when its Processes setting asks for several (this process then
    relays rank 0's events and passes the commands on)."""
    from engine.training.distributed import train_in_processes
    from engine.training.trainer import RunOptions, Trainer

    _, run, design_dict, options = job
    try:
        design = Design.from_dict(design_dict)
        run_options = RunOptions(run=run, **options)
        launch = _launch(design, run_options.overrides)
        if launch is None:
            Trainer(design, events.put, run_options, control).run()
        else:
            train_in_processes(design, launch, run_options, events.put, control)
    except SettingError as err:   # several processes, but not on this machine's device
        events.put(Failed(run, reason=str(err), error="settings"))
    except Exception as err:  # noqa: BLE001 - the run must end with an event
        events.put(Failed(run, reason=f"the run could not start: {err}", error="exception"))


def _launch(design: Design, overrides: dict[str, Any] | None) -> Any:
    """The torchrun launch a run's Processes setting asks for, or None for this process
    (also when the settings or the device have a problem: the Trainer then names it, as for
    any run); a SettingError when the processes cannot train on the device."""
    from engine.training.devices import resolve_device
    from engine.training.distributed import launch_for_setting
    from engine.training.run_state import settings_with
    from engine.training.settings import settings_from

    try:
        settings = settings_from(settings_with(design.training, overrides or {}))
        device = resolve_device(settings.device)
    except DesignError:
        return None
    return launch_for_setting(settings.processes, device)


class _Worker:
    """One spawned worker process: its command queue, its event pipe (read into `received`
    by a thread here) and its heartbeat."""

    def __init__(self, context: Any) -> None:
        self.commands: Any = context.Queue()   # None once released (a retired worker)
        self.beats = context.Value("d", time.monotonic(), lock=False)   # the last beat
        reader, writer = context.Pipe(duplex=False)
        self.process = context.Process(target=_worker_main,
                                       args=(self.commands, writer, self.beats),
                                       name="neuralcanvas-training", daemon=True)
        self.process.start()
        writer.close()   # the worker holds the only writing end: its death ends the pipe
        self.received: queue.Queue = queue.Queue()
        self.replies = ReplyBox()
        self.warm = False
        self.retired = False
        self._reader = threading.Thread(target=self._read, args=(reader,),
                                        name="training-events", daemon=True)
        self._reader.start()

    def _read(self, reader: Connection) -> None:
        with reader:
            while True:
                try:
                    message = reader.recv()
                except (EOFError, OSError):
                    self.replies.close()
                    return
                if isinstance(message, Reply):
                    self.replies.put(message)
                else:
                    self.received.put(message)

    def alive(self) -> bool:
        return self.process.is_alive()

    def warm_up(self) -> None:
        """Queue the warm-up (once): torch and the trainer imported and exercised."""
        if not self.warm:
            self.warm = True
            self.commands.put(("warm",))

    def drained(self) -> bool:
        """The worker is gone and everything it sent has been read."""
        return not self._reader.is_alive()

    def silence(self) -> float:
        """Seconds since the worker's last heartbeat (or since it was started)."""
        return time.monotonic() - self.beats.value

    def retire(self, grace: float = 0.0) -> None:
        """Ask the worker to quit and give it `grace` seconds (a stopping run ends cleanly),
        then terminate it: it may be importing torch or between commands, and must not hold
        up quitting the app. An idle worker has nothing to lose, so the default is none.
        Retiring it again does nothing (Stop retires a worker that stopped responding, and the
        run's end then replaces it)."""
        if self.retired:
            return
        self.retired = True
        if self.alive():
            with contextlib.suppress(OSError, ValueError):
                self.commands.put(("quit",))
            self.process.join(timeout=grace)
        if self.alive():
            self.process.terminate()
            self.process.join(timeout=QUIT_GRACE_S)
        if self.alive():
            self.process.kill()
            self.process.join(timeout=QUIT_GRACE_S)
        self.commands.cancel_join_thread()   # exiting must never wait on the queue's thread
        if not self.alive():
            self._release_commands()

    def _release_commands(self) -> None:
        """Once the worker is gone: read out what it never read, close the command queue and
        give its feeder thread a moment to end. A large job queued while the worker imported
        torch left that thread writing into a full pipe, and the interpreter's exit joined it
        for ever (so exit no longer joins it); and while the thread lives it holds two
        semaphores, which the resource tracker reported as leaked when the app's launcher
        ended the process at once. The queue itself is let go too: its three semaphores are
        freed with it, and a finished Run still holds this worker (the tracker reported those
        three after a run)."""
        commands, self.commands = self.commands, None
        with contextlib.suppress(queue.Empty, OSError, EOFError):
            while True:
                commands.get(timeout=DRAIN_S)
        commands.close()
        feeder = getattr(commands, "_thread", None)   # CPython's feeder; the API has no wait
        if feeder is not None:                         # with a limit (join_thread has none)
            feeder.join(timeout=QUIT_GRACE_S)


class TrainingService:
    """Runs designs in a worker process, one run at a time (warm unless told otherwise:
    started now, torch imported and exercised; otherwise started on first use)."""

    def __init__(self, warm: bool = True, unresponsive_after: float = UNRESPONSIVE_S) -> None:
        self._context = mp.get_context("spawn")
        self._lock = threading.Lock()   # calls may come from another thread than runs
        self._worker: _Worker | None = None
        self._next_run = 1
        self._active: Run | None = None
        self._closing = False
        self.unresponsive_after = unresponsive_after
        if warm:
            self.warm_up()

    def start(self, design: Design, out_dir: str | None = None, resume: str | None = None,
              overrides: dict[str, Any] | None = None,
              probe: dict[str, Any] | None = None) -> Run:
        """Start training a snapshot of `design` (later edits do not reach the run); with
        `probe` (probe's options), it sends every node's output at each epoch end."""
        if self._active is not None and not self._active.done:
            raise DesignError("a run is still going; stop it before starting another")
        options = {"out_dir": out_dir, "resume": resume, "overrides": overrides or {},
                   "probe": probe}
        with self._lock:
            self._closing = False
            worker = self._live_worker()
            run = Run(self, worker, self._take_number())
            worker.commands.put(("run", run.id, design.to_dict(), options))
            self._active = run
        return run

    def warm_up(self) -> None:
        """Start the worker now if none is running, and have it import and exercise what
        training needs (seconds), so that the first run starts quickly. Without this, the
        worker imports only what its jobs need, when they need it."""
        with self._lock:
            self._closing = False
            self._live_worker().warm_up()

    def call(self, function: Callable[..., Any], *arguments: Any) -> Call:
        """Run `function(*arguments)` in the worker (engine.training.worker_calls), which
        takes one job at a time: so only between runs (DesignError during one)."""
        payload = packed(function, arguments)
        with self._lock:
            if self.active_run is not None:
                raise DesignError("a run is going; the training process takes this after the "
                                  "run ends")
            worker = self._live_worker()
            call = Call(worker, self._take_number())
            worker.commands.put(("call", call.id, payload))
        return call

    def _live_worker(self) -> _Worker:
        """The worker, started again if it has ended (hold the lock)."""
        if self._worker is None or not self._worker.alive():
            self._worker = _Worker(self._context)
        return self._worker

    def _take_number(self) -> int:
        """The next run or call number (hold the lock)."""
        self._next_run += 1
        return self._next_run - 1

    @property
    def active_run(self) -> Run | None:
        """The run still going, if any."""
        return self._active if self._active is not None and not self._active.done else None

    @property
    def worker_pid(self) -> int | None:
        return self._worker.process.pid if self._worker and self._worker.alive() else None

    def _replace(self, worker: _Worker) -> None:
        """After a failure the worker may be damaged (CUDA errors poison a process): a fresh
        one is started at once, so the next run starts warm (none while shutting down)."""
        with self._lock:
            if worker is self._worker:
                worker.retire()
                self._worker = None
                if not self._closing:
                    self._live_worker().warm_up()

    def shutdown(self) -> None:
        """Stop the run going, if any, and end the worker (within about a second)."""
        self._closing = True
        running = self.active_run is not None
        if running:
            self.active_run.stop()
        with self._lock:
            if self._worker is not None:
                self._worker.retire(grace=QUIT_GRACE_S if running else 0.0)
                self._worker = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()


class Run:
    """A run in the worker: read its events, send it commands."""

    def __init__(self, service: TrainingService, worker: _Worker, run: int) -> None:
        self.id = run
        self.final: Finished | Failed | None = None
        self.last_checkpoint: str | None = None
        self._service = service
        self._worker = worker
        self._ended_here: list[RunMessage] = []   # a final made on this side, not yet handed out

    @property
    def done(self) -> bool:
        return self.final is not None

    @property
    def unresponsive(self) -> bool:
        """The worker running this run has shown no sign of life for a while (it is stopped
        or hung); Stop ends it."""
        return (not self.done and self._worker.alive()
                and self._worker.silence() > self._service.unresponsive_after)

    def events(self, timeout: float = 0.0) -> list[RunMessage]:
        """The events that arrived, in order; waits up to `timeout` s for the first one."""
        if self._ended_here:
            found, self._ended_here = self._ended_here, []
            return found
        found: list[RunMessage] = []
        if self.done:
            return found
        received = self._worker.received
        try:
            found.append(received.get(timeout=timeout) if timeout > 0 else received.get_nowait())
            while True:
                found.append(received.get_nowait())
        except queue.Empty:
            pass
        found = [event for event in found if event.run == self.id]
        for index, event in enumerate(found):
            if isinstance(event, CheckpointWritten):
                self.last_checkpoint = event.path
            if isinstance(event, FINAL):
                found = found[:index + 1]
                self._end(event)
                return found
        if not found and self._worker.drained():
            code = self._worker.process.exitcode
            self._end(Failed(self.id, reason=_death(code), error="crashed",
                             checkpoint=self.last_checkpoint, details=f"exit code {code}"))
            found.append(self.final)
        return found

    def wait(self, timeout: float | None = None) -> list[RunMessage]:
        """Collect events until the run ends (or `timeout` s pass); return them all."""
        deadline = None if timeout is None else time.monotonic() + timeout
        collected: list[RunMessage] = []
        while not self.done and (deadline is None or time.monotonic() < deadline):
            collected += self.events(timeout=0.1)
        return collected + self.events()

    def pause(self) -> None:
        self._send(Command.PAUSE)

    def resume(self) -> None:
        self._send(Command.RESUME)

    def stop(self) -> None:
        """Stop at the next step boundary; a worker that does not respond is ended now (the
        run fails, saying so, and its next `events` hands out that final event)."""
        if self.unresponsive:
            silent = self._worker.silence()
            self._worker.retire()
            final = Failed(self.id, reason=(
                f"the training process stopped responding (no sign of life for {silent:.0f} s), "
                "so Stop ended it; the editor is unaffected and the last checkpoint is kept"),
                error="unresponsive", checkpoint=self.last_checkpoint,
                details=f"exit code {self._worker.process.exitcode}")
            self._end(final)
            self._ended_here.append(final)
        else:
            self._send(Command.STOP)

    def checkpoint(self) -> None:
        """Write a checkpoint at the next step boundary."""
        self._send(Command.CHECKPOINT)

    def _send(self, command: Command) -> None:
        if not self.done and self._worker.alive():
            self._worker.commands.put((command, self.id))

    def _end(self, event: Finished | Failed) -> None:
        self.final = event
        if isinstance(event, Failed) and event.error in _DAMAGING:
            self._service._replace(self._worker)


class Call:
    """A call in the worker: its reply once it comes."""

    def __init__(self, worker: _Worker, call: int) -> None:
        self.id = call
        self._worker = worker
        self._reply: Reply | None = None

    def result(self, timeout: float = 0.0) -> Reply | None:
        """The reply (waiting up to `timeout` s for it), None while the call is running; a
        worker that died on the call gives a reply saying so."""
        if self._reply is None:
            self._reply = self._worker.replies.take(self.id, timeout)
        if self._reply is None and self._worker.replies.closed:
            self._worker.process.join(timeout=QUIT_GRACE_S)   # its pipe closes first
            self._reply = Reply(self.id, error="the training process ended before answering: "
                                f"{_ending(self._worker.process.exitcode)}", lost=True)
        return self._reply


def _death(code: int | None) -> str:
    return (f"the training process {_ending(code)}; the editor is unaffected and the last "
            "checkpoint is kept")


def _ending(code: int | None) -> str:
    """How the process ended, from its exit code: "was killed (SIGKILL)"."""
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"was killed ({name})"
    return f"ended unexpectedly (exit status {code})"
