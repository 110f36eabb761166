"""Built-in blocks a user drags in like layers: the parts most networks are made of.

Each is written with the Design API, as a user would draw it (then laid out left to right), so
it is an ordinary definition once it is in a design: opened, edited, exported like any other. Its Inputs carry example shapes,
so the definition checks on its own; each use takes the shapes that reach it.
"""

from __future__ import annotations

from collections.abc import Callable

from engine.blocks.definitions import argument
from engine.design import Design
from engine.errors import DesignError
from engine.layout import apply_layout

BUILT_IN: dict[str, str] = {
    "BasicBlock": "ResNet's two 3x3 convolutions with an identity skip (input channels = planes)",
    "BasicBlockDown": "ResNet's basic block that changes size: strided 3x3, projected skip",
    "Bottleneck": "ResNet-50's 1x1 / 3x3 / 1x1 block, planes * 4 out, projected skip",
    "TransformerEncoderBlock": "pre-norm self-attention and feed-forward, each with a skip",
    "InceptionModule": "1x1, 3x3, 5x5 and pooled branches side by side, joined on channels",
    "DepthwiseSeparable": "MobileNet's depthwise 3x3 then pointwise 1x1 convolution",
}


def add_built_in(design: Design, name: str) -> str:
    """Copy built-in block `name` into the design unless it has one of that name already;
    return the definition's name (DesignError for an unknown name)."""
    if name not in BUILT_IN:
        raise DesignError(f"there is no built-in block {name!r}; built-in blocks: "
                          f"{', '.join(BUILT_IN)}")
    if name not in design.blocks:
        _WRITERS[name](design, name)
        apply_layout(design, name)
    return name


