"""The forward code of one network, written once and used by both the compiler and the exporter.

`build_model` executes exactly this source, and the exported file prints exactly this source,
so the in-app model and the exported one cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx

from engine.checking import Report
from engine.codegen.modules import ModuleTree, module_tree
from engine.codegen.naming import ModulePaths, forward_scope
from engine.design import Design
from engine.layers import EmitContext, get_layer


@dataclass
class ForwardProgram:
    """A network as straight-line code.

    `modules` maps module paths (dotted, as in the state_dict: "layer1.0.conv1") to node ids,
    in creation order; `tree` nests them in containers. `arguments` are forward's parameters
    (one per Input, in creation order), `lines` its body (one statement per line, before
    layout) and `returns` the returned variables (one per Output, in creation order).
    """

    network: str
    modules: dict[str, str] = field(default_factory=dict)
    tree: ModuleTree = field(default_factory=ModuleTree)
    arguments: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    returns: list[str] = field(default_factory=list)

    def source(self, depth: int = 1) -> str:
        """The `def forward(...)` method at `depth` levels of indent, one statement a line
        (the exporter has ruff lay it out; the compiler runs it as it is)."""
        tensor = "torch.Tensor"
        returns = tensor if len(self.returns) == 1 else (
            f"tuple[{', '.join([tensor] * len(self.returns))}]")
        parameters = ", ".join(["self", *(f"{argument}: {tensor}"
                                          for argument in self.arguments)])
        indent = "    " * depth
        body = [f"{indent}def forward({parameters}) -> {returns}:"]
        body += [f"{indent}    {line}" for line in [*self.lines,
                                                     f"return {', '.join(self.returns)}"]]
        return "\n".join(body) + "\n"


def forward_program(design: Design, network: str, report: Report) -> ForwardProgram:
    """Write the forward code of a network that `check` found free of errors."""
    graph = design.graph(network)
    program = ForwardProgram(network)
    order = _execution_order(design, network)
    paths = ModulePaths()
    module_path: dict[str, str] = {}
    for node in design.nodes(network):
        data = graph.nodes[node]
        if get_layer(data["type"]).builds_module:
            module_path[node] = paths.path(data["name"], data["type"].lower())
            program.modules[module_path[node]] = node
    program.tree = module_tree(program.modules)

    variables = forward_scope()
    out_var: dict[str, str] = {}
    for node in design.nodes(network):
        if graph.nodes[node]["type"] == "Input":
            out_var[node] = variables.name(graph.nodes[node]["name"], node, "x")
            program.arguments.append(out_var[node])
    outputs = []
    for node in order:
        data = graph.nodes[node]
        if data["type"] == "Input":
            continue
        inputs = [out_var[edge.src] for edge in design.inputs_of(node)]
        if data["type"] == "Output":
            outputs.append((data["seq"], inputs[0]))
            continue
        module = program.tree.expression(module_path[node]) if node in module_path else ""
        out_var[node] = variables.name(data["name"], node, data["type"].lower())
        context = EmitContext(inputs, out_var[node], module, dict(data["params"]),
                              report.input_infos.get(node, []), variables.fresh)
        program.lines.extend(get_layer(data["type"]).emit(context))
    program.returns = [variable for _, variable in sorted(outputs)]
    return program


def _execution_order(design: Design, network: str) -> list[str]:
    """Topological order that breaks ties by creation order, so the code reads top-down."""
    graph = design.graph(network)
    seq = {n: graph.nodes[n]["seq"] for n in graph.nodes}
    return list(nx.lexicographical_topological_sort(graph, key=seq.__getitem__))
