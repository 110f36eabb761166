"""Reducing dimensions to their average."""

from engine.errors import ShapeError
from engine.layers.base import EmitContext, LayerSpec, Param, TensorInfo, normalise_dim
from engine.layers.registry import register


def _mean_shape(inputs: list[TensorInfo], p: dict) -> TensorInfo:
    x = inputs[0]
    if x.dtype != "float":
        raise ShapeError("Mean needs floating-point values but receives integer ids")
    dims = [normalise_dim(d, x.rank, "Mean") for d in p["dims"]]
    if 0 in dims:
        raise ShapeError("Mean must not average over the batch dimension (dim 0)",
                         "use dims from 1 on, e.g. (2, 3) for the height and width of images")
    if len(set(dims)) != len(dims):
        raise ShapeError(f"Mean: dims {p['dims']} name the same dimension twice")
    if p["keepdim"]:
        return TensorInfo(tuple(1 if i in dims else d for i, d in enumerate(x.shape)))
    return TensorInfo(tuple(d for i, d in enumerate(x.shape) if i not in dims))


def _emit_mean(ctx: EmitContext) -> list[str]:
    dims = ctx.params["dims"]
    dim = str(dims[0]) if len(dims) == 1 else f"({', '.join(map(str, dims))})"
    keep = ", keepdim=True" if ctx.params["keepdim"] else ""
    return [f"{ctx.out} = {ctx.inputs[0]}.mean(dim={dim}{keep})"]


register(LayerSpec(
    name="Mean", category="Pooling",
    explanation=(
        "Averages over the given dimensions; with dims (2, 3) it is global average pooling, "
        "turning (N, C, H, W) feature maps into (N, C) vectors for a classifier. keepdim keeps "
        "the averaged dimensions with size 1."),
    params=(Param("dims", "ints", (2, 3), "dimensions to average over (not 0, the batch)"),
            Param("keepdim", "bool", False, "keep the averaged dimensions with size 1")),
    infer=_mean_shape, emit=_emit_mean))
