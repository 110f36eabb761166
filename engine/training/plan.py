"""What a run does, decided once from the design and its settings.

The plan names the portable functions to call and their arguments; the in-app trainer executes
it and `engine.training.script` prints it, so both run the same calls with the same values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from engine.checking import Report, check
from engine.codegen.naming import file_stem
from engine.design import DEFAULT_NETWORK, Design
from engine.errors import DesignError, UntrainableDesign
from engine.layers.base import format_shape
from engine.training.labels import SettingError, setting_place
from engine.training.settings import TrainingSettings, settings_from

BUNDLED_TEXT = Path(__file__).resolve().parent / "data" / "genesis.txt"  # KJV, public domain


def literal(value) -> str:
    """A Python literal as ruff format writes it: strings in double quotes where possible."""
    if isinstance(value, str):
        text = repr(value)
        if text.startswith("'") and value.count('"') <= value.count("'"):
            return '"' + text[1:-1].replace("\\'", "'").replace('"', '\\"') + '"'
        return text
    if isinstance(value, tuple):
        items = ", ".join(map(literal, value))
        return f"({items},)" if len(value) == 1 else f"({items})"
    if isinstance(value, list):
        return f"[{', '.join(map(literal, value))}]"
    if isinstance(value, Name):
        return value.name
    return repr(value)


class Portable(StrEnum):
    """The portable functions (engine.training.portable) a plan calls. The trainer looks each
    up by its value and the exported script calls it by that name, copying its source; being
    members, a misspelt one fails where it is written, and tests/test_i13_plan_names.py checks
    every value is a portable definition (read as text: no torch here)."""

    SUPERVISED_STEPS = "supervised_steps"
    AUTOENCODER_STEPS = "autoencoder_steps"
    GAN_STEPS = "gan_steps"
    CLASSIFICATION_LOSS = "classification_loss"
    SPLIT_RANDOM = "split_random"
    SPLIT_IN_ORDER = "split_in_order"
    TEACHER_DATA = "teacher_data"
    DIGITS_DATA = "digits_data"
    WAVE_DATA = "wave_data"
    TWO_MOONS_DATA = "two_moons_data"
    SPIRAL_DATA = "spiral_data"
    GAUSSIAN_RING_DATA = "gaussian_ring_data"
    TOKEN_MATCH_DATA = "token_match_data"
    READ_TEXT = "read_text"
    TEXT_DATA = "text_data"
    CSV_DATA = "csv_data"
    NPZ_DATA = "npz_data"
    MNIST_IDX_DATA = "mnist_idx_data"
    IMAGE_FOLDER_TENSORS = "image_folder_tensors"
    IMAGE_FOLDER_DATA = "image_folder_data"


class Loss(StrEnum):
    """The loss a plan trains with, as the exported script writes it: a portable function or
    one of torch.nn.functional's."""

    CLASSIFICATION = Portable.CLASSIFICATION_LOSS.value
    MSE = "F.mse_loss"
    MAE = "F.l1_loss"

    @property
    def torch_name(self) -> str | None:
        """The torch.nn.functional function's name, or None for a portable loss."""
        return self.value.removeprefix("F.") if self.value.startswith("F.") else None


@dataclass(frozen=True)
class Name:
    """A variable of the generated code (for example `seed`), as opposed to a literal value."""

    name: str


@dataclass(frozen=True)
class Call:
    """`outputs = function(*args, **kwargs)`; no outputs means the value is returned."""

    outputs: tuple[str, ...]
    function: Portable
    args: tuple[Any, ...] = ()
    kwargs: tuple[tuple[str, Any], ...] = ()

    def render(self) -> str:
        arguments = [literal(value) for value in self.args]
        arguments += [f"{key}={literal(value)}" for key, value in self.kwargs]
        call = f"{self.function}({', '.join(arguments)})"
        return f"{', '.join(self.outputs)} = {call}" if self.outputs else f"return {call}"

    def run(self, functions: dict[str, Any], names: dict[str, Any]) -> Any:
        """Call the function, reading Name arguments from `names`; store or return the result."""
        def value(v: Any) -> Any:
            return names[v.name] if isinstance(v, Name) else v
        result = functions[self.function](*map(value, self.args),
                                          **{key: value(v) for key, v in self.kwargs})
        if len(self.outputs) == 1:
            names[self.outputs[0]] = result
        elif self.outputs:
            names.update(zip(self.outputs, result, strict=True))
        return result


