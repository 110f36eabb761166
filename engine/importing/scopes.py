"""Where each translated value lives: the network, or the scratch definition of one block call.

Every block call (engine.importing.hierarchy) gets a scratch definition named by its call key,
with one Input per tensor crossing its border and one Output, and a block node in the scope
of its caller. A value made in one scope and used in another is reached through those: the
block node when it comes out of a call below, the call's Input when it comes from outside.
engine.importing.sharing later merges the scratch definitions into shared ones.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.design import Design, output_ref
from engine.errors import DesignError
from engine.importing.hierarchy import Call, Hierarchy
from engine.importing.tracing import TensorMeta
from engine.layers.block_node import BLOCK_TYPE

DTYPES = {"torch.float32": "float", "torch.int64": "long"}


class Unplaced(Exception):
    """A value that was never translated into a tensor (its operation failed or is not one)."""


class Placement:
    """The scopes of one import; `origin` maps every node id to the fx node that made it."""

    def __init__(self, design: Design, network: str, hierarchy: Hierarchy,
                 first: dict[Any, Any],
                 sample_shape: Callable[[Any], tuple[int, ...]] | None = None) -> None:
        self.design, self.network, self.hierarchy, self.first = design, network, hierarchy, first
        # each sample's shape in the design (engine.importing.batch_folding): the batch cut off
        self.sample_shape = sample_shape or (lambda value: tuple(first[value].shape[1:]))
        self.origin: dict[str, Any] = {}
        self.block_node: dict[Call, str] = {}
        self._values: dict[Any, tuple[Call, str]] = {}
        self._inputs: dict[tuple[Call, Any], str] = {}
        self._names: dict[str, set[str]] = {}
        self._modules: dict[str, set[str]] = {}
        for call in hierarchy.calls():
            if call.is_block and not call.is_root:
                design.add_block(call.key)

    def scope(self, call: Call) -> str:
        return self.network if call.is_root else call.key

    def add(self, call: Call, node: Any, layer: str, inputs: list[str], name: str,
            **params: Any) -> str:
        node_id = self.design.add(layer, *inputs, name=name, network=self.scope(call), **params)
        self.origin[node_id] = node
        return node_id

    # ------------------------------------------------------------------ values
    def record(self, node: Any, call: Call, node_id: str | tuple[str, int]) -> None:
        """`node`'s value is what `node_id` gives (a pair: that node's output)."""
        self._values[node] = (call, node_id)

    def has(self, value: Any) -> bool:
        return value in self._values

    def place(self, value: Any, call: Call) -> str | tuple[str, int]:
        """The node of `call`'s scope that gives `value` (a (node, output) pair for a node's
        other outputs); Unplaced if it was never made."""
        if value not in self._values:
            raise Unplaced(value)
        home, node_id = self._values[value]
        if home is call:
            return node_id
        below = _child_towards(call, home)
        if below is not None:
            return self.block_node[below]
        return self._inputs[(call, value)]

    def open(self, call: Call) -> None:
        """Make `call`'s Inputs and its block node (and its callers', outermost first)."""
        if call.is_root or call in self.block_node:
            return
        caller = _caller(call)
        self.open(caller)
        for port, value in enumerate(call.inputs):
            meta: TensorMeta = self.first[value]
            name = "x" if len(call.inputs) == 1 else f"x{port + 1}"
            self._inputs[(call, value)] = self.add(call, value, "Input", [], name,
                                                   shape=self.sample_shape(value),
                                                   dtype=DTYPES.get(str(meta.dtype), "float"))
        node = self.add(caller, call.output, BLOCK_TYPE, [], self.unique(
            caller, caller.relative(call.path), own_module=True), block=call.key)
        self.block_node[call] = node
        for port, value in enumerate(call.inputs):
            try:
                source, out = output_ref(self.place(value, caller))
            except Unplaced:
                continue  # made by an operation that failed, which is listed already
            self.design.connect(source, node, port, out)

    def finish(self) -> None:
        """Give every opened call its Output (the value that leaves it), where it was made."""
        for call in self.block_node:
            try:
                source = self.place(call.output, call)
            except Unplaced:
                continue  # its operation failed and is listed already
            self.add(call, call.output, "Output", [source], "output")

    # ------------------------------------------------------------------ names
    def unique(self, call: Call, base: str, own_module: bool = False) -> str:
        """A name no other node of the scope has, never the path of a module it calls
        elsewhere (unless `own_module`: the node is that module's call)."""
        scope = self.scope(call)
        used = self._names.setdefault(scope, set())
        modules = self._modules.get(scope)
        if modules is None:
            modules = self._modules[scope] = self._module_names(call)
        candidate, k = base, 1
        while candidate in used or (candidate in modules and not (own_module
                                                                 and candidate == base)):
            k += 1
            candidate = f"{base}_{k}"
        used.add(candidate)
        return candidate

    def _module_names(self, call: Call) -> set[str]:
        names = {call.relative(child.path) for child in call.block_children()}
        for node in self.hierarchy.nodes_in(call):
            if node.op == "call_module":
                names.add(call.relative(node.target))
        return names


def _caller(call: Call) -> Call:
    """The nearest block (or the root) around `call`."""
    parent = call.parent
    while parent is not None and not parent.is_block:
        parent = parent.parent
    if parent is None:
        raise DesignError(f"internal error: call {call.key!r} has no caller")
    return parent


def _child_towards(call: Call, home: Call) -> Call | None:
    """The block directly inside `call` that holds `home`, or None when `home` is not below
    `call`."""
    current = home
    while not current.is_root:
        caller = _caller(current)
        if caller is call:
            return current
        current = caller
    return None
