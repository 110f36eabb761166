"""Checking a design: output shapes, parameter counts and problems, in one walk per network.

Shape rules are plain arithmetic in each layer declaration (no torch, no meta tensors), and
each node's result is cached on (type, parameters, incoming tensors), so re-checking after an
edit only recomputes what the edit changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import networkx as nx

from engine.blocks.definitions import evaluated
from engine.blocks.expressions import ExpressionError
from engine.design import Design
from engine.errors import ShapeError
from engine.layer_files import anchored, files_state
from engine.layers import TensorInfo, get_layer
from engine.layers.base import as_outputs, format_shape
from engine.layers.block_node import BLOCK_TYPE
from engine.model_size import network_problem, output_problem, parameter_problem
from engine.recent_cache import RecentCache
from engine.shape_working import with_working


@dataclass(frozen=True)
class Problem:
    """Something wrong (error: cannot run) or suspicious (warning: runs, rarely meant)."""

    node: str | None
    severity: str
    message: str
    fix: str | None = None
    network: str | None = None

    @property
    def scope(self) -> str:
        """Where a problem without a node lies: its network, or the design as a whole (its
        training data, say)."""
        return f"network {self.network}" if self.network else "design"

    def __str__(self) -> str:
        text = f"{self.severity}: {self.message}"
        return f"{text} (fix: {self.fix})" if self.fix else text


@dataclass
class Walk:
    """What one walk over a scope found: per-node outputs (`infos`: each node's first output,
    for most its only one; `output_infos`: all of them, in order), parameter counts and
    incoming tensors, problems as (node, severity, message, fix), the Outputs' tensors in
    creation order, the walks of the block nodes it met, and problems found inside their
    definitions."""

    infos: dict[str, TensorInfo] = field(default_factory=dict)
    output_infos: dict[str, tuple[TensorInfo, ...]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    input_infos: dict[str, list[TensorInfo | None]] = field(default_factory=dict)
    problems: list[tuple[str | None, str, str, str | None]] = field(default_factory=list)
    outputs: tuple[TensorInfo | None, ...] = ()
    uses: dict[str, tuple[Walk, ...]] = field(default_factory=dict)
    inner: list[Problem] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def add_problem(self, node: str | None, message: str, fix: str | None = None,
                    severity: str = "error") -> None:
        self.problems.append((node, severity, message, fix))


@dataclass
class Report:
    """What `check` found: per-node tensors and parameter counts, and the problems.

    `infos` holds each node's first output (for most nodes their only one), `output_infos`
    every output of each node in order (Chunk's pieces, attention's output and weights)."""

    problems: list[Problem] = field(default_factory=list)
    infos: dict[str, TensorInfo] = field(default_factory=dict)
    output_infos: dict[str, tuple[TensorInfo, ...]] = field(default_factory=dict)
    param_counts: dict[str, int] = field(default_factory=dict)
    input_infos: dict[str, list[TensorInfo | None]] = field(default_factory=dict)
    networks: dict[str, list[str]] = field(default_factory=dict)
    # Each block node's walks through its definition, one per copy (repeat), in order.
    uses: dict[str, tuple[Walk, ...]] = field(default_factory=dict)

    def shape(self, node_id: str, out: int = 0) -> tuple | None:
        """The shape of the node's output `out` (its only one for most nodes) with the batch
        dimension as "N", or None if unknown."""
        info = self.info(node_id, out)
        return info.shape if info else None

    def info(self, node_id: str, out: int = 0) -> TensorInfo | None:
        """The tensor the node's output `out` gives, or None if unknown (or it has no such
        output)."""
        outputs = self.output_infos.get(node_id, ())
        return outputs[out] if out < len(outputs) else None

    def params(self, node_id: str) -> int | None:
        return self.param_counts.get(node_id)

    def total_params(self, network: str = "model") -> int:
        return sum(self.param_counts.get(n, 0) for n in self.networks.get(network, []))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def problems_for(self, node_id: str) -> list[Problem]:
        return [p for p in self.problems if p.node == node_id]

    def errors_in(self, network: str) -> list[Problem]:
        return [p for p in self.errors if p.network == network]


def check(design: Design, folder: Path | None = None) -> Report:
    """Infer every node's output and collect every problem, the data's misfits included
    (relative data paths read against `folder`, the design file's folder); never raises for a
    bad design. Block definitions are checked on their own (with their arguments' defaults and
    their Inputs' shapes), and again at each use, with its arguments and incoming tensors."""
    from engine.training.data_fit import data_problems  # it plans runs, which use check

    report = Report()
    reported: set[Problem] = set()
    for scope in [*design.blocks, *design.networks]:
        _check_scope(design, scope, report, folder, reported)
    report.problems += data_problems(design, report, folder)
    return report


def _check_scope(design: Design, scope: str, report: Report, folder: Path | None,
                 reported: set[Problem]) -> None:
    """One scope's findings into `report`; a problem already in `reported` (a definition's,
    found again at one of its uses) is listed once."""
    arguments = {a.name: a.default for a in design.block_arguments(scope)} if (
        design.is_block(scope)) else {}
    walk = walk_scope(design, scope, None, arguments, folder, (scope,))
    report.networks[scope] = design.nodes(scope)
    report.infos.update(walk.infos)
    report.output_infos.update(walk.output_infos)
    report.param_counts.update(walk.counts)
    report.input_infos.update(walk.input_infos)
    report.uses.update(walk.uses)
    for found in [*(Problem(node, severity, message, fix, scope)
                    for node, severity, message, fix in walk.problems), *walk.inner]:
        if found not in reported:
            reported.add(found)
            report.problems.append(found)
    if not design.is_block(scope):
        whole = network_problem(scope, report.total_params(scope))
        if whole:
            report.problems.append(Problem(None, "error", *whole, network=scope))
        _softmax_before_loss(design, scope, design.graph(scope), report)


def walk_scope(design: Design, scope: str, inputs: tuple[TensorInfo, ...] | None,
               arguments: dict[str, Any], folder: Path | None, stack: tuple[str, ...]) -> Walk:
    """One walk over a network or a block definition: every node's output, parameter count and
    problems. `inputs` feed the Inputs in creation order (None: each Input's own shape);
    `arguments` give the values of expressions; `stack` is the chain of blocks being used."""
    walk = Walk()
    values, broken = _structure(design, scope, arguments, walk)
    graph = design.graph(scope)
    nodes = design.nodes(scope)
    acyclic = graph if not broken.cycle else nx.MultiDiGraph(graph.subgraph(
        [n for n in nodes if n not in broken.cycle]))
    # ties broken by creation order, so the report does not depend on the order wires were
    # drawn in (a saved and reopened design lists its problems in the same order)
    order = nx.lexicographical_topological_sort(acyclic, key=lambda n: graph.nodes[n]["seq"])
    fed = dict(zip([n for n in nodes if graph.nodes[n]["type"] == "Input"], inputs or (),
                   strict=False))
    for node in order:
        incoming = _incoming(design, node, walk.output_infos)
        walk.input_infos[node] = incoming
        if node not in broken.nodes and all(info is not None for info in incoming):
            _infer_node(design, node, fed, tuple(incoming), values[node], folder, stack, walk)
    walk.outputs = tuple((_incoming(design, node, walk.output_infos) or [None])[0]
                         for node in nodes if graph.nodes[node]["type"] == "Output")
    return walk


@dataclass(frozen=True)
class _Broken:
    """Nodes whose output cannot be worked out (bad values, unconnected ports), and those in a
    cycle."""

    nodes: set[str]
    cycle: set[str]


def _structure(design: Design, scope: str, arguments: dict[str, Any],
               walk: Walk) -> tuple[dict[str, dict[str, Any]], _Broken]:
    """What does not need shapes: Inputs and Outputs present, cycles, each node's values (its
    expressions worked out) against their ranges, its ports, its unused output. Returns the
    values and the nodes that cannot be inferred."""
    nodes = design.nodes(scope)
    graph = design.graph(scope)
    problem = walk.add_problem
    kind = "block" if design.is_block(scope) else "network"
    types = {n: graph.nodes[n]["type"] for n in nodes}
    if "Input" not in types.values():
        problem(None, f"{kind} {scope!r} has no Input", "add an Input layer")
    if "Output" not in types.values():
        problem(None, f"{kind} {scope!r} has no Output", "add an Output after the last layer")
    in_cycle = _cycle_nodes(graph)
    for node in in_cycle:
        problem(node, f"{_name(graph, node)} is part of a cycle; data must flow one way",
                "remove one of the connections that loop back")
    broken = _Broken(set(in_cycle), in_cycle)
    values: dict[str, dict[str, Any]] = {}
    for node in nodes:
        spec = get_layer(types[node])
        try:
            values[node] = evaluated(graph.nodes[node]["params"], arguments)
        except ExpressionError as err:
            problem(node, f"{_name(graph, node)}: {err}", "use the block's argument names, "
                    "whole numbers, + - * // and parentheses")
            broken.nodes.add(node)
            continue
        for param in spec.params:
            message = param.range_problem(values[node][param.name])
            if message:
                problem(node, f"{_name(graph, node)}: {message}")
                broken.nodes.add(node)
        for message in _port_problems(graph, node, spec):
            problem(node, message, "connect a layer's output to it")
            broken.nodes.add(node)
        if spec.has_output and not graph.out_degree(node) and node not in in_cycle:
            problem(node, f"the output of {_name(graph, node)} is not used",
                    "connect it to another layer or an Output, or delete it", "warning")
    for edge in design.edges(scope):  # a source with bad values is reported on its own
        if edge.src in values and edge.src not in broken.nodes and (
                edge.out >= len(_output_names(types[edge.src], values[edge.src]))):
            count = len(_output_names(types[edge.src], values[edge.src]))
            problem(edge.dst, f"{_name(graph, edge.dst)}: input {edge.port} reads output "
                    f"{edge.out} of {_name(graph, edge.src)}, which has {count} output"
                    f"{'s' * (count != 1)}", f"connect input {edge.port} to one of its outputs, "
                    f"or change the parameters of {graph.nodes[edge.src]['name']} back")
            broken.nodes.add(edge.dst)
    return values, broken


def _output_names(layer_type: str, values: dict[str, Any]) -> tuple[str, ...]:
    return get_layer(layer_type).outputs(values)


def _infer_node(design: Design, node: str, fed: dict[str, TensorInfo],
                incoming: tuple[TensorInfo, ...], values: dict[str, Any], folder: Path | None,
                stack: tuple[str, ...], walk: Walk) -> None:
    """One node's output and parameter count into `walk`, or its problems: an Input fed by a
    use takes the tensor it is given, a block node walks its definition, a layer its rule."""
    graph = design.graph(design.network_of(node))
    layer_type = graph.nodes[node]["type"]
    label = _name(graph, node)
    if node in fed:
        result: Any = (fed[node], 0, ())
    elif layer_type == BLOCK_TYPE:
        result = _use(design, node, incoming, values, folder, stack, walk)
    else:
        spec = get_layer(layer_type)
        params = anchored(spec, values, folder)
        result = _infer(layer_type, _freeze(params), incoming, files_state(spec, params))
    if isinstance(result, ShapeError):
        walk.add_problem(node, f"{label}: {result}", result.fix)
        return
    info, count, warnings = result
    outputs = as_outputs(info)
    too_big = [found for found in (parameter_problem(label, count),
                                   *(output_problem(label, output) for output in outputs))
               if found]
    for message, fix in too_big:
        walk.add_problem(node, message, fix)
    if too_big:
        return
    walk.infos[node] = outputs[0]
    walk.output_infos[node] = outputs
    walk.counts[node] = count
    for message, fix in warnings:
        walk.add_problem(node, f"{label}: {message}", fix, "warning")


def _use(design: Design, node: str, incoming: tuple[TensorInfo, ...], params: dict[str, Any],
         folder: Path | None, stack: tuple[str, ...], walk: Walk) -> Any:
    """A block node's (output, parameter count, warnings), walking its definition once per copy
    with the use's arguments; or a ShapeError that says where inside the block it failed (the
    inner node's own problem goes to `walk.inner` too, so the definition shows it)."""
    block = params["block"]
    if block in stack:
        return ShapeError(f"block {block!r} uses itself: {' > '.join([*stack, block])}",
                          "remove the block node that leads back")
    types = [design.graph(block).nodes[n]["type"] for n in design.nodes(block)]
    wanted = types.count("Input")
    if len(incoming) != wanted:
        return ShapeError(f"block {block!r} takes {wanted} input{'s' * (wanted != 1)} (its "
                          f"Inputs, in the order they were made); {len(incoming)} "
                          f"{'is' if len(incoming) == 1 else 'are'} connected",
                          f"connect {wanted}, or add or remove an Input in {block!r}")
    if types.count("Output") != 1:
        return ShapeError(f"block {block!r} has {types.count('Output')} Outputs; a block node "
                          "passes on exactly one", f"keep one Output in {block!r}")
    if params["repeat"] > 1 and wanted != 1:
        return ShapeError(f"block {block!r} has {wanted} Inputs; only a block with one Input "
                          "can repeat, each copy feeding the next", "set repeat to 1")
    arguments = {a.name: params[a.name] for a in design.block_arguments(block)}
    copies: list[Walk] = []
    tensors, total = incoming, 0
    for index in range(params["repeat"]):
        copy = _walk_use(design, block, tensors, arguments, folder, (*stack, block))
        copies.append(copy)
        errors = [found for found in copy.problems if found[1] == "error"]
        if errors or copy.outputs[0] is None:
            walk.inner += [Problem(n, severity, message, fix, block)
                           for n, severity, message, fix in errors if n is not None]
            walk.inner += copy.inner
            inner, _, message, fix = errors[0] if errors else (
                None, "error", "its Output receives nothing", None)
            where = (f"[{index}]" if params["repeat"] > 1 else "") + (
                f".{design.node(inner).name}" if inner else "")
            return ShapeError(f"inside {block!r} at {where.lstrip('.') or 'its Output'}: "
                              f"{message}", fix)
        total += copy.total
        tensors = (copy.outputs[0],)
    walk.uses[node] = tuple(copies)
    return tensors[0], total, ()


_WALKS: RecentCache[Walk] = RecentCache(4096)
_NESTED: RecentCache[tuple[str, ...]] = RecentCache(4096)  # bounded: every edit makes a key


def _walk_use(design: Design, block: str, inputs: tuple[TensorInfo, ...],
              arguments: dict[str, Any], folder: Path | None, stack: tuple[str, ...]) -> Walk:
    """walk_scope for one copy of a use, kept until the definition (or one it uses) changes:
    a design of many uses of a few blocks is checked once per distinct use."""
    key = (_revision_key(design, block, frozenset()), inputs,
           tuple(sorted(arguments.items())), folder, stack)
    return _WALKS.get(key, lambda: walk_scope(design, block, inputs, arguments, folder, stack))


def _revision_key(design: Design, block: str, seen: frozenset[str]) -> tuple:
    """The revisions of `block` and of every block it uses, which no other content has."""
    revision = design.revision(block)
    graph = design.graph(block)
    nested = _NESTED.get((block, revision), lambda: tuple(sorted(
        {graph.nodes[n]["params"]["block"] for n in graph.nodes
         if graph.nodes[n]["type"] == BLOCK_TYPE})))
    return (block, revision, tuple(_revision_key(design, inner, seen | {block})
                                   for inner in nested if inner not in seen | {block}))


@lru_cache(maxsize=65536)
def _infer(layer_type: str, params: tuple, inputs: tuple[TensorInfo, ...], files: tuple) -> Any:
    """One node's (output, parameter count, warnings), or the ShapeError it raised; `files`
    (the state of the files the parameters name) is only part of what the result is kept by."""
    spec = get_layer(layer_type)
    values = dict(params)
    listed = list(inputs)
    try:
        info = as_outputs(spec.infer(listed, values))
    except ShapeError as err:
        return with_working(err, layer_type, values, listed)
    if len(info) != len(spec.outputs(values)):
        return ShapeError(f"{layer_type} gave {len(info)} tensors for its "
                          f"{len(spec.outputs(values))} outputs (a fault in its shape rule)")
    return info, spec.count_params(listed, values), tuple(spec.warn(listed, values))


def _freeze(params: dict[str, Any]) -> tuple:
    return tuple(sorted(params.items()))


def _incoming(design: Design, node: str,
              output_infos: dict[str, tuple[TensorInfo, ...]]) -> list[TensorInfo | None]:
    """The tensor each input port receives (None: unconnected or not known), each from the
    output its edge leaves."""
    edges = design.inputs_of(node)
    count = max((e.port for e in edges), default=-1) + 1
    inputs: list[TensorInfo | None] = [None] * count
    for edge in edges:
        outputs = output_infos.get(edge.src, ())
        inputs[edge.port] = outputs[edge.out] if edge.out < len(outputs) else None
    return inputs


def _port_problems(graph: nx.MultiDiGraph, node: str, spec) -> list[str]:
    ports: dict[int, int] = {}
    for _, _, port in graph.in_edges(node, keys=True):
        ports[port] = ports.get(port, 0) + 1
    name = _name(graph, node)
    messages = [f"{name}: input {port} has {n} connections; an input takes exactly one"
                for port, n in sorted(ports.items()) if n > 1]
    needed = max(spec.min_inputs, max(ports, default=-1) + 1)
    missing = [port for port in range(needed) if port not in ports]
    if missing:
        which = ", ".join(str(p) for p in missing)
        plural = "s" if len(missing) > 1 else ""
        messages.append(f"{name}: input{plural} {which} not connected")
    return messages


def _cycle_nodes(graph: nx.MultiDiGraph) -> set[str]:
    return {n for component in nx.strongly_connected_components(graph) if len(component) > 1
            for n in component} | {n for n in graph.nodes if graph.has_edge(n, n)}


def _softmax_before_loss(design: Design, network: str, graph: nx.MultiDiGraph,
                         report: Report) -> None:
    if design.training.get("task", "classification") != "classification" or network != "model":
        return
    for node in graph.nodes:
        if graph.nodes[node]["type"] != "Output":
            continue
        for edge in design.inputs_of(node):
            if graph.nodes[edge.src]["type"] == "Softmax":
                report.problems.append(Problem(
                    edge.src, "warning", f"{_name(graph, edge.src)} comes right before the "
                    "Output, but the cross-entropy loss applies softmax itself, so training sees "
                    "it twice and learns slowly", "remove the Softmax; apply it only when "
                    "reading predictions", network))


def _name(graph: nx.MultiDiGraph, node: str) -> str:
    data = graph.nodes[node]
    return f"{data['name']} ({data['type']})"


def describe(info: TensorInfo | None) -> str:
    """A shape as the user reads it, e.g. (N, 16, 14, 14)."""
    return format_shape(info.shape) if info else "?"