@dataclass(frozen=True)
class DataPlan:
    """How to load the samples: calls ending in one that returns the training and validation
    parts (four tensors, or two datasets when `in_memory` is False).

    `parameters` are the names the calls read (`seed`, and file parameters such as `path`);
    `files` maps file parameters to their paths; `bundled` lists those shipped with
    NeuralCanvas, which an exported script expects beside itself.
    """

    source: str
    description: str
    calls: tuple[Call, ...]
    parameters: tuple[str, ...]
    files: dict[str, str] = field(default_factory=dict)
    bundled: tuple[str, ...] = ()
    in_memory: bool = True

    def script_path(self, parameter: str) -> str:
        """A file's default path in an exported script (bundled files sit beside it)."""
        path = self.files[parameter]
        return Path(path).name if parameter in self.bundled else path


@dataclass(frozen=True)
class NetworkIO:
    """A network's one Input and its first Output, as `check` sees them."""

    network: str
    input_node: str
    input_shape: tuple[int, ...]
    input_dtype: str
    output_node: str
    output_shape: tuple[int, ...]
    id_count: int = 0  # token inputs: the ids the Embedding after the Input accepts


@dataclass(frozen=True)
class Plan:
    task: str
    settings: TrainingSettings
    data: DataPlan
    networks: tuple[NetworkIO, ...]   # (model,) or (generator, discriminator)
    loss: Loss | None                  # None for a GAN (its loss is part of gan_steps)
    classes: int = 0                   # classification: the number of classes
    token_targets: bool = False        # sequence: targets are token ids (cross-entropy)
    noise_shape: tuple[int, ...] = ()  # gan: one noise sample's shape
    names: dict[str, str] = field(default_factory=dict)  # node id -> node name, for messages

    @property
    def network_names(self) -> tuple[str, ...]:
        return tuple(io.network for io in self.networks)

    @property
    def steps_function(self) -> Portable:
        return {"autoencoder": Portable.AUTOENCODER_STEPS, "gan": Portable.GAN_STEPS}.get(
            self.task, Portable.SUPERVISED_STEPS)

    @property
    def evaluation(self) -> str:
        """Which validation the task gets: classification, regression, reconstruction, gan."""
        if self.task == "classification" or (self.task == "sequence" and self.token_targets):
            return "classification"
        return {"autoencoder": "reconstruction", "gan": "gan"}.get(self.task, "regression")

    @property
    def validates(self) -> bool:
        return self.settings.data.validation_split > 0

    @property
    def monitored(self) -> str:
        """The epoch result early stopping and reduce-on-plateau watch."""
        if self.validates and self.task != "gan":
            return "val_loss"
        return "g_loss" if self.task == "gan" else "loss"

    @property
    def amp(self) -> str | None:
        """The autocast dtype name the settings insist on, or None (float32, or 'auto', which
        the device decides: `portable.steps.mixed_precision`). Mixed precision is CUDA's only."""
        return {"bf16": "bfloat16", "fp16": "float16"}.get(self.settings.precision)

    @property
    def images(self) -> bool:
        """Whether a network takes images (channels, height, width), which a GPU convolves
        fastest laid out channels-last."""
        return any(len(io.input_shape) == 3 for io in self.networks)


