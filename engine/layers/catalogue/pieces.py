"""Cutting a tensor into pieces along one dimension: nodes with one output per piece.

A node's outputs are declared from its parameters (the design wires each piece on its own),
so the number of pieces is a parameter even where torch works it out from the tensor (Unbind);
the shape rule checks it against the tensor that arrives.
"""

from engine.errors import ShapeError
from engine.layers.base import EmitContext, LayerSpec, Param, TensorInfo, format_shape, sample_dim
from engine.layers.registry import register


def _numbered(count: int) -> tuple[str, ...]:
    return tuple(str(index) for index in range(count))


def _along(inputs: list[TensorInfo], p: dict, layer: str) -> tuple[TensorInfo, int, int]:
    """The input, the dimension cut (never the batch) and its size."""
    x = inputs[0]
    dim = sample_dim(p["dim"], x.rank, layer, "cut", "use dim 1 or more")
    return x, dim, x.shape[dim]


def _unbind_shape(inputs: list[TensorInfo], p: dict) -> tuple[TensorInfo, ...]:
    x, dim, size = _along(inputs, p, "Unbind")
    if size != p["count"]:
        raise ShapeError(f"Unbind: dimension {dim} of {format_shape(x.shape)} has {size} "
                         f"positions, so it gives {size} tensors, but count is {p['count']}",
                         f"set count to {size}, or unbind another dimension")
    return (x.splice(dim, dim + 1),) * size


def _chunk_sizes(size: int, chunks: int) -> list[int]:
    """torch.chunk's pieces: ceil(size / chunks) each, the last one smaller."""
    step = -(-size // chunks)
    return [min(step, size - start) for start in range(0, size, step)]


def _chunk_shape(inputs: list[TensorInfo], p: dict) -> tuple[TensorInfo, ...]:
    x, dim, size = _along(inputs, p, "Chunk")
    sizes = _chunk_sizes(size, p["chunks"])
    if len(sizes) != p["chunks"]:
        raise ShapeError(f"Chunk: dimension {dim} of {format_shape(x.shape)} has {size} "
                         f"positions; torch cuts it into pieces of {sizes[0]}, which makes "
                         f"{len(sizes)} chunks, not {p['chunks']}",
                         f"set chunks to {len(sizes)}, or use Split with the sizes you want")
    return tuple(x.splice(dim, dim + 1, piece) for piece in sizes)


def _split_shape(inputs: list[TensorInfo], p: dict) -> tuple[TensorInfo, ...]:
    x, dim, size = _along(inputs, p, "Split")
    sizes = tuple(p["sizes"])
    if len(sizes) < 2:
        raise ShapeError(f"Split needs at least two sizes, not {list(sizes)}",
                         "list the size of every piece")
    if sum(sizes) != size:
        raise ShapeError(f"Split: the sizes {list(sizes)} add up to {sum(sizes)}, but "
                         f"dimension {dim} of {format_shape(x.shape)} has {size} positions",
                         f"choose sizes that add up to {size}")
    return tuple(x.splice(dim, dim + 1, piece) for piece in sizes)


def _emit_unbind(ctx: EmitContext) -> list[str]:
    return [f"{ctx.targets} = {ctx.inputs[0]}.unbind({ctx.params['dim']})"]


def _emit_chunk(ctx: EmitContext) -> list[str]:
    p = ctx.params
    return [f"{ctx.targets} = torch.chunk({ctx.inputs[0]}, {p['chunks']}, dim={p['dim']})"]


def _emit_split(ctx: EmitContext) -> list[str]:
    p = ctx.params
    return [f"{ctx.targets} = torch.split({ctx.inputs[0]}, {list(p['sizes'])}, dim={p['dim']})"]


_DIM = Param("dim", "int", 1, "the dimension to cut (not 0, the batch)")

register(
    LayerSpec(
        name="Unbind", category="Reshape",
        explanation=(
            "Takes a dimension apart into one tensor per position, each without that "
            "dimension: with dim 2 and count 3, a (N, length, 3, features) tensor gives three "
            "(N, length, features) tensors, as attention's fused queries, keys and values are "
            "taken apart. count must equal the size of the dimension."),
        params=(_DIM, Param("count", "int", 2, "how many tensors: the size of dim",
                            minimum=2, maximum=1_000)),
        infer=_unbind_shape, emit=_emit_unbind, outputs=lambda p: _numbered(p["count"])),
    LayerSpec(
        name="Chunk", category="Reshape",
        explanation=(
            "Cuts one dimension into a number of equal pieces (the last one smaller when the "
            "size does not divide), one output each: (N, 8) in 2 chunks gives two (N, 4). Gated "
            "units (GLU, SwiGLU) cut a Linear's output in two this way."),
        params=(_DIM, Param("chunks", "int", 2, "how many pieces", minimum=2, maximum=1_000)),
        infer=_chunk_shape, emit=_emit_chunk, outputs=lambda p: _numbered(p["chunks"])),
    LayerSpec(
        name="Split", category="Reshape",
        explanation=(
            "Cuts one dimension into pieces of the sizes listed, one output each: sizes (2, 6) "
            "turn (N, 8) into (N, 2) and (N, 6). The sizes must add up to the size of the "
            "dimension."),
        params=(_DIM, Param("sizes", "ints", (1, 2), "the size of each piece, in order",
                            minimum=1)),
        infer=_split_shape, emit=_emit_split, outputs=lambda p: _numbered(len(p["sizes"]))),
)
