"""What an attention mask made from numbers alone means, so the import can drop it or say it
with is_causal instead of holding its values.

Hugging Face builds its masks at every call, from positions (`create_causal_mask`,
`create_bidirectional_mask`): with nothing padded they let every position attend, or let each
see itself and the earlier ones. F.scaled_dot_product_attention gives exactly the same result
without the first and with is_causal for the second, at any sequence length.
"""

from __future__ import annotations

from typing import Any


def mask_meaning(mask: Any, queries: int, keys: int) -> str:
    """"everything" for a mask that keeps every score (all True, or all 0 to add), "causal"
    for the lower triangle of a square one (True below and on the diagonal, or 0 there and
    -inf above), "other" for anything else."""
    import torch

    if mask.dtype == torch.bool:
        kept = mask
    elif mask.is_floating_point() and bool(((mask == 0) | (mask == float("-inf"))).all()):
        kept = mask == 0
    else:
        return "other"
    if bool(kept.all()):
        return "everything"
    if queries == keys and mask.shape[-2:] == (queries, keys):
        causal = torch.ones(queries, keys, dtype=torch.bool).tril()
        if torch.equal(kept, causal.expand_as(kept)):
            return "causal"
    return "other"
