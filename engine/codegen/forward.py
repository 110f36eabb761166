"""The forward code of one network, written once and used by both the compiler and the exporter.

`build_model` executes exactly this source, and the exported file prints exactly this source,
so the in-app model and the exported one cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx

from engine.checking import Report
from engine.codegen.naming import Namespace
from engine.design import Design
from engine.layers import EmitContext, get_layer


@dataclass
class ForwardProgram:
    """A network as straight-line code.

    `modules` maps attribute names to node ids (in creation order), `arguments` are forward's
    parameters (one per Input, in creation order), `lines` its body and `returns` the returned
    variables (one per Output, in creation order).
    """

    network: str
    modules: dict[str, str] = field(default_factory=dict)
    arguments: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    returns: list[str] = field(default_factory=list)

    def source(self, indent: str = "    ") -> str:
        """The `def forward(...)` method, indented as a class member by `indent`."""
        signature = ", ".join(["self", *self.arguments])
        body = [f"{indent}def forward({signature}):"]
        body += [f"{indent}    {line}" for line in self.lines]
        if len(self.returns) == 1:
            body.append(f"{indent}    return {self.returns[0]}")
        else:
            body.append(f"{indent}    return {', '.join(self.returns)}")
        return "\n".join(body) + "\n"


def forward_program(design: Design, network: str, report: Report) -> ForwardProgram:
    """Write the forward code of a network that `check` found free of errors."""
    graph = design.graph(network)
    program = ForwardProgram(network)
    attributes = Namespace()
    variables = Namespace()
    out_var: dict[str, str] = {}
    for node in design.nodes(network):
        if graph.nodes[node]["type"] == "Input":
            out_var[node] = variables.name(graph.nodes[node]["name"], node, "x")
            program.arguments.append(out_var[node])
    outputs = []
    for node in _execution_order(design, network):
        data = graph.nodes[node]
        spec = get_layer(data["type"])
        fallback = data["type"].lower()
        if data["type"] == "Input":
            continue
        inputs = [out_var[edge.src] for edge in design.inputs_of(node)]
        if data["type"] == "Output":
            outputs.append((data["seq"], inputs[0]))
            continue
        module = ""
        if spec.build is not None:
            attribute = attributes.name(data["name"], node, fallback)
            program.modules[attribute] = node
            module = f"self.{attribute}"
        out_var[node] = variables.name(data["name"], node, fallback)
        context = EmitContext(inputs, out_var[node], module, dict(data["params"]),
                              report.input_infos.get(node, []))
        program.lines.extend(spec.emit(context))
    program.returns = [variable for _, variable in sorted(outputs)]
    return program


def _execution_order(design: Design, network: str) -> list[str]:
    """Topological order that breaks ties by creation order, so the code reads top-down."""
    graph = design.graph(network)
    seq = {n: graph.nodes[n]["seq"] for n in graph.nodes}
    return list(nx.lexicographical_topological_sort(graph, key=seq.__getitem__))