def make_plan(design: Design, settings: TrainingSettings | None = None,
              report: Report | None = None) -> Plan:
    """Decide the run, or raise a DesignError saying what to change in the design or settings."""
    settings = settings or settings_from(design.training)
    report = report or check(design)
    if settings.task == "gan":
        networks = tuple(_network_io(design, report, name, role)
                         for role, name in (("generator", settings.gan.generator),
                                            ("discriminator", settings.gan.discriminator)))
    else:
        networks = (_network_io(design, report, _trained_network(design), "model"),)
    names = {n: name  # read in place, no copy of a node and no sorting: runs every check
             for net in design.networks for n, name in design.graph(net).nodes(data="name")}
    main = networks[-1] if settings.task == "gan" else networks[0]
    loss, classes, tokens = _loss(settings, main)
    noise_shape = _noise_shape(settings, networks) if settings.task == "gan" else ()
    if settings.task == "gan" and settings.early_stopping.enabled:
        raise SettingError("early_stopping.enabled", f"{setting_place('early_stopping.enabled')} "
                           "watches a validation loss, which a GAN does not have; turn it off "
                           "(judge a GAN by its samples)")
    data = data_plan(settings, main, networks, classes)
    return Plan(settings.task, settings, data, networks, loss, classes, tokens, noise_shape,
                names)


def _trained_network(design: Design) -> str:
    network = design.default_network()
    if network is not None:
        return network
    raise DesignError(f"the design has networks {', '.join(map(repr, design.networks))} and "
                      f"none is called {DEFAULT_NETWORK!r}; rename the one to train "
                      f"{DEFAULT_NETWORK!r}, or set the task to 'gan' for a generator and a "
                      "discriminator")


def _network_io(design: Design, report: Report, network: str, role: str) -> NetworkIO:
    if network not in design.networks:
        raise SettingError(f"gan.{role}", f"the {role} network {network!r} does not exist; the "
                           f"design has {', '.join(map(repr, design.networks))} (set "
                           f"{setting_place(f'gan.{role}')})")
    errors = report.errors_in(network)
    if errors:
        raise DesignError(f"network {network!r} has errors to fix before training: "
                          + "; ".join(p.message + (f" (fix: {p.fix})" if p.fix else "")
                                      for p in errors),
                          [str(p) for p in errors])
    graph, nodes = design.graph(network), design.nodes(network)
    inputs = [n for n in nodes if graph.nodes[n]["type"] == "Input"]
    outputs = [n for n in nodes if graph.nodes[n]["type"] == "Output"]
    if len(inputs) != 1:
        raise UntrainableDesign(f"network {network!r} has {len(inputs)} Inputs; training feeds "
                                "it one tensor per sample, so keep exactly one Input")
    info_in, info_out = report.info(inputs[0]), report.info(outputs[0])
    id_count = 0
    if info_in.dtype == "long":
        sizes = [design.node(e.dst).params["num_embeddings"] for e in design.outputs_of(inputs[0])
                 if design.node(e.dst).type == "Embedding"]
        id_count = min(sizes, default=0)
    return NetworkIO(network, inputs[0], tuple(info_in.features), info_in.dtype, outputs[0],
                     tuple(info_out.features), id_count)


def _loss(settings: TrainingSettings, io: NetworkIO) -> tuple[Loss | None, int, bool]:
    """The loss function, the number of classes and whether targets are token ids."""
    task, choice = settings.task, settings.loss
    if task == "gan":
        if choice != "auto":
            raise SettingError("loss", f"{setting_place('loss')} is {choice!r}, but a GAN "
                               "always uses the non-saturating adversarial loss; set it to "
                               "'auto'")
        return None, 0, False
    classes_by_data = task == "classification" or (
        task == "sequence" and settings.data.source in ("text", "token_match", "generated")
        and choice in ("auto", "cross_entropy") and io.input_dtype == "long")
    if classes_by_data:
        if choice not in ("auto", "cross_entropy"):
            raise SettingError("loss", f"{setting_place('loss')} is {choice!r}, but {task} "
                               "predicts classes; set it to 'cross_entropy' or 'auto'")
        if not io.output_shape:
            raise DesignError("the Output gives one number per sample; classification needs "
                              "one score per class")
        return Loss.CLASSIFICATION, io.output_shape[-1], task == "sequence"
    if choice == "cross_entropy":
        raise SettingError("loss", f"{setting_place('loss')} is 'cross_entropy', but the "
                           f"{task} targets are values; choose 'mse' or 'mae'")
    return (Loss.MAE if choice == "mae" else Loss.MSE), 0, False


