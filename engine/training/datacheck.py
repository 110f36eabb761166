"""Does the data fit the design? One comparison, used twice.

`check` compares the design with a cheap description of its data source (before anything
loads) and shows each misfit as a problem on the node to change; a run compares it again with
the samples it loaded, and stops with a DataError. Each misfit says what the data holds, what
the design expects, and which node or setting to change.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from engine.design import Design
from engine.errors import DesignError
from engine.layers.base import format_shape
from engine.training.devices import out_of_memory
from engine.training.labels import setting_place
from engine.training.plan import NetworkIO, Plan


@dataclass(frozen=True)
class DataFacts:
    """What one sample looks like (without the batch dimension), and what is known of the rest.

    `classes` is the number of classes the source defines (its labels), when it defines them;
    `largest_target` and `largest_input` are the largest ids seen. None: not known.
    """

    input_shape: tuple[int, ...]
    input_is_ids: bool
    target_shape: tuple[int, ...]
    target_is_ids: bool
    sample: str = "sample"          # one sample in words: "digits sample", "row of a.csv"
    train_samples: int | None = None
    classes: int | None = None
    largest_target: int | None = None
    largest_input: int | None = None


@dataclass(frozen=True)
class Misfit:
    """One way the data and the design disagree; `node` None: a setting is at fault."""

    node: str | None
    network: str
    message: str
    fix: str
    severity: str = "error"

    def __str__(self) -> str:
        return f"{self.message}; {self.fix}"


class DataError(DesignError):
    """The data cannot be read, or does not fit the design."""


def unreadable(source: str, files: dict[str, str], err: Exception) -> DataError:
    """A failure to read a run's data as a DataError that names the file: a file check's own
    message (it names the file and the place) as it is, anything else after the files read."""
    message = str(err)
    named = " or ".join(files.values()) or f"the {source} data"
    if out_of_memory(err):
        message = (f"{named} does not fit in this machine's memory ({type(err).__name__}: "
                   f"{message}); use fewer samples or a smaller file")
    elif not any(path in message for path in files.values()):
        message = f"{named} cannot be used: {type(err).__name__}: {message}"
    return DataError(message)


def check_fit(plan: Plan, design: Design, facts: DataFacts) -> list[str]:
    """Raise DataError for the first misfit that stops training; return the warnings."""
    found = misfits(plan, design, facts)
    errors = [m for m in found if m.severity == "error"]
    if errors:
        raise DataError(str(errors[0]), [str(m) for m in errors])
    return [str(m) for m in found]


def misfits(plan: Plan, design: Design, facts: DataFacts) -> list[Misfit]:
    """Every way the data does not fit the trained network(s) of the plan."""
    io = plan.networks[-1] if plan.task == "gan" else plan.networks[0]
    found = _input_misfits(plan, design, io, facts)
    if facts.train_samples is not None and facts.train_samples < plan.settings.batch_size:
        found.append(Misfit(None, io.network, (
            f"the batch size ({plan.settings.batch_size}) is larger than the "
            f"{facts.train_samples} training samples, so no batch is complete"),
            f"lower {setting_place('batch_size')} or "
            f"{setting_place('data.validation_split')}"))
    if plan.task == "autoencoder" and io.output_shape != io.input_shape:
        found.append(Misfit(io.output_node, io.network, (
            f"an autoencoder gives back its input, but network {io.network!r} takes "
            f"{format_shape(io.input_shape)} and gives {format_shape(io.output_shape)}"),
            f"make the Output {_name(design, io.output_node)} give "
            f"{format_shape(io.input_shape)}"))
    if plan.task not in ("gan", "autoencoder"):
        found += _target_misfits(plan, design, io, facts)
    return found


def _input_misfits(plan: Plan, design: Design, io: NetworkIO, facts: DataFacts) -> list[Misfit]:
    found: list[Misfit] = []
    what = "real samples" if plan.task == "gan" else "samples"
    if facts.input_shape != io.input_shape:
        found.append(Misfit(io.input_node, io.network, (
            f"the data's {what} have shape {format_shape(facts.input_shape)} but the Input "
            f"{_name(design, io.input_node)} of network {io.network!r} takes "
            f"{format_shape(io.input_shape)}"),
            f"set the Input's shape to {_typed(facts.input_shape)}, the shape of one "
            f"{facts.sample}{_other_setting(plan, io, facts)}"))
    if facts.input_is_ids != (io.input_dtype == "long"):
        found.append(_dtype_misfit(design, io, facts))
    elif facts.input_is_ids and io.id_count and facts.largest_input is not None \
            and facts.largest_input >= io.id_count:
        embedding = _smallest_embedding(design, io)
        found.append(Misfit(embedding, io.network, (
            f"the data uses token ids up to {facts.largest_input} but the Embedding "
            f"{_name(design, embedding)} has num_embeddings {io.id_count}"),
            f"set num_embeddings to at least {facts.largest_input + 1}"))
    return found


def _dtype_misfit(design: Design, io: NetworkIO, facts: DataFacts) -> Misfit:
    name = _name(design, io.input_node)
    if facts.input_is_ids:
        return Misfit(io.input_node, io.network, (
            f"the data's inputs are whole-number token ids but the Input {name} takes real "
            "numbers (dtype 'float')"),
            "set the Input's dtype to 'long' and put an Embedding after it")
    fix = "set the Input's dtype to 'float'"
    if _smallest_embedding(design, io) != io.input_node:
        fix += (" and replace the Embedding with layers that take numbers, or choose token "
                "data (Text or Token match)")
    return Misfit(io.input_node, io.network, (
        f"the data's inputs are real numbers but the Input {name} takes token ids "
        "(dtype 'long')"), fix)


def _target_misfits(plan: Plan, design: Design, io: NetworkIO,
                    facts: DataFacts) -> list[Misfit]:
    output = io.output_node
    if plan.classes:
        return _class_misfits(plan, design, io, facts)
    if facts.target_is_ids:
        return [Misfit(output, io.network, (
            f"the data's targets are class ids but the task is {plan.task!r} with the loss "
            f"{plan.loss}"), f"set {setting_place('task')} to 'classification'")]
    if facts.target_shape != io.output_shape:
        return [Misfit(output, io.network, (
            f"the data's targets have shape {format_shape(facts.target_shape)} per sample but "
            f"network {io.network!r} gives {format_shape(io.output_shape)}"),
            _resize_hint(design, io, facts))]
    return []


def _class_misfits(plan: Plan, design: Design, io: NetworkIO,
                   facts: DataFacts) -> list[Misfit]:
    output = io.output_node
    if not facts.target_is_ids:
        return [Misfit(output, io.network,
                       "the task predicts classes but the data's targets are real numbers",
                       f"set {setting_place('task')} to 'regression' (or 'sequence' for "
                       "series)")]
    expected = io.output_shape[:-1]
    if facts.target_shape != expected:
        return [Misfit(output, io.network, (
            f"the data gives {format_shape(facts.target_shape)} labels per sample but network "
            f"{io.network!r} gives scores of shape {format_shape(io.output_shape)}, which fits "
            f"labels of shape {format_shape(expected)}"),
            f"change the layers before the Output {_name(design, output)}")]
    classes = facts.classes
    if classes is None and facts.largest_target is not None:
        classes = facts.largest_target + 1
    if classes is None or classes == plan.classes:
        return []
    scores = (f"the data has {classes} classes (ids 0 to {classes - 1}) but the Output "
              f"{_name(design, output)} gives {plan.classes} scores")
    fix = _resize_hint(design, io, facts, classes)
    if classes > plan.classes:
        return [Misfit(output, io.network, scores, fix)]
    severity = "error" if facts.classes is not None else "warning"
    return [Misfit(output, io.network, f"{scores}, so the extra scores are never right", fix,
                   severity)]


def _resize_hint(design: Design, io: NetworkIO, facts: DataFacts, size: int | None = None) -> str:
    """Which node to change to give `size` (or the targets' shape) values."""
    feeding = [e.src for e in design.inputs_of(io.output_node)]
    wanted = size if size is not None else (facts.target_shape[-1] if facts.target_shape else 1)
    if feeding and design.node(feeding[0]).type == "Linear":
        return f"set out_features of {_name(design, feeding[0])} to {wanted}"
    if size is None and math.prod(facts.target_shape) != math.prod(io.output_shape):
        return f"make the layers before the Output give {format_shape(facts.target_shape)}"
    return f"make the layer before the Output {_name(design, io.output_node)} give {wanted}"


def _other_setting(plan: Plan, io: NetworkIO, facts: DataFacts) -> str:
    """The data setting that would also make the samples fit the Input, if there is one."""
    data, wanted = plan.settings.data, io.input_shape
    if data.source == "digits" and data.layout != "auto" and wanted in ((64,), (1, 8, 8)):
        return f" (or set {setting_place('data.layout')} to 'auto')"
    if data.source in ("waves", "text", "token_match") and wanted \
            and wanted[1:] == facts.input_shape[1:]:
        return f" (or set {setting_place('data.length')} to {wanted[0]})"
    return ""


def _smallest_embedding(design: Design, io: NetworkIO) -> str:
    """The Embedding right after the Input with the fewest ids, or the Input if none."""
    sizes = {e.dst: design.node(e.dst).params["num_embeddings"]
             for e in design.outputs_of(io.input_node) if design.node(e.dst).type == "Embedding"}
    return min(sizes, key=sizes.__getitem__, default=io.input_node)


def _typed(shape: tuple[int, ...]) -> str:
    """A shape as it can be typed into the Input's shape field: [1, 8, 8]."""
    return str(list(shape))


def _name(design: Design, node: str) -> str:
    return repr(design.node(node).name)
