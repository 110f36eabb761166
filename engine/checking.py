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

from engine.design import Design
from engine.errors import ShapeError
from engine.layer_files import anchored, files_state
from engine.layers import TensorInfo, get_layer
from engine.layers.base import format_shape
from engine.model_size import network_problem, output_problem, parameter_problem


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
class Report:
    """What `check` found: per-node tensors and parameter counts, and the problems."""

    problems: list[Problem] = field(default_factory=list)
    infos: dict[str, TensorInfo] = field(default_factory=dict)
    param_counts: dict[str, int] = field(default_factory=dict)
    input_infos: dict[str, list[TensorInfo | None]] = field(default_factory=dict)
    networks: dict[str, list[str]] = field(default_factory=dict)

    def shape(self, node_id: str) -> tuple | None:
        """The node's output shape with the batch dimension as "N", or None if unknown."""
        info = self.infos.get(node_id)
        return info.shape if info else None

    def info(self, node_id: str) -> TensorInfo | None:
        return self.infos.get(node_id)

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
    bad design."""
    from engine.training.data_fit import data_problems  # it plans runs, which use check

    report = Report()
    for network in design.networks:
        _check_network(design, network, report, folder)
    report.problems += data_problems(design, report, folder)
    return report


def _check_network(design: Design, network: str, report: Report, folder: Path | None) -> None:
    nodes = design.nodes(network)
    report.networks[network] = nodes
    graph = design.graph(network)

    def problem(node: str | None, message: str, fix: str | None = None,
                severity: str = "error") -> None:
        report.problems.append(Problem(node, severity, message, fix, network))

    types = {n: graph.nodes[n]["type"] for n in nodes}
    if "Input" not in types.values():
        problem(None, f"network {network!r} has no Input", "add an Input layer")
    if "Output" not in types.values():
        problem(None, f"network {network!r} has no Output", "add an Output after the last layer")

    in_cycle = _cycle_nodes(graph)
    for node in in_cycle:
        problem(node, f"{_name(graph, node)} is part of a cycle; data must flow one way",
                "remove one of the connections that loop back")

    broken: set[str] = set(in_cycle)
    for node in nodes:
        spec = get_layer(types[node])
        params = graph.nodes[node]["params"]
        for param in spec.params:
            message = param.range_problem(params[param.name])
            if message:
                problem(node, f"{_name(graph, node)}: {message}")
                broken.add(node)
        for message in _port_problems(graph, node, spec):
            problem(node, message, "connect a layer's output to it")
            broken.add(node)
        if spec.has_output and not graph.out_degree(node) and node not in in_cycle:
            problem(node, f"the output of {_name(graph, node)} is not used",
                    "connect it to another layer or an Output, or delete it", "warning")

    acyclic = graph if not in_cycle else nx.MultiDiGraph(graph.subgraph(
        [n for n in nodes if n not in in_cycle]))
    # ties broken by creation order, so the report does not depend on the order wires were
    # drawn in (a saved and reopened design lists its problems in the same order)
    order = list(nx.lexicographical_topological_sort(acyclic,
                                                     key=lambda n: graph.nodes[n]["seq"]))
    for node in order:
        inputs = _incoming(design, graph, node, report)
        report.input_infos[node] = inputs
        if node in broken or any(info is None for info in inputs):
            continue
        spec = get_layer(types[node])
        params = anchored(spec, graph.nodes[node]["params"], folder)
        result = _infer(types[node], _freeze(params), tuple(inputs), files_state(spec, params))
        if isinstance(result, ShapeError):
            problem(node, f"{_name(graph, node)}: {result}", result.fix)
            continue
        info, count, warnings = result
        label = _name(graph, node)
        too_big = [found for found in (parameter_problem(label, count),
                                       output_problem(label, info)) if found]
        for message, fix in too_big:
            problem(node, message, fix)
        if too_big:
            continue
        report.infos[node] = info
        report.param_counts[node] = count
        for message, fix in warnings:
            problem(node, f"{_name(graph, node)}: {message}", fix, "warning")
    whole = network_problem(network, report.total_params(network))
    if whole:
        problem(None, *whole)
    _softmax_before_loss(design, network, graph, problem)


@lru_cache(maxsize=65536)
def _infer(layer_type: str, params: tuple, inputs: tuple[TensorInfo, ...], files: tuple) -> Any:
    """One node's (output, parameter count, warnings), or the ShapeError it raised; `files`
    (the state of the files the parameters name) is only part of what the result is kept by."""
    spec = get_layer(layer_type)
    values = dict(params)
    listed = list(inputs)
    try:
        info = spec.infer(listed, values)
    except ShapeError as err:
        return err
    return info, spec.count_params(listed, values), tuple(spec.warn(listed, values))


def _freeze(params: dict[str, Any]) -> tuple:
    return tuple(sorted(params.items()))


def _incoming(design: Design, graph: nx.MultiDiGraph, node: str,
              report: Report) -> list[TensorInfo | None]:
    edges = design.inputs_of(node)
    count = max((e.port for e in edges), default=-1) + 1
    inputs: list[TensorInfo | None] = [None] * count
    for edge in edges:
        inputs[edge.port] = report.infos.get(edge.src)
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


def _softmax_before_loss(design: Design, network: str, graph: nx.MultiDiGraph, problem) -> None:
    if design.training.get("task", "classification") != "classification" or network != "model":
        return
    for node in graph.nodes:
        if graph.nodes[node]["type"] != "Output":
            continue
        for edge in design.inputs_of(node):
            if graph.nodes[edge.src]["type"] == "Softmax":
                problem(edge.src, f"{_name(graph, edge.src)} comes right before the Output, but "
                        "the cross-entropy loss applies softmax itself, so training sees it "
                        "twice and learns slowly", "remove the Softmax; apply it only when "
                        "reading predictions", "warning")


def _name(graph: nx.MultiDiGraph, node: str) -> str:
    data = graph.nodes[node]
    return f"{data['name']} ({data['type']})"


def describe(info: TensorInfo | None) -> str:
    """A shape as the user reads it, e.g. (N, 16, 14, 14)."""
    return format_shape(info.shape) if info else "?"
