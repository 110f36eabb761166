"""Training settings: their declaration, defaults and validation, saved in `design.training`.

The settings are frozen dataclasses; each field's default comes with its `Param`
(engine.fields, the same declaration layers use: kind, range, choices, help, label, which data
sources use it), so one declaration drives validation when a file loads, the resolved settings
a run starts with, the Setup form and the reference (`schema()`).

`design.training` holds the JSON form: a missing key takes its default; an unknown key, a value
of the wrong type or out of range is an error naming the field, e.g.
`training.optimizer.lr: 'lr' is -1 but must be greater than 0`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from engine.errors import DesignError
from engine.fields import Param, unknown_key_problem
from engine.limits import LONGEST_NAME
from engine.quoting import excerpt, json_kind

TASKS = ("classification", "regression", "sequence", "autoencoder", "gan")
BUILTIN_SOURCES = ("generated", "digits", "waves", "two_moons", "spirals", "gaussian_ring",
                   "token_match", "text")
FILE_SOURCES = ("csv", "image_folder", "mnist_idx", "npz")
SOURCES = BUILTIN_SOURCES + FILE_SOURCES
PARAM = "param"  # the metadata key of a setting's Param


def setting(kind: str, default: Any, help: str, **rules: Any) -> Any:
    """A settings field: its default, with its `Param` in the field's metadata (named by
    `params_of` after the field)."""
    return field(default=default, metadata={PARAM: Param("", kind, default, help, **rules)})


SAMPLED_SOURCES = ("generated", "waves", "two_moons", "spirals", "gaussian_ring", "token_match", "text")


@dataclass(frozen=True)
class DataSettings:
    """Where samples come from; options apply to the sources listed in their rule."""

    source: str = setting("choice", "generated", "where the samples come from ('generated': "
                          "random data of the design's shapes with a learnable target)",
                          choices=SOURCES, label="Data")
    validation_split: float = setting("float", 0.2, "fraction of the samples held out for "
                                      "validation", minimum=0.0, maximum=0.9)
    samples: int = setting("int", 2048, "how many samples to make (text: the most windows to "
                           "cut)", minimum=16, sources=SAMPLED_SOURCES)
    layout: str = setting("choice", "auto", "digits as 1x8x8 images or 64 numbers ('auto': "
                          "follow the Input's shape)", choices=("auto", "images", "flat"),
                          sources=("digits",))
    length: int = setting("int", 32, "steps per sequence window", minimum=2,
                          sources=("waves", "token_match", "text"))
    sequence: str = setting("choice", "many_to_one", "predict the step after the window, or "
                            "the next step at every position",
                            choices=("many_to_one", "many_to_many"), sources=("waves", "text"))
    noise: float = setting("float", 0.1, "standard deviation of the added noise", minimum=0.0,
                           sources=("waves", "two_moons", "spirals"))
    wave: str = setting("choice", "sine", "shape of the signal",
                        choices=("sine", "square", "triangle", "sawtooth"), sources=("waves",))
    stride: int | None = setting("int", None, "characters between window starts (default: the "
                                 "window length for many-to-many, 1 for many-to-one)",
                                 minimum=1, optional=True, sources=("text",))
    arms: int = setting("int", 3, "number of spiral arms (classes)", minimum=2,
                        sources=("spirals",))
    modes: int = setting("int", 8, "number of Gaussians on the ring", minimum=2,
                         sources=("gaussian_ring",))
    radius: float = setting("float", 2.0, "radius of the ring", above=0.0,
                            sources=("gaussian_ring",))
    std: float = setting("float", 0.02, "standard deviation of each Gaussian", above=0.0,
                         sources=("gaussian_ring",))
    tokens: int = setting("int", 20, "number of distinct tokens", minimum=3,
                          sources=("token_match",))
    path: str | None = setting("text", None, "the file or folder to read (text: default is "
                               "the bundled text)", optional=True, label="File or folder",
                               sources=("text", "csv", "image_folder", "npz"))
    target: str | None = setting("text", None, "the CSV column to predict", optional=True,
                                 sources=("csv",))
    features: tuple[str, ...] | None = setting("texts", None, "the CSV columns to read as "
                                               "inputs (default: every other column)",
                                               optional=True, sources=("csv",))
    images: str | None = setting("text", None, "the IDX file of images (may end in .gz)",
                                 optional=True, sources=("mnist_idx",))
    labels: str | None = setting("text", None, "the IDX file of labels (may end in .gz)",
                                 optional=True, sources=("mnist_idx",))
    x_key: str = setting("text", "x", "the array of inputs in the .npz file",
                         label="Inputs array", sources=("npz",))
    y_key: str = setting("text", "y", "the array of targets in the .npz file",
                         label="Targets array", sources=("npz",))
    image_size: tuple[int, ...] | None = setting("ints", None, "resize images to [height, "
                                                 "width] (default: the Input's size)",
                                                 optional=True, length=2, minimum=1,
                                                 sources=("image_folder",))
    normalize: bool = setting("bool", True, "scale each channel to mean 0 and deviation 1 "
                              "(ImageNet statistics for 3 channels, 0.5/0.5 for grey)",
                              sources=("image_folder",))
    flip: bool = setting("bool", False, "augment: mirror training images left-right at "
                         "random", sources=("image_folder",))
    rotate: float = setting("float", 0.0, "augment: rotate training images by up to this many "
                            "degrees", minimum=0.0, maximum=180.0, sources=("image_folder",))
    crop_padding: int = setting("int", 0, "augment: pad by this many pixels and crop back at "
                                "random", minimum=0, sources=("image_folder",))
    workers: int = setting("int", 0, "processes decoding images in parallel (0: in the "
                           "training process)", minimum=0, sources=("image_folder",))


@dataclass(frozen=True)
class OptimizerSettings:
    name: str = setting("choice", "adam", "the update rule",
                        choices=("sgd", "adam", "adamw", "rmsprop"), label="Optimizer")
    lr: float = setting("float", 0.001, "learning rate", above=0.0, label="Learning rate")
    weight_decay: float = setting("float", 0.0, "L2 penalty (decoupled for AdamW)",
                                  minimum=0.0)
    momentum: float = setting("float", 0.9, "momentum (SGD, RMSprop)", minimum=0.0,
                              maximum=0.999)
    nesterov: bool = setting("bool", False, "Nesterov momentum (SGD)")
    beta1: float = setting("float", 0.9, "Adam's first-moment decay", minimum=0.0,
                           maximum=0.999)
    beta2: float = setting("float", 0.999, "Adam's second-moment decay", minimum=0.0,
                           maximum=0.9999)


@dataclass(frozen=True)
class ScheduleSettings:
    name: str = setting("choice", "none", "how the learning rate changes over the epochs",
                        choices=("none", "step", "cosine", "plateau"), label="Schedule")
    step_size: int = setting("int", 10, "step: epochs between reductions", minimum=1)
    gamma: float = setting("float", 0.1, "step: factor applied at each reduction", above=0.0,
                           maximum=1.0)
    factor: float = setting("float", 0.5, "plateau: factor applied when the loss stalls",
                            above=0.0, maximum=0.999)
    patience: int = setting("int", 3, "plateau: epochs without improvement before reducing",
                            minimum=0)
    min_lr: float = setting("float", 0.0, "cosine, plateau: the lowest learning rate",
                            minimum=0.0, label="Lowest rate")


@dataclass(frozen=True)
class EarlyStoppingSettings:
    enabled: bool = setting("bool", False, "stop when the validation loss stops improving",
                            label="Early stopping")
    patience: int = setting("int", 5, "epochs without improvement before stopping", minimum=1)
    min_delta: float = setting("float", 0.0, "smallest decrease that counts as an improvement",
                               minimum=0.0)
    keep_best: bool = setting("bool", True, "end with the weights of the best epoch",
                              label="Keep best weights")


@dataclass(frozen=True)
class GanSettings:
    generator: str = setting("text", "generator", "the network that makes samples from noise")
    discriminator: str = setting("text", "discriminator", "the network that scores samples as "
                                 "real")
    d_steps: int = setting("int", 1, "discriminator steps per generator step", minimum=1,
                           label="D steps per G step")
    noise_size: int | None = setting("int", None, "size of the noise vector (must match the "
                                     "generator's Input; default: read from it)", minimum=1,
                                     optional=True)


@dataclass(frozen=True)
class DiagnosticsSettings:
    grad_norm_every: int = setting("int", 0, "also report per-layer gradient norms every this "
                                   "many batches (0: once per epoch)", minimum=0,
                                   label="Gradient norms every")
    vanishing: float = setting("float", 1e-7, "warn when a layer's gradient norm falls below "
                               "this", above=0.0)
    exploding: float = setting("float", 1e3, "warn when a layer's gradient norm rises above "
                               "this", above=0.0)
    overfit_epochs: int = setting("int", 3, "warn when the validation loss has risen while the "
                                  "training loss fell for this many epochs", minimum=1,
                                  label="Overfitting after")
    collapse_below: float = setting("float", 0.1, "GAN: warn when the samples' diversity "
                                    "(relative to real data) falls below this", minimum=0.0)


@dataclass(frozen=True)
class TrainingSettings:
    """Everything a run needs besides the design's networks."""

    task: str = setting("choice", "classification", "what the network learns", choices=TASKS)
    data: DataSettings = field(default_factory=DataSettings)
    loss: str = setting("choice", "auto", "the loss ('auto': cross-entropy for classes, MSE "
                        "for values)", choices=("auto", "cross_entropy", "mse", "mae"))
    optimizer: OptimizerSettings = field(default_factory=OptimizerSettings)
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    epochs: int = setting("int", 10, "passes over the training samples", minimum=1)
    batch_size: int = setting("int", 64, "samples per step", minimum=1)
    seed: int = setting("int", 0, "seeds data, weights and shuffling: same seed, same run on a "
                        "CPU", minimum=0)
    grad_clip: float = setting("float", 0.0, "clip the gradients' total norm to this (0: off)",
                               minimum=0.0, label="Clip gradients at")
    early_stopping: EarlyStoppingSettings = field(default_factory=EarlyStoppingSettings)
    device: str = setting("text", "auto", "auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:N "
                          "or mps", pattern=r"auto|cpu|mps|cuda(:\d+)?")
    processes: int = setting("int", 1, "training processes on this machine, started by "
                             "torchrun (DistributedDataParallel): on CUDA each drives one GPU, "
                             "so at most one per GPU; on the CPU they share its cores; not on "
                             "MPS. The batch size is per process: N processes take N x batch "
                             "size samples a step", minimum=1, label="Processes")
    threads: int = setting("int", 0, "CPU threads each training process computes with (0: "
                           "one for a network whose steps are too small to share between "
                           "threads, which then wait for each other more than they help; "
                           "else torch's default)", minimum=0, label="CPU threads")
    precision: str = setting("choice", "auto", "mixed precision on CUDA ('auto': bf16 where "
                             "the GPU has it, else fp16); float32 elsewhere",
                             choices=("auto", "fp32", "bf16", "fp16"), label="Mixed precision")
    compile: bool = setting("bool", False, "torch.compile the networks (pays off on CUDA only)",
                            label="torch.compile")
    checkpoint_every: int = setting("int", 1, "write a checkpoint every this many epochs (0: "
                                    "only at the end)", minimum=0)
    gan: GanSettings = field(default_factory=GanSettings)
    diagnostics: DiagnosticsSettings = field(default_factory=DiagnosticsSettings)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (every field, defaults included)."""
        return dataclasses.asdict(self)

    def replace(self, **changes: Any) -> TrainingSettings:
        return dataclasses.replace(self, **changes)


# ---------------------------------------------------------------------------- the schema

@cache
def params_of(cls: type) -> dict[str, Param | type]:
    """A settings class's fields in declaration order: each one's Param (named after the field,
    labelled from its name unless it declares a label), or the class of a nested section."""
    fields: dict[str, Param | type] = {}
    for f in dataclasses.fields(cls):
        if PARAM in f.metadata:
            label = f.metadata[PARAM].label or f.name.replace("_", " ").capitalize()
            fields[f.name] = dataclasses.replace(f.metadata[PARAM], name=f.name, label=label)
        else:
            fields[f.name] = f.default_factory
    return fields


@cache
def schema() -> dict[str, Param]:
    """Every setting by its path ('optimizer.lr'), in declaration order: forms and docs."""
    found: dict[str, Param] = {}

    def walk(cls: type, prefix: str) -> None:
        for name, declared in params_of(cls).items():
            if isinstance(declared, Param):
                found[prefix + name] = declared
            else:
                walk(declared, f"{prefix}{name}.")

    walk(TrainingSettings, "")
    return found


# ---------------------------------------------------------------------------- validation

def settings_from(training: dict[str, Any] | None) -> TrainingSettings:
    """Resolve `design.training` to settings, or raise a DesignError naming every bad field."""
    problems = problems_in(training or {})
    if problems:
        listing = [f"training{path}: {message}" for path, message in problems]
        raise DesignError(listing[0] if len(listing) == 1 else
                          "the training settings have problems:\n  " + "\n  ".join(listing),
                          listing, path=f"$.training{problems[0][0]}")
    return _build(TrainingSettings, training or {})


def problems_in(training: Any) -> list[tuple[str, str]]:
    """Every problem of a `design.training` value as (path such as '.optimizer.lr', message):
    the file loader's and the Setup form's check."""
    return _section_problems(TrainingSettings, training, "")


def _section_problems(cls: type, values: Any, path: str) -> list[tuple[str, str]]:
    if not isinstance(values, dict):
        return [(path, f"expected an object, found {json_kind(values)}")]
    fields = params_of(cls)
    problems = []
    for key, value in values.items():
        where = f"{path}.{key if len(key) <= LONGEST_NAME else excerpt(key)}"
        declared = fields.get(key)
        if declared is None:
            problems.append((where, unknown_key_problem(f"training{path}", "setting", key, fields)))
        elif isinstance(declared, Param):
            message = declared.problem(value)
            if message:
                problems.append((where, message))
        else:
            problems += _section_problems(declared, value, where)
    return problems


def _build(cls: type, values: dict[str, Any]) -> Any:
    """The settings object of values `problems_in` found no fault in."""
    kwargs = {}
    for name, declared in params_of(cls).items():
        if name in values:
            value = values[name]
            kwargs[name] = (declared.coerce(value) if isinstance(declared, Param)
                            else _build(declared, value))
    return cls(**kwargs)
