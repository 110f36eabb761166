"""The events a training run streams to whoever watches it (the GUI, the CLI, tests).

Every event is a small frozen dataclass of plain values (str, int, float, bool, lists, dicts,
small numpy arrays; never tensors), so it crosses a multiprocessing queue cheaply. Each has
`kind` (its type as a string, e.g. "batch") and `run`, the id of the run it belongs to.
`asdict(event)` gives a plain dict. In the order a run emits them:

started      settings (the resolved settings, as in the design file), device ("cpu",
             "cuda:0"), device_name ("CPU", "NVIDIA ..."), task, networks (name ->
             parameter count), data (description, train_samples, val_samples, input_shape,
             target_shape, classes, labels), batches_per_epoch, epochs, first_epoch (> 1 when
             resumed), out_dir, cost (see `engine.training.cost.Cost.as_dict`).
ack          command ("pause", "resume", "stop", "checkpoint"), state ("paused", "running",
             "stopping", "checkpointing"): sent within milliseconds of a command.
batch        epoch, batch (batches done in this epoch), batches (per epoch), step (global
             step of the last value), values (name -> list of per-step floats, oldest first:
             "loss", or for a GAN "d_loss", "g_loss", "d_real", "d_fake"; "g_loss" has one
             value per generator step), lr, samples_per_second, elapsed (s), eta (s).
             Sent about every 0.1 s with every step since the last one.
epoch        epoch, epochs, metrics (name -> mean over the epoch: the keys of `values`),
             lr, seconds, samples_per_second.
validation   epoch, metrics (per task: classification and token sequences val_loss,
             val_accuracy; regression and value sequences val_loss, val_mse, val_mae;
             autoencoder val_loss, val_mae, val_relative_mse (against always answering the
             mean sample); GAN d_accuracy, diversity, and on the Gaussian ring
             modes_covered, near_mode),
             per_class (list of accuracies, classification), confusion (int array
             [true, predicted], classification), labels (class names or None).
lr_change    epoch, step, lr, previous.
gradients    epoch, step, layers: list of {"network", "node", "name", "norm"} (norm of the
             gradient of each node's parameters), each epoch and every
             `diagnostics.grad_norm_every` batches when set.
diagnostic   code ("overfitting", "vanishing_gradients", "exploding_gradients",
             "non_finite_loss", "mode_collapse", "class_count", "precision"), severity
             ("info", "warning", "error"), message, fix, epoch, step, network, node (the node
             id to highlight, or None), data (numbers behind the message).
samples      epoch, form ("images", "points", "vectors", "text", "series"), and arrays:
             generated (GAN: samples from fixed noise), real (a few real samples), inputs and
             outputs (autoencoder: inputs and reconstructions; series: windows, targets and
             predictions as targets/outputs), latent (autoencoder with a 2-value second
             Output) with latent_labels, text (character models).
checkpoint   epoch (epochs completed), step, path (the checkpoint folder), reason ("epoch"
             or "request").
finished     status ("completed", "stopped", "early_stopped"), epochs_done, best_epoch
             (lowest validation loss), metrics (the last epoch's row, as in metrics.csv),
             out_dir, weights (network -> .safetensors file: the best epoch's when early
             stopping keeps them, else the last), seconds.
failed       reason (readable: what happened and what to change), error ("design", "data",
             "settings", "non_finite_loss", "out_of_memory", "files" (the run folder cannot
             be written), "crashed", "unresponsive" (ended by Stop), "exception"),
             epoch, step, checkpoint (the last good checkpoint or None), details (traceback
             or exit status).

A run ends with exactly one `finished` or `failed`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np


@dataclass(frozen=True)
class Event:
    run: int
    kind: ClassVar[str] = "event"

    def asdict(self) -> dict[str, Any]:
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return {"kind": self.kind, **values}


@dataclass(frozen=True)
class Started(Event):
    kind: ClassVar[str] = "started"
    settings: dict[str, Any] = field(default_factory=dict)
    device: str = "cpu"
    device_name: str = "CPU"
    task: str = ""
    networks: dict[str, int] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    batches_per_epoch: int = 0
    epochs: int = 0
    first_epoch: int = 1
    out_dir: str | None = None
    cost: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Ack(Event):
    kind: ClassVar[str] = "ack"
    command: str = ""
    state: str = ""


@dataclass(frozen=True)
class Batch(Event):
    kind: ClassVar[str] = "batch"
    epoch: int = 0
    batch: int = 0
    batches: int = 0
    step: int = 0
    values: dict[str, list[float]] = field(default_factory=dict)
    lr: float = 0.0
    samples_per_second: float = 0.0
    elapsed: float = 0.0
    eta: float = 0.0


@dataclass(frozen=True)
class EpochEnd(Event):
    kind: ClassVar[str] = "epoch"
    epoch: int = 0
    epochs: int = 0
    metrics: dict[str, float] = field(default_factory=dict)
    lr: float = 0.0
    seconds: float = 0.0
    samples_per_second: float = 0.0


@dataclass(frozen=True)
class Validation(Event):
    kind: ClassVar[str] = "validation"
    epoch: int = 0
    metrics: dict[str, float] = field(default_factory=dict)
    per_class: list[float] | None = None
    confusion: np.ndarray | None = None
    labels: list[str] | None = None


@dataclass(frozen=True)
class LrChange(Event):
    kind: ClassVar[str] = "lr_change"
    epoch: int = 0
    step: int = 0
    lr: float = 0.0
    previous: float = 0.0


@dataclass(frozen=True)
class Gradients(Event):
    kind: ClassVar[str] = "gradients"
    epoch: int = 0
    step: int = 0
    layers: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Diagnostic(Event):
    kind: ClassVar[str] = "diagnostic"
    code: str = ""
    severity: str = "warning"
    message: str = ""
    fix: str = ""
    epoch: int = 0
    step: int = 0
    network: str | None = None
    node: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Samples(Event):
    kind: ClassVar[str] = "samples"
    epoch: int = 0
    form: str = ""
    generated: np.ndarray | None = None
    real: np.ndarray | None = None
    inputs: np.ndarray | None = None
    targets: np.ndarray | None = None
    outputs: np.ndarray | None = None
    latent: np.ndarray | None = None
    latent_labels: np.ndarray | None = None
    text: str | None = None


@dataclass(frozen=True)
class CheckpointWritten(Event):
    kind: ClassVar[str] = "checkpoint"
    epoch: int = 0
    step: int = 0
    path: str = ""
    reason: str = "epoch"


@dataclass(frozen=True)
class Finished(Event):
    kind: ClassVar[str] = "finished"
    status: str = "completed"
    epochs_done: int = 0
    best_epoch: int | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    out_dir: str | None = None
    weights: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass(frozen=True)
class Failed(Event):
    kind: ClassVar[str] = "failed"
    reason: str = ""
    error: str = "exception"
    epoch: int = 0
    step: int = 0
    checkpoint: str | None = None
    details: str = ""


FINAL_KINDS = frozenset({"finished", "failed"})
