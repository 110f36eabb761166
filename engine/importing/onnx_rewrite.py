"""onnx2torch's graph rewritten as the torch layers and calls the importer reads.

onnx2torch turns each ONNX node into a module: real torch layers (nn.Conv2d, nn.Linear,
nn.BatchNorm2d, ...) where it can, its own modules elsewhere (OnnxBinaryMathOperation,
OnnxReshape, ...), and exported shape arithmetic (Shape -> Gather -> Concat -> Reshape) as
modules computing small integer tensors. The rewrite runs that graph once on the example and
walks the ONNX nodes: the torch layers are kept, named after their ONNX nodes; every other
operation on the data becomes the torch call it performs (engine.importing.onnx_operations),
with the values it reads from shape arithmetic or constants taken from the run, so the
arithmetic itself disappears. Constants used as data become parameters named after them. What
has no equivalent is one grouped refusal naming each ONNX node.
"""

from __future__ import annotations

import warnings
from typing import Any

from engine.errors import DesignError
from engine.importing.layers import Unsupported
from engine.importing.onnx_conversion import refusal_for
from engine.importing.onnx_file import opset
from engine.importing.onnx_names import Names, identifier, layer_name
from engine.importing.onnx_operation import Operation
from engine.importing.onnx_operations import OPERATIONS
from engine.importing.refusal import Refusal, refusal_message

# Operations whose result is a shape, not data, even when they read data.
_SHAPE_OPERATIONS = frozenset({"Shape", "Size"})


def rewrite(converted: Any, model: Any, inputs: tuple[Any, ...], label: str) -> Any:
    """A GraphModule (class name `label`) of torch layers and calls computing what `model`
    computes on batches like `inputs` (one tensor per graph input), its outputs a dict by
    output name."""
    return Rewriter(converted, model, inputs, label).run()


