"""Constants written as nodes turned into initializers, which onnx2torch reads weights from.

Exporters do not always store weights as initializers: torch writes one `Identity` node per
repeated copy of an initializer (two zero biases share one tensor) and TensorFlow converters
often write `Constant` nodes. onnx2torch builds a Conv, BatchNorm or Linear only from
initializers, so both are rewritten as initializers first; the computation is unchanged.
"""

from __future__ import annotations

from typing import Any

# Constant node attributes that hold a plain value, and how numpy stores them.
_PLAIN_VALUES = {"value_float": "float32", "value_floats": "float32", "value_int": "int64",
                 "value_ints": "int64"}


def inline_constants(model: Any) -> Any:
    """A copy of `model` whose Constant nodes and Identity nodes over initializers are
    initializers (graph outputs keep their nodes)."""
    import onnx

    model = onnx.ModelProto.FromString(model.SerializeToString())
    graph = model.graph
    initializers = {tensor.name for tensor in graph.initializer}
    outputs = {value.name for value in graph.output}
    renamed: dict[str, str] = {}
    kept = []
    for node in graph.node:
        if node.output and node.output[0] in outputs:
            kept.append(node)
        elif node.op_type == "Identity" and node.input[0] in initializers:
            renamed[node.output[0]] = node.input[0]
        elif node.op_type == "Constant" and (tensor := _constant(node)) is not None:
            graph.initializer.append(tensor)
            initializers.add(tensor.name)
        else:
            kept.append(node)
    for node in kept:
        for index, name in enumerate(node.input):
            node.input[index] = renamed.get(name, name)
    del graph.node[:]
    graph.node.extend(kept)
    return model


def _constant(node: Any) -> Any:
    """The tensor a Constant node gives, named by its output, or None (a sparse or string
    constant stays a node)."""
    import numpy as np
    from onnx import helper, numpy_helper

    attribute = node.attribute[0] if len(node.attribute) == 1 else None
    if attribute is None:
        return None
    if attribute.name == "value":
        tensor = type(attribute.t)()
        tensor.CopyFrom(attribute.t)
        tensor.name = node.output[0]
        return tensor
    if attribute.name in _PLAIN_VALUES:
        value = np.array(helper.get_attribute_value(attribute),
                         dtype=_PLAIN_VALUES[attribute.name])
        return numpy_helper.from_array(value, node.output[0])
    return None
