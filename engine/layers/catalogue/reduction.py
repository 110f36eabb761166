"""Reducing dimensions: their average (Mean) or their total (Sum), never over the batch."""

from collections.abc import Callable

from engine.errors import ShapeError
from engine.layers.base import EmitContext, LayerSpec, Param, TensorInfo, normalise_dim
from engine.layers.registry import register


def _reduced_shape(name: str, verb: str, floats_only: bool) -> Callable:
    """The shape rule of a reduction named `name` that `verb`s ("average") dimensions."""

    def infer(inputs: list[TensorInfo], p: dict) -> TensorInfo:
        x = inputs[0]
        if floats_only and x.dtype != "float":
            raise ShapeError(f"{name} needs floating-point values but receives integer ids")
        dims = [normalise_dim(d, x.rank, name) for d in p["dims"]]
        if 0 in dims:
            raise ShapeError(f"{name} must not {verb} over the batch dimension (dim 0)",
                             "use dims from 1 on, e.g. (2, 3) for the height and width of "
                             "images")
        if len(set(dims)) != len(dims):
            raise ShapeError(f"{name}: dims {p['dims']} name the same dimension twice")
        if p["keepdim"]:
            shape = tuple(1 if i in dims else d for i, d in enumerate(x.shape))
        else:
            shape = tuple(d for i, d in enumerate(x.shape) if i not in dims)
        return TensorInfo(shape, x.dtype)

    return infer


def _emitter(method: str) -> Callable[[EmitContext], list[str]]:
    """Code for `x.<method>(dim=...)`: `x.mean(dim=(2, 3))`."""

    def emit(ctx: EmitContext) -> list[str]:
        dims = ctx.params["dims"]
        dim = str(dims[0]) if len(dims) == 1 else f"({', '.join(map(str, dims))})"
        keep = ", keepdim=True" if ctx.params["keepdim"] else ""
        return [f"{ctx.out} = {ctx.inputs[0]}.{method}(dim={dim}{keep})"]

    return emit


def _reduction(name: str, verb: str, done: str, explanation: str,
               floats_only: bool) -> LayerSpec:
    return LayerSpec(
        name=name, category="Pooling", explanation=explanation,
        params=(Param("dims", "ints", (2, 3), f"dimensions to {verb} over (not 0, the batch)"),
                Param("keepdim", "bool", False, f"keep the {done} dimensions with size 1")),
        infer=_reduced_shape(name, verb, floats_only), emit=_emitter(name.lower()))


register(_reduction(
    "Mean", "average", "averaged",
    "Averages over the given dimensions; with dims (2, 3) it is global average pooling, "
    "turning (N, C, H, W) feature maps into (N, C) vectors for a classifier. keepdim keeps "
    "the averaged dimensions with size 1.", floats_only=True))
register(_reduction(
    "Sum", "sum", "summed",
    "Adds up the values over the given dimensions, as torch.sum does: attention that weighs "
    "values and then totals them over the tokens (MobileViT-v2's separable attention) sums "
    "over dim 2 or -1. keepdim keeps the summed dimensions with size 1.", floats_only=False))
