"""Example inputs for an ONNX model, read from the shapes its graph declares.

A design's Inputs are one sample's shape; the ONNX graph's first dimension is the batch,
either named (dynamic: the example uses a batch of 2) or fixed (often 1: the example uses it).
Other dimensions without a size (a sequence length, a free image size) must be given.
"""

from __future__ import annotations

from typing import Any

from engine.errors import DesignError

# The batch an example uses when the model leaves it open: 2, so that a reshape that folds
# the batch into another dimension shows (at a batch of 1 it would not).
OPEN_BATCH = 2
# ONNX element types the design's Inputs hold (onnx.TensorProto's numbering).
_FLOAT, _INT64 = 1, 7


def example_inputs(model: Any, label: str,
                   shapes: list[tuple[int, ...]] | None = None) -> tuple[Any, ...]:
    """One random float tensor (or zero token ids for int64) per graph input, batch first.
    `shapes` (one sample each, without the batch) size what the graph leaves open."""
    import torch

    declared = graph_inputs(model)
    if shapes is not None and len(shapes) != len(declared):
        raise DesignError(f"{label} has {len(declared)} input(s) "
                          f"({', '.join(name for name, _, _ in declared)}); "
                          f"{len(shapes)} shape(s) were given")
    batches = {dims[0] for _, dims, _ in declared if dims and dims[0] is not None}
    batch = batches.pop() if len(batches) == 1 else OPEN_BATCH
    generator = torch.Generator().manual_seed(0)
    tensors = []
    for index, (name, dims, element) in enumerate(declared):
        sample = _sample_shape(name, dims, shapes[index] if shapes else None, label)
        if element == _FLOAT:
            tensors.append(torch.randn((batch, *sample), generator=generator))
        elif element == _INT64:
            tensors.append(torch.zeros((batch, *sample), dtype=torch.long))
        else:
            raise DesignError(f"{label}: input {name!r} holds ONNX element type {element}; "
                              "a design's inputs are float32 or int64 token ids", file=label)
    return tuple(tensors)


def graph_inputs(model: Any) -> list[tuple[str, list[int | None], int]]:
    """(name, sizes with None where open, element type) of each input that is no
    initializer."""
    initializers = {tensor.name for tensor in model.graph.initializer}
    inputs = []
    for value in model.graph.input:
        if value.name in initializers:
            continue
        tensor = value.type.tensor_type
        dims = [dim.dim_value if dim.HasField("dim_value") and dim.dim_value > 0 else None
                for dim in tensor.shape.dim]
        inputs.append((value.name, dims, tensor.elem_type))
    return inputs


def _sample_shape(name: str, dims: list[int | None], given: tuple[int, ...] | None,
                  label: str) -> tuple[int, ...]:
    if len(dims) < 2:
        raise DesignError(f"{label}: input {name!r} has {len(dims)} dimension(s); a design "
                          "reads a batch of samples, the batch first", file=label)
    sample = dims[1:]
    if given is not None:
        clashes = [f"dimension {i + 1} is {size}, not {want}" for i, (size, want)
                   in enumerate(zip(sample, given)) if size is not None and size != want]
        if len(given) != len(sample) or clashes:
            described = ", ".join(clashes) or f"it has {len(sample)} dimensions per sample"
            raise DesignError(f"{label}: the shape {given} does not fit input {name!r} "
                              f"{_describe(sample)}: {described}", file=label)
        return tuple(given)
    if None in sample:
        raise DesignError(f"{label}: input {name!r} leaves sizes open {_describe(sample)}; "
                          "give one sample's shape, e.g. --input-shape "
                          f"{','.join(str(size or 32) for size in sample)}", file=label)
    return tuple(sample)


def _describe(sample: list[int | None]) -> str:
    return "(" + ", ".join("?" if size is None else str(size) for size in sample) + ")"
