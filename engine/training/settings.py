"""Training settings: their schema, defaults and validation, saved in `design.training`.

The settings are frozen dataclasses whose fields carry their rules (kind, range, choices, help,
which data sources use them), so one declaration drives validation when a file loads, the
resolved settings a run starts with, and the GUI's form (`schema()`).

`design.training` holds the JSON form: a missing key takes its default; an unknown key, a value
of the wrong type or out of range is an error naming the field, e.g.
`training.optimizer.lr: must be greater than 0, found -1`.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from dataclasses import dataclass, field
from functools import cache
from typing import Any, get_type_hints

from engine.errors import DesignError
from engine.limits import LARGEST_WHOLE_NUMBER, LONGEST_NAME, finite_float
from engine.quoting import excerpt

TASKS = ("classification", "regression", "sequence", "autoencoder", "gan")
BUILTIN_SOURCES = ("generated", "digits", "waves", "two_moons", "spirals", "gaussian_ring",
                   "token_match", "text")
FILE_SOURCES = ("csv", "image_folder", "mnist_idx", "npz")
SOURCES = BUILTIN_SOURCES + FILE_SOURCES
_DEVICE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


def rule(default: Any, help: str, *, choices: tuple = (), minimum: float | None = None,
         maximum: float | None = None, above: float | None = None, optional: bool = False,
         sources: tuple[str, ...] = (), pattern: re.Pattern | None = None,
         items: type | None = None, length: int | None = None):
    """A settings field with its validation rule in the dataclass field's metadata.

    `above` is an exclusive minimum; `sources` lists the data sources a data field applies
    to; `items` (with optional `length`) makes the field a list of that type (a JSON list,
    held as a tuple).
    """
    metadata = {"help": help, "choices": choices, "minimum": minimum, "maximum": maximum,
                "above": above, "optional": optional, "sources": sources, "pattern": pattern,
                "items": items, "length": length}
    return field(default=default, metadata=metadata)


_SAMPLES = ("generated", "waves", "two_moons", "spirals", "gaussian_ring", "token_match", "text")


@dataclass(frozen=True)
class DataSettings:
    """Where samples come from; options apply to the sources listed in their rule."""

    source: str = rule("generated", "where the samples come from ('generated': random data "
                       "of the design's shapes with a learnable target)", choices=SOURCES)
    validation_split: float = rule(0.2, "fraction of the samples held out for validation",
                                   minimum=0.0, maximum=0.9)
    samples: int = rule(2048, "how many samples to make (text: the most windows to cut)",
                        minimum=16, sources=_SAMPLES)
    layout: str = rule("auto", "digits as 1x8x8 images or 64 numbers ('auto': follow the "
                       "Input's shape)", choices=("auto", "images", "flat"), sources=("digits",))
    length: int = rule(32, "steps per sequence window", minimum=2,
                       sources=("waves", "token_match", "text"))
    sequence: str = rule("many_to_one", "predict the step after the window, or the next step "
                         "at every position", choices=("many_to_one", "many_to_many"),
                         sources=("waves", "text"))
    noise: float = rule(0.1, "standard deviation of the added noise", minimum=0.0,
                        sources=("waves", "two_moons", "spirals"))
    wave: str = rule("sine", "shape of the signal",
                     choices=("sine", "square", "triangle", "sawtooth"), sources=("waves",))
    stride: int | None = rule(None, "characters between window starts (default: the window "
                              "length for many-to-many, 1 for many-to-one)", minimum=1,
                              optional=True, sources=("text",))
    arms: int = rule(3, "number of spiral arms (classes)", minimum=2, sources=("spirals",))
    modes: int = rule(8, "number of Gaussians on the ring", minimum=2,
                      sources=("gaussian_ring",))
    radius: float = rule(2.0, "radius of the ring", above=0.0, sources=("gaussian_ring",))
    std: float = rule(0.02, "standard deviation of each Gaussian", above=0.0,
                      sources=("gaussian_ring",))
    tokens: int = rule(20, "number of distinct tokens", minimum=3, sources=("token_match",))
    path: str | None = rule(None, "the file or folder to read (text: default is the bundled "
                            "text)", optional=True, sources=("text", "csv", "image_folder", "npz"))
    target: str | None = rule(None, "the CSV column to predict", optional=True,
                              sources=("csv",))
    features: tuple | None = rule(None, "the CSV columns to read as inputs (default: every "
                                 "other column)", optional=True, items=str, sources=("csv",))
    images: str | None = rule(None, "the IDX file of images (may end in .gz)", optional=True,
                              sources=("mnist_idx",))
    labels: str | None = rule(None, "the IDX file of labels (may end in .gz)", optional=True,
                              sources=("mnist_idx",))
    x_key: str = rule("x", "the array of inputs in the .npz file", sources=("npz",))
    y_key: str = rule("y", "the array of targets in the .npz file", sources=("npz",))
    image_size: tuple | None = rule(None, "resize images to [height, width] (default: the "
                                   "Input's size)", optional=True, items=int, length=2,
                                   minimum=1, sources=("image_folder",))
    normalize: bool = rule(True, "scale each channel to mean 0 and deviation 1 (ImageNet "
                           "statistics for 3 channels, 0.5/0.5 for grey)",
                           sources=("image_folder",))
    flip: bool = rule(False, "augment: mirror training images left-right at random",
                      sources=("image_folder",))
    rotate: float = rule(0.0, "augment: rotate training images by up to this many degrees",
                         minimum=0.0, maximum=180.0, sources=("image_folder",))
    crop_padding: int = rule(0, "augment: pad by this many pixels and crop back at random",
                             minimum=0, sources=("image_folder",))
    workers: int = rule(0, "processes decoding images in parallel (0: in the training "
                        "process)", minimum=0, sources=("image_folder",))


@dataclass(frozen=True)
class OptimizerSettings:
    name: str = rule("adam", "the update rule", choices=("sgd", "adam", "adamw", "rmsprop"))
    lr: float = rule(0.001, "learning rate", above=0.0)
    weight_decay: float = rule(0.0, "L2 penalty (decoupled for AdamW)", minimum=0.0)
    momentum: float = rule(0.9, "momentum (SGD, RMSprop)", minimum=0.0, maximum=0.999)
    nesterov: bool = rule(False, "Nesterov momentum (SGD)")
    beta1: float = rule(0.9, "Adam's first-moment decay", minimum=0.0, maximum=0.999)
    beta2: float = rule(0.999, "Adam's second-moment decay", minimum=0.0, maximum=0.9999)


@dataclass(frozen=True)
class ScheduleSettings:
    name: str = rule("none", "how the learning rate changes over the epochs",
                     choices=("none", "step", "cosine", "plateau"))
    step_size: int = rule(10, "step: epochs between reductions", minimum=1)
    gamma: float = rule(0.1, "step: factor applied at each reduction", above=0.0, maximum=1.0)
    factor: float = rule(0.5, "plateau: factor applied when the loss stalls", above=0.0,
                         maximum=0.999)
    patience: int = rule(3, "plateau: epochs without improvement before reducing", minimum=0)
    min_lr: float = rule(0.0, "cosine, plateau: the lowest learning rate", minimum=0.0)


@dataclass(frozen=True)
class EarlyStoppingSettings:
    enabled: bool = rule(False, "stop when the validation loss stops improving")
    patience: int = rule(5, "epochs without improvement before stopping", minimum=1)
    min_delta: float = rule(0.0, "smallest decrease that counts as an improvement", minimum=0.0)
    keep_best: bool = rule(True, "end with the weights of the best epoch")


@dataclass(frozen=True)
class GanSettings:
    generator: str = rule("generator", "the network that makes samples from noise")
    discriminator: str = rule("discriminator", "the network that scores samples as real")
    d_steps: int = rule(1, "discriminator steps per generator step", minimum=1)
    noise_size: int | None = rule(None, "size of the noise vector (must match the "
                                  "generator's Input; default: read from it)", minimum=1,
                                  optional=True)


@dataclass(frozen=True)
class DiagnosticsSettings:
    grad_norm_every: int = rule(0, "also report per-layer gradient norms every this many "
                                "batches (0: once per epoch)", minimum=0)
    vanishing: float = rule(1e-7, "warn when a layer's gradient norm falls below this",
                            above=0.0)
    exploding: float = rule(1e3, "warn when a layer's gradient norm rises above this",
                            above=0.0)
    overfit_epochs: int = rule(3, "warn when the validation loss has risen while the "
                               "training loss fell for this many epochs", minimum=1)
    collapse_below: float = rule(0.1, "GAN: warn when the samples' diversity (relative to "
                                 "real data) falls below this", minimum=0.0)


@dataclass(frozen=True)
class TrainingSettings:
    """Everything a run needs besides the design's networks."""

    task: str = rule("classification", "what the network learns", choices=TASKS)
    data: DataSettings = field(default_factory=DataSettings)
    loss: str = rule("auto", "the loss ('auto': cross-entropy for classes, MSE for values)",
                     choices=("auto", "cross_entropy", "mse", "mae"))
    optimizer: OptimizerSettings = field(default_factory=OptimizerSettings)
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    epochs: int = rule(10, "passes over the training samples", minimum=1)
    batch_size: int = rule(64, "samples per step", minimum=1)
    seed: int = rule(0, "seeds data, weights and shuffling: same seed, same run on a CPU",
                     minimum=0)
    grad_clip: float = rule(0.0, "clip the gradients' total norm to this (0: off)",
                            minimum=0.0)
    early_stopping: EarlyStoppingSettings = field(default_factory=EarlyStoppingSettings)
    device: str = rule("auto", "auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:N or mps",
                       pattern=_DEVICE)
    precision: str = rule("fp32", "mixed precision on CUDA: bf16 or fp16 autocast",
                          choices=("fp32", "bf16", "fp16"))
    compile: bool = rule(False, "torch.compile the networks (pays off on CUDA only)")
    checkpoint_every: int = rule(1, "write a checkpoint every this many epochs (0: only at "
                                 "the end)", minimum=0)
    gan: GanSettings = field(default_factory=GanSettings)
    diagnostics: DiagnosticsSettings = field(default_factory=DiagnosticsSettings)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (every field, defaults included)."""
        return dataclasses.asdict(self)

    def replace(self, **changes: Any) -> TrainingSettings:
        return dataclasses.replace(self, **changes)


SECTIONS = {f.name: f.type for f in dataclasses.fields(TrainingSettings)}


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
    """Every problem of a `design.training` value as (path such as '.optimizer.lr', message)."""
    if not isinstance(training, dict):
        return [("", f"expected an object, found {_kind_of(training)}")]
    return _section_problems(TrainingSettings, training, "")


def validate_field(name: str, value: Any) -> list[tuple[str, str]]:
    """Problems of one top-level field (the engine.fileformat section-validator hook)."""
    return _section_problems(TrainingSettings, {name: value}, "")


def _section_problems(cls, values: Any, path: str) -> list[tuple[str, str]]:
    if not isinstance(values, dict):
        return [(path, f"expected an object, found {_kind_of(values)}")]
    fields = {f.name: f for f in dataclasses.fields(cls)}
    problems = []
    for key, value in values.items():
        where = f"{path}.{key if len(key) <= LONGEST_NAME else excerpt(key)}"
        if key not in fields:
            problems.append((where, f"unknown setting; known: {', '.join(fields)}"))
        elif _section_type(cls, fields[key]) is not None:
            problems += _section_problems(_section_type(cls, fields[key]), value, where)
        else:
            message = _value_problem(fields[key], _base_type(cls, fields[key]), value)
            if message:
                problems.append((where, message))
    return problems


_type_hints = cache(get_type_hints)  # resolving annotations is slow; the classes never change


def _section_type(cls, f: dataclasses.Field) -> type | None:
    """The settings class of a nested section, or None for a plain field."""
    kind = _type_hints(cls)[f.name]
    return kind if dataclasses.is_dataclass(kind) else None


def _base_type(cls, f: dataclasses.Field) -> type:
    """The field's type without `| None` (the kind its values must have)."""
    kind = _type_hints(cls)[f.name]
    options = [k for k in typing.get_args(kind) if k is not type(None)]
    return options[0] if options else kind


