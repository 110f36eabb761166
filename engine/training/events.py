"""The messages a training run sends to whoever watches it (the GUI, the CLI, tests).

Each kind of message is a small frozen dataclass (its docstring says what its fields mean) of
plain values (str, int, float, bool, lists, dicts, small numpy arrays; never tensors), so it
crosses a multiprocessing queue cheaply; no torch here. Every message has `run`, the id of the
run it belongs to, and `kind`, a short name for people and files (`asdict` gives a plain dict
with it). Code tells messages apart by their class, never by `kind`.

In the order a run sends them: Started; then Batch, EpochEnd, Validation, LrChange, Gradients,
Diagnostic, Samples, Probed, CheckpointWritten as training goes, and Ack within milliseconds of
a command; last exactly one of FINAL (Finished or Failed).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from engine.wording import count_of

if TYPE_CHECKING:   # the arrays arrive made; the editor need not import numpy to name them
    import numpy as np


@dataclass(frozen=True)
class RunMessage:
    run: int
    kind: ClassVar[str] = "message"

    def asdict(self) -> dict[str, Any]:
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return {"kind": self.kind, **values}


@dataclass(frozen=True)
class AtEpoch(RunMessage):
    """A message about one epoch (counted from 1)."""

    epoch: int = 0


@dataclass(frozen=True)
class AtStep(AtEpoch):
    """A message from one point of the run: the epoch and the global step reached."""

    step: int = 0


@dataclass(frozen=True)
class Started(RunMessage):
    """settings: the resolved settings, as in the design file; device "cpu", "cuda:0";
    device_name "CPU", "NVIDIA ..."; networks: name -> parameter count; data: description,
    train_samples, val_samples, input_shape, target_shape, classes, labels; first_epoch > 1
    when resumed; cost: see `engine.training.cost.Cost.as_dict`."""

    kind: ClassVar[str] = "started"
    settings: dict[str, Any] = field(default_factory=dict)
    device: str = "cpu"
    device_name: str = "CPU"
    threads: int = 0   # the CPU threads it computes with (0: it computes on another device)
    task: str = ""
    networks: dict[str, int] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    batches_per_epoch: int = 0
    epochs: int = 0
    first_epoch: int = 1
    out_dir: str | None = None
    cost: dict[str, Any] = field(default_factory=dict)

    def place(self) -> str:
        """Where the run computes, for people: 'CPU, 1 thread', 'NVIDIA H200 (cuda:0)' (the
        device's id only where it adds something)."""
        name = (self.device_name if self.device.lower() == self.device_name.lower()
                else f"{self.device_name} ({self.device})")
        return f"{name}, {count_of(self.threads, 'thread')}" if self.threads else name


@dataclass(frozen=True)
class Ack(RunMessage):
    """Sent within milliseconds of a command ("pause", "resume", "stop", "checkpoint") with the
    state it leads to ("paused", "running", "stopping", "checkpointing")."""

    kind: ClassVar[str] = "ack"
    command: str = ""
    state: str = ""


@dataclass(frozen=True)
class Batch(AtStep):
    """Sent about every 0.1 s with every step since the last one. batch: batches done in this
    epoch, of `batches`; step: global step of the last value; values: name -> per-step floats,
    oldest first ("loss", or for a GAN "d_loss", "g_loss" (one value per generator step),
    "d_real", "d_fake"); elapsed and eta in seconds."""

    kind: ClassVar[str] = "batch"
    batch: int = 0
    batches: int = 0
    values: dict[str, list[float]] = field(default_factory=dict)
    lr: float = 0.0
    samples_per_second: float = 0.0
    elapsed: float = 0.0
    eta: float = 0.0


@dataclass(frozen=True)
class EpochEnd(AtEpoch):
    """metrics: name -> mean over the epoch (the keys of Batch.values)."""

    kind: ClassVar[str] = "epoch"
    epochs: int = 0
    metrics: dict[str, float] = field(default_factory=dict)
    lr: float = 0.0
    seconds: float = 0.0
    samples_per_second: float = 0.0


@dataclass(frozen=True)
class Validation(AtEpoch):
    """metrics per task: classification and token sequences val_loss, val_accuracy; regression
    and value sequences val_loss, val_mse, val_mae; autoencoder val_loss, val_mae,
    val_relative_mse (against always answering the mean sample); GAN d_accuracy, diversity,
    and on the Gaussian ring modes_covered, near_mode. Classification also sends per_class
    (accuracies), confusion (int array [true, predicted]) and labels (class names or None)."""

    kind: ClassVar[str] = "validation"
    metrics: dict[str, float] = field(default_factory=dict)
    per_class: list[float] | None = None
    confusion: np.ndarray | None = None
    labels: list[str] | None = None


@dataclass(frozen=True)
class LrChange(AtStep):
    kind: ClassVar[str] = "lr_change"
    lr: float = 0.0
    previous: float = 0.0


@dataclass(frozen=True)
class Gradients(AtStep):
    """layers: {"network", "node", "name", "norm"} (norm of the gradient of each node's
    parameters), each epoch and every `diagnostics.grad_norm_every` batches when set."""

    kind: ClassVar[str] = "gradients"
    layers: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Diagnostic(AtStep):
    """code: "overfitting", "vanishing_gradients", "exploding_gradients", "non_finite_loss",
    "mode_collapse", "class_count", "precision"; severity "info", "warning", "error"; node: the
    node id to highlight, or None; data: the numbers behind the message."""

    kind: ClassVar[str] = "diagnostic"
    code: str = ""
    severity: str = "warning"
    message: str = ""
    fix: str = ""
    network: str | None = None
    node: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Samples(AtEpoch):
    """form "images", "points", "vectors", "text" or "series", and arrays: generated (GAN:
    samples from fixed noise), real (a few real samples), inputs and outputs (autoencoder:
    inputs and reconstructions; series: windows, targets and predictions as targets/outputs),
    latent (autoencoder with a 2-value second Output) with latent_labels, text (character
    models)."""

    kind: ClassVar[str] = "samples"
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
class Probed(AtEpoch):
    """Each epoch end of a run asked for probes: every node's output for one fixed sample
    (probe: an engine.probes.Probe, plain data), or once, at the start, the problem that
    keeps the design from being probed (probe None)."""

    kind: ClassVar[str] = "probed"
    probe: Any = None
    problem: str = ""


@dataclass(frozen=True)
class CheckpointWritten(AtStep):
    """epoch: epochs completed; path: the checkpoint folder; reason "epoch" or "request"."""

    kind: ClassVar[str] = "checkpoint"
    path: str = ""
    reason: str = "epoch"


@dataclass(frozen=True)
class Finished(RunMessage):
    """status "completed", "stopped" or "early_stopped"; best_epoch: lowest validation loss;
    metrics: the last epoch's row, as in metrics.csv; weights: network -> .safetensors file
    (the best epoch's when early stopping keeps them, else the last)."""

    kind: ClassVar[str] = "finished"
    status: str = "completed"
    epochs_done: int = 0
    best_epoch: int | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    out_dir: str | None = None
    weights: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass(frozen=True)
class Failed(AtStep):
    """reason: readable, what happened and what to change; error "design", "data",
    "settings", "non_finite_loss", "out_of_memory", "files" (the run folder cannot be
    written), "crashed", "unresponsive" (ended by Stop) or "exception"; checkpoint: the last
    good one or None; details: traceback or exit status."""

    kind: ClassVar[str] = "failed"
    reason: str = ""
    error: str = "exception"
    checkpoint: str | None = None
    details: str = ""


FINAL = (Finished, Failed)   # a run ends with exactly one of these
