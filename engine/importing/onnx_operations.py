"""What each ONNX operation on data becomes in torch: a call the importer translates (`x + y`,
`torch.cat`, `x.reshape(...)`, `x[:, 2:5]`) or a torch layer (`nn.ReLU6`, `nn.Linear`).

Each translation reads the node's attributes and the values of its constant inputs from the
run of onnx2torch's module (engine.importing.onnx_rewrite), and raises Unsupported with the
reason where torch would compute something else. The batch is always the first dimension: an
operation that moves, folds or slices it is refused rather than fixed to the example's batch.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any

from engine.importing.layers import Unsupported
from engine.importing.onnx_operation import Operation

# ONNX tensor element types torch names (onnx.TensorProto's numbering).
_ONNX_DTYPES = {1: "torch.float32", 6: "torch.int32", 7: "torch.int64", 9: "torch.bool",
                10: "torch.float16", 11: "torch.float64"}


# ---------------------------------------------------------------------------- arithmetic
def _binary(function: Callable[[Any, Any], Any]) -> Callable[[Operation], Any]:
    def translate(op: Operation) -> Any:
        if op.attribute("broadcast") == 1 and op.attribute("axis") is not None:
            raise Unsupported("uses opset 6 broadcasting along an axis")
        if function is operator.truediv and not op.output().is_floating_point():
            raise Unsupported("divides integers (rounding towards zero)")
        return op.call(function, op.operand(0, 1), op.operand(1, 0))
    return translate


def _sum(op: Operation) -> Any:
    if len(op.inputs) == 1:
        return op.tensor(0)
    if len(op.inputs) != 2:
        raise Unsupported(f"adds {len(op.inputs)} tensors; Add takes two")
    return op.call(operator.add, op.operand(0, 1), op.operand(1, 0))


def _function(name: str) -> Callable[[Operation], Any]:
    def translate(op: Operation) -> Any:
        import torch

        return op.call(getattr(torch, name), op.tensor(0))
    return translate


def _reciprocal(op: Operation) -> Any:
    return op.call(operator.truediv, 1.0, op.tensor(0))


def _matmul(op: Operation) -> Any:
    """`x @ W` with a constant 2-D W is a Linear layer (with the bias an Add right after it
    adds, as tf2onnx writes Dense); anything else is MatMul."""
    if op.is_data(0) and not op.is_data(1) and len(op.shape(1)) == 2:
        return _linear(op)
    return op.call(operator.matmul, op.tensor(0), op.tensor(1))


def _linear(op: Operation) -> Any:
    import torch
    from torch import nn

    weight = op.value(1)
    bias, add = _following_bias(op, weight.shape[1])
    linear = nn.Linear(weight.shape[0], weight.shape[1], bias=bias is not None)
    with torch.no_grad():
        linear.weight.copy_(weight.T)
        if bias is not None:
            linear.bias.copy_(bias)
    node = op.data_layer(linear)
    if add is not None:
        op.rewriter.absorbed[add] = node
    return node


def _following_bias(op: Operation, features: int) -> tuple[Any, str | None]:
    """(the constant bias of the Add that alone reads the product, that Add's name), or
    (None, None)."""
    product = op.node.output_values[0]
    readers = op.rewriter.consumers.get(product, [])
    if len(readers) != 1 or readers[0].operation_type != "Add" \
            or product in op.rewriter.onnx.output_values:
        return None, None
    add = readers[0]
    other = next((value for value in add.input_values if value != product), None)
    value = op.rewriter.values.get(other)
    if other is None or other in op.rewriter.data or value is None \
            or tuple(value.shape) != (features,) or not value.is_floating_point():
        return None, None
    return value, add.unique_name


# ---------------------------------------------------------------------------- activations
def _clip(op: Operation) -> Any:
    from torch import nn

    low = op.number(1) if op.present(1) else op.attribute("min", -math.inf)
    high = op.number(2) if op.present(2) else op.attribute("max", math.inf)
    if low == 0 and high == 6:
        return op.data_layer(nn.ReLU6())
    if low == 0 and (high == math.inf or high >= 3.4e38):
        return op.data_layer(nn.ReLU())
    raise Unsupported(f"clips to [{low:g}, {high:g}]; only [0, 6] (ReLU6) and [0, inf) (ReLU) "
                      "have layers")


def _hard_sigmoid(op: Operation) -> Any:
    from torch import nn

    alpha, beta = op.attribute("alpha", 0.2), op.attribute("beta", 0.5)
    if not (math.isclose(alpha, 1 / 6, rel_tol=1e-6) and beta == 0.5):
        raise Unsupported(f"computes max(0, min(1, {alpha:g} * x + {beta:g})); the Hardsigmoid "
                          "layer is x / 6 + 0.5")
    return op.data_layer(nn.Hardsigmoid())


def _softmax(layer: str) -> Callable[[Operation], Any]:
    """Softmax before opset 13 flattens every dimension from `axis` on: the same as torch's
    only over the last dimension."""
    def translate(op: Operation) -> Any:
        from torch import nn

        rank = len(op.shape(0))
        axis = op.attribute("axis", 1 if op.rewriter.opset < 13 else -1) % rank
        if axis != rank - 1:
            raise Unsupported(f"normalises dimensions {axis} to {rank - 1} together (opset "
                              "before 13); the layer normalises one dimension")
        return op.data_layer(getattr(nn, layer)(dim=-1))
    return translate


def _prelu(op: Operation) -> Any:
    import torch
    from torch import nn

    slope, shape = op.value(1), op.shape(0)
    channels = shape[1] if len(shape) > 1 else 1
    if slope.numel() not in (1, channels) or (slope.numel() > 1 and slope.dim() > 1 and (
            len(slope.shape) != len(shape) - 1 or slope.shape[0] != channels)):
        raise Unsupported(f"has slopes of shape {tuple(slope.shape)}; the PReLU layer has one "
                          "per channel (dimension 1) or one in all")
    prelu = nn.PReLU(slope.numel())
    with torch.no_grad():
        prelu.weight.copy_(slope.reshape(-1))
    return op.data_layer(prelu)


# ---------------------------------------------------------------------------- pooling
def _global_pool(kind: str) -> Callable[[Operation], Any]:
    def translate(op: Operation) -> Any:
        from torch import nn

        spatial = len(op.shape(0)) - 2
        if spatial not in (1, 2, 3):
            raise Unsupported(f"pools {spatial} spatial dimensions")
        return op.data_layer(getattr(nn, f"Adaptive{kind}Pool{spatial}d")(1))
    return translate


def _reduction(function_name: str, verb: str) -> Callable[[Operation], Any]:
    """ReduceMean or ReduceSum over the axes given as an input (opset 13 on) or attribute."""
    def translate(op: Operation) -> Any:
        import torch

        rank = len(op.shape(0))
        axes = op.ints(1) if op.present(1) else op.attribute("axes")
        if not axes:
            raise Unsupported(f"{verb} over every dimension, the batch included")
        dims = tuple(sorted(op.axis(axis, rank) for axis in axes))
        return op.call(getattr(torch, function_name), op.tensor(0), dim=dims,
                       keepdim=bool(op.attribute("keepdims", 1)))
    return translate


# ---------------------------------------------------------------------------- shapes
def _reshape(op: Operation) -> Any:
    return op.reshaped()


def _transpose(op: Operation) -> Any:
    import torch

    rank = len(op.shape(0))
    perm = list(op.attribute("perm") or reversed(range(rank)))
    if perm[0] != 0:
        raise Unsupported(f"moves the batch dimension (perm={perm})")
    return op.call(torch.permute, op.tensor(0), tuple(perm))


def _concat(op: Operation) -> Any:
    import torch

    axis = op.axis(op.attribute("axis"), len(op.output_shape()))
    return op.call(torch.cat, [op.tensor(index) for index in range(len(op.inputs))], dim=axis)


def _split(op: Operation) -> Any:
    import torch

    rank = len(op.shape(0))
    axis = op.axis(op.attribute("axis", 0), rank)
    sizes = [op.output_shape(index)[axis] for index in range(len(op.node.output_values))]
    pieces = op.call(torch.split, op.tensor(0), sizes, dim=axis)
    return tuple(op.call(operator.getitem, pieces, index) for index in range(len(sizes)))


def _slice(op: Operation) -> Any:
    """`x[:, a:b]`: starts, ends, axes and steps are constants (inputs, or attributes before
    opset 10)."""
    shape = op.shape(0)
    if op.rewriter.opset < 10:
        starts, ends = op.attribute("starts"), op.attribute("ends")
        axes, steps = op.attribute("axes") or list(range(len(starts))), [1] * len(starts)
    else:
        starts, ends = op.ints(1), op.ints(2)
        axes = op.ints(3) if op.present(3) else list(range(len(starts)))
        steps = op.ints(4) if op.present(4) else [1] * len(starts)
    index = [slice(None)] * len(shape)
    for start, end, axis, step in zip(starts, ends, axes, steps):
        if step < 1:
            raise Unsupported(f"steps by {step}; only forward steps have a layer")
        first, last, step = slice(start, end, step).indices(shape[axis])
        index[op.axis(axis, len(shape))] = slice(first or None,
                                                 None if last >= shape[axis] else last,
                                                 None if step == 1 else step)
    return op.call(operator.getitem, op.tensor(0), tuple(index))


def _gather(op: Operation) -> Any:
    """`x[:, 3]` (one constant index into the data), or an embedding lookup (a constant
    table indexed by the data along its first axis)."""
    axis = op.attribute("axis", 0)
    if not op.is_data(0) and op.is_data(1) and axis == 0 and len(op.shape(0)) == 2:
        return _embedding(op)
    indices = op.value(1)
    if indices.dim() != 0:
        raise Unsupported(f"gathers {indices.numel()} indices at once; only one constant "
                          "index (Select) has a layer")
    rank = len(op.shape(0))
    index: list[Any] = [slice(None)] * rank
    index[op.axis(axis, rank)] = int(indices)
    return op.call(operator.getitem, op.tensor(0), tuple(index))


def _embedding(op: Operation) -> Any:
    import torch
    from torch import nn

    table = op.value(0)
    if not table.is_floating_point():
        raise Unsupported("looks up a table that is not float")
    embedding = nn.Embedding(table.shape[0], table.shape[1])
    with torch.no_grad():
        embedding.weight.copy_(table)
    return op.data_layer(embedding, 1)


def _pad(op: Operation) -> Any:
    import torch.nn.functional as F

    mode = op.attribute("mode", "constant")
    if isinstance(mode, bytes):
        mode = mode.decode()
    if mode != "constant":
        raise Unsupported(f"pads in {mode!r} mode; only constant padding has a layer")
    pads = op.ints(1) if op.present(1) else list(op.attribute("pads"))
    value = op.number(2) if op.present(2) else op.attribute("value", 0.0)
    rank = len(op.shape(0))
    before, after = pads[:rank], pads[rank:]
    if before[0] or after[0]:
        raise Unsupported("pads the batch dimension")
    amounts: list[int] = []
    for dim in reversed(range(1, rank)):
        amounts += [before[dim], after[dim]]
    while len(amounts) > 2 and amounts[-2:] == [0, 0]:
        amounts = amounts[:-2]
    return op.call(F.pad, op.tensor(0), tuple(amounts), value=float(value))


def _resize(op: Operation) -> Any:
    """Upsampling by one whole factor in every spatial dimension, in a mode torch shares."""
    from torch import nn

    before, after = op.shape(0), op.output_shape()
    factors = {after[dim] / before[dim] for dim in range(2, len(before))}
    if before[:2] != after[:2] or len(factors) != 1:
        raise Unsupported(f"resizes {before} to {after}; the Upsample layer scales every "
                          "spatial dimension by one factor")
    factor = factors.pop()
    mode = _text(op.attribute("mode", "nearest"))
    transform = _text(op.attribute("coordinate_transformation_mode", "half_pixel"))
    if mode == "nearest" and transform == "asymmetric" \
            and _text(op.attribute("nearest_mode", "round_prefer_floor")) == "floor":
        upsample = nn.Upsample(scale_factor=factor, mode="nearest")
    elif mode == "linear" and transform in ("half_pixel", "pytorch_half_pixel", "align_corners") \
            and len(before) == 4:
        upsample = nn.Upsample(scale_factor=factor, mode="bilinear",
                               align_corners=True if transform == "align_corners" else None)
    else:
        raise Unsupported(f"resizes in mode {mode!r} with coordinate transformation "
                          f"{transform!r}, which torch's Upsample does not compute")
    return op.data_layer(upsample)


def _same(op: Operation) -> Any:
    """Identity, Dropout at inference, and a Cast to the dtype the data has."""
    op.single_output()
    if op.node.operation_type == "Cast":
        source = op.rewriter.values[op.inputs[0]].dtype
        target = _ONNX_DTYPES.get(op.attribute("to"), f"ONNX type {op.attribute('to')}")
        if str(source) != target:
            raise Unsupported(f"casts {source} to {target}")
    return op.tensor(0)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _table() -> dict[str, Callable[[Operation], Any]]:
    table: dict[str, Callable[[Operation], Any]] = {
        "Add": _binary(operator.add), "Sub": _binary(operator.sub),
        "Mul": _binary(operator.mul), "Div": _binary(operator.truediv),
        "Pow": _binary(operator.pow), "Sum": _sum, "Reciprocal": _reciprocal,
        "MatMul": _matmul, "Clip": _clip, "HardSigmoid": _hard_sigmoid,
        "Softmax": _softmax("Softmax"), "LogSoftmax": _softmax("LogSoftmax"), "PRelu": _prelu,
        "GlobalAveragePool": _global_pool("Avg"), "GlobalMaxPool": _global_pool("Max"),
        "ReduceMean": _reduction("mean", "averages"),
        "ReduceSum": _reduction("sum", "sums"), "Transpose": _transpose, "Concat": _concat,
        "Split": _split, "Slice": _slice, "Gather": _gather, "Pad": _pad, "Resize": _resize,
        "Upsample": _resize, "Identity": _same, "Dropout": _same, "Cast": _same,
    }
    for name in ("Reshape", "Flatten", "Squeeze", "Unsqueeze"):
        table[name] = _reshape
    for onnx_name, torch_name in (("Exp", "exp"), ("Log", "log"), ("Sqrt", "sqrt"),
                                  ("Abs", "abs"), ("Neg", "neg"), ("Tanh", "tanh")):
        table[onnx_name] = _function(torch_name)
    return table


OPERATIONS = _table()
