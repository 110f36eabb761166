"""One ONNX node being translated into torch (engine.importing.onnx_operations): its inputs as
nodes of the new graph or as values of the run of onnx2torch's module, its attributes, and the
means to add calls and layers to the new graph.

A torch layer is checked against the catalogue here (engine.importing.layers), so a setting no
layer has is refused by the ONNX node's name rather than later by the generated code's line.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from engine.importing.layers import Unsupported, layer_for_module
from engine.importing.scopes import DTYPES
from engine.layers import TensorInfo


def spellings(module: Any) -> Iterator[Any]:
    """`module` with its sizes spelled the ways torch's constructors store them, shortest
    first: onnx2torch passes lists ([2, 2]) where a pool keeps what it is given (2) and a
    convolution keeps tuples ((2, 2)), and it spells defaults out (a pool's dilation [1, 1]).
    Every spelling computes the same; the catalogue's layer recognises one of them."""
    import inspect

    defaults = {name: parameter.default for name, parameter
                in inspect.signature(type(module).__init__).parameters.items()}
    settings = {key: tuple(value) if isinstance(value, list) else value
                for key, value in vars(module).items() if not key.startswith("_")}
    repeats = {key: value for key, value in settings.items()
               if isinstance(value, tuple) and value and len(set(value)) == 1}
    shortest = {**settings, **{key: value[0] for key, value in repeats.items()}}
    plain = {**settings, **{key: defaults[key] for key, value in repeats.items()
                            if isinstance(defaults.get(key), int) and value[0] == defaults[key]}}
    for variant in (shortest, plain, settings):
        for key, value in variant.items():
            setattr(module, key, value)
        yield module


class Operation:
    """One ONNX node being translated: its inputs as nodes of the new graph or as values of the
    run, its attributes, and the means to add calls and layers."""

    def __init__(self, rewriter: Any, node: Any, module: Any) -> None:
        self.rewriter, self.node, self.module = rewriter, node, module
        self.inputs = node.input_values
        self.attributes = node.attributes

    # ------------------------------------------------------------------ inputs
    def present(self, index: int) -> bool:
        return index < len(self.inputs) and bool(self.inputs[index])

    def is_data(self, index: int) -> bool:
        return self.inputs[index] in self.rewriter.data

    def tensor(self, index: int) -> Any:
        """Input `index` as a node: the data, or a constant as a Parameter."""
        name = self.inputs[index]
        return self.rewriter.data[name] if name in self.rewriter.data else self.rewriter.weight(
            name)

    def operand(self, index: int, other: int) -> Any:
        """An arithmetic operand: a one-element constant that leaves the shape of the other
        operand as it is becomes a number (`x * 0.5`); anything else a tensor."""
        if not self.is_data(index):
            value = self.value(index)
            if value.numel() == 1 and self.output_shape() == self.shape(other):
                return value.item()
        return self.tensor(index)

    def value(self, index: int) -> Any:
        """The value of a constant input (computed from shapes or stored), from the run."""
        if self.is_data(index):
            raise Unsupported(f"takes input {index + 1} from the data where torch needs a "
                              "constant")
        return self.rewriter.values[self.inputs[index]]

    def ints(self, index: int) -> list[int]:
        return [int(item) for item in self.value(index).reshape(-1).tolist()]

    def number(self, index: int) -> float:
        return float(self.value(index).reshape(-1)[0])

    def shape(self, index: int) -> tuple[int, ...]:
        return tuple(self.rewriter.values[self.inputs[index]].shape)

    def output(self, index: int = 0) -> Any:
        return self.rewriter.values[self.node.output_values[index]]

    def output_shape(self, index: int = 0) -> tuple[int, ...]:
        return tuple(self.output(index).shape)

    def attribute(self, name: str, default: Any = None) -> Any:
        return self.attributes.get(name, default)

    def axis(self, axis: int, rank: int) -> int:
        """A non-negative axis; the batch axis is refused."""
        axis = axis % rank
        if axis == 0:
            raise Unsupported("works along the batch dimension")
        return axis

    def single_output(self) -> None:
        used = [value for value in self.node.output_values[1:]
                if value and self.rewriter.consumers.get(value)
                or value in self.rewriter.onnx.output_values]
        if used:
            raise Unsupported(f"its extra output {used[0]!r} is used; only the first has a "
                              "layer")

    # ------------------------------------------------------------------ building
    def call(self, target: Any, *args: Any, **kwargs: Any) -> Any:
        return self.rewriter.graph.call_function(target, args, kwargs)

    def method(self, name: str, *args: Any) -> Any:
        return self.rewriter.graph.call_method(name, args)

    def layer(self, module: Any, source: Any, example: Any) -> Any:
        """`module(source)`, registered under the node's name; `example` is the value the run
        gave `source`. A setting no catalogue layer has is refused here, by the ONNX node."""
        inputs = [TensorInfo(("N", *example.shape[1:]), DTYPES.get(str(example.dtype), "float"))]
        problem = None
        for spelled in spellings(module):
            try:
                layer_for_module(spelled, inputs)
                break
            except Unsupported as err:
                problem = problem or err
        else:
            raise problem
        return self.rewriter.graph.call_module(self.rewriter.add_module(self.node, module),
                                               (source,))

    def data_layer(self, module: Any, index: int = 0) -> Any:
        """`module` applied to input `index`."""
        return self.layer(module, self.tensor(index), self.rewriter.values[self.inputs[index]])

    def sequence(self, module: Any) -> Any:
        """onnx2torch's nn.Sequential(padding, layer): ONNX pads a pool or convolution on one
        side only, which the torch layer cannot; the padding is its own step."""
        import torch
        import torch.nn.functional as F

        from engine.importing.onnx_rewrite import is_torch_layer

        current, example = self.tensor(0), self.rewriter.values[self.inputs[0]]
        for child in module:
            if type(child).__name__ == "OnnxPadStatic":
                if child.mode != "constant" or not math.isfinite(child.constant_value):
                    raise Unsupported(f"pads one side more than the other with "
                                      f"{child.constant_value} ({child.mode} mode, as 'SAME' "
                                      "pooling does); the pooling layers pad evenly and the Pad "
                                      "layer adds a finite constant")
                current = self.call(F.pad, current, tuple(child.pads),
                                    value=float(child.constant_value))
            elif is_torch_layer(child):
                current = self.layer(child, current, example)
            else:
                raise Unsupported(f"onnx2torch computes it with {type(child).__name__}, "
                                  "which has no NeuralCanvas layer")
            with torch.no_grad():
                example = child(example)
        return current

    def reshaped(self) -> Any:
        """The data in the shape the run gave, the batch kept first (`x.reshape(-1, ...)`)."""
        before, after = self.shape(0), self.output_shape()
        if not before or not after or before[0] != after[0]:
            raise Unsupported(f"does not keep the batch as the first dimension ({before} -> "
                              f"{after})")
        return self.method("reshape", self.tensor(0), (-1, *after[1:]))
