"""Merging the scratch definitions of an import (one per block call) into shared definitions.

Calls of the same class whose layers, names and wiring agree share one definition; the
whole numbers and numbers that differ between them become its arguments, and a value that is
always a multiple of an argument is written as an expression of it (`planes * 4`). Calls
that differ in structure (a downsample branch or none) get definitions of their own, named
after the class and what sets them apart (`BasicBlockDownsample`). An exact `nn.Sequential`
whose items all use one definition with the same values becomes a repeat.

Definitions are settled bottom-up by height (a call's height is one more than its highest
block inside), so every call's children are settled before the call is compared with others.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.blocks.definitions import Expr, ModuleClass, argument, argument_name_problem
from engine.design import Design
from engine.importing.hierarchy import Call, Hierarchy
from engine.layers import get_layer
from engine.layers.block_node import BLOCK_TYPE

Slot = tuple[str, str]  # (node name, parameter or argument name)


@dataclass(frozen=True)
class Use:
    """How a block node uses a definition: which one, how many copies, with which values."""

    definition: int
    repeat: int
    arguments: tuple[tuple[str, Any], ...]


@dataclass
class Definition:
    """One shared definition: the calls it stands for (the first is drawn), its arguments
    (name, kind, per-call values) and, for each slot, a constant or an expression."""

    base: str
    instances: list[Call]
    modules: tuple[str, ...]
    arguments: list[tuple[str, str, tuple[Any, ...]]] = field(default_factory=list)
    values: dict[Slot, Any] = field(default_factory=dict)
    name: str = ""


@dataclass
class _Form:
    """What a call's scratch scope looks like with its varying numbers taken out; the names
    of its submodules."""

    key: tuple
    slots: dict[Slot, Any]
    modules: tuple[str, ...]


class Sharing:
    """Settles the definitions of one import and writes the final design."""

    def __init__(self, scratch: Design, network: str, hierarchy: Hierarchy,
                 origin: Mapping[str, Any]) -> None:
        self.scratch, self.network, self.hierarchy = scratch, network, hierarchy
        self.scratch_origin = origin
        self.origin: dict[str, Any] = {}
        self.definitions: list[Definition] = []
        self.uses: dict[str, Use] = {}
        self._classes = {type(call.module).__name__ for call in hierarchy.calls()}

    def design(self, name: str) -> Design:
        """The final design: every definition, then the network that uses them."""
        blocks = [call for call in self.hierarchy.calls() if call.is_block and not call.is_root]
        heights = {call.key: _height(call) for call in blocks}
        for height in sorted(set(heights.values())):
            self._settle([call for call in blocks if heights[call.key] == height])
        _name_definitions(self.definitions, taken={self.network})
        design = Design(name, networks=())
        for definition in self.definitions:
            design.add_block(definition.name, [
                argument(arg, kind, values[0]) for arg, kind, values in definition.arguments])
            design.set_module_class(definition.name, _module_class(definition.instances[0]))
            self._copy(design, definition.instances[0].key, definition.name, definition.values)
        design.add_network(self.network)
        self._copy(design, self.network, self.network, {})
        return design

    # ------------------------------------------------------------------ settling
    def _settle(self, calls: list[Call]) -> None:
        groups: dict[tuple, list[tuple[Call, _Form]]] = {}
        for call in calls:
            form = self._form(call)
            repeat = self._repeat(call, form)
            if repeat is not None:
                self.uses[call.key] = repeat
            else:
                groups.setdefault(form.key, []).append((call, form))
        for members in groups.values():
            first_call, first_form = members[0]
            definition = Definition(_base_name(first_call, self._classes),
                                    [call for call, _ in members], first_form.modules)
            per_call = _infer_arguments(definition, [form.slots for _, form in members])
            index = len(self.definitions)
            self.definitions.append(definition)
            for call, values in zip(definition.instances, per_call):
                self.uses[call.key] = Use(index, 1, values)

    def _form(self, call: Call) -> _Form:
        scope = call.key
        nodes = self.scratch.nodes(scope)
        position = {node: index for index, node in enumerate(nodes)}
        structure, slots = [], {}
        for node_id in nodes:
            node = self.scratch.node(node_id)
            fixed: list[tuple[str, Any]] = []
            params = dict(node.params)
            if node.type == BLOCK_TYPE:
                use = self.uses[params["block"]]
                fixed = [("block", use.definition), ("repeat", use.repeat)]
                params = dict(use.arguments)
            elif node.type == "Input":
                params.pop("shape")  # an example only: each use takes the shapes that reach it
            for key, value in params.items():
                if type(value) in (int, float):
                    slots[(node.name, key)] = value
                else:
                    fixed.append((key, _hashable(value)))
            structure.append((node.name, node.type, tuple(fixed)))
        edges = tuple(sorted((position[edge.src], position[edge.dst], edge.port, edge.out)
                             for edge in self.scratch.edges(scope)))
        module = type(call.module)
        key = (f"{module.__module__}.{module.__qualname__}", tuple(structure), tuple(slots),
               edges)
        modules = tuple(name for name, layer, _ in structure if _is_module(layer))
        return _Form(key, slots, modules)

    def _repeat(self, call: Call, form: _Form) -> Use | None:
        """The repeat an exact nn.Sequential of two or more equal uses is, or None. Its items
        must be named 0, 1, ... as a repeat's copies are (torchvision's ViT names them
        `encoder_layer_0`, ..., which a repeat would not keep)."""
        from torch import nn

        if type(call.module) is not nn.Sequential:
            return None
        nodes = self.scratch.nodes(call.key)
        blocks = [self.scratch.node(node) for node in nodes[1:-1]]
        if len(blocks) < 2 or any(node.type != BLOCK_TYPE for node in blocks) or [
                node.name for node in blocks] != [str(index) for index in range(len(blocks))]:
            return None
        uses = {self.uses[node.params["block"]] for node in blocks}
        chain = [(nodes[index], nodes[index + 1], 0, 0) for index in range(len(nodes) - 1)]
        edges = [(edge.src, edge.dst, edge.port, edge.out)
                 for edge in self.scratch.edges(call.key)]
        if len(uses) != 1 or sorted(edges) != sorted(chain):
            return None
        use = uses.pop()
        return Use(use.definition, len(blocks), use.arguments) if use.repeat == 1 else None

    # ------------------------------------------------------------------ writing
    def _copy(self, design: Design, source: str, target: str, values: Mapping[Slot, Any]) -> None:
        """Copy scratch scope `source` into `target`, each slot taking `values`' entry (a
        constant or an Expr) or, where it has none, its own value."""
        new_id = {}
        for node_id in self.scratch.nodes(source):
            node = self.scratch.node(node_id)
            params = dict(node.params)
            if node.type == BLOCK_TYPE:
                use = self.uses[params["block"]]
                params = {"block": self.definitions[use.definition].name, "repeat": use.repeat,
                          **dict(use.arguments)}
            params.update({key: values[(node.name, key)] for key in params
                           if (node.name, key) in values})
            new_id[node_id] = design.add(node.type, name=node.name, network=target, **params)
            self.origin[new_id[node_id]] = self.scratch_origin.get(node_id)
        for edge in self.scratch.edges(source):
            design.connect(new_id[edge.src], new_id[edge.dst], edge.port, edge.out)


def _height(call: Call) -> int:
    return 1 + max((_height(child) for child in call.block_children()), default=-1)


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _base_name(call: Call, classes: set[str]) -> str:
    """The class name; for an exact nn.Sequential, since "Sequential" tells nothing, its
    attribute in CamelCase ("layer2" -> "Layer"), followed by "Sequence" where that is the
    name of a class in the model ("widen" holding Widen blocks -> "WidenSequence")."""
    from torch import nn

    if type(call.module) is not nn.Sequential:
        return type(call.module).__name__
    key = re.sub(r"\d+$", "", call.path.rsplit(".", 1)[-1])
    name = _camel(key) or "Sequential"
    return f"{name}Sequence" if name in classes else name


# ---------------------------------------------------------------------------- arguments

def _infer_arguments(definition: Definition,
                     slots: list[dict[Slot, Any]]) -> list[tuple[tuple[str, Any], ...]]:
    """Fill in the definition's arguments and slot values; return each call's argument values.

    Slots whose values agree for every call stay constants; slots with the same values share
    one argument; a slot that is a whole multiple (or fraction) of an argument is an
    expression of it.
    """
    by_values: dict[tuple[Any, ...], str] = {}
    for slot in slots[0]:
        values = tuple(call_slots[slot] for call_slots in slots)
        if len(set(values)) == 1:
            definition.values[slot] = values[0]
        elif values in by_values:
            definition.values[slot] = Expr(by_values[values])
        else:
            expression = _expression_of(values, by_values)
            if expression is None:
                name = _argument_name(slot, values, definition)
                kind = "int" if all(type(value) is int for value in values) else "float"
                definition.arguments.append((name, kind, values))
                by_values[values] = name
                expression = name
            definition.values[slot] = Expr(expression)
    return [tuple((name, values[index]) for name, _, values in definition.arguments)
            for index in range(len(slots))]


def _expression_of(values: tuple[Any, ...], known: Mapping[tuple[Any, ...], str]) -> str | None:
    """`name * k` or `name // k` when `values` are those of an argument times (or divided by)
    the same whole number k for every call."""
    if not all(type(value) is int and value > 0 for value in values):
        return None
    for base, name in known.items():
        if not all(type(value) is int and value > 0 for value in base):
            continue
        if values[0] % base[0] == 0:
            k = values[0] // base[0]
            if k > 1 and all(v == b * k for v, b in zip(values, base)):
                return f"{name} * {k}"
        if base[0] % values[0] == 0:
            k = base[0] // values[0]
            if k > 1 and all(b % k == 0 and b // k == v for v, b in zip(values, base)):
                return f"{name} // {k}"
    return None


def _argument_name(slot: Slot, values: tuple[Any, ...], definition: Definition) -> str:
    """The module's own attribute holding these values (`stride`), else the parameter's
    name; unique within the definition."""
    attributes = [vars(call.module) for call in definition.instances]
    matching = [key for key, value in attributes[0].items()
                if not key.startswith("_") and type(value) in (int, float)
                and tuple(attrs.get(key) for attrs in attributes) == values]
    base = matching[0] if matching else slot[1]
    if argument_name_problem(base):
        base = "value"
    taken = {name for name, _, _ in definition.arguments}
    name, k = base, 1
    while name in taken:
        k += 1
        name = f"{base}_{k}"
    return name


# ---------------------------------------------------------------------------- names

def _name_definitions(definitions: list[Definition], taken: set[str]) -> None:
    """Each definition's name: its base for the plainest (fewest submodules) of those sharing
    a base; the base and the one submodule that sets it apart for another
    (`BasicBlockDownsample`), else the base numbered (`_DenseBlock2`)."""
    by_base: dict[str, list[Definition]] = {}
    for definition in definitions:
        by_base.setdefault(definition.base, []).append(definition)
    used = set(taken)
    for base, group in by_base.items():
        plain = min(group, key=lambda d: len(d.modules))
        for definition in [plain, *[d for d in group if d is not plain]]:
            extra = [name for name in definition.modules if name not in plain.modules]
            named = len(extra) == 1 and extra[0].isidentifier() and set(
                plain.modules) < set(definition.modules)
            candidate = base + _camel(extra[0]) if named else base
            name, k = candidate, 1
            while name in used:
                k += 1
                name = f"{candidate}{k}"
            definition.name = name
            used.add(name)


def _is_module(layer: str) -> bool:
    return layer == BLOCK_TYPE or get_layer(layer).builds_module


def _camel(text: str) -> str:
    return "".join(word[:1].upper() + word[1:] for word in re.split(r"[^A-Za-z0-9]+", text))


def _module_class(call: Call) -> ModuleClass:
    """The class the original's modules had, which the built ones keep (two structural
    variants of BasicBlock are both BasicBlock; Conv2dNormActivation stays an nn.Sequential)."""
    from torch import nn

    return ModuleClass(type(call.module).__name__, isinstance(call.module, nn.Sequential))
