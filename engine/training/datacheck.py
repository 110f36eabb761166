"""Does the data fit the design? Checked after loading, before anything trains.

Each mismatch is a DesignError that says what the data holds, what the design expects, and
which setting or node to change.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from engine.design import Design
from engine.errors import DesignError
from engine.layers.base import format_shape
from engine.training.plan import NetworkIO, Plan


@dataclass(frozen=True)
class DataFacts:
    """What the loaded samples look like (per sample, without the batch dimension)."""

    train_samples: int
    val_samples: int
    input_shape: tuple[int, ...]
    input_is_ids: bool
    target_shape: tuple[int, ...]
    target_is_ids: bool
    largest_target: int      # the largest class or token id among the targets (ids only)
    largest_input: int       # the largest token id among the inputs (ids only)


class DataError(DesignError):
    """The data cannot be read, or does not fit the design."""


def check_fit(plan: Plan, design: Design, facts: DataFacts) -> list[str]:
    """Raise DataError for a mismatch that stops training; return warnings for the rest."""
    io = plan.networks[-1] if plan.task == "gan" else plan.networks[0]
    warnings: list[str] = []
    what = "real samples" if plan.task == "gan" else "samples"
    if facts.input_shape != io.input_shape:
        raise DataError(
            f"the data's {what} have shape {format_shape(facts.input_shape)} but the Input "
            f"{_name(design, io.input_node)} of network {io.network!r} takes "
            f"{format_shape(io.input_shape)}; set the Input's shape to "
            f"{list(facts.input_shape)}{_layout_hint(plan)}")
    if facts.input_is_ids != (io.input_dtype == "long"):
        kind = "whole-number ids" if facts.input_is_ids else "real numbers"
        dtype = "long" if facts.input_is_ids else "float"
        raise DataError(f"the data's inputs are {kind} but the Input {_name(design, io.input_node)} "
                        f"has dtype {io.input_dtype!r}; set its dtype to {dtype!r}")
    if facts.input_is_ids and io.id_count and facts.largest_input >= io.id_count:
        raise DataError(f"the data uses token ids up to {facts.largest_input} but the Embedding "
                        f"after {_name(design, io.input_node)} has num_embeddings "
                        f"{io.id_count}; set num_embeddings to at least {facts.largest_input + 1}")
    if facts.train_samples < plan.settings.batch_size:
        raise DataError(f"the batch size ({plan.settings.batch_size}) is larger than the "
                        f"{facts.train_samples} training samples, so no batch is complete; "
                        "lower training.batch_size or training.data.validation_split")
    if plan.task in ("gan", "autoencoder"):
        if plan.task == "autoencoder" and io.output_shape != io.input_shape:
            raise DataError(f"an autoencoder gives back its input, but network {io.network!r} "
                            f"takes {format_shape(io.input_shape)} and gives "
                            f"{format_shape(io.output_shape)}; make the Output "
                            f"{_name(design, io.output_node)} give {format_shape(io.input_shape)}")
        return warnings
    if plan.classes:
        _check_classes(plan, design, io, facts, warnings)
    elif facts.target_is_ids:
        raise DataError(f"the data's targets are class ids but the task is {plan.task!r} with "
                        f"the loss {plan.loss}; set training.task to 'classification'")
    elif facts.target_shape != io.output_shape:
        raise DataError(f"the data's targets have shape {format_shape(facts.target_shape)} per "
                        f"sample but network {io.network!r} gives "
                        f"{format_shape(io.output_shape)}; {_resize_hint(design, io, facts)}")
    return warnings


def _check_classes(plan: Plan, design: Design, io: NetworkIO, facts: DataFacts,
                   warnings: list[str]) -> None:
    if not facts.target_is_ids:
        raise DataError("the task predicts classes but the data's targets are real numbers; "
                        "set training.task to 'regression' (or 'sequence' for series)")
    expected = io.output_shape[:-1]
    if facts.target_shape != expected:
        raise DataError(f"the data gives {format_shape(facts.target_shape)} labels per sample "
                        f"but network {io.network!r} gives scores of shape "
                        f"{format_shape(io.output_shape)}, which fits labels of shape "
                        f"{format_shape(expected)}; change the layers before the Output "
                        f"{_name(design, io.output_node)}")
    classes = facts.largest_target + 1
    if classes > plan.classes:
        raise DataError(f"the data has {classes} classes (ids 0 to {classes - 1}) but the "
                        f"Output {_name(design, io.output_node)} gives {plan.classes} scores; "
                        f"{_resize_hint(design, io, facts, classes)}")
    if classes < plan.classes:
        warnings.append(f"the Output gives {plan.classes} scores but the data has only "
                        f"{classes} classes; the extra scores are never right")


def _resize_hint(design: Design, io: NetworkIO, facts: DataFacts, size: int | None = None) -> str:
    """Which node to change to give `size` (or the targets' shape) values."""
    feeding = [e.src for e in design.inputs_of(io.output_node)]
    wanted = size if size is not None else (facts.target_shape[-1] if facts.target_shape else 1)
    if feeding and design.node(feeding[0]).type == "Linear":
        return f"set out_features of {_name(design, feeding[0])} to {wanted}"
    if size is None and math.prod(facts.target_shape) != math.prod(io.output_shape):
        return f"make the layers before the Output give {format_shape(facts.target_shape)}"
    return f"make the layer before the Output {_name(design, io.output_node)} give {wanted}"


def _layout_hint(plan: Plan) -> str:
    if plan.data.source == "digits":
        return " (or set training.data.layout to 'auto')"
    if plan.data.source in ("waves", "text", "token_match"):
        return " (or set training.data.length to the Input's length)"
    return ""


def _name(design: Design, node: str) -> str:
    n = design.node(node)
    return f"{n.name!r}"
