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


def output_problem(label: str, info: TensorInfo) -> tuple[str, str] | None:
    """(message, fix) when one sample of the node's output cannot be held, else None."""
    values = prod(info.features)
    if values > LARGEST_ELEMENT_COUNT:
        return (f"{label} gives {format_shape(info.shape)}: {big_number(values)} values per "
                f"sample, more than a tensor can hold ({big_number(LARGEST_ELEMENT_COUNT)})",
                SMALLER_OUTPUT)
    needed, memory = values * BYTES_PER_VALUE, physical_memory()
    if memory is not None and needed > memory:
        return (f"{label} gives {format_shape(info.shape)}: one sample takes "
                f"{byte_size(needed)} as float32; {_machine(memory)}", SMALLER_OUTPUT)
    return None


def parameter_problem(label: str, count: int) -> tuple[str, str] | None:
    """(message, fix) when the node's parameters cannot be held in memory, else None."""
    if count > LARGEST_ELEMENT_COUNT:
        return (f"{label} has {big_number(count)} parameters, more than a tensor can hold "
                f"({big_number(LARGEST_ELEMENT_COUNT)})", SMALLER_LAYER)
    needed, memory = count * BYTES_PER_VALUE, physical_memory()
    if memory is not None and needed > memory:
        return (f"{label} has {big_number(count)} parameters ({byte_size(needed)} as "
                f"float32); {_machine(memory)}", SMALLER_LAYER)
    return None


def network_problem(network: str, count: int) -> tuple[str, str] | None:
    """(message, fix) when a network's parameters together do not fit in memory."""
    needed, memory = count * BYTES_PER_VALUE, physical_memory()
    if memory is None or needed <= memory:
        return None
    return (f"network {network!r} has {big_number(count)} parameters ({byte_size(needed)} as "
            f"float32); {_machine(memory)}", "make its largest layers smaller")


def _machine(memory: int) -> str:
    return f"this machine has {byte_size(memory)}"
