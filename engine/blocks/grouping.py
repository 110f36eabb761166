"""Group selected layers into a block, and put a block node's contents back (ungroup).

Both are made of the Design's own edits, so every view follows their events and an undo step
can replay them. Grouping moves the selected nodes into a new definition (they keep their ids),
turns the wires that cross into the selection into the definition's Inputs and the one tensor
it passes on into its Output, and wires one block node in its place: the check finds the same
shapes and parameter totals as before. A tensor is a node's output: two outputs of one node
(Chunk's pieces) crossing into the selection are two Inputs. Ungrouping copies a use's definition back into the
scope, each parameter worked out with the use's argument values; a use that repeats N times
becomes N chained copies.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from engine.blocks.definitions import Expr
from engine.checking import check
from engine.design import Design, Edge, Node
from engine.errors import DesignError
from engine.layers.block_node import BLOCK_TYPE

PORT_TYPES = ("Input", "Output")
DEFAULT_BLOCK_STEM = "Block"
# Room between the Inputs, the grouped layers and the Output inside a new definition, and
# between the copies of a repeated block put back on the canvas.
_PORT_GAP = 260.0
_COPY_GAP = 340.0
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def free_block_name(design: Design, stem: str = DEFAULT_BLOCK_STEM) -> str:
    """The first of Block1, Block2, ... that names no network or block yet."""
    taken = {*design.networks, *design.blocks}
    number = 1
    while f"{stem}{number}" in taken:
        number += 1
    return f"{stem}{number}"


def group(design: Design, nodes: Iterable[str], name: str) -> str:
    """Make block `name` from `nodes` (all in one scope) and put a block node, wired as they
    were, in their place; returns the block node's id. DesignError says why a selection
    cannot be grouped (nothing in it, several scopes, Inputs or Outputs, not one tensor out)."""
    selected = list(dict.fromkeys(nodes))
    scope = _one_scope(design, selected)
    chosen = set(selected)
    selected.sort(key=design.seq_of)
    incoming = [e for n in selected for e in design.inputs_of(n) if e.src not in chosen]
    outgoing = [e for n in selected for e in design.outputs_of(n) if e.dst not in chosen]
    sources = _tensors(design, incoming)
    passed_on = _tensors(design, outgoing)
    _refuse_ungroupable(design, selected, passed_on)
    inner_edges = [e for n in selected for e in design.inputs_of(n) if e.src in chosen]
    report = check(design)
    left, top, right = _extent(design.node(n).pos for n in selected)
    passed = _arguments_read(design, scope, [design.node(n) for n in selected])

    design.add_block(name, passed)
    feeders: dict[tuple[str, int], str] = {}
    taken = {design.node(n).name for n in selected}
    for index, source in enumerate(sources):
        label = free_name("x" if len(sources) == 1 else f"x{index + 1}", taken)
        taken.add(label)
        feeders[source] = design.add("Input", name=label, network=name,
                                     pos=(left - _PORT_GAP, top + 120.0 * index),
                                     **_input_params(report.info(*source)))
    first_seq = design.seq_of(selected[0])
    _move_nodes(design, selected, name, inner_edges)
    for edge in incoming:
        design.connect(feeders[(edge.src, edge.out)], edge.dst, edge.port)
    design.add("Output", passed_on[0], name=free_name("out", taken), network=name,
               pos=(right + _PORT_GAP, top))
    use = design.add(BLOCK_TYPE, network=scope, pos=(left, top), block=name,
                     **{argument.name: Expr(argument.name) for argument in passed})
    _reseat(design, use, first_seq)
    for port, (source, out) in enumerate(sources):
        design.connect(source, use, port, out)
    for dst, port in sorted({(e.dst, e.port) for e in outgoing}, key=lambda e: (
            design.seq_of(e[0]), e[1])):
        design.connect(use, dst, port)
    return use


def ungroup(design: Design, node_id: str) -> list[str]:
    """Put a block node's contents back in its scope in place of the node (N chained copies
    for repeat N), each parameter worked out with the node's argument values; returns the new
    nodes' ids. The definition stays in the design for its other uses."""
    use = design.node(node_id)
    if use.type != BLOCK_TYPE:
        raise DesignError(f"{use.name!r} is a {use.type} layer, not a block; only a block "
                          "node can be ungrouped")
    block, repeat = use.params["block"], use.params["repeat"]
    arguments = {a.name: use.params[a.name] for a in design.block_arguments(block)}
    inner = design.nodes(block)
    kinds = {n: design.node(n).type for n in inner}
    inputs = [n for n in inner if kinds[n] == "Input"]
    outputs = [n for n in inner if kinds[n] == "Output"]
    if len(outputs) != 1:
        raise DesignError(f"block {block!r} has {len(outputs)} Outputs; a block node passes "
                          "on exactly one, so its contents cannot be put back")
    if repeat > 1 and len(inputs) != 1:
        raise DesignError(f"block {block!r} repeats but has {len(inputs)} Inputs; only a "
                          "block with one Input can repeat")
    layers = [n for n in inner if kinds[n] not in PORT_TYPES]
    feeding = {e.port: (e.src, e.out) for e in design.inputs_of(node_id)}
    leaving = design.outputs_of(node_id)
    left, top, right = _extent(design.node(n).pos for n in layers) if layers else (0, 0, 0)
    width = right - left + _COPY_GAP
    scope = use.network
    values = {n: _worked_out(design.node(n), arguments) for n in layers}
    use_seq = design.seq_of(node_id)

    design.remove(node_id)
    taken = {design.node(n).name for n in design.nodes(scope)}
    added: list[str] = []
    result = None
    feeders = {inp: feeding.get(port) for port, inp in enumerate(inputs)}
    for copy in range(repeat):
        copies: dict[str, str] = {}
        for inner_id in layers:
            node = design.node(inner_id)
            label = free_name(node.name if repeat == 1 else f"{node.name}_{copy}", taken)
            taken.add(label)
            x, y = node.pos
            copies[inner_id] = design.add(
                node.type, name=label, network=scope, **values[inner_id],
                pos=(use.pos[0] + x - left + copy * width, use.pos[1] + y - top))
            _reseat(design, copies[inner_id], use_seq)
        added += copies.values()
        for inner_id in layers:
            for edge in design.inputs_of(inner_id):
                source = _copied(edge, copies, feeders)
                if source is not None:
                    design.connect(source[0], copies[inner_id], edge.port, source[1])
        result = next((_copied(e, copies, feeders) for e in design.inputs_of(outputs[0])), None)
        feeders = {inp: result for inp in inputs}
    if result is not None:
        for edge in leaving:
            design.connect(result[0], edge.dst, edge.port, result[1])
    return added