def _noise_shape(settings: TrainingSettings, networks: tuple[NetworkIO, ...]) -> tuple:
    generator, discriminator = networks
    if generator.input_dtype != "float":
        raise DesignError(f"the generator {generator.network!r} takes token ids; its Input must "
                          "have dtype float to take noise")
    size = math.prod(generator.input_shape)
    wanted = settings.gan.noise_size
    if wanted is not None and wanted != size:
        raise SettingError("gan.noise_size", f"{setting_place('gan.noise_size')} is {wanted} "
                           "but the generator's Input takes "
                           f"{format_shape(generator.input_shape)} ({size} values); set it to "
                           f"{size} or change the Input's shape")
    if generator.output_shape != discriminator.input_shape:
        raise DesignError(f"the generator makes samples of shape "
                          f"{format_shape(generator.output_shape)} but the discriminator's Input "
                          f"takes {format_shape(discriminator.input_shape)}; make them equal")
    if math.prod(discriminator.output_shape) != 1:
        raise DesignError(f"the discriminator gives {format_shape(discriminator.output_shape)} "
                          "per sample; it must give one score (an Output of size 1)")
    return generator.input_shape


# ---------------------------------------------------------------------------- data

def data_plan(settings: TrainingSettings, io: NetworkIO, networks: tuple[NetworkIO, ...],
              classes: int) -> DataPlan:
    """The calls that load the data source the settings name (nothing is read yet)."""
    data = settings.data
    source = data.source
    split = Call((), Portable.SPLIT_RANDOM, (Name("inputs"), Name("targets")),
                 (("fraction", data.validation_split), ("seed", Name("seed"))))
    if source == "generated":
        return _generated(settings, io, networks, classes, split)
    if source == "digits":
        layout = data.layout
        if layout == "auto":
            layout = "images" if len(io.input_shape) == 3 else "flat"
        load = Call(("inputs", "targets"), Portable.DIGITS_DATA, kwargs=(("as_images",
                                                                     layout == "images"),))
        shape = "1x8x8 images" if layout == "images" else "64 numbers each"
        return DataPlan(source, f"scikit-learn's handwritten digits ({shape})", (load, split),
                        ("seed",))
    if source == "waves":
        load = Call(("inputs", "targets"), Portable.WAVE_DATA, kwargs=(
            ("samples", data.samples), ("length", data.length), ("noise", data.noise),
            ("wave", data.wave), ("many_to_many", data.sequence == "many_to_many"),
            ("seed", Name("seed"))))
        return DataPlan(source, f"noisy {data.wave} waves ({data.samples} windows of "
                        f"{data.length} steps)", (load, split), ("seed",))
    if source == "two_moons":
        load = Call(("inputs", "targets"), Portable.TWO_MOONS_DATA, kwargs=(
            ("samples", data.samples), ("noise", data.noise), ("seed", Name("seed"))))
        return DataPlan(source, f"two moons ({data.samples} points)", (load, split), ("seed",))
    if source == "spirals":
        load = Call(("inputs", "targets"), Portable.SPIRAL_DATA, kwargs=(
            ("samples", data.samples), ("arms", data.arms), ("noise", data.noise),
            ("seed", Name("seed"))))
        return DataPlan(source, f"{data.arms} spirals ({data.samples} points)", (load, split),
                        ("seed",))
    if source == "gaussian_ring":
        load = Call(("inputs", "targets"), Portable.GAUSSIAN_RING_DATA, kwargs=(
            ("samples", data.samples), ("modes", data.modes), ("radius", data.radius),
            ("std", data.std), ("seed", Name("seed"))))
        return DataPlan(source, f"a ring of {data.modes} Gaussians ({data.samples} points)",
                        (load, split), ("seed",))
    if source == "token_match":
        load = Call(("inputs", "targets"), Portable.TOKEN_MATCH_DATA, kwargs=(
            ("samples", data.samples), ("length", data.length), ("tokens", data.tokens),
            ("seed", Name("seed"))))
        return DataPlan(source, f"token sequences: does the first of {data.tokens} tokens "
                        "come back?", (load, split), ("seed",))
    if source == "text":
        return _text(settings)
    return _file_source(settings, io, classes, split)


