"""The init that remakes a buffer left out of the state_dict (`persistent=False`).

Such a buffer (Hugging Face's `position_ids = torch.arange(n).expand((1, -1))`) is never
saved, so the design must make its values itself: the Buffer node's init has to reproduce the
tensor exactly, or the import would build a model that runs differently.
"""

from __future__ import annotations

from typing import Any

from engine.errors import DesignError, ShapeError
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
    candidates += [{"init": "shifted_windows", "windows": sizes}
                   for sizes in window_mask_sizes(tuple(tensor.shape))]
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
                      f"arange, tril, Swin's shifted windows; whole numbers listed one by "
                      f"one, at most {spec.param_index['values'].longest}); a non-persistent "
                      "Buffer node gets its values from its init alone")


def window_mask_sizes(shape: tuple[int, ...]) -> list[tuple[int, ...]]:
    """The sizes (feature map, window, shift: six numbers) of every Swin attention mask of
    `shape`, (windows, tokens, tokens), with square windows; the shift tried first is half a
    window, as Swin shifts. The caller keeps the one whose mask equals the tensor."""
    if len(shape) != 3 or shape[1] != shape[2]:
        return []
    side = round(shape[1] ** 0.5)
    if side * side != shape[1] or side < 2:
        return []
    grids = [(down, shape[0] // down) for down in range(1, shape[0] + 1) if shape[0] % down == 0]
    shifts = sorted(range(1, side), key=lambda shift: abs(shift - side // 2))
    return [(rows * side, columns * side, side, side, shift, shift)
            for shift in shifts for rows, columns in grids]


def take_fixed_buffers(model: Any, original: Any, design: Any = None) -> None:
    """Give a model built on the meta device the non-persistent buffers no state_dict
    carries, so it runs: the original's, which buffers of the same dotted name hold (each is
    the tensor its Buffer node's init was checked to remake); a buffer the import made (a
    tensor forward computes from numbers alone) made from its Buffer node in `design`."""
    made = _fixed_tensors(design) if design is not None else {}
    for name, buffer in list(model.named_buffers()):
        if buffer.is_meta:
            owner, _, attribute = name.rpartition(".")
            try:
                tensor = original.get_buffer(name)
            except AttributeError:
                tensor = _one_of(made.get(attribute, []), name)
            model.get_submodule(owner)._buffers[attribute] = tensor


def _fixed_tensors(design: Any) -> dict[str, list[Any]]:
    """Node name -> the tensors of the design's non-persistent Buffer nodes of that name."""
    spec = get_layer("Buffer")
    found: dict[str, list[Any]] = {}
    for scope in [*design.networks, *design.blocks]:
        for node_id in design.nodes(scope):
            node = design.node(node_id)
            if node.type == "Buffer" and not node.params["persistent"]:
                found.setdefault(node.name, []).append(
                    spec.constructor([], node.params).args[0].build())
    return found


def _one_of(tensors: list[Any], name: str) -> Any:
    import torch

    if not tensors or any(not (t.shape == tensors[0].shape and torch.equal(t, tensors[0]))
                          for t in tensors):
        raise DesignError(f"no single non-persistent Buffer node of the design gives the "
                         f"buffer {name!r} its values")
    return tensors[0]
