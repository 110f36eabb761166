"""Command-line commands for training (registered with engine.cli).

`neuralcanvas train FILE` trains headless in this process with a progress line (epoch, batch,
loss, speed, ETA), prints diagnostics as they happen (and the one to act on first at the end),
and writes metrics.csv, the best and last weights, checkpoints, summary.json and
diagnostics.json. Runs go to the design's run store (`FILE.runs/NNNN`, where the app's Runs
tab lists them) unless --out names another folder. The first Ctrl+C stops cleanly (the last
checkpoint stays as it was); a second one interrupts at once.

With --nproc-per-node N (or the design's Processes setting) it trains in N processes under
torchrun instead (engine.training.distributed); --nnodes, --node-rank, --master-addr and
--master-port spread the run over several machines, each running the same command. Ctrl+C
on the machine with rank 0 stops every process at the same step, as in one process (rank 0
writes the last weights and summary; the last checkpoint stays as it was); a second one, or
Ctrl+C on another machine, ends every process at once.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, TextIO

from engine.cli import command
from engine.design import Design
from engine.errors import DesignError
from engine.fileformat import load_design
from engine.runs import RunRecorder, RunStore, runs_folder_for
from engine.training.data_paths import anchored_to_folder
from engine.training.diagnostics import DIAGNOSTICS_FILE, headline
from engine.training.distributed import (
    Launch,
    device_problem,
    launch_problem,
    train_in_processes,
)
from engine.training.events import (
    Batch,
    Diagnostic,
    EpochEnd,
    Failed,
    Finished,
    LrChange,
    RunMessage,
    Started,
    Validation,
)
from engine.training.labels import setting_place
from engine.wording import count_of


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="a design file (.ncnet)")
    parser.add_argument("--epochs", type=int, help="override the design's number of epochs")
    parser.add_argument("--device", help="auto, cpu, cuda, cuda:N or mps (default: the "
                        "design's setting)")
    parser.add_argument("--out", help="output folder (default: a new run in FILE's run "
                        "store, FILE's name + '.runs', which the app lists)")
    parser.add_argument("--resume", metavar="CKPT", help="continue from a checkpoint folder")
    parser.add_argument("--nproc-per-node", type=int, metavar="N",
                        help="train in N processes on this machine under torchrun with "
                        "DistributedDataParallel: one per GPU on CUDA, or sharing the CPU; the "
                        "batch size is per process (default: the design's Processes setting)")
    parser.add_argument("--nnodes", type=int, default=1, metavar="M",
                        help="machines taking part, each running this command (default 1)")
    parser.add_argument("--node-rank", type=int, default=0, metavar="R",
                        help="this machine's number, 0 to M-1; machine 0 keeps the run")
    parser.add_argument("--master-addr", metavar="A", help="with --nnodes: machine 0's address")
    parser.add_argument("--master-port", type=int, metavar="P",
                        help="with --nnodes: a free port on machine 0")


@command("train", "train a design headless and write its weights and metrics", _configure)
def _train(args: argparse.Namespace) -> int:
    from engine.training.control import Command, Control
    from engine.training.trainer import RunOptions, Trainer

    design = anchored_to_folder(load_design(args.file), Path(args.file).resolve().parent)
    overrides = {key: value for key, value in (("epochs", args.epochs),
                                               ("device", args.device)) if value is not None}
    launch = _launch(args, design, overrides)
    recorder = None
    if launch is not None and not launch.holds_rank_zero:
        out = None   # rank 0's machine keeps the run
    elif args.out:
        out = args.out
    else:
        store = RunStore(runs_folder_for(args.file))
        recorder = RunRecorder(store, store.create(
            resumed_from=_run_of(store, args.resume) if args.resume else None))
        out = str(recorder.record.folder)
    control = Control()
    progress = Progress(sys.stdout)

    def emit(event) -> None:
        progress.show(event)
        if recorder is not None:
            recorder.observe(event)

    def interrupt(signum, frame) -> None:
        if control.stopping or (launch is not None and not launch.holds_rank_zero):
            raise KeyboardInterrupt   # the second; or rank 0, which obeys, is on another machine
        when = "every process at the next step they agree on" if launch else "after this step"
        print(f"\nstopping {when} (Ctrl+C again to interrupt at once)", file=sys.stderr)
        control.obey(Command.STOP)

    options = RunOptions(out_dir=out, resume=args.resume, overrides=overrides)
    previous = signal.signal(signal.SIGINT, interrupt)
    try:
        if launch is not None:
            final = train_in_processes(design, launch, options, emit, control)
        else:
            final = Trainer(design, emit, options, control).run()
    finally:
        signal.signal(signal.SIGINT, previous)
    if out is not None:
        progress.conclude(Path(out))
    if isinstance(final, Failed):
        return 130 if final.error == "interrupted" else 1
    return 130 if final.status == "stopped" else 0


def _launch(args: argparse.Namespace, design: Design, overrides: dict[str, Any]) -> Launch | None:
    """How many processes train, from the flags or the design's Processes setting (None: this
    one alone); a DesignError naming what is wrong with them."""
    from engine.training.devices import resolve_device
    from engine.training.portable.processes import process_backend
    from engine.training.run_state import settings_with
    from engine.training.settings import settings_from

    flagged = args.nproc_per_node is not None
    try:
        settings = settings_from(settings_with(design.training, overrides))
    except DesignError:
        if flagged or args.nnodes != 1:
            raise
        return None   # one process: the run reports what is wrong with its settings
    count = "--nproc-per-node" if flagged else setting_place("processes")
    launch = Launch(args.nproc_per_node if flagged else settings.processes, args.nnodes,
                    args.node_rank, args.master_addr, args.master_port)
    problem = launch_problem(launch, count)
    if problem:
        raise DesignError(problem)
    if launch.world_size == 1:
        return None
    device = resolve_device(settings.device)
    problem = device_problem(launch, device, count)
    if problem:
        raise DesignError(problem)
    machines = f" on each of {launch.nnodes} machines" if launch.nnodes > 1 else ""
    print(f"starting {count_of(launch.nproc_per_node, 'process', 'processes')}{machines} with torchrun "
          f"({process_backend(device)}); rank 0 reports", flush=True)
    return launch


class Progress:
    """Prints a run's messages for a person: a progress line that updates in place on a
    terminal."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.live = stream.isatty()
        self.epochs = 0
        self.open_line = False
        self.diagnostics: list = []

    def show(self, message: RunMessage) -> None:
        shown = self.SHOWN.get(type(message))
        if shown is not None:
            shown(self, message)

    def _print(self, text: str) -> None:
        if self.open_line:
            self.stream.write("\n")
            self.open_line = False
        print(text, file=self.stream, flush=True)

    def _started(self, event: Started) -> None:
        self.epochs = event.epochs
        cost = event.cost
        self._print(f"training {', '.join(event.networks)} ({event.task}) on "
                    f"{event.data['description']}: {event.data['train_samples']} training, "
                    f"{event.data['val_samples']} validation samples, on {event.place()}")
        self._print(f"  {cost['parameters']:,} parameters, {cost['flops_per_sample']:,} FLOPs "
                    f"per sample, about {cost['total_bytes'] / 2**20:.1f} MB for a batch of "
                    f"{cost['batch_size']}; output in {event.out_dir}")

    def _batch(self, event: Batch) -> None:
        if not self.live:
            return
        name = "loss" if "loss" in event.values else next(iter(event.values))
        value = event.values[name][-1]
        filled = int(20 * event.batch / max(event.batches, 1))
        line = (f"\repoch {event.epoch}/{self.epochs} [{'#' * filled}{'.' * (20 - filled)}] "
                f"{event.batch}/{event.batches} {name} {value:.4f} "
                f"{event.samples_per_second:,.0f} samples/s ETA {_clock(event.eta)}")
        self.stream.write(line.ljust(100))
        self.stream.flush()
        self.open_line = True

    def _epoch(self, event: EpochEnd) -> None:
        metrics = ", ".join(f"{k} {v:.4g}" for k, v in event.metrics.items())
        self._print(f"epoch {event.epoch}/{event.epochs}: {metrics} "
                    f"({event.seconds:.1f} s, {event.samples_per_second:,.0f} samples/s)")

    def _validation(self, event: Validation) -> None:
        self._print("  " + ", ".join(f"{k} {v:.4g}" for k, v in event.metrics.items()))

    def _lr_change(self, event: LrChange) -> None:
        self._print(f"  learning rate {event.previous:.3g} -> {event.lr:.3g}")

    def _diagnostic(self, event: Diagnostic) -> None:
        self.diagnostics.append(event)
        self._print(f"  [{event.severity}] {event.message}")
        if event.fix:
            self._print(f"      try: {event.fix}")

    def _finished(self, event: Finished) -> None:
        self._print(f"{event.status.replace('_', ' ')} after "
                    f"{count_of(event.epochs_done, 'epoch')} in {event.seconds:.1f} s; "
                    f"weights: {', '.join(event.weights.values()) or 'not saved'}")

    def _failed(self, event: Failed) -> None:
        self._print(f"error: {event.reason}")

    # The messages a person is shown (the others, as Ack or Gradients, are for the GUI).
    SHOWN: ClassVar[dict[type[RunMessage], Callable[[Progress, Any], None]]] = {
        Started: _started, Batch: _batch, EpochEnd: _epoch, Validation: _validation,
        LrChange: _lr_change, Diagnostic: _diagnostic, Finished: _finished, Failed: _failed,
    }

    def conclude(self, out: Path) -> None:
        """After the run: where it is kept, and the diagnostic to act on first."""
        self._print(f"run kept in {out}")
        first = headline(self.diagnostics)
        if first is None:
            self._print("no problems diagnosed")
            return
        self._print(f"{count_of(len(self.diagnostics), 'diagnostic')} (in "
                    f"{out / DIAGNOSTICS_FILE}); act on this one first:")
        self._print(f"  [{first.severity}] {first.message}")
        if first.fix:
            self._print(f"      try: {first.fix}")


def _run_of(store: RunStore, checkpoint: str) -> str | None:
    """The id of the stored run a checkpoint folder belongs to, if it is in `store`."""
    for record in store.runs():
        if Path(checkpoint).resolve().is_relative_to(record.folder.resolve()):
            return record.id
    return None


def _clock(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"
