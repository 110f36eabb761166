"""Picking values by position along one dimension, positions given by a tensor (torch.gather).

BERT gathers its token type ids at the position ids; a classifier picks each sample's score at
its label. The positions are a second input, so they can come from a Buffer or be computed.
"""

from engine.errors import ShapeError
from engine.layers.base import BATCH, EmitContext, LayerSpec, Param, TensorInfo, format_shape
from engine.layers.base import normalise_dim
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


register(LayerSpec(
    name="Gather", category="Reshape", min_inputs=2, max_inputs=2,
    explanation=(
        "Picks values of input 0 along one dimension at the positions input 1 holds: with dim "
        "1, out[i][j] = input[i][index[i][j]]. The result has the index's shape. BERT gathers "
        "its token type ids at the position ids this way."),
    params=(Param("dim", "int", 1, "the dimension the positions count along"),),
    infer=_gather_shape, emit=_emit_gather))
