"""Training one design in several processes, under PyTorch's own launcher (torchrun).

`train_in_processes(design, launch, options, emit)` starts `launch.nproc_per_node` processes
on this machine through `torch.distributed.run` (the code behind `torchrun`, called through
its API so that a failed process comes back as data: its rank, exit status or signal). Each
process runs engine.training.distributed_rank: it joins the others as an exported script does
(`start_processes`: NCCL between GPUs, Gloo on the CPU) and the app's Trainer trains on its
share of every epoch with each network wrapped in DistributedDataParallel. Rank 0 alone
writes the run folder this process chose, and sends its events back here over a local,
authenticated connection; the final event is decided here, from rank 0's report and what
torchrun says about every process.

The batch size is per process, as in the exported script: N processes with batch size B take
the same steps as one process with batch size N x B (DistributedSampler deals each global
batch out, rank r taking its every N-th sample), so the two runs differ only by the order in
which the gradients are summed.

torchrun watches its processes every MONITOR_S seconds and stops the others as soon as one
ends badly, so a killed rank never leaves the rest waiting in a collective operation.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import secrets
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Client, Connection, Listener
from pathlib import Path
from typing import Any, Self

from engine.design import Design
from engine.errors import DesignError
from engine.training.control import Command, Control
from engine.training.events import FINAL, Failed, RunMessage
from engine.training.labels import SettingError, setting_place
from engine.wording import count_of

MONITOR_S = 0.1            # how often torchrun looks at its processes
EVENTS_ADDRESS = "NEURALCANVAS_EVENTS"      # host:port rank 0 sends its events to
EVENTS_KEY = "NEURALCANVAS_EVENTS_KEY"      # the connection's key, in hex
RANK_MODULE = "engine.training.distributed_rank"
# The signals torchrun turns into "end every process at once". Not SIGINT: Ctrl+C stays with
# the caller, whose handler stops every process at the same step, as `control` asks, and
# whose second Ctrl+C (a KeyboardInterrupt) ends them at once. Left to torchrun, SIGINT went
# on to the processes, which leave Ctrl+C to their launcher, and ended them only when
# torchrun gave up waiting 30 s later and killed them.
SIGNALS_FOR_TORCHRUN = "SIGTERM,SIGHUP,SIGQUIT"


@dataclass(frozen=True)
class Launch:
    """torchrun's options: processes on this machine, and for several machines how many,
    which one this is and where rank 0's machine listens."""

    nproc_per_node: int
    nnodes: int = 1
    node_rank: int = 0
    master_addr: str | None = None
    master_port: int | None = None

    @property
    def world_size(self) -> int:
        return self.nproc_per_node * self.nnodes

    @property
    def holds_rank_zero(self) -> bool:
        """Whether rank 0, which writes the run folder, runs on this machine."""
        return self.node_rank == 0

    def torchrun_arguments(self) -> list[str]:
        arguments = [f"--nproc-per-node={self.nproc_per_node}", f"--nnodes={self.nnodes}",
                     f"--node-rank={self.node_rank}", "--max-restarts=0",
                     f"--monitor-interval={MONITOR_S}",
                     f"--signals-to-handle={SIGNALS_FOR_TORCHRUN}"]
        if self.master_addr is not None:
            arguments.append(f"--master-addr={self.master_addr}")
        if self.master_port is not None:
            arguments.append(f"--master-port={self.master_port}")
        elif self.nnodes == 1:   # a free port: two runs on one machine never collide
            arguments.append("--standalone")
        return arguments