def rename_block(design: Design, old: str, new: str) -> None:
    """Give definition `old` the name `new`; its layers and every use keep their ids, wiring and
    values (each use is put back naming the new definition)."""
    arguments = design.block_arguments(old)
    design.add_block(new, arguments)  # DesignError for a taken or unfit name
    _move_nodes(design, design.nodes(old), new)
    for use in design.uses_of(old):
        _move_nodes(design, [use], design.network_of(use), block=new)
    design.remove_block(old)


def _reseat(design: Design, node_id: str, seq: int) -> None:
    """Give a new, still unwired node the creation order `seq`, so it is listed (in the
    summary, the file, the exported code) where the layers it stands for were."""
    node = design.node(node_id)
    design.remove(node_id)
    design.restore(node, seq=seq)


def _move_nodes(design: Design, nodes: list[str], scope: str, wires: list[Edge] | None = None,
                **changed: Any) -> None:
    """Take nodes out and put them back in `scope` (with `changed` parameters), keeping their
    ids and creation order, and put back `wires` (default: every wire they had)."""
    snapshots = [(design.node(n), design.seq_of(n)) for n in nodes]
    if wires is None:
        wires = sorted({e for n in nodes for e in design.inputs_of(n) + design.outputs_of(n)},
                       key=lambda e: (e.dst, e.port, e.src))
    for node_id in nodes:
        design.remove(node_id)
    for node, seq in snapshots:
        design.restore(Node(node.id, node.type, node.name, {**node.params, **changed}, node.pos,
                            scope), seq=seq)
    for edge in wires:
        design.connect(edge.src, edge.dst, edge.port, edge.out)


# ---------------------------------------------------------------------------- helpers

def _one_scope(design: Design, selected: list[str]) -> str:
    if not selected:
        raise DesignError("select the layers to group into a block first")
    scopes = {design.network_of(n) for n in selected}
    if len(scopes) > 1:
        raise DesignError(f"the selection spans {', '.join(sorted(map(repr, scopes)))}; "
                          "group layers of one network or block at a time")
    return scopes.pop()