def _value_problem(f: dataclasses.Field, kind: type, value: Any) -> str | None:
    rules = f.metadata
    if value is None:
        return None if rules["optional"] else "must be set, found nothing (null)"
    if rules["items"] is not None:
        if not isinstance(value, list):
            return f"expected a list, found {_kind_of(value)}"
        if rules["length"] is not None and len(value) != rules["length"]:
            return f"expected {rules['length']} values, found {len(value)}"
        for index, item in enumerate(value):
            problem = _scalar_problem(rules, rules["items"], item)
            if problem:
                return f"item {index}: {problem}"
        return None
    return _scalar_problem(rules, kind, value)


def _scalar_problem(rules, kind: type, value: Any) -> str | None:
    if kind is bool:
        return None if isinstance(value, bool) else f"expected true or false, found {excerpt(value)}"
    if kind is str:
        if not isinstance(value, str):
            return f"expected a text, found {_kind_of(value)}"
        if rules["choices"] and value not in rules["choices"]:
            return f"must be one of {', '.join(rules['choices'])}; found {excerpt(value)}"
        if rules["pattern"] is not None and not rules["pattern"].match(value):
            return f"{excerpt(value)} is not valid here; {rules['help']}"
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"expected a number, found {_kind_of(value)}"
    if kind is int and not isinstance(value, int):
        return f"expected a whole number, found {excerpt(value)}"
    if finite_float(value) is None:
        return f"expected a finite number, found {excerpt(value)}"
    maximum = rules["maximum"]
    if maximum is None and kind is int:
        maximum = LARGEST_WHOLE_NUMBER
    if rules["minimum"] is not None and value < rules["minimum"]:
        return f"must be at least {rules['minimum']:g}, found {excerpt(value)}"
    if rules["above"] is not None and value <= rules["above"]:
        return f"must be greater than {rules['above']:g}, found {excerpt(value)}"
    if maximum is not None and value > maximum:
        shown = f"{maximum:,}" if isinstance(maximum, int) else f"{maximum:g}"
        return f"must be at most {shown}, found {excerpt(value)}"
    return None


