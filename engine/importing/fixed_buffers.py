"""The init that remakes a buffer left out of the state_dict (`persistent=False`).

Such a buffer (Hugging Face's `position_ids = torch.arange(n).expand((1, -1))`) is never
saved, so the design must make its values itself: the Buffer node's init has to reproduce the
tensor exactly, or the import would build a model that runs differently.
"""

from __future__ import annotations

from typing import Any

from engine.errors import ShapeError
from engine.importing.layers import Unsupported
from engine.layers import get_layer


def remaking_init(tensor: Any, dtype: str, what: str = "reads a buffer left out of the "
                  "state_dict (persistent=False)") -> dict[str, Any]:
    """The Buffer parameters (init, and value for 'constant' or values for 'values') whose
    values equal `tensor`, checked by making them the way the built model will; Unsupported
    (saying `what` the tensor is) when no init does."""
    import torch

    spec = get_layer("Buffer")
    base = {**spec.defaults(), "shape": tuple(tensor.shape), "dtype": dtype}
    candidates = [{"init": init} for init in ("zeros", "ones", "arange", "tril")]
    if tensor.numel() and dtype != "bool":
        candidates.append({"init": "constant", "value": float(tensor.flatten()[0])})
    if dtype != "float":  # whole numbers the init lists one by one (an index table, a mask)
        candidates.append({"init": "values", "values": tuple(int(v) for v in tensor.flatten())})
    for candidate in candidates:
        params = {**base, **candidate}
        if spec.param_index["values"].problem(params["values"]):
            continue  # more values than a design file holds
        try:
            spec.infer([], params)
        except ShapeError:  # an init this dtype cannot take (arange of booleans)
            continue
        made = spec.constructor([], params).args[0].build()
        if made.dtype == tensor.dtype and torch.equal(made, tensor):
            return candidate
    raise Unsupported(f"{what} whose values no Buffer init makes (zeros, ones, constant, "
                      f"arange, tril; whole numbers listed one by one, at most "
                      f"{spec.param_index['values'].longest}); a non-persistent Buffer node "
                      "gets its values from its init alone")


def take_fixed_buffers(model: Any, original: Any) -> None:
    """Give a model built on the meta device the original's non-persistent buffers, which no
    state_dict carries (each is the tensor its Buffer node's init was checked to remake), so
    it runs; buffers of the same dotted name hold the same tensor in both."""
    for name, buffer in list(model.named_buffers()):
        if buffer.is_meta:
            owner, _, attribute = name.rpartition(".")
            model.get_submodule(owner)._buffers[attribute] = original.get_buffer(name)