def _tensors(design: Design, edges: list[Edge]) -> list[tuple[str, int]]:
    """The distinct (node, output) pairs the edges leave, in creation order."""
    return sorted({(e.src, e.out) for e in edges}, key=lambda t: (design.seq_of(t[0]), t[1]))


def _copied(edge: Edge, copies: Mapping[str, str],
            feeders: Mapping[str, tuple[str, int] | None]) -> tuple[str, int] | None:
    """What feeds the copy of `edge` when a definition is put back: the copy of the inner
    node's same output, or what fed the use at the Input's port (None: nothing did)."""
    if edge.src in copies:
        return copies[edge.src], edge.out
    return feeders.get(edge.src)


def _refuse_ungroupable(design: Design, selected: list[str],
                        passed_on: list[tuple[str, int]]) -> None:
    ports = [design.node(n).name for n in selected if design.node(n).type in PORT_TYPES]
    if ports:
        raise DesignError(f"the selection holds {', '.join(map(repr, ports))}: a block's "
                          "Inputs and Outputs are made from the wires that cross the selection; "
                          "select only the layers between them")
    if not passed_on:
        raise DesignError("nothing leaves the selection; a block passes on one tensor, so "
                          "select layers whose last output feeds a layer outside them")
    if len(passed_on) > 1:
        names = ", ".join(repr(design.node(n).name) + (f" output {out}" if out else "")
                          for n, out in passed_on)
        raise DesignError(f"the selection passes on {len(passed_on)} tensors (from {names}); a "
                          "block passes on one: add the layers that combine them to the "
                          "selection, or leave out the extra branch")


def _arguments_read(design: Design, scope: str, nodes: list[Node]) -> list[Any]:
    """The arguments of the enclosing definition that the grouped layers' expressions read:
    the new block declares them too, and its node passes them on by name."""
    if not design.is_block(scope):
        return []
    read = {name for node in nodes for value in node.params.values()
            if isinstance(value, Expr) for name in value.expression.names()}
    return [argument for argument in design.block_arguments(scope) if argument.name in read]


def _input_params(info: Any) -> dict[str, Any]:
    """An Input that takes the tensor the wire carries now (Input's own default if unknown)."""
    if info is None or not all(isinstance(d, int) and d > 0 for d in info.features) or (
            not info.features):
        return {}
    dtype = info.dtype if info.dtype in ("float", "long") else "float"
    return {"shape": tuple(info.features), "dtype": dtype}


def _extent(positions: Iterable[tuple[float, float]]) -> tuple[float, float, float]:
    listed = list(positions)
    return (min(x for x, _ in listed), min(y for _, y in listed), max(x for x, _ in listed))


def free_name(name: str, taken: set[str]) -> str:
    """`name`, or when taken the next free number on its stem ("conv1" -> "conv2")."""
    if name not in taken:
        return name
    stem = name.rstrip("0123456789") or name
    number = 2
    while f"{stem}{number}" in taken:
        number += 1
    return f"{stem}{number}"


def _worked_out(node: Node, arguments: Mapping[str, Any]) -> dict[str, Any]:
    """The node's parameters for one use: an expression becomes its value, or, where the
    use's own values are expressions (a block inside a block), the expression of them."""
    return {key: _value_of(value, arguments, node.name, key) if isinstance(value, Expr)
            else value for key, value in node.params.items()}


def _value_of(value: Expr, arguments: Mapping[str, Any], node: str, key: str) -> Any:
    read = value.expression.names()
    unknown = sorted(read - set(arguments))
    if unknown:
        raise DesignError(f"{node!r}: '{key}' reads {', '.join(map(repr, unknown))}, which "
                          "the block does not declare; fix the expression before ungrouping")
    if not any(isinstance(arguments[name], Expr) for name in read):
        return value.value(arguments)

    def spelled(match: re.Match[str]) -> str:
        given = arguments[match.group(0)]
        if isinstance(given, Expr):
            return f"({given.text})"
        if isinstance(given, bool) or not isinstance(given, int):
            raise DesignError(f"{node!r}: '{key}' = {value.text} mixes an expression with "
                              f"{given!r}; only whole numbers combine in expressions")
        return str(given)

    return Expr(_NAME.sub(spelled, value.text))
