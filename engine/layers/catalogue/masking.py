"""Masks written inline: comparing a tensor with a constant, and filling where a mask is set.

Hand-written attention builds its causal mask this way (nanoGPT's
`att.masked_fill(self.bias[:, :, :T, :T] == 0, float('-inf'))`), so both nodes emit exactly
that code and own no module.
"""

from engine.errors import ShapeError
from engine.layers.base import EmitContext, LayerSpec, Param, TensorInfo, broadcast
from engine.layers.registry import register

COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")
# fill -> how the value reads in code (`value` takes the node's number)
FILLS = {"-inf": 'float("-inf")', "inf": 'float("inf")', "value": None}


def _compare_shape(inputs: list[TensorInfo], p: dict) -> TensorInfo:
    return TensorInfo(inputs[0].shape, "bool")


def _emit_compare(ctx: EmitContext) -> list[str]:
    x, operation, constant = ctx.inputs[0], ctx.params["operation"], ctx.params["constant"]
    return [f"{ctx.out} = {x} {operation} {constant!r}"]


def _masked_fill_shape(inputs: list[TensorInfo], p: dict) -> TensorInfo:
    """torch broadcasts the tensor and the mask together; the mask must hold booleans."""
    x, mask = inputs
    if mask.dtype != "bool":
        raise ShapeError(f"MaskedFill: the mask (input 1) holds {mask.dtype} values; it must "
                         "hold booleans (True where to fill)",
                         "make the mask with a Compare node (for a 0/1 buffer: == 0), or give "
                         "the Buffer dtype bool")
    if x.dtype != "float" and p["fill"] != "value":
        raise ShapeError(f"MaskedFill: an infinite fill needs floating-point values, but "
                         f"input 0 holds {x.dtype} values", "choose fill 'value'")
    return TensorInfo(broadcast(inputs, "MaskedFill"), x.dtype)


def fill_value(params: dict) -> str:
    """The fill as code: `float("-inf")`, or the number."""
    return FILLS[params["fill"]] or repr(params["value"])


def _emit_masked_fill(ctx: EmitContext) -> list[str]:
    x, mask = ctx.inputs
    return [f"{ctx.out} = {x}.masked_fill({mask}, {fill_value(ctx.params)})"]


register(
    LayerSpec(
        name="Compare", category="Arithmetic",
        explanation=(
            "Compares every value with one constant (x == 0, x < 0.5, ...) and gives a tensor of "
            "booleans, True where the comparison holds. Its result is a mask: MaskedFill uses "
            "it to hide positions, as causal attention hides the future; it has no weights."),
        params=(Param("operation", "choice", "==", "the comparison, with x the input on the "
                      "left", choices=COMPARISONS),
                Param("constant", "float", 0.0, "the constant compared with")),
        infer=_compare_shape, emit=_emit_compare),
    LayerSpec(
        name="MaskedFill", category="Arithmetic", min_inputs=2, max_inputs=2,
        explanation=(
            "Replaces the values of input 0 where the mask (input 1, booleans) is True, with "
            "-inf, inf or a number, broadcasting the two as torch does. Filling attention "
            "scores with -inf before the softmax gives those positions no weight: with a "
            "lower-triangular mask, each position sees only earlier ones."),
        params=(Param("fill", "choice", "-inf", "what masked positions become",
                      choices=tuple(FILLS)),
                Param("value", "float", 0.0, "the number masked positions become, for fill "
                      "'value'")),
        infer=_masked_fill_shape, emit=_emit_masked_fill),
)