class Rewriter:
    """Builds the new graph one ONNX node at a time (see the module docstring)."""

    def __init__(self, converted: Any, model: Any, inputs: tuple[Any, ...], label: str) -> None:
        from onnx2torch.onnx_graph import OnnxGraph
        from torch import fx, nn

        self.converted, self.label = converted, label
        self.onnx = OnnxGraph(model.graph)
        self.opset = opset(model)
        self.batch = inputs[0].shape[0]
        self.graph = fx.Graph()
        self.root = nn.Module()
        self.names = Names(set(dir(fx.GraphModule(nn.Module(), fx.Graph()))))
        self.data: dict[str, Any] = {}        # ONNX value -> the new node computing it
        self.weights: dict[str, Any] = {}     # ONNX value -> the get_attr node of its parameter
        self.absorbed: dict[str, Any] = {}    # ONNX node -> the new node that already computes it
        self.broken: set[str] = set()         # ONNX values of refused operations
        self.refusals: list[Refusal] = []
        self.consumers: dict[str, list[Any]] = {}
        for node in self.onnx.nodes.values():
            for value in node.input_values:
                self.consumers.setdefault(value, []).append(node)
        self.values = self._run(inputs)

    # ------------------------------------------------------------------ running
    def _graph_inputs(self) -> list[str]:
        return [name for name in self.onnx.input_values if name not in self.onnx.initializers]

    def _run(self, inputs: tuple[Any, ...]) -> dict[str, Any]:
        """Every ONNX value of one run of onnx2torch's module on `inputs` (initializers too)."""
        import torch
        from torch import fx

        values: dict[str, Any] = {name: tensor.to_torch()
                                  for name, tensor in self.onnx.initializers.items()}
        values.update(zip(self._graph_inputs(), inputs))
        converted = self.converted

        class Recorder(fx.Interpreter):
            def call_module(self, target, args, kwargs):
                result = super().call_module(target, args, kwargs)
                outputs = converted.get_submodule(target).onnx_mapping.outputs
                values.update(zip(outputs, result) if len(outputs) > 1
                              else [(outputs[0], result)])
                return result

        try:
            with torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # onnx2torch's own deprecated indexing
                Recorder(converted).run(*inputs)
        except Exception as err:  # noqa: BLE001 - the model fails on the example input
            reason = str(err).strip().splitlines()[0] if str(err).strip() else repr(err)
            raise DesignError(f"{self.label}: the model fails on an example input of shape "
                              f"{', '.join(str(tuple(x.shape)) for x in inputs)}: {reason}",
                              file=self.label) from None
        return values

    # ------------------------------------------------------------------ building
    def run(self) -> Any:
        from torch import fx

        for name in self._graph_inputs():
            self.data[name] = self.graph.placeholder(self.names.unique(identifier(name), "x"))
        for unique_name, node in self.onnx.nodes.items():
            self._node(unique_name, node)
        outputs = self._outputs()
        if self.refusals:
            raise DesignError(*refusal_message(self.label, self.refusals))
        self.graph.output(outputs)
        module = fx.GraphModule(self.root, self.graph, class_name=self.label)
        module.graph.eliminate_dead_code()  # operations only an unused output reads
        module.delete_all_unused_submodules()
        module.recompile()
        return module.eval()

    def _node(self, unique_name: str, node: Any) -> None:
        inputs = [value for value in node.input_values if value]
        if any(value in self.broken for value in inputs):
            self.broken.update(node.output_values)
            known = node.operation_type in OPERATIONS or node.operation_type in _SHAPE_OPERATIONS
            if not known and not self._is_layer(unique_name):
                self.refusals.append(refusal_for(node, "has no NeuralCanvas layer"))
            return
        if node.operation_type in _SHAPE_OPERATIONS or not any(
                value in self.data for value in inputs):
            return  # arithmetic on shapes and constants: its values are known from the run
        if unique_name in self.absorbed:
            self.data[node.output_values[0]] = self.absorbed[unique_name]
            return
        try:
            result = self._translate(unique_name, node)
        except Unsupported as err:
            self.refusals.append(refusal_for(node, str(err)))
            self.broken.update(node.output_values)
            return
        results = result if isinstance(result, (tuple, list)) else (result,)
        self.data.update(zip(node.output_values, results))

    def _translate(self, unique_name: str, node: Any) -> Any:
        from torch import nn

        module = self.converted.get_submodule(unique_name)
        operation = Operation(self, node, module)
        if self._is_layer(unique_name):
            return operation.data_layer(module)
        if isinstance(module, nn.Sequential):
            return operation.sequence(module)
        translate = OPERATIONS.get(node.operation_type)
        if translate is None:
            raise Unsupported("has no NeuralCanvas layer")
        return translate(operation)

    def _is_layer(self, unique_name: str) -> bool:
        """Whether onnx2torch made the node a torch layer applied to its one input."""
        return is_torch_layer(self.converted.get_submodule(unique_name)) and len(
            self.converted.get_submodule(unique_name).onnx_mapping.inputs) == 1

    def _outputs(self) -> dict[str, Any]:
        outputs = {}
        names = Names(set())
        for value in self.onnx.output_values:
            if value in self.broken:
                continue
            if value not in self.data:
                self.refusals.append(Refusal(f"output {value!r}", "does not depend on the "
                                             "inputs (a constant output has no layer)"))
                continue
            # Exporters name outputs by number ("495") unless told: those are "output".
            wanted = value if identifier(value) == value else ""
            outputs[names.unique(wanted, "output")] = self.data[value]
        return outputs

    # ------------------------------------------------------------------ for operations
    def module_name(self, node: Any) -> str:
        return self.names.unique(layer_name(node.name, node.operation_type),
                                 node.operation_type.lower())

    def add_module(self, node: Any, module: Any) -> str:
        """Register a layer under the name of the ONNX node it computes."""
        name = self.module_name(node)
        self.root.add_module(name, module)
        return name

    def weight(self, value: str) -> Any:
        """The get_attr node of a constant used as data: a parameter named after it."""
        import torch
        from torch import nn

        if value not in self.weights:
            tensor = self.values[value]
            if not isinstance(tensor, torch.Tensor) or not tensor.is_floating_point():
                raise Unsupported(f"uses the constant {value!r} of dtype "
                                  f"{getattr(tensor, 'dtype', type(tensor).__name__)} as data; "
                                  "only float32 constants become Parameter nodes")
            name = self.names.unique(identifier(value), "weight")
            self.root.register_parameter(name, nn.Parameter(tensor.detach().clone().float()))
            self.weights[value] = self.graph.get_attr(name)
        return self.weights[value]


def is_torch_layer(module: Any) -> bool:
    """A module torch itself defines (not onnx2torch's), other than a container."""
    from torch import nn

    return type(module).__module__.startswith("torch.nn.") and not isinstance(
        module, (nn.Sequential, nn.ModuleList, nn.ModuleDict))