def _generated(settings: TrainingSettings, io: NetworkIO, networks: tuple[NetworkIO, ...],
               classes: int, split: Call) -> DataPlan:
    target_shape: tuple[int, ...] = ()
    if settings.task == "gan":
        io = networks[1]
    elif classes:
        target_shape = io.output_shape[:-1]
    elif settings.task in ("regression", "sequence"):
        target_shape = io.output_shape
    else:
        target_shape = (1,)
    load = Call(("inputs", "targets"), Portable.TEACHER_DATA, kwargs=(
        ("samples", settings.data.samples), ("input_shape", io.input_shape),
        ("id_count", io.id_count), ("target_shape", target_shape), ("classes", classes),
        ("seed", Name("seed"))))
    return DataPlan("generated", "generated samples with a learnable target", (load, split),
                    ("seed",))


def _text(settings: TrainingSettings) -> DataPlan:
    data = settings.data
    many = data.sequence == "many_to_many"
    stride = data.stride or (data.length if many else 1)
    path = _existing(data.path, "path", "a UTF-8 text file") if data.path else str(BUNDLED_TEXT)
    calls = (
        Call(("text", "vocabulary"), Portable.READ_TEXT, (Name("path"),)),
        Call(("inputs", "targets"), Portable.TEXT_DATA, (Name("text"), Name("vocabulary")),
             (("length", data.length), ("stride", stride), ("many_to_many", many),
              ("samples", data.samples))),
        Call((), Portable.SPLIT_IN_ORDER, (Name("inputs"), Name("targets")),
             (("fraction", data.validation_split),)),
    )
    name = "the bundled text" if data.path is None else Path(path).name
    return DataPlan("text", f"the characters of {name}", calls, ("path",), {"path": path},
                    () if data.path else ("path",))


def _file_source(settings: TrainingSettings, io: NetworkIO, classes: int,
                 split: Call) -> DataPlan:
    data, source = settings.data, settings.data.source
    if source == "csv":
        path = _existing(data.path, "path", "a CSV file")
        if data.target is None:
            raise SettingError("data.target", f"{setting_place('data.target')} is not set; "
                               "name the CSV column to predict")
        load = Call(("inputs", "targets"), Portable.CSV_DATA, (Name("path"),), (
            ("target", data.target),
            ("features", list(data.features) if data.features else None),
            ("classes", classes > 0)))
        return DataPlan(source, f"{Path(path).name} (column {data.target!r} from the others)",
                        (load, split), ("path", "seed"), {"path": path})
    if source == "npz":
        path = _existing(data.path, "path", "a NumPy .npz file")
        y_key = None if settings.task in ("gan", "autoencoder") else data.y_key
        load = Call(("inputs", "targets"), Portable.NPZ_DATA, (Name("path"),),
                    (("x_key", data.x_key), ("y_key", y_key)))
        return DataPlan(source, f"the arrays of {Path(path).name}", (load, split),
                        ("path", "seed"), {"path": path})
    if source == "mnist_idx":
        images = _existing(data.images, "images", "an IDX file of images")
        labels = _existing(data.labels, "labels", "an IDX file of labels")
        load = Call(("inputs", "targets"), Portable.MNIST_IDX_DATA,
                    (Name("images"), Name("labels")))
        return DataPlan(source, f"the IDX images {Path(images).name}", (load, split),
                        ("images", "labels", "seed"), {"images": images, "labels": labels})
    path = _existing(data.path, "path", "a folder with one subfolder of images per class",
                     folder=True)
    if len(io.input_shape) != 3 or io.input_shape[0] not in (1, 3):
        raise DesignError(f"an image folder gives images, but the Input takes "
                          f"{format_shape(io.input_shape)}; set its shape to [1, height, width] "
                          "for grey or [3, height, width] for colour images")
    size = tuple(data.image_size) if data.image_size else io.input_shape[1:]
    if settings.task in ("gan", "autoencoder"):  # these need every sample in memory
        load = Call((), Portable.IMAGE_FOLDER_TENSORS, (Name("path"),), (
            ("size", size), ("grey", io.input_shape[0] == 1), ("normalize", data.normalize),
            ("fraction", data.validation_split), ("seed", Name("seed"))))
        return DataPlan(source, f"the images in {Path(path).name}", (load,), ("path", "seed"),
                        {"path": path})
    load = Call((), Portable.IMAGE_FOLDER_DATA, (Name("path"),), (
        ("size", size), ("grey", io.input_shape[0] == 1), ("normalize", data.normalize),
        ("augment", (data.flip, data.rotate, data.crop_padding)),
        ("fraction", data.validation_split), ("seed", Name("seed"))))
    return DataPlan(source, f"the images in {Path(path).name}", (load,), ("path", "seed"),
                    {"path": path}, in_memory=False)


