"""Adding a Keras model's layers to a design, keeping track of axis order.

Keras keeps channels last, (N, height, width, channels); the design's convolutions and pooling
keep them first, (N, channels, height, width), as PyTorch does. Each tensor therefore carries
its layout: LAST (Keras's order) or FIRST. A layer that needs the other order gets a Permute
in front of it, except where the order is still free: an Input, or a Reshape of a flat tensor,
is laid out the way its first order-sensitive consumer needs (a CNN's (28, 28, 1) Input becomes
(1, 28, 28)), so tutorials import without a single Permute. The translation is run once to
learn those choices and once more to apply them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from engine.design import Design
from engine.errors import DesignError, ShapeError
from engine.layers import TensorInfo, get_layer

FIRST, LAST = "first", "last"


@dataclass(frozen=True)
class Tensor:
    """A tensor of the design: the node that makes it, its shape (design order, batch "N"),
    its layout, and the tensor whose order is still free to choose (its index), if any."""

    node: str
    info: TensorInfo
    layout: str
    free: int | None = None

    @property
    def rank(self) -> int:
        return self.info.rank


def to_layout(shape: tuple, layout: str) -> tuple:
    """A Keras-ordered shape (batch first) in `layout`: channels move to index 1 for FIRST."""
    if layout == LAST or len(shape) <= 2:
        return tuple(shape)
    return (shape[0], shape[-1], *shape[1:-1])


def keras_shape(tensor: Tensor) -> tuple:
    """The shape Keras would give the tensor (channels last)."""
    shape = tensor.info.shape
    if tensor.layout == LAST or len(shape) <= 2:
        return tuple(shape)
    return (shape[0], *shape[2:], shape[1])


def has_layer(name: str) -> bool:
    """Whether the catalogue has a layer of this name (other catalogue files may add some)."""
    try:
        get_layer(name)
    except DesignError:
        return False
    return True


class Builder:
    """Adds nodes to one network; `preferences` are the layouts chosen for free tensors in an
    earlier run, `wanted` collects the layouts free tensors were asked for in this one."""

    def __init__(self, design: Design, network: str, preferences: dict[int, str]) -> None:
        self.design = design
        self.network = network
        self.preferences = preferences
        self.wanted: dict[int, str] = {}
        self.name: str | None = None   # the Keras name for the next layer node
        self.index = 0                  # the model's tensor being made

    def add(self, layer: str, inputs: list[Tensor], layout: str | None = None,
            **params: Any) -> Tensor:
        """Add a node fed by `inputs`; its tensor keeps the first input's layout (and
        freedom) unless `layout` fixes it. Raises ShapeError when the inputs do not fit."""
        info = get_layer(layer).infer([t.info for t in inputs], self.full_params(layer, params))
        name, self.name = self._name(self.name), None
        node = self.design.add(layer, *[t.node for t in inputs], network=self.network,
                               name=name, **params)
        if layout is None and inputs:
            return Tensor(node, info, inputs[0].layout, inputs[0].free)
        return Tensor(node, info, layout or LAST)

    def fits(self, layer: str, inputs: list[Tensor], **params: Any) -> TensorInfo | None:
        """The tensor a layer would make from `inputs`, or None when they do not fit."""
        try:
            return get_layer(layer).infer([t.info for t in inputs],
                                          self.full_params(layer, params))
        except ShapeError:
            return None

    @staticmethod
    def full_params(layer: str, params: dict[str, Any]) -> dict[str, Any]:
        return {**get_layer(layer).defaults(), **params}

    def source(self, index: int, layer: str, keras: tuple, inputs: tuple[Tensor, ...] = (),
               **params: Any) -> Tensor:
        """An Input, or a Reshape of a flat tensor (tensor `index` of the model, of per-sample
        Keras shape `keras`): its axis order is free, laid out as an earlier run found it
        wanted."""
        layout = self.preferences.get(index, LAST)
        shape = to_layout(("N", *keras), layout)[1:]
        tensor = self.add(layer, list(inputs), layout, shape=shape, **params)
        if len(keras) < 2 or index in self.preferences:
            return tensor
        return replace(tensor, free=index)

    def arrange(self, x: Tensor, need: str) -> Tensor:
        """`x` in layout `need`, through a Permute when it is in the other one."""
        if x.free is not None:
            self.wanted.setdefault(x.free, need)
        if x.rank <= 2 or x.layout == need:
            return x
        rank = x.rank
        dims = ((0, rank - 1, *range(1, rank - 1)) if need == FIRST
                else (0, *range(2, rank), 1))
        name, self.name = self.name, None
        permuted = self.add("Permute", [x], need, dims=dims)
        self.name = name
        return permuted

    def same_layout(self, xs: list[Tensor]) -> list[Tensor]:
        """Tensors to merge, all in one layout: the first fixed one's, else Keras's."""
        fixed = [x.layout for x in xs if x.rank > 2 and x.free is None]
        need = fixed[0] if fixed else LAST
        return [self.arrange(x, need) for x in xs]

    def axis(self, x: Tensor, keras_axis: int) -> int:
        """A Keras axis (batch is 0, channels last) as the axis of `x` in its layout."""
        rank = x.rank
        axis = keras_axis + rank if keras_axis < 0 else keras_axis
        if x.layout == LAST or rank <= 2 or axis == 0:
            return axis
        return 1 if axis == rank - 1 else axis + 1

    def _name(self, wanted: str | None) -> str | None:
        """The Keras name, when it is a node name the network does not have yet."""
        if wanted is None or not wanted.isidentifier():
            return None
        graph = self.design.graph(self.network)
        if any(graph.nodes[n]["name"] == wanted for n in graph.nodes):
            return None
        return wanted
