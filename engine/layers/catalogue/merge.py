"""Nodes that join several tensors: element-wise arithmetic, concatenation and stacking."""

from engine.errors import ShapeError
from engine.layers.base import (
    BATCH,
    EmitContext,
    LayerSpec,
    Param,
    TensorInfo,
    broadcast,
    format_shape,
    sample_dim,
)
from engine.layers.registry import register


def _elementwise_shape(layer: str):
    """torch's broadcasting: squeeze-excitation gates (N, C, 1, 1), biases and scales that
    Parameter nodes hold (C,) meet full tensors."""
    def infer(inputs: list[TensorInfo], p: dict) -> TensorInfo:
        dtype = "float" if "float" in (info.dtype for info in inputs) else inputs[0].dtype
        return TensorInfo(broadcast(inputs, layer), dtype)
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
                f"{format_shape(other.shape)}", _batch_fix(first, other))
        total += other.shape[dim]
    return first.splice(dim, dim + 1, total)


def _batch_fix(first: TensorInfo, other: TensorInfo) -> str | None:
    """The fix when one tensor has the batch and the other (a Parameter's) has not."""
    if (first.shape[:1] == (BATCH,)) != (other.shape[:1] == (BATCH,)):
        return ("a Parameter has no batch dimension: pass it through an Expand whose second "
                "input is the batched tensor, so it is repeated for every sample")
    return None


def _emit_concat(ctx: EmitContext) -> list[str]:
    return [f"{ctx.out} = torch.cat([{', '.join(ctx.inputs)}], dim={ctx.params['dim']})"]


def _stack_shape(inputs: list[TensorInfo], p: dict) -> TensorInfo:
    first = inputs[0]
    dim = sample_dim(p["dim"], first.rank + 1, "Stack", "stack along",
                     "use dim 1 to put the stacked tensors right after the batch")
    for port, other in enumerate(inputs[1:], start=1):
        if other.shape != first.shape:
            raise ShapeError(f"Stack needs inputs of the same shape, but input 0 is "
                             f"{format_shape(first.shape)} and input {port} is "
                             f"{format_shape(other.shape)}", _batch_fix(first, other))
    return first.splice(dim, dim, len(inputs))


def _emit_stack(ctx: EmitContext) -> list[str]:
    return [f"{ctx.out} = torch.stack([{', '.join(ctx.inputs)}], dim={ctx.params['dim']})"]


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

# Order matters for these: input 0 is the left operand, input 1 the right one.
_BINARY = (
    ("Subtract", "-", (
        "Subtracts input 1 from input 0 element by element, broadcasting sizes of 1 as torch "
        "does. Use it to centre values (x minus a mean) or to compare two branches.")),
    ("Divide", "/", (
        "Divides input 0 by input 1 element by element, broadcasting sizes of 1 as torch does. "
        "Normalising by a computed scale (a norm, a standard deviation) is the usual use.")),
    ("Power", "**", (
        "Raises input 0 to the power of input 1 element by element, broadcasting sizes of 1 "
        "as torch does. A negative base with a fractional exponent gives NaN.")),
)

for _name, _symbol, _text in _ELEMENTWISE:
    register(LayerSpec(name=_name, category="Merge", min_inputs=2, max_inputs=None,
                       explanation=_text, infer=_elementwise_shape(_name),
                       emit=_emit_operator(_symbol)))

for _name, _symbol, _text in _BINARY:
    register(LayerSpec(name=_name, category="Merge", min_inputs=2, max_inputs=2,
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
    LayerSpec(
        name="Stack", category="Merge", min_inputs=1, max_inputs=None,
        explanation=(
            "Puts tensors of the same shape side by side along a new dimension: three (N, 8) "
            "tensors stacked at dim 1 give (N, 3, 8). Unlike Concat, which lengthens an "
            "existing dimension, it adds one."),
        params=(Param("dim", "int", 1, "where the new dimension goes (0 is the batch)"),),
        infer=_stack_shape, emit=_emit_stack),
)
