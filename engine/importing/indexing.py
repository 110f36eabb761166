"""Indexing by a tensor of positions: `table[index]`, `biases[:, index]`.

Swin, MaxViT and LeViT read their relative position biases from a learned table at positions
an index buffer holds. Such a read is a Take node fed by that buffer's Buffer node (a
non-persistent one gets the values its init remakes), with the same positions for every
sample, so the result is a tensor without a batch that broadcasts where it is added.
"""

from __future__ import annotations

from typing import Any

from engine.importing.layers import Unsupported


def tensor_position(translator: Any, index: Any) -> int | None:
    """Which entry of an index (`x[i]`, `x[:, i]`) is a tensor, or None when none is."""
    entries = index if isinstance(index, tuple) else (index,)
    found = [at for at, entry in enumerate(entries) if translator._is_tensor(entry)]
    if len(found) > 1:
        raise Unsupported("indexes by more than one tensor; Take picks along one dimension")
    return found[0] if found else None


def take(translator: Any, node: Any, source: Any, index: Any, at: int) -> None:
    """`source[:, ..., positions]` with the positions tensor at entry `at`: a Take node along
    that dimension. Every other entry must keep its whole dimension (`:`)."""
    entries = index if isinstance(index, tuple) else (index,)
    positions = entries[at]
    others = [translator._static(entry) for n, entry in enumerate(entries) if n != at]
    if any(entry != slice(None) for entry in others):
        raise Unsupported("indexes by a tensor together with numbers, slices, None or '...'; "
                          "a Take node keeps every other dimension whole (x[:, index])")
    dtype = str(translator.first[positions].dtype)
    if dtype != "torch.int64":
        raise Unsupported(f"indexes by a tensor of {dtype}; Take picks at whole-number "
                          "positions (int64), and a boolean mask gives a shape that depends "
                          "on its values")
    if at == 0 and translator._batched(source):
        raise Unsupported("indexes the batch dimension by a tensor")
    translator._produce(node, "Take", [translator._tensor(source), translator._tensor(positions)],
                        dim=translator.folds.design_dim(source, at))
