"""Layers that change how a tensor's values are arranged, never the values themselves."""

from math import prod

from engine.errors import ShapeError
from engine.layers.base import (
    BATCH,
    EmitContext,
    LayerSpec,
    Param,
    TensorInfo,
    normalise_dim,
    sample_dim,
)
from engine.layers.module_call import ModuleCall, module_call
from engine.layers.registry import register


def _flatten_shape(inputs: list[TensorInfo], p: dict) -> TensorInfo:
    shape = inputs[0].shape
    start = normalise_dim(p["start_dim"], len(shape), "Flatten")
    end = normalise_dim(p["end_dim"], len(shape), "Flatten")
    if start == 0:
        raise ShapeError("Flatten must not merge the batch dimension (start_dim 0)",
                         "set start_dim to 1")
    if end < start:
        raise ShapeError(f"Flatten: end_dim ({p['end_dim']}) comes before start_dim "
                         f"({p['start_dim']})")
    return inputs[0].splice(start, end + 1, prod(shape[start:end + 1]))


def _flatten_call(inputs: list[TensorInfo], p: dict) -> ModuleCall:
    return module_call("torch.nn.Flatten", start_dim=p["start_dim"], end_dim=p["end_dim"],
                       defaults={"start_dim": 1, "end_dim": -1})


def _unflatten_shape(inputs: list[TensorInfo], p: dict) -> TensorInfo:
    shape = inputs[0].shape
    dim = sample_dim(p["dim"], len(shape), "Unflatten", "split", "set dim to 1")
    if prod(p["sizes"]) != shape[dim]:
        raise ShapeError(f"Unflatten: sizes {p['sizes']} hold {prod(p['sizes'])} values but "
                         f"dimension {dim} has {shape[dim]}",
                         f"choose sizes whose product is {shape[dim]}")
    return inputs[0].splice(dim, dim + 1, *p["sizes"])


def _unflatten_call(inputs: list[TensorInfo], p: dict) -> ModuleCall:
    return module_call("torch.nn.Unflatten", p["dim"], p["sizes"])


def _reshape_shape(inputs: list[TensorInfo], p: dict) -> TensorInfo:
    """Each sample reshaped; a tensor without a batch (a Parameter's, LayerScale's gamma
    reshaped to (1, C, 1, 1)) is reshaped whole."""
    target = p["shape"]
    batched = _is_batched(inputs[0])
    values = "values per sample" if batched else "values"
    total = prod(inputs[0].features if batched else inputs[0].shape)
    unknown = [i for i, d in enumerate(target) if d == -1]
    if len(unknown) > 1 or any(d < 1 and d != -1 for d in target):
        raise ShapeError(f"Reshape: shape {target} may hold positive sizes and at most one -1")
    known = prod(d for d in target if d != -1)
    if unknown:
        if total % known:
            raise ShapeError(f"Reshape: {total} {values} cannot be split into {target}")
        target = tuple(total // known if d == -1 else d for d in target)
    elif known != total:
        raise ShapeError(f"Reshape: shape {target} holds {known} {values} but the "
                         f"input has {total}", f"choose sizes whose product is {total}")
    return TensorInfo((inputs[0].shape[0], *target) if batched else tuple(target),
                      inputs[0].dtype)


def _is_batched(info: TensorInfo) -> bool:
    return info.shape[:1] == (BATCH,)


def _emit_reshape(ctx: EmitContext) -> list[str]:
    sizes = ", ".join(str(d) for d in ctx.params["shape"])
    x = ctx.inputs[0]
    if not _is_batched(ctx.input_infos[0]):
        return [f"{ctx.out} = {x}.reshape({sizes})"]
    return [f"{ctx.out} = {x}.reshape({x}.size(0), {sizes})"]


def _emit_contiguous(ctx: EmitContext) -> list[str]:
    return [f"{ctx.out} = {ctx.inputs[0]}.contiguous()"]


def _same_shape(inputs: list[TensorInfo], p: dict) -> TensorInfo:
    return inputs[0]


register(
    LayerSpec(
        name="Flatten", category="Reshape",
        explanation=(
            "Merges dimensions into one, by default everything but the batch: (N, 32, 7, 7) "
            "becomes (N, 1568). Put it between the convolutional part of a network and its "
            "Linear classifier."),
        params=(Param("start_dim", "int", 1, "first dimension to merge"),
                Param("end_dim", "int", -1, "last dimension to merge")),
        infer=_flatten_shape, constructor=_flatten_call),
    LayerSpec(
        name="Unflatten", category="Reshape",
        explanation=(
            "Splits one dimension into several: with dim 1 and sizes (16, 7, 7), (N, 784) "
            "becomes (N, 16, 7, 7). Decoders and generators use it to turn a vector into a "
            "small image."),
        params=(Param("dim", "int", 1, "dimension to split"),
                Param("sizes", "ints", (1, 8, 8), "the new sizes; their product must equal "
                      "the size of dim", minimum=1)),
        infer=_unflatten_shape, constructor=_unflatten_call),
    LayerSpec(
        name="Reshape", category="Reshape",
        explanation=(
            "Rearranges each sample into a new shape with the same number of values; one size "
            "may be -1 and is then inferred. The batch dimension is kept as it is; a tensor "
            "without one (a Parameter's) is reshaped whole, as LayerScale's gamma of shape "
            "(C,) becomes (1, C, 1, 1) to scale channels."),
        params=(Param("shape", "ints", (-1,), "the new per-sample shape (the whole shape "
                      "for a tensor without a batch)"),),
        infer=_reshape_shape, emit=_emit_reshape),
    LayerSpec(
        name="Contiguous", category="Reshape",
        explanation=(
            "Copies the tensor into one contiguous block of memory, values unchanged. A "
            "transpose or permute only changes how memory is read; layers after this one then "
            "read it in order, which is faster for some and makes the rounding match a model "
            "whose reshape copied (imports place it where the original did)."),
        infer=_same_shape, emit=_emit_contiguous),
)
