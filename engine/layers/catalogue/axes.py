"""Reordering dimensions: swapping two, or any permutation that keeps the batch first."""

from engine.errors import ShapeError
from engine.layers.base import BATCH, EmitContext, LayerSpec, Param, TensorInfo, normalise_dim
from engine.layers.registry import register


def _transpose_shape(inputs: list[TensorInfo], p: dict) -> TensorInfo:
    x = inputs[0]
    first = normalise_dim(p["dim0"], x.rank, "Transpose")
    second = normalise_dim(p["dim1"], x.rank, "Transpose")
    if 0 in (first, second):
        raise ShapeError("Transpose must not move the batch dimension (dim 0)",
                         "swap dimensions from 1 on")
    shape = list(x.shape)
    shape[first], shape[second] = shape[second], shape[first]
    return TensorInfo(tuple(shape), x.dtype)


def _emit_transpose(ctx: EmitContext) -> list[str]:
    return [f"{ctx.out} = {ctx.inputs[0]}.transpose({ctx.params['dim0']}, {ctx.params['dim1']})"]


def _permute_shape(inputs: list[TensorInfo], p: dict) -> TensorInfo:
    x = inputs[0]
    dims = tuple(p["dims"])
    if sorted(dims) != list(range(x.rank)):
        raise ShapeError(f"Permute: dims {dims} must list each of the {x.rank} dimensions "
                         f"0 to {x.rank - 1} once", "include dimension 0, the batch, first")
    if dims[0] != 0 and x.shape[:1] == (BATCH,):  # a tensor without a batch moves freely
        raise ShapeError("Permute must keep the batch dimension first", "start dims with 0")
    return TensorInfo(tuple(x.shape[d] for d in dims), x.dtype)


def _emit_permute(ctx: EmitContext) -> list[str]:
    return [f"{ctx.out} = {ctx.inputs[0]}.permute({', '.join(map(str, ctx.params['dims']))})"]


register(
    LayerSpec(
        name="Transpose", category="Reshape",
        explanation=(
            "Swaps two dimensions, e.g. (N, channels, length) and (N, length, channels) between "
            "a Conv1d and an LSTM. The values are unchanged, only their arrangement."),
        params=(Param("dim0", "int", 1, "one dimension to swap (not 0, the batch)"),
                Param("dim1", "int", 2, "the other dimension (not 0)")),
        infer=_transpose_shape, emit=_emit_transpose),
    LayerSpec(
        name="Permute", category="Reshape",
        explanation=(
            "Puts the dimensions in a new order, given as a list that starts with 0 (the "
            "batch): (0, 2, 3, 1) turns (N, C, H, W) into (N, H, W, C). Use it where a layer "
            "expects channels last."),
        params=(Param("dims", "ints", (0, 2, 1), "the new order of all dimensions, 0 first",
                      minimum=0),),
        infer=_permute_shape, emit=_emit_permute),
)