def _build(cls, values: dict[str, Any]):
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name not in values:
            continue
        section = _section_type(cls, f)
        value = values[f.name]
        if section is not None:
            kwargs[f.name] = _build(section, value)
        elif f.metadata["items"] is not None and value is not None:
            kwargs[f.name] = tuple(value)
        elif _base_type(cls, f) is float and value is not None:
            kwargs[f.name] = float(value)
        else:
            kwargs[f.name] = value
    return cls(**kwargs)


def _kind_of(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    names = {bool: "true/false", int: "a number", float: "a number", str: "a text",
             list: "a list", dict: "an object"}
    return names.get(type(value), type(value).__name__)



# ---------------------------------------------------------------------------- the GUI's form

@dataclass(frozen=True)
class FieldInfo:
    """One setting as a form shows it: `path` like 'optimizer.lr'."""

    path: str
    kind: str  # "int", "float", "bool", "choice", "text", "ints", "texts"
    default: Any
    help: str
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    optional: bool = False
    sources: tuple[str, ...] = ()


def schema() -> list[FieldInfo]:
    """Every setting in declaration order, for building forms."""
    infos: list[FieldInfo] = []

    def walk(cls, prefix: str) -> None:
        defaults = cls()
        for f in dataclasses.fields(cls):
            section = _section_type(cls, f)
            if section is not None:
                walk(section, f"{prefix}{f.name}.")
                continue
            rules = f.metadata
            default = getattr(defaults, f.name)
            if rules["items"] is not None:
                kind = "ints" if rules["items"] is int else "texts"
            elif rules["choices"]:
                kind = "choice"
            else:
                kind = {bool: "bool", int: "int", float: "float"}.get(_base_type(cls, f), "text")
            low = rules["above"] if rules["above"] is not None else rules["minimum"]
            infos.append(FieldInfo(f"{prefix}{f.name}", kind, default, rules["help"],
                                   tuple(rules["choices"]), low, rules["maximum"],
                                   rules["above"] is not None, rules["optional"],
                                   tuple(rules["sources"])))

    walk(TrainingSettings, "")
    return infos


def register_file_validators() -> None:
    """Validate each training field when a design file loads (engine.fileformat's hook)."""
    from engine.fileformat import SECTION_VALIDATORS

    for name in SECTIONS:
        SECTION_VALIDATORS[name] = lambda value, name=name: [
            (path[len(name) + 1:], message) for path, message in validate_field(name, value)]


register_file_validators()