def launch_problem(launch: Launch, count: str = "--nproc-per-node") -> str | None:
    """What is wrong with a launch's numbers, or None. `count` names the number of processes
    where the person set it (a flag, or the Processes setting)."""
    if launch.nproc_per_node < 1:
        return f"{count} is {launch.nproc_per_node} but must be at least 1"
    if launch.nnodes < 1:
        return f"--nnodes is {launch.nnodes} but must be at least 1"
    if not 0 <= launch.node_rank < launch.nnodes:
        return (f"--node-rank is {launch.node_rank} but must be from 0 to {launch.nnodes - 1} "
                f"(one number per machine, with --nnodes {launch.nnodes})")
    if launch.master_port is not None and not 1 <= launch.master_port <= 65535:
        return f"--master-port is {launch.master_port} but must be from 1 to 65535"
    if launch.nnodes > 1 and not (launch.master_addr and launch.master_port):
        return ("training on several machines needs --master-addr and --master-port: where "
                "the machine with --node-rank 0 listens")
    return None


def device_problem(launch: Launch, device: Any, count: str = "--nproc-per-node",
                   gpus: int | None = None) -> str | None:
    """What keeps a launch of several processes from `device` (a torch.device or its name,
    such as "cuda" or "mps"), or None. `gpus`: how many CUDA devices this machine has (asked
    of torch when not given, so a caller that knows needs no torch)."""
    kind, _, index = str(device).partition(":")
    if kind == "mps":
        return (f"{count} is {launch.nproc_per_node} but Apple's MPS trains in one process; "
                "choose device 'cpu' or 'cuda', or one process")
    if kind != "cuda":
        return None
    if index:
        return (f"device is {str(device)!r} but with several processes each drives the GPU of "
                "its own local rank; choose device 'cuda' or 'auto'")
    if gpus is None:
        import torch

        gpus = torch.cuda.device_count()
    if launch.nproc_per_node > gpus:
        return (f"{count} is {launch.nproc_per_node} but this machine has "
                f"{count_of(gpus, 'CUDA device')}; each process drives one GPU")
    return None


def launch_for_setting(processes: int, device: Any, gpus: int | None = None) -> Launch | None:
    """The launch the Processes setting asks for on `device` (None: train in this process);
    a SettingError naming the setting when it cannot be."""
    if processes == 1:
        return None
    launch, count = Launch(processes), setting_place("processes")
    problem = launch_problem(launch, count) or device_problem(launch, device, count, gpus)
    if problem:
        raise SettingError("processes", problem)
    return launch


