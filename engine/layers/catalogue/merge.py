"""Nodes that join several tensors: element-wise sums and products, and concatenation."""

from engine.errors import ShapeError
from engine.layers.base import (
    EmitContext,
    LayerSpec,
    Param,
    TensorInfo,
    format_shape,
    sample_dim,
)
from engine.layers.registry import register


def _elementwise_shape(layer: str):
    """Same rank; each dimension equal or 1 (broadcast, as squeeze-excitation gates need)."""
    def infer(inputs: list[TensorInfo], p: dict) -> TensorInfo:
        result = list(inputs[0].shape)
        for port, other in enumerate(inputs[1:], start=1):
            fits = other.rank == len(result) and all(
                a == b or a == 1 or b == 1 for a, b in zip(result[1:], other.shape[1:]))
            if not fits:
                raise ShapeError(
                    f"{layer} needs inputs of the same shape (or sizes of 1 that broadcast), "
                    f"but input 0 is {format_shape(inputs[0].shape)} and input {port} is "
                    f"{format_shape(other.shape)}",
                    "make the branches produce the same shape (for a skip connection, a 1x1 "
                    "Conv2d or a Linear on the shortcut can match the channels)")
            result[1:] = [max(a, b) for a, b in zip(result[1:], other.shape[1:])]
        return TensorInfo(tuple(result), inputs[0].dtype)
    return infer


def _emit_operator(symbol: str):
    def emit(ctx: EmitContext) -> list[str]:
        return [f"{ctx.out} = " + f" {symbol} ".join(ctx.inputs)]
    return emit


def _concat_shape(inputs: list[TensorInfo], p: dict) -> TensorInfo:
    first = inputs[0]
    dim = sample_dim(p["dim"], first.rank, "Concat", "join along",
                     "use dim 1 for channels or features")
    total = 0
    for port, other in enumerate(inputs):
        if other.rank != first.rank or any(
                a != b for i, (a, b) in enumerate(zip(first.shape, other.shape)) if i != dim):
            raise ShapeError(
                f"Concat along dim {p['dim']} needs inputs that agree in every other dimension, "
                f"but input 0 is {format_shape(first.shape)} and input {port} is "
                f"{format_shape(other.shape)}")
        total += other.shape[dim]
    return TensorInfo((*first.shape[:dim], total, *first.shape[dim + 1:]), first.dtype)


def _emit_concat(ctx: EmitContext) -> list[str]:
    return [f"{ctx.out} = torch.cat([{', '.join(ctx.inputs)}], dim={ctx.params['dim']})"]


_ELEMENTWISE = (
    ("Add", "+", (
        "Adds two or more tensors of the same shape element by element. This is how skip "
        "(residual) connections are made: the input of a block is added to its output, which "
        "lets very deep networks train.")),
    ("Multiply", "*", (
        "Multiplies two or more tensors of the same shape element by element. Use it for "
        "gating, where one branch (often through a Sigmoid) decides how much of another "
        "passes.")),
)

for _name, _symbol, _text in _ELEMENTWISE:
    register(LayerSpec(name=_name, category="Merge", min_inputs=2, max_inputs=None,
                       explanation=_text, infer=_elementwise_shape(_name),
                       emit=_emit_operator(_symbol)))

register(
    LayerSpec(
        name="Concat", category="Merge", min_inputs=1, max_inputs=None,
        explanation=(
            "Joins tensors along one dimension; dim 1 stacks channels of images or features of "
            "vectors. Inception blocks and U-Nets use it to combine branches that see the input "
            "at different scales."),
        params=(Param("dim", "int", 1, "dimension to join along (0 is the batch)"),),
        infer=_concat_shape, emit=_emit_concat),
)
