"""Command-line commands for training (registered with engine.cli).

`neuralcanvas train FILE` trains headless in this process with a progress line (epoch, batch,
loss, speed, ETA), prints diagnostics as they happen (and the one to act on first at the end),
and writes metrics.csv, the best and last weights, checkpoints, summary.json and
diagnostics.json. Runs go to the design's run store (`FILE.runs/NNNN`, where the app's Runs
tab lists them) unless --out names another folder. The first Ctrl+C stops cleanly (the last
checkpoint stays as it was); a second one interrupts at once.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, TextIO

from engine.cli import command
from engine.fileformat import load_design
from engine.runs import RunRecorder, RunStore, runs_folder_for
from engine.training.data_paths import anchored_to_folder
from engine.training.diagnostics import DIAGNOSTICS_FILE, headline
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
from engine.wording import count_of


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="a design file (.ncnet)")
    parser.add_argument("--epochs", type=int, help="override the design's number of epochs")
    parser.add_argument("--device", help="auto, cpu, cuda, cuda:N or mps (default: the "
                        "design's setting)")
    parser.add_argument("--out", help="output folder (default: a new run in FILE's run "
                        "store, FILE's name + '.runs', which the app lists)")
    parser.add_argument("--resume", metavar="CKPT", help="continue from a checkpoint folder")


@command("train", "train a design headless and write its weights and metrics", _configure)
def _train(args: argparse.Namespace) -> int:
    from engine.training.control import Control
    from engine.training.trainer import RunOptions, Trainer

    design = anchored_to_folder(load_design(args.file), Path(args.file).resolve().parent)
    overrides = {key: value for key, value in (("epochs", args.epochs),
                                               ("device", args.device)) if value is not None}
    recorder = None
    if args.out:
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
        if control.stopping:
            raise KeyboardInterrupt
        print("\nstopping after this step (Ctrl+C again to interrupt at once)", file=sys.stderr)
        control.stop()

    previous = signal.signal(signal.SIGINT, interrupt)
    try:
        final = Trainer(design, emit, RunOptions(out_dir=out, resume=args.resume,
                                                 overrides=overrides), control).run()
    finally:
        signal.signal(signal.SIGINT, previous)
    progress.conclude(Path(out))
    if isinstance(final, Failed):
        return 1
    return 130 if final.status == "stopped" else 0


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
                    f"{event.data['val_samples']} validation samples, on {event.device_name}")
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