def _existing(path: str | None, key: str, what: str, folder: bool = False) -> str:
    """The path of a data setting, or a DesignError when it is unset or missing."""
    from engine.training.portable.file_checks import path_problem  # numpy: data files only

    setting = setting_place(f"data.{key}")
    if path is None:
        raise SettingError(f"data.{key}", f"{setting} is not set; give the path of {what}")
    found = Path(path).expanduser()
    problem = path_problem(found, folder)
    if problem:
        raise SettingError(f"data.{key}", f"{setting}: {problem}; give {what}")
    return str(found)


def weights_file(network: str) -> str:
    """The file a network's weights are saved in: its name, made safe as a file name (and
    distinct from every other network's, see `file_stem`)."""
    return f"{file_stem(network)}.safetensors"


FUSED_OPTIMIZERS = frozenset({"SGD", "Adam", "AdamW"})   # torch has one fused kernel for each


def optimizer_spec(plan: Plan) -> tuple[str, dict[str, Any]]:
    """The torch.optim class name and its arguments besides the parameters and `lr` (those
    equal to torch's defaults are left out, as a person would).

    `fused=True` where torch offers it (on the CPU, CUDA and MPS alike): one kernel updates
    every parameter, where torch's default loops over them. On the CPU an optimizer step is
    about three times faster, and a template's epochs up to 40% faster: the more of a step the
    optimizer is, the more (benchmarks/fused_optimizers.py: autoencoder 1.39x, mlp 1.32x, gan
    1.13x; rnn, whose steps are mostly its recurrent kernels, 1.00x). The update is the same
    to rounding (200 Adam steps apart: 2.4e-7 on weights near 4)."""
    o = plan.settings.optimizer
    name, options, defaults = {
        "sgd": ("SGD", {"momentum": o.momentum, "nesterov": o.nesterov,
                        "weight_decay": o.weight_decay},
                {"momentum": 0.0, "nesterov": False, "weight_decay": 0.0}),
        "rmsprop": ("RMSprop", {"momentum": o.momentum, "weight_decay": o.weight_decay},
                    {"momentum": 0.0, "weight_decay": 0.0}),
        "adam": ("Adam", {"betas": (o.beta1, o.beta2), "weight_decay": o.weight_decay},
                 {"betas": (0.9, 0.999), "weight_decay": 0.0}),
        "adamw": ("AdamW", {"betas": (o.beta1, o.beta2), "weight_decay": o.weight_decay},
                  {"betas": (0.9, 0.999), "weight_decay": 0.01}),
    }[o.name]
    fused = {"fused": True} if name in FUSED_OPTIMIZERS else {}
    return name, {**_unless_default(options, defaults), **fused}


def schedule_spec(plan: Plan, epochs: Any) -> tuple[str, dict[str, Any]] | None:
    """The torch.optim.lr_scheduler class name and its arguments besides the optimizer (those
    equal to torch's defaults left out); `epochs` may be a Name for generated code."""
    s = plan.settings.schedule
    if s.name == "step":
        return "StepLR", _unless_default({"step_size": s.step_size, "gamma": s.gamma},
                                         {"gamma": 0.1})
    if s.name == "cosine":
        return "CosineAnnealingLR", _unless_default({"T_max": epochs, "eta_min": s.min_lr},
                                                    {"eta_min": 0.0})
    if s.name == "plateau":
        return "ReduceLROnPlateau", _unless_default(
            {"factor": s.factor, "patience": s.patience, "min_lr": s.min_lr},
            {"factor": 0.1, "patience": 10, "min_lr": 0.0})
    return None


def _unless_default(options: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in options.items() if k not in defaults or v != defaults[k]}
