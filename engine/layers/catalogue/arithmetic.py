"""Arithmetic written inline: a tensor with a constant, element-wise functions, matrix products.

These are the expressions models write in `forward` (`x * 0.5`, `q / math.sqrt(d)`,
`torch.exp(x)`, `q @ k.transpose(-2, -1)`), so they emit exactly that code and own no module.
"""

from engine.errors import ShapeError
from engine.layers.base import (
    BATCH,
    EmitContext,
    LayerSpec,
    Param,
    TensorInfo,
    broadcast,
    format_shape,
)
from engine.layers.registry import register

# operator -> how the line reads, with `x` the input and `c` the constant
OPERATIONS = ("x + c", "x - c", "c - x", "x * c", "x / c", "c / x", "x ** c")
# function -> its code, and whether it keeps integer ids integers (abs, neg) or gives floats
FUNCTIONS = {"exp": ("torch.exp({x})", False), "log": ("torch.log({x})", False),
             "sqrt": ("torch.sqrt({x})", False), "rsqrt": ("torch.rsqrt({x})", False),
             "abs": ("torch.abs({x})", True), "neg": ("-{x}", True)}


def _arithmetic_shape(inputs: list[TensorInfo], p: dict) -> TensorInfo:
    """A Python float with an integer tensor gives floats, as torch promotes it."""
    return TensorInfo(inputs[0].shape, "float")


def _emit_arithmetic(ctx: EmitContext) -> list[str]:
    """`x + -1.0` reads `x - 1.0`, as a person writes it."""
    operation, constant = ctx.params["operation"], ctx.params["constant"]
    if operation in ("x + c", "x - c") and constant < 0:
        operation = "x - c" if operation == "x + c" else "x + c"
        constant = -constant
    left, symbol, right = operation.split()
    terms = {"x": ctx.inputs[0], "c": repr(constant)}
    return [f"{ctx.out} = {terms[left]} {symbol} {terms[right]}"]


def _function_shape(inputs: list[TensorInfo], p: dict) -> TensorInfo:
    keeps_dtype = FUNCTIONS[p["function"]][1]
    return TensorInfo(inputs[0].shape, inputs[0].dtype if keeps_dtype else "float")


def _emit_function(ctx: EmitContext) -> list[str]:
    code = FUNCTIONS[ctx.params["function"]][0]
    return [f"{ctx.out} = {code.format(x=ctx.inputs[0])}"]


def _matmul_shape(inputs: list[TensorInfo], p: dict) -> TensorInfo:
    """torch.matmul: a vector takes part as a one-row (left) or one-column (right) matrix, the
    dimensions before the last two broadcast. The summed dimension must not be the batch."""
    left, right = inputs
    if left.rank == 1 and right.rank == 1:
        raise ShapeError(f"MatMul of two vectors {format_shape(left.shape)} and "
                         f"{format_shape(right.shape)} gives a single number, not a tensor",
                         "give one of them a second dimension (Unflatten or Reshape)")
    a = (1, *left.shape) if left.rank == 1 else left.shape
    b = (*right.shape, 1) if right.rank == 1 else right.shape
    if BATCH in (a[-1], b[-2]):
        raise ShapeError(f"MatMul of {format_shape(left.shape)} and "
                         f"{format_shape(right.shape)} would sum over the batch dimension",
                         "transpose so that the batch stays in front")
    if a[-1] != b[-2]:
        raise ShapeError(
            f"MatMul needs the last size of input 0 to equal the second-to-last size of input "
            f"1, but input 0 is {format_shape(left.shape)} and input 1 is "
            f"{format_shape(right.shape)} ({a[-1]} against {b[-2]})",
            "transpose one input (Transpose of its last two dimensions) or change its size")
    try:
        batch = broadcast([TensorInfo(a[:-2]), TensorInfo(b[:-2])], "MatMul")
    except ShapeError:
        raise ShapeError(f"MatMul needs the dimensions before the last two to be equal or 1, "
                         f"but input 0 is {format_shape(left.shape)} and input 1 is "
                         f"{format_shape(right.shape)}") from None
    shape = (*batch, a[-2], b[-1])
    if left.rank == 1:
        shape = (*shape[:-2], shape[-1])
    if right.rank == 1:
        shape = shape[:-1]
    if BATCH in shape[1:]:
        raise ShapeError(f"MatMul of {format_shape(left.shape)} and "
                         f"{format_shape(right.shape)} would move the batch dimension from the "
                         "front", "give both inputs the batch as their first dimension")
    return TensorInfo(shape)


def _emit_matmul(ctx: EmitContext) -> list[str]:
    return [f"{ctx.out} = {ctx.inputs[0]} @ {ctx.inputs[1]}"]


register(
    LayerSpec(
        name="Arithmetic", category="Arithmetic",
        explanation=(
            "Combines every value with one constant: x * 0.5, x + 1, c / x, x ** 2 and so on. "
            "Scaling attention scores by 1 / sqrt(d) and shifting outputs into a range are "
            "typical uses; it has no weights."),
        params=(Param("operation", "choice", "x * c", "what is computed, with x the input and "
                      "c the constant", choices=OPERATIONS),
                Param("constant", "float", 0.5, "the constant c")),
        infer=_arithmetic_shape, emit=_emit_arithmetic),
    LayerSpec(
        name="Elementwise", category="Arithmetic",
        explanation=(
            "Applies one function to every value: exp, log, sqrt, rsqrt (1 / sqrt), abs or neg "
            "(the negative). The log and square roots of negative values give NaN, so feed "
            "them positive values (after an exp, a Softplus or an abs)."),
        params=(Param("function", "choice", "exp", "the function applied to each value",
                      choices=tuple(FUNCTIONS)),),
        infer=_function_shape, emit=_emit_function),
    LayerSpec(
        name="MatMul", category="Arithmetic", min_inputs=2, max_inputs=2,
        explanation=(
            "The matrix product of input 0 and input 1 (the @ operator), batched over the "
            "leading dimensions: (N, L, E) @ (N, E, S) gives (N, L, S). Attention computes "
            "its scores this way, queries times transposed keys."),
        infer=_matmul_shape, emit=_emit_matmul),
)