def train_in_processes(design: Design, launch: Launch, options: Any,
                       emit: Callable[[RunMessage], None],
                       control: Control | None = None) -> RunMessage:
    """Train `design` in torchrun's processes; pass rank 0's events to `emit` and return the
    final one (also emitted). `options` is the Trainer's RunOptions: rank 0 writes to its
    out_dir; the other ranks write nothing. Commands given to `control` go to rank 0, and
    every process acts on them at the same step (engine.training.control.AgreedControl)."""
    job = {"design": design.to_dict(), "options": dataclasses.asdict(options)}
    with tempfile.TemporaryDirectory(prefix="neuralcanvas-processes-") as folder, \
            _EventRelay(emit) as relay, _signal_handlers_kept():
        if control is not None:
            control.relay_to(relay.command)
        job_file = Path(folder) / "job.json"
        job_file.write_text(json.dumps(job), encoding="utf-8")
        environment = {EVENTS_ADDRESS: relay.address, EVENTS_KEY: relay.key.hex()}
        if "OMP_NUM_THREADS" not in os.environ:   # torchrun's default is one thread each
            cores = os.cpu_count() or 1
            environment["OMP_NUM_THREADS"] = str(max(1, cores // launch.nproc_per_node))
        with _environment(environment):
            failures, interruption = _run_torchrun(launch, job_file)
    if relay.emit_error is not None:
        raise relay.emit_error
    final = _final(options.run, launch, relay.final, failures, interruption)
    emit(final)
    return final


def _run_torchrun(launch: Launch, job_file: Path) -> tuple[dict[int, Any], str | None]:
    """Run torchrun to the end: (failed processes by global rank, the signal that ended the
    launch, if one did)."""
    from torch.distributed import run as torchrun
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.elastic.rendezvous import RendezvousError

    arguments = [*launch.torchrun_arguments(), "-m", RANK_MODULE, str(job_file)]
    try:
        torchrun.run(torchrun.parse_args(arguments))
    except ChildFailedError as err:
        return err.failures, None
    except SignalException as err:
        return {}, signal.Signals(err.sigval).name
    except KeyboardInterrupt:   # torchrun has ended its processes on the way out
        return {}, signal.SIGINT.name
    except RendezvousError as err:
        raise DesignError(f"the processes could not meet ({type(err).__name__}: {err}); check "
                          "--master-addr, --master-port and that every machine started") from None
    return {}, None


def _final(run: int, launch: Launch, reported: RunMessage | None, failures: dict[int, Any],
           interruption: str | None) -> RunMessage:
    """The run's final event: rank 0's own, unless another process failed or none reported."""
    processes = f"training in {count_of(launch.world_size, 'process', 'processes')}"
    if interruption:
        return Failed(run, reason=f"{processes} was interrupted ({interruption}); the last "
                      "checkpoint stays as it was", error="interrupted")
    if not failures and reported is not None:
        return reported
    if set(failures) <= {0} and isinstance(reported, Failed):
        return reported   # rank 0 failed and said why
    if not failures:
        return Failed(run, reason=f"{processes} ended without a report from rank 0"
                      + ("" if launch.holds_rank_zero else ", which runs on the machine with "
                         "--node-rank 0: its output says how the run went"),
                      error="crashed" if launch.holds_rank_zero else "elsewhere")
    first, *others = sorted(failures.items(), key=_cause_first)
    said = [describe_failure(rank, failure) for rank, failure in others]
    if isinstance(reported, Failed):
        said.append(f"rank 0 reported: {reported.reason}")
    checkpoint = reported.checkpoint if isinstance(reported, Failed) else None
    return Failed(run, reason=f"{describe_failure(*first)}, so {processes} stopped (the "
                  "other processes were stopped too)" + (
                      f". The last checkpoint is {checkpoint}" if checkpoint else ""),
                  error="crashed", checkpoint=checkpoint,
                  epoch=getattr(reported, "epoch", 0), step=getattr(reported, "step", 0),
                  details="\n".join(said))


def _cause_first(item: tuple[int, Any]) -> tuple:
    """The causes first: a process killed by a signal other than SIGTERM (which torchrun
    sends to the others once one has failed), then failed ones, the earliest first (to the
    second), rank 0 last among equals (a process whose peer died fails too)."""
    rank, failure = item
    return (failure.exitcode == -signal.SIGTERM, failure.exitcode >= 0, failure.timestamp,
            rank == 0, rank)


def describe_failure(rank: int, failure: Any) -> str:
    """One failed process (torchrun's ProcessFailure) in words."""
    if failure.exitcode < 0:
        return f"rank {rank} (process {failure.pid}) was killed by {failure.signal_name()}"
    message = failure.message
    if isinstance(message, dict):   # written by @record: {"message": "Type: text", ...}
        message = message.get("message", "")
    said = str(message).partition(": ")[2] if str(message).startswith("RankFailed") else ""
    return (f"rank {rank} (process {failure.pid}) failed: {said}" if said
            else f"rank {rank} (process {failure.pid}) exited with status {failure.exitcode}")


@contextlib.contextmanager
def _signal_handlers_kept() -> Iterator[None]:
    """Put back the signal handlers torchrun replaces (it turns SIGTERM and others into
    exceptions in the main thread), so that a process which trains again later, such as the
    app's worker, still ends as it should when told to."""
    names = ("SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT")
    kept = {number: signal.getsignal(number) for name in names
            if (number := getattr(signal, name, None)) is not None}
    try:
        yield
    finally:
        if threading.current_thread() is threading.main_thread():
            for number, handler in kept.items():
                if handler is not None:
                    signal.signal(number, handler)


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables (which torchrun hands to its processes) for a while."""
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class _EventRelay:
    """Receives rank 0's events over a local connection (authenticated: they are pickles)
    and passes them on as they come, keeping the final one for `_final` to judge; sends
    commands back over the same connection, keeping those given before rank 0 connected.

    It accepts connections until the closing one, which only this process makes: so closing
    never waits on an accept that nobody answers, whether rank 0 connected or not."""

    def __init__(self, emit: Callable[[RunMessage], None]) -> None:
        self.emit = emit
        self.key = secrets.token_bytes(32)
        self._listener = Listener(("127.0.0.1", 0), authkey=self.key)
        host, port = self._listener.address
        self.address = f"{host}:{port}"
        self.final: RunMessage | None = None
        self.emit_error: Exception | None = None
        self._lock = threading.Lock()   # guards the commands' way to rank 0
        self._rank_zero: Connection | None = None
        self._waiting: list[Command] = []   # commands given before rank 0 connected
        self._closing = False
        self._thread = threading.Thread(target=self._relay, name="rank-0-events", daemon=True)
        self._thread.start()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._closing = True   # the next connection is the closing one: no commands
            self._rank_zero = None
        with Client(self._listener.address, authkey=self.key) as closing:
            closing.send(None)
        self._thread.join()
        self._listener.close()

    def command(self, command: Command) -> None:
        """Send a command to rank 0 (once it connects, if it has not yet); dropped once the
        run is over."""
        with self._lock:
            if self._closing:
                return
            if self._rank_zero is None:
                self._waiting.append(command)
            else:
                self._send(command)

    def _relay(self) -> None:
        while True:
            try:
                connection = self._listener.accept()
            except (OSError, EOFError):   # a caller that went away before it was let in
                continue
            with connection:
                self._take_commands(connection)
                if self._pass_on(connection):
                    return
                with self._lock:
                    self._rank_zero = None

    def _take_commands(self, connection: Connection) -> None:
        """Rank 0 connected: it takes the commands from now on, the waiting ones first."""
        with self._lock:
            if self._closing:
                return
            self._rank_zero = connection
            for command in self._waiting:
                self._send(command)
            self._waiting = []

    def _send(self, command: Command) -> None:
        """Send to rank 0 (hold the lock)."""
        with contextlib.suppress(OSError, ValueError):   # rank 0 has just ended
            self._rank_zero.send(command)

    def _pass_on(self, connection: Connection) -> bool:
        """Pass on what one connection sends; True when it was the closing one."""
        while True:
            try:
                event = connection.recv()
            except (EOFError, OSError):
                return False
            if event is None:
                return True
            if isinstance(event, FINAL):
                self.final = event
                continue
            try:
                self.emit(event)
            except Exception as err:  # noqa: BLE001 - keep reading; the launcher reports it
                self.emit_error = self.emit_error or err


def events_to_launcher(rank: int, control: Control) -> tuple[Callable[[RunMessage], None],
                                                             Connection | None]:
    """In a rank's process: where its events go (rank 0's to the launcher, the others'
    nowhere) and the connection to close at the end. Rank 0 also takes the launcher's
    commands over that connection and gives them to `control`, from a thread of its own."""
    address = os.environ.get(EVENTS_ADDRESS)
    if rank != 0 or not address:
        return _nowhere, None
    host, port = address.rsplit(":", 1)
    connection = Client((host, int(port)), authkey=bytes.fromhex(os.environ[EVENTS_KEY]))
    threading.Thread(target=_obey_launcher, args=(connection, control), name="launcher-commands",
                     daemon=True).start()
    return connection.send, connection


def _obey_launcher(connection: Connection, control: Control) -> None:
    """Give the launcher's commands to `control` until the connection ends."""
    while True:
        try:
            command = connection.recv()
        except (EOFError, OSError):
            return
        control.obey(Command(command))


def _nowhere(event: RunMessage) -> None:
    """The events of a rank other than 0: rank 0 reports for every process."""


def job_of(path: str) -> tuple[Design, dict[str, Any]]:
    """The design and RunOptions fields a launcher wrote for its processes."""
    job = json.loads(Path(path).read_text(encoding="utf-8"))
    return Design.from_dict(job["design"]), job["options"]

