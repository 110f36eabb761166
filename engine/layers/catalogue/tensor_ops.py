"""Tensor methods written inline in `forward`: expand, roll and constant padding."""

from engine.errors import ShapeError
from engine.layers.base import (
    BATCH,
    EmitContext,
    LayerSpec,
    Param,
    TensorInfo,
    format_shape,
    sample_dim,
)
from engine.layers.registry import register


def _expand_shape(inputs: list[TensorInfo], p: dict) -> TensorInfo:
    """torch's expand: -1 keeps a size, a size of 1 grows to any size, new dimensions go in
    front. With input 1 connected, dimension 0 becomes its batch (`x.expand(y.size(0), ...)`)."""
    x, sizes = inputs[0], tuple(p["sizes"])
    batch_from = inputs[1] if len(inputs) > 1 else None
    if len(sizes) < x.rank:
        raise ShapeError(f"Expand: sizes {format_shape(sizes)} give {len(sizes)} dimensions but "
                         f"the input {format_shape(x.shape)} has {x.rank}",
                         "give one size per dimension (-1 keeps a size)")
    if batch_from is not None and sizes[0] != -1:
        raise ShapeError("Expand: with input 1 connected, the first size is input 1's batch, "
                         f"so it must be -1, not {sizes[0]}", "write -1 as the first size")
    added = len(sizes) - x.rank
    shape = []
    for dim, size in enumerate(sizes):
        old = x.shape[dim - added] if dim >= added else None
        wanted = batch_from.shape[0] if batch_from is not None and dim == 0 else size
        if wanted == -1:
            if old is None:
                raise ShapeError(f"Expand: -1 keeps a size, but dimension {dim} is new",
                                 "give new dimensions their size")
            wanted = old
        elif wanted != BATCH and wanted < 1:
            raise ShapeError(f"Expand: sizes must be at least 1 (or -1), not {wanted}")
        if old not in (None, 1, wanted):
            raise ShapeError(f"Expand can only grow dimensions of size 1, but dimension {dim} of "
                             f"{format_shape(x.shape)} is {old}, not {wanted}",
                             "use -1 for dimensions that keep their size")
        shape.append(wanted)
    if BATCH in shape[1:]:
        raise ShapeError(f"Expand to {format_shape(tuple(shape))} would move the batch "
                         "dimension from the front", "add no new dimensions to a batched tensor")
    return TensorInfo(tuple(shape), x.dtype)


def _emit_expand(ctx: EmitContext) -> list[str]:
    sizes = [str(size) for size in ctx.params["sizes"]]
    if len(ctx.inputs) > 1:
        sizes[0] = f"{ctx.inputs[1]}.size(0)"
    return [f"{ctx.out} = {ctx.inputs[0]}.expand({', '.join(sizes)})"]


def _roll_shape(inputs: list[TensorInfo], p: dict) -> TensorInfo:
    x = inputs[0]
    if len(p["shifts"]) != len(p["dims"]):
        raise ShapeError(f"Roll needs one shift per dimension, but shifts {p['shifts']} has "
                         f"{len(p['shifts'])} and dims {p['dims']} has {len(p['dims'])}")
    for dim in p["dims"]:
        sample_dim(dim, x.rank, "Roll", "roll along", "roll dimensions from 1 on")
    return x


def _emit_roll(ctx: EmitContext) -> list[str]:
    shifts, dims = (_int_or_tuple(ctx.params[key]) for key in ("shifts", "dims"))
    return [f"{ctx.out} = torch.roll({ctx.inputs[0]}, shifts={shifts}, dims={dims})"]


def _int_or_tuple(values: tuple[int, ...]) -> str:
    return str(values[0]) if len(values) == 1 else str(tuple(values))


def _pad_shape(inputs: list[TensorInfo], p: dict) -> TensorInfo:
    """torch's F.pad: pairs of (before, after) from the last dimension backwards; negative
    amounts crop."""
    x, amounts = inputs[0], tuple(p["pad"])
    if len(amounts) % 2:
        raise ShapeError(f"Pad needs pairs of amounts (before, after), but pad {amounts} has "
                         f"{len(amounts)} numbers", "give an even number of amounts")
    pairs = len(amounts) // 2
    if pairs > x.rank - 1:
        raise ShapeError(f"Pad: {pairs} pairs pad {pairs} dimensions but "
                         f"{format_shape(x.shape)} has {x.rank - 1} besides the batch")
    shape = list(x.shape)
    for pair in range(pairs):
        dim = x.rank - 1 - pair
        shape[dim] = x.shape[dim] + amounts[2 * pair] + amounts[2 * pair + 1]
        if shape[dim] < 1:
            raise ShapeError(f"Pad {amounts} leaves dimension {dim} of "
                             f"{format_shape(x.shape)} with size {shape[dim]}",
                             "crop less (negative amounts remove values)")
    return TensorInfo(tuple(shape), x.dtype)


def _emit_pad(ctx: EmitContext) -> list[str]:
    value = ctx.params["value"]
    extra = f", value={value!r}" if value else ""
    return [f"{ctx.out} = F.pad({ctx.inputs[0]}, {tuple(ctx.params['pad'])}{extra})"]


register(
    LayerSpec(
        name="Expand", category="Reshape", min_inputs=1, max_inputs=2,
        explanation=(
            "Repeats dimensions of size 1 without copying memory: sizes (-1, -1, 4, 4) turn "
            "(N, C, 1, 1) into (N, C, 4, 4), and -1 keeps a size. Connect a batched tensor to "
            "input 1 to repeat a Parameter for every sample, as a Vision Transformer does with "
            "its class token before the Concat."),
        params=(Param("sizes", "ints", (-1, -1, -1), "the new size of every dimension; -1 "
                      "keeps one, and the first is input 1's batch when it is connected",
                      minimum=-1),),
        infer=_expand_shape, emit=_emit_expand),
    LayerSpec(
        name="Roll", category="Reshape",
        explanation=(
            "Shifts values along dimensions, wrapping those that fall off the end around to "
            "the start. Swin Transformers roll feature maps by half a window between blocks, so "
            "that windows see across their borders."),
        params=(Param("shifts", "ints", (1,), "how far to shift along each of dims (negative: "
                      "backwards)"),
                Param("dims", "ints", (1,), "the dimensions to shift along (not 0, the batch)")),
        infer=_roll_shape, emit=_emit_roll),
    LayerSpec(
        name="Pad", category="Reshape",
        explanation=(
            "Adds a border of a constant value around the last dimensions, given as pairs "
            "(before, after) from the last dimension backwards: (1, 1, 2, 2) adds 1 column on "
            "each side and 2 rows above and below. Negative amounts crop instead."),
        params=(Param("pad", "ints", (1, 1), "pairs of amounts (before, after), last dimension "
                      "first"),
                Param("value", "float", 0.0, "the value of the added entries")),
        infer=_pad_shape, emit=_emit_pad),
)
