"""Every node's output for some inputs: the network's forward code run one node at a time.

A forward hook sees only modules, and a network's Add, Concat or Reshape nodes have none; so
the network is run as its forward code would run it, node by node, with each layer writing
its own lines (the same `emit` the compiler and the exporter use) on the built model's
modules, and every value kept. Inside a block use the definition's nodes are run the same way
on the use's module, so their outputs are kept too, for every copy of a repeat.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache, reduce
from itertools import count
from typing import Any

from engine.blocks.definitions import evaluated
from engine.checking import Report
from engine.codegen.forward import ForwardProgram, Tensors, execution_order, forward_program
from engine.design import Design
from engine.layers import EmitContext, get_layer
from engine.layers.block_node import BLOCK_TYPE

Use = tuple[str, int]   # a block node and the copy of its definition (0 unless it repeats)


@dataclass(frozen=True)
class NodeKey:
    """Where a value comes from: a node, reached through the block uses in `uses` (empty for
    a node of the network itself)."""

    uses: tuple[Use, ...]
    node: str


@dataclass(frozen=True)
class Captured:
    """One node's outputs (one tensor per output), with its layer type and the values its
    parameters took (a block use's arguments worked out)."""

    layer_type: str
    params: dict[str, Any]
    outputs: tuple[Any, ...]


def capture_outputs(design: Design, network: str, model: Any, inputs: Sequence[Any],
                    report: Report) -> dict[NodeKey, Captured]:
    """Every node's outputs when `model`, built from `network`, takes `inputs` (one tensor
    per Input, in creation order), in the order forward computes them, except that a block
    node comes before the nodes inside it. Runs without gradients; the model's mode (train or
    eval) is the caller's."""
    import torch

    captured: dict[NodeKey, Captured] = {}
    with torch.no_grad():
        _ScopeRun(design, model, report, {}, (), captured).run(network, list(inputs))
    return captured


class _ScopeRun:
    """Runs one network, or one copy of a block use, on its module."""

    def __init__(self, design: Design, module: Any, tensors: Tensors, arguments: Mapping[str, Any],
                 uses: tuple[Use, ...], captured: dict[NodeKey, Captured]) -> None:
        self.design = design
        self.module = module
        self.tensors = tensors
        self.arguments = arguments
        self.uses = uses
        self.captured = captured

    def run(self, scope: str, inputs: list[Any]) -> list[Any]:
        """The values the scope's Outputs receive, in creation order."""
        import torch
        import torch.nn.functional as F
        from torch import nn

        design = self.design
        program = forward_program(design, scope, self.tensors, self.arguments)
        path_of = {node: path for path, node in program.modules.items()}
        names = {"torch": torch, "nn": nn, "F": F, "self": self.module}
        nodes = design.nodes(scope)
        types = {node: design.node(node).type for node in nodes}
        values: dict[str, tuple[Any, ...]] = dict(zip(
            [node for node in nodes if types[node] == "Input"], ((x,) for x in inputs),
            strict=True))
        for node in execution_order(design, scope):
            key = NodeKey(self.uses, node)
            self.captured[key] = None  # holds the block node's place before its inner nodes
            params = evaluated(design.node(node).params, self.arguments)
            if types[node] != "Input":
                incoming = [values[edge.src][edge.out] for edge in design.inputs_of(node)]
                values[node] = self._node(node, types[node], params, incoming,
                                          path_of.get(node, ""), program, names)
            self.captured[key] = Captured(types[node], params, values[node])
        return [values[node][0] for node in nodes if types[node] == "Output"]

    def _node(self, node: str, layer_type: str, params: dict[str, Any], incoming: list[Any],
              path: str, program: ForwardProgram, names: dict[str, Any]) -> tuple[Any, ...]:
        """The node's outputs; `path` is its module's ("" for a layer written inline)."""
        if layer_type == "Output":
            return (incoming[0],)
        spec = get_layer(layer_type)
        if spec.is_attribute:
            return (_at_path(self.module, path),)
        if layer_type == BLOCK_TYPE:
            return (self._block(node, params, incoming, _at_path(self.module, path)),)
        module = program.tree.expression(path) if path else ""
        return _layer_outputs(spec, params, incoming, module,
                              self.tensors.input_infos.get(node, []), names)

    def _block(self, node: str, params: dict[str, Any], incoming: list[Any], module: Any) -> Any:
        """A use's output, each copy's definition run on its own module in turn."""
        block = params["block"]
        arguments = {a.name: params[a.name] for a in self.design.block_arguments(block)}
        copies = self.tensors.uses[node]
        modules = [module] if params["repeat"] == 1 else [module[i] for i in range(len(copies))]
        for index, (walk, copy) in enumerate(zip(copies, modules, strict=True)):
            incoming = _ScopeRun(self.design, copy, walk, arguments,
                                 (*self.uses, (node, index)), self.captured).run(block, incoming)
        return incoming[0]


def _layer_outputs(spec: Any, params: dict[str, Any], incoming: list[Any], module: str,
                   input_infos: list[Any], names: dict[str, Any]) -> tuple[Any, ...]:
    """Run the lines the layer writes for forward, on values bound to names of our own."""
    temporaries = count()
    arguments = [f"_in{port}" for port in range(len(incoming))]
    outputs = len(spec.outputs(params))
    outs = [f"_out{index}" for index in range(outputs)]
    context = EmitContext(arguments, outs[0], module, params, input_infos,
                          lambda hint: f"_t{next(temporaries)}_{hint}",
                          outs if outputs > 1 else [])
    local = {**names, **dict(zip(arguments, incoming, strict=True))}
    exec(_compiled("\n".join(spec.emit(context))), local)  # noqa: S102 - the layer's own lines
    return tuple(local[name] for name in outs)


def _at_path(root: Any, path: str) -> Any:
    """The module (or a Parameter's tensor) at a dotted module path: "layer1.0.conv1"."""
    return reduce(getattr, path.split("."), root)


@lru_cache(maxsize=1024)
def _compiled(source: str) -> Any:
    return compile(source, "<neuralcanvas probe>", "exec")
