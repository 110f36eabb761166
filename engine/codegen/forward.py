"""The forward code of one network or block definition, written once and used by both the
compiler and the exporter.

`build_model` executes exactly this source, and the exported file prints exactly this source,
so the in-app model and the exported one cannot disagree. A block definition's code is written
per use (its layers' parameters and incoming tensors are the use's); uses whose code comes out
the same share one class.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from engine.blocks.definitions import evaluated
from engine.codegen.modules import ModuleTree, module_tree
from engine.codegen.naming import ModulePaths, Namespace, forward_scope
from engine.design import Design
from engine.graph import lexicographical_topological_sort
from engine.layers import EmitContext, TensorInfo, get_layer
from engine.layers.block_node import BLOCK_TYPE


class Tensors(Protocol):
    """What a walk of the scope found (a check's Report, or one use's Walk)."""

    infos: Mapping[str, TensorInfo]
    output_infos: Mapping[str, tuple[TensorInfo, ...]]
    input_infos: Mapping[str, list[TensorInfo | None]]


@dataclass
class ForwardProgram:
    """A network or a block definition as straight-line code.

    `modules` maps module paths (dotted, as in the state_dict: "layer1.0.conv1") to node ids,
    in creation order; `tree` nests them in containers. `arguments` are forward's parameters
    (one per Input, in creation order), `lines` its body (one statement per line, before
    layout) and `returns` the returned variables (one per Output, in creation order).
    `chain` says that the code only passes the tensor through its modules in turn, which is
    what nn.Sequential does, and `sequence` that they are named "0", "1", ... too (see
    `_is_chain`).
    """

    scope: str
    modules: dict[str, str] = field(default_factory=dict)
    tree: ModuleTree = field(default_factory=ModuleTree)
    arguments: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    returns: list[str] = field(default_factory=list)
    chain: bool = False
    sequence: bool = False

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


def forward_program(design: Design, scope: str, tensors: Tensors,
                    arguments: Mapping[str, Any] | None = None) -> ForwardProgram:
    """Write the forward code of a network or definition that `check` found free of errors.

    `tensors` holds each node's incoming tensors (the Report for a network, the use's Walk for
    a definition); `arguments` are the use's argument values, which expressions read."""
    graph = design.graph(scope)
    program = ForwardProgram(scope)
    paths = ModulePaths()
    module_path: dict[str, str] = {}
    for node in design.nodes(scope):
        data = graph.nodes[node]
        if get_layer(data["type"]).builds_module:
            module_path[node] = paths.path(data["name"], data["type"].lower())
            program.modules[module_path[node]] = node
    program.tree = module_tree(program.modules)

    variables = forward_scope()
    out_var: dict[str, list[str]] = {}  # each node's variable per output
    for node in design.nodes(scope):
        if graph.nodes[node]["type"] == "Input":
            out_var[node] = [variables.name(graph.nodes[node]["name"], node, "x")]
            program.arguments.extend(out_var[node])
    outputs = []
    emitted: list[tuple[str, list[str], list[str]]] = []  # (node, inputs, lines)
    for node in execution_order(design, scope):
        data = graph.nodes[node]
        if data["type"] == "Input":
            continue
        inputs = [out_var[edge.src][edge.out] for edge in design.inputs_of(node)]
        if data["type"] == "Output":
            outputs.append((data["seq"], inputs[0]))
            continue
        module = program.tree.expression(module_path[node]) if node in module_path else ""
        if get_layer(data["type"]).is_attribute:
            out_var[node] = [module]  # read where it is used: `self.cls_token.expand(...)`
            continue
        params = evaluated(data["params"], arguments or {})
        out_var[node] = _output_variables(design, node, params, variables)
        context = EmitContext(inputs, out_var[node][0], module, params,
                              tensors.input_infos.get(node, []), variables.fresh,
                              out_var[node] if len(out_var[node]) > 1 else [])
        lines = _unused_result_dropped(_emit(data["type"], context), context.targets,
                                       graph.out_degree(node) == 0)
        emitted.append((node, inputs, lines))
        program.lines.extend(lines)
    program.returns = [variable for _, variable in sorted(outputs)]
    program.chain = design.is_block(scope) and _is_chain(program, module_path, emitted, out_var)
    program.sequence = program.chain and all(
        module_path[node] == str(index) for index, (node, _, _) in enumerate(emitted))
    return program


def _output_variables(design: Design, node: str, params: dict[str, Any],
                      variables: Namespace) -> list[str]:
    """One variable per output: the node's name for a layer's only output; for several,
    the name and the output's (`attn_weights`, `chunk_1`), "_" where nothing reads it (the
    values a person unpacks and ignores)."""
    data = design.graph(design.network_of(node)).nodes[node]
    fallback = data["type"].lower()
    names = get_layer(data["type"]).outputs(params)
    if len(names) == 1:
        return [variables.name(data["name"], node, fallback)]
    read = {edge.out for edge in design.outputs_of(node)}
    return [variables.name(f"{data['name']}_{name}", (node, index), fallback)
            if index in read else "_" for index, name in enumerate(names)]


def _unused_result_dropped(lines: list[str], variable: str, unused: bool) -> list[str]:
    """A layer whose output nothing reads (an imported auxiliary head, a layer left unwired)
    is still called, as the original calls it, but its result is not named: code a person
    writes binds no variable it never reads. `variable` is the assignment's left side."""
    prefix = f"{variable} = "
    if unused and len(lines) == 1 and lines[0].startswith(prefix):
        return [lines[0][len(prefix):]]
    return lines


def _emit(layer_type: str, context: EmitContext) -> list[str]:
    """A block node passes every input to its module (the definition's Inputs, in order)."""
    if layer_type == BLOCK_TYPE:
        return [f"{context.out} = {context.module}({', '.join(context.inputs)})"]
    return get_layer(layer_type).emit(context)


def _is_chain(program: ForwardProgram, module_path: dict[str, str],
              emitted: list[tuple[str, list[str], list[str]]],
              out_var: dict[str, list[str]]) -> bool:
    """Whether the code is nn.Sequential's: one Input, one Output, and between them modules at
    the top level, each taking the previous one's output as its only input and doing nothing
    but call its module. A chain whose modules are named "0", "1", ... "n-1" is a sequence.
    Derived from the structure rather than declared, so a definition is a sequence exactly
    while it is drawn as one (and stops being one, building as its own class, as soon as a skip
    or an inline operation is added)."""
    if (len(program.arguments) != 1 or len(program.returns) != 1 or not emitted
            or len(emitted) != len(module_path)):
        return False
    previous = program.arguments[0]
    for node, inputs, lines in emitted:
        path = module_path.get(node)
        if path is None or "." in path or inputs != [previous]:
            return False
        if out_var[node] != out_var[node][:1] or lines != [
                f"{out_var[node][0]} = {program.tree.expression(path)}({previous})"]:
            return False
        previous = out_var[node][0]
    return program.returns == [previous]


def execution_order(design: Design, scope: str) -> list[str]:
    """Topological order that breaks ties by creation order, so the code reads top-down."""
    graph = design.graph(scope)
    seq = {n: graph.nodes[n]["seq"] for n in graph.nodes}
    return lexicographical_topological_sort(graph, seq.__getitem__)
