"""Picking values by position along one dimension, positions given by a tensor.

Gather (torch.gather) picks one value per position of the index: BERT gathers its token type
ids at the position ids; a classifier picks each sample's score at its label. Take (indexing by
a tensor, `table[:, index]`, numpy's and ONNX's take) picks whole slices: Swin, MaxViT and
LeViT read their relative position biases from a learned table at the positions an index
Buffer holds. The positions are a second input, so they can come from a Buffer or be computed.
"""

from engine.errors import ShapeError
from engine.layers.base import (
    BATCH,
    EmitContext,
    LayerSpec,
    Param,
    TensorInfo,
    format_shape,
    normalise_dim,
)
from engine.layers.registry import register


def _gather_shape(inputs: list[TensorInfo], p: dict) -> TensorInfo:
    """torch.gather's rule: the result has the index's shape; both have the same rank, and the
    index is no larger than the input in every other dimension."""
    source, index = inputs
    if index.dtype != "long":
        raise ShapeError(f"Gather: the index (input 1) must hold whole-number positions "
                         f"(long), not {index.dtype}")
    if source.rank != index.rank:
        raise ShapeError(f"Gather: the input {format_shape(source.shape)} and the index "
                         f"{format_shape(index.shape)} must have the same number of dimensions")
    dim = normalise_dim(p["dim"], source.rank, "Gather")
    batched = source.shape[:1] == (BATCH,)
    if dim == 0 and batched:
        raise ShapeError("Gather must not pick along the batch dimension (dim 0)",
                         "use dim 1 or more")
    if index.shape[:1] == (BATCH,) and not batched:
        raise ShapeError(f"Gather: the index {format_shape(index.shape)} has a batch but the "
                         f"input {format_shape(source.shape)} has none",
                         "Expand the input to the batch first")
    too_large = [d for d, (a, b) in enumerate(zip(source.shape, index.shape))
                 if d != dim and isinstance(a, int) and isinstance(b, int) and b > a]
    if too_large:
        raise ShapeError(f"Gather: the index {format_shape(index.shape)} is larger than the "
                         f"input {format_shape(source.shape)} in dimension {too_large[0]}")
    return TensorInfo(index.shape, source.dtype)


def _emit_gather(ctx: EmitContext) -> list[str]:
    source, index = ctx.inputs
    return [f"{ctx.out} = torch.gather({source}, {ctx.params['dim']}, {index})"]


def _take_shape(inputs: list[TensorInfo], p: dict) -> TensorInfo:
    """Indexing by a tensor: dimension `dim` of the input is replaced by the index's shape.
    The batch stays first: a batched input is indexed after its batch by positions every
    sample shares; a batched index (an embedding lookup) takes dimension 0 of an input
    without a batch."""
    source, index = inputs
    if index.dtype != "long":
        raise ShapeError(f"Take: the index (input 1) must hold whole-number positions (long), "
                         f"not {index.dtype}")
    dim = normalise_dim(p["dim"], source.rank, "Take")
    batched, index_batched = source.shape[:1] == (BATCH,), index.shape[:1] == (BATCH,)
    if batched and dim == 0:
        raise ShapeError("Take must not pick along the batch dimension (dim 0) of a batched "
                         "input", "use dim 1 or more")
    if batched and index_batched:
        raise ShapeError(f"Take: the index {format_shape(index.shape)} and the input "
                         f"{format_shape(source.shape)} both have a batch; Take picks the same "
                         "positions for every sample", "use Gather for positions per sample")
    if index_batched and dim != 0:
        raise ShapeError(f"Take: a batched index {format_shape(index.shape)} must pick along "
                         f"dimension 0, not {dim}, so that the batch stays first")
    return source.splice(dim, dim + 1, *index.shape)


def _emit_take(ctx: EmitContext) -> list[str]:
    source, index = ctx.inputs
    dim = normalise_dim(ctx.params["dim"], ctx.input_infos[0].rank, "Take")
    return [f"{ctx.out} = {source}[{':, ' * dim}{index}]"]


register(LayerSpec(
    name="Take", category="Reshape", min_inputs=2, max_inputs=2,
    explanation=(
        "Picks whole slices of input 0 along one dimension at the positions input 1 holds, "
        "input[:, index] with dim 1: that dimension is replaced by the index's shape. Swin "
        "and MaxViT so read their relative position biases from a learned table (a Parameter) "
        "at the positions an index Buffer holds; unlike Gather, every sample gets the same "
        "positions."),
    params=(Param("dim", "int", 1, "the dimension the positions count along (0 only for an "
                  "input without a batch, such as a table)"),),
    infer=_take_shape, emit=_emit_take))


register(LayerSpec(
    name="Gather", category="Reshape", min_inputs=2, max_inputs=2,
    explanation=(
        "Picks values of input 0 along one dimension at the positions input 1 holds: with dim "
        "1, out[i][j] = input[i][index[i][j]]. The result has the index's shape. BERT gathers "
        "its token type ids at the position ids this way."),
    params=(Param("dim", "int", 1, "the dimension the positions count along"),),
    infer=_gather_shape, emit=_emit_gather))
