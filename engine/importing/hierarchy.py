"""Which module calls of a traced forward become block uses, and where each operation lives.

torch.fx records for every operation the stack of module calls it ran inside
(`nn_module_stack`). Each call of a non-leaf module is a candidate block: it becomes one when
the values crossing its border fit a block node (tensors in, one tensor out, the module called
once) and the module is not also a layer (engine.importing.own_weights). Any other call is
inlined: its operations belong to the nearest enclosing block (or the network), under dotted
names. A call whose inputs all feed one concatenation at its start
(DenseNet's layers concatenate every earlier feature map) has it moved out to its caller, so
the block takes one tensor and every such layer, the first included, shares one definition.
A tensor forward makes from numbers alone (an attention mask) has no design node, so it never
crosses a border: the translator knows its value wherever it is read.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from engine.importing.tracing import TensorMeta, contains_tensor

ROOT_KEY = ""


@dataclass(eq=False)
class Call:
    """One call of a module: its nn_module_stack key ("layer1.0", "block@1" for a second
    call), module path, the module, and, once analysed, the values crossing its border."""

    key: str
    path: str
    module: Any
    parent: Call | None
    children: list[Call] = field(default_factory=list)
    inputs: list[Any] = field(default_factory=list)
    output: Any = None
    is_block: bool = False

    @property
    def is_root(self) -> bool:
        return self.parent is None

    def relative(self, path: str) -> str:
        """`path` (a module path inside this call's module) as seen from this module."""
        return path[len(self.path) + 1:] if self.path else path

    def block_children(self) -> list[Call]:
        """The nearest calls below this one that are blocks (inlined calls looked through)."""
        found: list[Call] = []
        for child in self.children:
            found.extend([child] if child.is_block else child.block_children())
        return found


class Hierarchy:
    """The module calls of one traced graph and the block (or network) each live fx node
    belongs to. `first` summarises every node's value (tracing.propagate)."""

    def __init__(self, root: Any, graph: Any, live: set[Any], first: dict[Any, Any],
                 second: dict[Any, Any]) -> None:
        self.root = Call(ROOT_KEY, "", root, None, is_block=True)
        self.first, self.second, self._live = first, second, live
        self._calls: dict[str, Call] = {ROOT_KEY: self.root}
        self._chain: dict[Any, list[Call]] = {}
        self._order = [node for node in graph.nodes if node in live]
        self._from_numbers = _made_from_numbers(self._order, first)
        for node in self._order:
            self._chain[node] = self._calls_of(node)
        self._decide()

    def calls(self) -> list[Call]:
        """Every call, parents before children, in the order forward makes them."""
        return list(self._calls.values())

    def scope_of(self, node: Any) -> Call:
        """The block (or the root) whose definition holds `node`'s layer."""
        return next(call for call in reversed([self.root, *self._chain[node]])
                    if call.is_block)

    def nodes_in(self, call: Call) -> list[Any]:
        """The live fx nodes whose layers `call`'s scope holds, in graph order."""
        return [node for node in self._order if self.scope_of(node) is call]

    def module_path(self, node: Any) -> str:
        """The path of the innermost module whose forward made `node` ("" at the top)."""
        chain = self._chain[node]
        return chain[-1].path if chain else ""

    # ------------------------------------------------------------------ building
    def _calls_of(self, node: Any) -> list[Call]:
        stack = list((node.meta.get("nn_module_stack") or {}).items())
        if node.op == "call_module" and stack and stack[-1][1][0] == node.target:
            stack = stack[:-1]  # the leaf module's own entry: the call is the layer itself
        chain, parent = [], self.root
        for key, (path, _) in stack:
            call = self._calls.get(key)
            if call is None:
                call = Call(key, path, self.root.module.get_submodule(path), parent)
                self._calls[key] = call
                parent.children.append(call)
            chain.append(call)
            parent = call
        return chain

    def _decide(self) -> None:
        """Make every call that can be a block one; hoist joins first (see the module doc)."""
        paths = Counter(call.path for call in self._calls.values())
        layers = {node.target for node in self._order if node.op == "call_module"}
        for call in self.calls()[1:]:
            members = self._members(call)
            self._hoist_join(call, members)
            members = self._members(call)
            inputs, outputs = self._border(members)
            call.inputs = inputs
            call.output = outputs[0] if len(outputs) == 1 else None
            call.is_block = (paths[call.path] == 1 and call.path not in layers and bool(inputs)
                             and call.output is not None
                             and all(isinstance(self.first.get(value), TensorMeta)
                                     for value in [*inputs, call.output])
                             and all(self._batched(value) for value in inputs))

    def _batched(self, value: Any) -> bool:
        """Whether a tensor holds the batch (its first dimension grows with it), as a block's
        Input does; a tensor of weights alone (Swin's mask passed to its attention) is the
        same at every batch size and cannot enter a block."""
        return self.first[value].shape[:1] != self.second[value].shape[:1]

    def _members(self, call: Call) -> list[Any]:
        return [node for node in self._order if call in self._chain[node]]

    def _border(self, members: list[Any]) -> tuple[list[Any], list[Any]]:
        """The tensors flowing in (in order of first use) and the values flowing out to live
        nodes (dead code such as an unused `x.ndim` check does not count). A value that holds
        tensors but is not one tensor (a tuple, a list) flows in as itself, so the border then
        fails the block test."""
        inside = set(members)
        inputs: list[Any] = []
        for node in members:
            for source in node.all_input_nodes:
                if source not in inside and source not in inputs and contains_tensor(
                        self.first.get(source)) and source not in self._from_numbers:
                    inputs.append(source)
        outputs = [node for node in members
                   if any(user not in inside and user in self._live for user in node.users)]
        if not outputs:  # a call whose result nothing uses (a head only training reads)
            outputs = [node for node in members if not node.users]
        return inputs, outputs

    def _hoist_join(self, call: Call, members: list[Any]) -> None:
        """Move a concatenation out of `call` when it alone takes every tensor coming in."""
        import torch

        inputs, _ = self._border(members)
        if not inputs:
            return
        inside = set(members)
        users = {user for value in inputs for user in value.users if user in inside}
        if len(users) != 1:
            return
        join = users.pop()
        if join.target in (torch.cat, torch.concat, torch.concatenate) \
                and self._chain[join][-1] is call and set(join.all_input_nodes) <= set(inputs):
            chain = self._chain[join]
            self._chain[join] = chain[:chain.index(call)]


def _made_from_numbers(order: list[Any], first: dict[Any, Any]) -> set[Any]:
    """The calls, in graph order, that make a tensor from numbers and such tensors alone
    (`torch.ones(T, T).tril()`): no input's or weight's tensor reaches them."""
    made: set[Any] = set()
    for node in order:
        if node.op in ("call_function", "call_method") and contains_tensor(first.get(node)) \
                and all(value in made or not contains_tensor(first.get(value))
                        for value in node.all_input_nodes):
            made.add(node)
    return made
