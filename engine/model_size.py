"""Whether a model can exist at all: tensors a computer can count and memory it has.

The check asks this for every node before anything is built, so a design with a layer of a
trillion parameters is an error with its figures instead of a build that asks the allocator
for terabytes (or a training worker that dies).
"""

from __future__ import annotations

from math import prod

from engine.layers import TensorInfo
from engine.layers.base import format_shape
from engine.limits import (
    BYTES_PER_VALUE,
    LARGEST_ELEMENT_COUNT,
    big_number,
    byte_size,
    physical_memory,
)

SMALLER_LAYER = "make the layer smaller (fewer outputs, channels or hidden units)"
SMALLER_OUTPUT = ("make the tensor smaller: smaller inputs, fewer channels, or pooling or a "
                  "stride earlier on")
EMPTY_OUTPUT = ("make every size at least 1: a larger input, a larger scale factor, or less "
                "shrinking earlier on")
TENSOR_LIMIT = f"more than a tensor can hold ({big_number(LARGEST_ELEMENT_COUNT)})"


def output_problem(label: str, info: TensorInfo) -> tuple[str, str] | None:
    """(message, fix) when one sample of the node's output cannot be held, or holds
    nothing (a size below 1, which torch refuses when the layer runs), else None."""
    values = prod(info.features)
    gives = f"{label} gives {format_shape(info.shape)}"
    if any(size < 1 for size in info.features):
        return f"{gives}: an empty tensor, which no later layer can use", EMPTY_OUTPUT
    if values > LARGEST_ELEMENT_COUNT:
        return f"{gives}: {big_number(values)} values per sample, {TENSOR_LIMIT}", SMALLER_OUTPUT
    beyond = _beyond_memory(values * BYTES_PER_VALUE)
    if not beyond:
        return None
    return f"{gives}: one sample takes {beyond[0]}; {beyond[1]}", SMALLER_OUTPUT


def parameter_problem(label: str, count: int) -> tuple[str, str] | None:
    """(message, fix) when the node's parameters cannot be held in memory, else None."""
    has = f"{label} has {big_number(count)} parameters"
    if count > LARGEST_ELEMENT_COUNT:
        return f"{has}, {TENSOR_LIMIT}", SMALLER_LAYER
    beyond = _beyond_memory(count * BYTES_PER_VALUE)
    return (f"{has} ({beyond[0]}); {beyond[1]}", SMALLER_LAYER) if beyond else None


def network_problem(network: str, count: int) -> tuple[str, str] | None:
    """(message, fix) when a network's parameters together do not fit in memory."""
    beyond = _beyond_memory(count * BYTES_PER_VALUE)
    if not beyond:
        return None
    message = f"network {network!r} has {big_number(count)} parameters ({beyond[0]}); {beyond[1]}"
    return message, "make its largest layers smaller"


def _beyond_memory(needed: int) -> tuple[str, str] | None:
    """('3.6 TB as float32', 'this machine has 24 GB') when `needed` bytes exceed the
    machine's memory; None when they fit or the system does not say how much it has."""
    memory = physical_memory()
    if memory is None or needed <= memory:
        return None
    return f"{byte_size(needed)} as float32", f"this machine has {byte_size(memory)}"
