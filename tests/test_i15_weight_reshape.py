"""Issue 15: a weight reshaped in forward (timm ConvNeXt's LayerScale,
`x.mul(self.gamma.reshape(1, -1, 1, 1))`) is its Parameter node, keeping the weight's own shape
and state_dict key, followed by a Reshape of the whole tensor (it has no batch)."""

from __future__ import annotations

import pytest
import torch
from test_codegen_helpers import single_thread
from test_i15_importer import assert_round_trip
from torch import nn

from engine import Design, check
from engine.codegen.export import export_script
from engine.errors import ShapeError
from engine.layers import TensorInfo, get_layer

pytestmark = pytest.mark.usefixtures(single_thread.__name__)


class ScaledChannels(nn.Module):
    """A convolution whose channels a learnt gamma scales, as timm's ConvNeXt block does."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.gamma = nn.Parameter(torch.randn(4))

    def forward(self, x):
        return self.conv(x).mul(self.gamma.reshape(1, -1, 1, 1)) + self.gamma.view(4, 1, 1)


def test_a_reshaped_weight_keeps_its_shape_and_key(tmp_path):
    design, code = assert_round_trip(ScaledChannels(), (torch.randn(2, 3, 5, 5),), tmp_path)
    assert design.node(design.find("gamma")).params["shape"] == (4,)
    assert "reshape = self.gamma.reshape(1, 4, 1, 1)" in code
    assert "self.gamma.view" not in code and ".reshape(4, 1, 1)" in code


def test_a_tensor_without_batch_is_reshaped_whole():
    reshape = get_layer("Reshape")
    assert reshape.infer([TensorInfo((6,))], {"shape": (1, -1, 1)}) == TensorInfo((1, 6, 1))
    assert reshape.infer([TensorInfo(("N", 6))], {"shape": (2, 3)}) == TensorInfo(("N", 2, 3))
    with pytest.raises(ShapeError, match=r"holds 4 values but the input has 6"):
        reshape.infer([TensorInfo((6,))], {"shape": (4,)})


def test_a_designed_parameter_reshape_checks_clean():
    design = Design("scaled")
    x = design.add("Input", shape=(4, 5, 5), name="x")
    gamma = design.add("Parameter", shape=(4,), init="ones", name="gamma")
    design.add("Output", design.add("Multiply", x, design.add("Reshape", gamma,
                                                               shape=(1, 4, 1, 1))))
    assert not check(design).errors_in("model")
    assert "self.gamma.reshape(1, 4, 1, 1)" in export_script(design).code
