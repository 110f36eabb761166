"""Tensors forward makes from numbers alone, and the values a Buffer node holds for one.

Position ids (`torch.arange(T).unsqueeze(0)`), T5's relative position buckets and Hugging
Face's attention masks depend on no input value, so the translator evaluates them instead of
translating each step (GraphTranslator._makes_constant), at both traced batch sizes: a size
read from the input (`torch.arange(x.size(0))`, `mask.expand(x.size(0), -1, T, T)`) takes its
value in each run. Where a layer reads such a tensor, a non-persistent Buffer node holds its
values (engine.importing.fixed_buffers finds the init that remakes them), so the state_dict
gains no key. A tensor made for the batch must hold the same values for every sample: the
Buffer then holds one sample's, with a batch of 1 that broadcasts, and works at any batch.
"""

from __future__ import annotations

from typing import Any

from engine.importing.layers import Unsupported

# What a Buffer node holding a constant of each dtype is called in the design.
_NAMES = {"bool": "mask", "long": "indices", "float": "constant"}


class FixedTensors:
    """The tensors of one trace that are made from numbers alone, by fx node: their values at
    the first traced batch size (read like a dict) and at the second."""

    def __init__(self) -> None:
        self.first: dict[Any, Any] = {}
        self.second: dict[Any, Any] = {}

    def __contains__(self, node: Any) -> bool:
        return node in self.first

    def __getitem__(self, node: Any) -> Any:
        return self.first[node]

    def get(self, node: Any) -> Any:
        return self.first.get(node)

    def add(self, node: Any, first: dict[Any, Any], second: dict[Any, Any]) -> None:
        """Evaluate `node` (a call whose tensor arguments are all fixed tensors) in both runs;
        `first` and `second` give the plain values (sizes, numbers) of each run."""
        self.first[node] = _call(node, lambda value: self.first.get(value, first.get(value)))
        self.second[node] = _call(node, lambda value: self.second.get(value,
                                                                      second.get(value)))

    def held(self, node: Any, batch: int) -> Any:
        """The values a Buffer node stands for `node` with: the tensor itself when both runs
        made the same one; one sample of a tensor made for the batch (every sample equal, and
        equal in both runs); Unsupported otherwise."""
        import torch

        first, second = self.first[node], self.second[node]
        if first.shape == second.shape and torch.equal(first, second):
            return first
        if first.dim() and (first.shape[0], second.shape[0]) == (batch, batch + 1) \
                and all(torch.equal(tensor, first[:1].expand_as(tensor))
                        for tensor in (first, second)):
            return first[:1]
        raise Unsupported("uses a tensor made from numbers alone whose values change with the "
                          "batch size; a Buffer node holds the same values at every batch")


def buffer_name(dtype: str) -> str:
    """The name of a Buffer node holding a fixed tensor of `dtype` ("mask" for booleans)."""
    return _NAMES[dtype]


def _call(node: Any, value_of: Any) -> Any:
    """Run the call of `node` on the values `value_of` gives its arguments."""
    from torch import fx

    args, kwargs = fx.node.map_arg((node.args, node.kwargs), value_of)
    if node.op == "call_method":
        return getattr(args[0], node.target)(*args[1:], **kwargs)
    return node.target(*args, **kwargs)
