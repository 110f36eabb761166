"""What a run has shown so far: the run's messages folded into buffers and latest values.

No Qt here: the panel drains the run's messages into a LiveRun about every 50 ms, and the views
read from it when they redraw (at most 10 times a second), whatever the step rate.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from designer.training.buffers import Series, SmoothedSeries
from engine.on_first_use import ModuleOnFirstUse
from engine.training import events

if TYPE_CHECKING:
    import numpy as np
else:   # the window's first paint does not wait for numpy (engine.on_first_use)
    np = ModuleOnFirstUse("numpy")

COUNT_METRICS = frozenset({"modes_covered"})  # whole numbers, shown as text, not curves


@dataclass
class Progress:
    epoch: int = 0
    epochs: int = 0
    batch: int = 0
    batches: int = 0
    step: int = 0
    samples_per_second: float = 0.0
    elapsed: float = 0.0
    eta: float = 0.0


@dataclass
class GradientHistory:
    """Per-layer gradient norms: one column per report, one row per layer."""

    layers: list[dict[str, str]] = field(default_factory=list)   # network, node, name
    epochs: list[int] = field(default_factory=list)
    steps: list[int] = field(default_factory=list)
    columns: list[np.ndarray] = field(default_factory=list)

    def add(self, epoch: int, step: int, layers: list[dict]) -> None:
        # by name: a block node's layers share its node, and each is a row of its own
        keys = [(layer["network"], layer["name"]) for layer in self.layers]
        column = np.full(len(keys), np.nan)
        for layer in layers:
            key = (layer["network"], layer["name"])
            if key not in keys:
                keys.append(key)
                self.layers.append({k: layer[k] for k in ("network", "node", "name")})
                column = np.append(column, np.nan)
            norm = layer["norm"]
            column[keys.index(key)] = np.nan if norm is None else norm
        self.epochs.append(epoch)
        self.steps.append(step)
        self.columns.append(column)

    def matrix(self) -> np.ndarray:
        """layers x reports, NaN where a layer had no gradient."""
        result = np.full((len(self.layers), len(self.columns)), np.nan)
        for index, column in enumerate(self.columns):
            result[:len(column), index] = column
        return result


class LiveRun:
    """The state of one run as its messages arrive; `apply` says which parts changed."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.started: events.Started | None = None
        self.state = "idle"
        self.progress = Progress()
        self.steps: dict[str, SmoothedSeries] = {}
        self.epochs: dict[str, Series] = {}
        self.counts: dict[str, float] = {}
        self.lr = Series()
        self.gradients = GradientHistory()
        self.confusion: np.ndarray | None = None
        self.per_class: list[float] | None = None
        self.labels: list[str] | None = None
        self.validated_epoch = 0
        self.samples: events.Samples | None = None
        self.probed: events.Probed | None = None   # the latest probe, or why there is none
        self.diagnostics: list[events.Diagnostic] = []
        self.final: events.Finished | events.Failed | None = None
        self.last_checkpoint: str | None = None
        self.last_epoch = 0
        self.epoch_speeds: list[float] = []   # samples per second of each epoch
        self._last_step = 0

    # ------------------------------------------------------------------ facts
    @property
    def task(self) -> str:
        return self.started.task if self.started else ""

    @property
    def batches_per_epoch(self) -> int:
        return max(1, self.started.batches_per_epoch) if self.started else 1

    @property
    def running(self) -> bool:
        return self.state in ("starting", "running", "paused", "stopping")

    def step_curves(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """The per-step curves (for keeping with the run)."""
        curves = {name: (series.x, series.y) for name, series in self.steps.items()}
        curves["lr"] = (self.lr.x, self.lr.y)
        return curves

    # ------------------------------------------------------------------ messages
    def apply(self, messages: Iterable[events.RunMessage]) -> set[str]:
        changed: set[str] = set()
        for message in messages:
            changed |= self.FOLD[type(message)](self, message)
        return changed

    def _on_started(self, event: events.Started) -> set[str]:
        self.reset()
        self.started = event
        self.state = "running"
        self._last_step = (event.first_epoch - 1) * max(1, event.batches_per_epoch)
        self.progress = Progress(epoch=event.first_epoch, epochs=event.epochs,
                                 batches=event.batches_per_epoch, step=self._last_step)
        return {"started", "state", "progress"}

    def _on_ack(self, event: events.Ack) -> set[str]:
        if event.state != "checkpointing" and self.running:
            self.state = event.state
        return {"state"}

    def _on_batch(self, event: events.Batch) -> set[str]:
        span = max(1, event.step - self._last_step)
        for name, values in event.values.items():
            count = len(values)
            if not count:
                continue
            # Values are spread evenly over the steps since the last report (one per step
            # for most, fewer for a GAN's generator when the discriminator steps more often).
            xs = self._last_step + span * np.arange(1, count + 1) / count
            series = self.steps.get(name)
            if series is None:
                series = self.steps[name] = SmoothedSeries()
            series.extend(xs, values)
        self._last_step = event.step
        self.progress = Progress(event.epoch, self.progress.epochs, event.batch, event.batches,
                                 event.step, event.samples_per_second, event.elapsed, event.eta)
        changed = {"steps", "progress"}
        if self.lr.last() != event.lr:   # the rate is drawn as steps: points where it changes
            self.lr.append(event.step, event.lr)
            changed.add("lr")
        return changed

    def _on_epoch(self, event: events.EpochEnd) -> set[str]:
        for name, value in event.metrics.items():
            self._epoch_value(name, event.epoch, value)
        if len(self.lr):   # carry the latest rate (a schedule may have changed it) to here
            self.lr.append(self._last_step, self.lr.last())
        self.progress.epochs = event.epochs
        self.last_epoch = event.epoch
        self.epoch_speeds.append(event.samples_per_second)
        return {"epochs", "progress", "lr"}

    def _on_validation(self, event: events.Validation) -> set[str]:
        for name, value in event.metrics.items():
            self._epoch_value(name, event.epoch, value)
        changed = {"epochs"}
        if event.confusion is not None:
            self.confusion = np.asarray(event.confusion)
            self.per_class = event.per_class
            self.labels = event.labels
            self.validated_epoch = event.epoch
            changed.add("confusion")
        return changed

    def _epoch_value(self, name: str, epoch: int, value: float) -> None:
        if name in COUNT_METRICS:
            self.counts[name] = value
            return
        series = self.epochs.get(name)
        if series is None:
            series = self.epochs[name] = Series(64)
        series.append(epoch, value)

    def _on_lr_change(self, event: events.LrChange) -> set[str]:
        self.lr.append(event.step, event.lr)
        return {"lr"}

    def _on_gradients(self, event: events.Gradients) -> set[str]:
        self.gradients.add(event.epoch, event.step, event.layers)
        return {"gradients"}

    def _on_diagnostic(self, event: events.Diagnostic) -> set[str]:
        self.diagnostics.append(event)
        return {"diagnostics"}

    def _on_samples(self, event: events.Samples) -> set[str]:
        self.samples = event
        return {"samples"}

    def _on_probed(self, event: events.Probed) -> set[str]:
        self.probed = event
        return {"probe"}

    def _on_checkpoint(self, event: events.CheckpointWritten) -> set[str]:
        self.last_checkpoint = event.path
        return {"checkpoint"}

    def _on_finished(self, event: events.Finished) -> set[str]:
        self.final = event
        self.state = "finished"
        return {"final", "state"}

    def _on_failed(self, event: events.Failed) -> set[str]:
        self.final = event
        self.state = "failed"
        if event.checkpoint:
            self.last_checkpoint = event.checkpoint
        return {"final", "state"}

    # How each kind of message folds in (a test checks every kind is here).
    FOLD: ClassVar[dict[type[events.RunMessage], Callable[[LiveRun, Any], set[str]]]] = {
        events.Started: _on_started, events.Ack: _on_ack, events.Batch: _on_batch,
        events.EpochEnd: _on_epoch, events.Validation: _on_validation,
        events.LrChange: _on_lr_change, events.Gradients: _on_gradients,
        events.Diagnostic: _on_diagnostic, events.Samples: _on_samples,
        events.Probed: _on_probed,
        events.CheckpointWritten: _on_checkpoint, events.Finished: _on_finished,
        events.Failed: _on_failed,
    }
