"""A convolution a module computes with F.conv2d over its own weights (timm's Conv2dSame pads
by the input's size, then calls F.conv2d) imports as that module's Conv2d node, its weights
keeping their state_dict keys, after a Pad node: exact at the example's image size."""

import math

import torch
import torch.nn.functional as F
from model_matrix import Case, round_trip
from torch import nn

from engine.importing import import_network


class SamePadded(nn.Conv2d):
    """TensorFlow's SAME padding: the padding depends on the input's size (so symbolic
    tracing cannot follow it and the importer traces with torch.export)."""

    def forward(self, x):
        height, width = x.shape[-2:]
        pads = [max((math.ceil(size / s) - 1) * s + (k - 1) * d + 1 - size, 0)
                for size, s, k, d in zip((width, height), self.stride[::-1],
                                         self.kernel_size[::-1], self.dilation[::-1])]
        x = F.pad(x, [pads[0] // 2, pads[0] - pads[0] // 2, pads[1] // 2,
                      pads[1] - pads[1] // 2])
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


class Stem(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv_stem = SamePadded(3, 8, 3, stride=2, bias=False)
        self.depthwise = SamePadded(8, 8, 5, stride=1, groups=8)

    def forward(self, x):
        return self.depthwise(torch.relu(self.conv_stem(x)))


class OwnConv1d(nn.Conv1d):
    """A plain functional call over its own weights, which symbolic tracing follows."""

    def forward(self, x):
        return F.conv1d(x, self.weight, self.bias, self.stride, self.padding)


def _layers(design):
    return [design.node(n).type for n in design.nodes()]


def test_same_padding_imports_as_pad_and_conv_named_by_the_module(tmp_path):
    case = Case("hand", "same-padded", Stem, lambda batch: (torch.randn(batch, 3, 15, 15),))
    assert round_trip(case, tmp_path).status == "exact"
    design = import_network(Stem(), (torch.randn(2, 3, 15, 15),)).design
    assert _layers(design).count("Pad") == 2 and _layers(design).count("Conv2d") == 2
    names = {design.node(n).name for n in design.nodes() if design.node(n).type == "Conv2d"}
    assert names == {"conv_stem", "depthwise"}


def test_a_functional_conv1d_over_its_own_weights_is_its_layer(tmp_path):
    make = lambda: nn.Sequential(OwnConv1d(4, 6, 3, padding=1), nn.ReLU())  # noqa: E731
    case = Case("hand", "own-conv1d", make, lambda batch: (torch.randn(batch, 4, 10),))
    assert round_trip(case, tmp_path).status == "exact"
    assert "Conv1d" in _layers(import_network(make(), (torch.randn(2, 4, 10),)).design)