def _conv_bn(design: Design, source: str, scope: str, name: str, out: object, kernel: int,
             stride: object = 1, relu: bool = True) -> str:
    """Conv2d (no bias) -> BatchNorm2d [-> ReLU], named `name`, `name`_bn, `name`_relu."""
    conv = design.add("Conv2d", source, name=name, network=scope, out_channels=out,
                      kernel_size=kernel, stride=stride, padding=kernel // 2, bias=False)
    node = design.add("BatchNorm2d", conv, name=f"{name}_bn", network=scope)
    return design.add("ReLU", node, name=f"{name}_relu", network=scope) if relu else node


def _planes() -> list:
    return [argument("planes", "int", 64, minimum=1, help="channels inside the block")]


def _stride(default: int) -> list:
    return [argument("stride", "int", default, minimum=1, help="step of the strided convolution")]


def _finish(design: Design, scope: str, *joined: str) -> None:
    added = design.add("Add", *joined, name="add", network=scope)
    design.add("Output", design.add("ReLU", added, name="relu", network=scope), network=scope)


def _basic_block(design: Design, name: str) -> None:
    design.add_block(name, _planes())
    x = design.add("Input", shape=(64, 32, 32), name="x", network=name)
    h = _conv_bn(design, x, name, "conv1", {"expr": "planes"}, 3)
    h = _conv_bn(design, h, name, "conv2", {"expr": "planes"}, 3, relu=False)
    _finish(design, name, h, x)


def _basic_block_down(design: Design, name: str) -> None:
    design.add_block(name, _planes() + _stride(2))
    x = design.add("Input", shape=(64, 32, 32), name="x", network=name)
    h = _conv_bn(design, x, name, "conv1", {"expr": "planes"}, 3, {"expr": "stride"})
    h = _conv_bn(design, h, name, "conv2", {"expr": "planes"}, 3, relu=False)
    skip = _conv_bn(design, x, name, "downsample", {"expr": "planes"}, 1, {"expr": "stride"},
                    relu=False)
    _finish(design, name, h, skip)


def _bottleneck(design: Design, name: str) -> None:
    design.add_block(name, _planes() + _stride(1))
    x = design.add("Input", shape=(256, 32, 32), name="x", network=name)
    h = _conv_bn(design, x, name, "conv1", {"expr": "planes"}, 1)
    h = _conv_bn(design, h, name, "conv2", {"expr": "planes"}, 3, {"expr": "stride"})
    h = _conv_bn(design, h, name, "conv3", {"expr": "planes * 4"}, 1, relu=False)
    skip = _conv_bn(design, x, name, "downsample", {"expr": "planes * 4"}, 1,
                    {"expr": "stride"}, relu=False)
    _finish(design, name, h, skip)


def _transformer_encoder_block(design: Design, name: str) -> None:
    design.add_block(name, [
        argument("d_model", "int", 64, minimum=1, help="the embedding size in and out"),
        argument("heads", "int", 4, minimum=1, help="attention heads (must divide d_model)"),
        argument("feedforward", "int", 256, minimum=1, help="width of the feed-forward part"),
        argument("dropout", "float", 0.1, minimum=0, maximum=1, help="dropout after each part"),
    ])
    x = design.add("Input", shape=(16, 64), name="x", network=name)
    h = design.add("LayerNorm", x, name="norm1", network=name)
    h = design.add("MultiheadAttention", h, name="attention", num_heads={"expr": "heads"},
                   network=name)
    h = design.add("Dropout", h, name="dropout1", p={"expr": "dropout"}, network=name)
    attended = design.add("Add", x, h, name="add1", network=name)
    h = design.add("LayerNorm", attended, name="norm2", network=name)
    h = design.add("Linear", h, name="linear1", out_features={"expr": "feedforward"},
                   network=name)
    h = design.add("GELU", h, name="gelu", network=name)
    h = design.add("Linear", h, name="linear2", out_features={"expr": "d_model"}, network=name)
    h = design.add("Dropout", h, name="dropout2", p={"expr": "dropout"}, network=name)
    design.add("Output", design.add("Add", attended, h, name="add2", network=name),
               network=name)


def _inception_module(design: Design, name: str) -> None:
    design.add_block(name, [argument(branch, "int", width, minimum=1, help=text)
                            for branch, width, text in (
                                ("b1", 16, "channels of the 1x1 branch"),
                                ("b3", 24, "channels of the 3x3 branch"),
                                ("b5", 8, "channels of the 5x5 branch"),
                                ("pool", 8, "channels of the pooled branch"))])
    x = design.add("Input", shape=(32, 16, 16), name="x", network=name)
    one = _conv_bn(design, x, name, "branch1", {"expr": "b1"}, 1)
    three = _conv_bn(design, _conv_bn(design, x, name, "branch3_reduce", {"expr": "b3"}, 1),
                     name, "branch3", {"expr": "b3"}, 3)
    five = _conv_bn(design, _conv_bn(design, x, name, "branch5_reduce", {"expr": "b5"}, 1),
                    name, "branch5", {"expr": "b5"}, 5)
    pooled = design.add("MaxPool2d", x, name="pool", kernel_size=3, stride=1, padding=1,
                        network=name)
    pooled = _conv_bn(design, pooled, name, "pool_proj", {"expr": "pool"}, 1)
    joined = design.add("Concat", one, three, five, pooled, name="concat", dim=1, network=name)
    design.add("Output", joined, network=name)


def _depthwise_separable(design: Design, name: str) -> None:
    design.add_block(name, [
        argument("channels", "int", 32, minimum=1, help="channels in (the depthwise groups)"),
        argument("out_channels", "int", 64, minimum=1, help="channels out"),
        *_stride(1)])
    x = design.add("Input", shape=(32, 32, 32), name="x", network=name)
    depthwise = design.add("Conv2d", x, name="depthwise", out_channels={"expr": "channels"},
                           kernel_size=3, padding=1, stride={"expr": "stride"},
                           groups={"expr": "channels"}, bias=False, network=name)
    h = design.add("ReLU", design.add("BatchNorm2d", depthwise, name="depthwise_bn",
                                      network=name), name="depthwise_relu", network=name)
    h = _conv_bn(design, h, name, "pointwise", {"expr": "out_channels"}, 1)
    design.add("Output", h, network=name)


_WRITERS: dict[str, Callable[[Design, str], None]] = {
    "BasicBlock": _basic_block, "BasicBlockDown": _basic_block_down, "Bottleneck": _bottleneck,
    "TransformerEncoderBlock": _transformer_encoder_block, "InceptionModule": _inception_module,
    "DepthwiseSeparable": _depthwise_separable,
}
