"""Issue 15, item 3: masks (Compare, MaskedFill, Buffers of long and bool values) and
Interpolate to another tensor's size, compared with torch; torchvision's segmentation models
(F.interpolate to the input's size) import exactly."""

from __future__ import annotations

import pytest
import torch
import torchvision
from test_codegen_helpers import single_thread
from test_i15_importer import assert_round_trip
from test_i15_vocabulary import assert_exports_faithfully
from torch import nn

import engine
from engine import Design, check
from engine.codegen.export import export_script
from engine.errors import ShapeError
from engine.layers import TensorInfo, get_layer

pytestmark = pytest.mark.usefixtures(single_thread.__name__)


def causal_scores(fill: str = "-inf", dtype: str = "float") -> Design:
    """Scores (N, 1, 4, 4) masked where a lower-triangular buffer is 0, as nanoGPT does."""
    design = Design("masked")
    x = design.add("Input", shape=(1, 4, 4), name="x")
    init = {"dtype": dtype} if dtype != "float" else {}
    bias = design.add("Buffer", shape=(1, 1, 4, 4), init="tril", name="bias", **init)
    mask = design.add("Compare", bias, operation="==", constant=0.0, name="mask")
    filled = design.add("MaskedFill", x, mask, fill=fill, value=-5.0, name="filled")
    design.add("Output", filled)
    return design


@pytest.mark.parametrize("fill, dtype", [("-inf", "float"), ("value", "long"),
                                         ("inf", "bool")])
def test_a_causal_mask_fills_what_torch_fills(fill, dtype):
    design = causal_scores(fill, dtype)
    model = engine.build_model(design).eval()
    assert model.bias.dtype == {"float": torch.float32, "long": torch.int64,
                                "bool": torch.bool}[dtype]
    x = torch.randn(3, 1, 4, 4)
    value = {"-inf": float("-inf"), "inf": float("inf"), "value": -5.0}[fill]
    expected = x.masked_fill(torch.ones(4, 4).tril() == 0, value)
    assert torch.equal(model(x), expected)
    assert_exports_faithfully(design)


def test_the_exported_mask_reads_as_hand_written_code():
    code = export_script(causal_scores()).code
    assert "self.bias = nn.Buffer(torch.tril(torch.ones(1, 1, 4, 4)))" in code
    assert "mask = self.bias == 0.0" in code
    assert 'filled = x.masked_fill(mask, float("-inf"))' in code
    assert "torch.full((1, 1, 4, 4), True)" in export_script(causal_scores(dtype="bool")).code


@pytest.mark.parametrize("shapes, params, words", [
    ([("N", 4), ("N", 4)], {}, "must hold booleans"),
    ([("N", 4), ("N", 3)], {}, "sizes of 1 that broadcast"),
])
def test_a_misfit_mask_is_refused(shapes, params, words):
    spec = get_layer("MaskedFill")
    x, mask = (TensorInfo(shape) for shape in shapes)
    if words != "must hold booleans":
        mask = TensorInfo(mask.shape, "bool")
    with pytest.raises(ShapeError, match=words):
        spec.infer([x, mask], {**spec.defaults(), **params})


def test_an_infinite_fill_of_integers_and_a_normal_bool_buffer_are_refused():
    with pytest.raises(ShapeError, match="floating-point"):
        get_layer("MaskedFill").infer([TensorInfo(("N", 4), "long"),
                                       TensorInfo(("N", 4), "bool")], {"fill": "-inf",
                                                                       "value": 0.0})
    design = Design()
    design.add("Buffer", shape=(4,), init="normal", dtype="bool")
    assert any("draws floating-point values" in p.message for p in check(design).errors)


@pytest.mark.parametrize("shape, mode, corners", [
    ((3, 9, 7), "bilinear", False), ((3, 9, 7), "nearest", False),
    ((2, 11), "linear", True), ((2, 5, 4, 7), "trilinear", False),
])
def test_interpolate_takes_the_size_of_input_one(shape, mode, corners):
    """A pooled map brought back to its input's size, as a U-Net's skip connection does."""
    count = len(shape) - 1
    design = Design("resize")
    x = design.add("Input", shape=shape, name="x")
    pooled = design.add(f"AvgPool{count}d", x, kernel_size=2, name="pooled")
    design.add("Output", design.add("Interpolate", pooled, x, mode=mode, align_corners=corners))
    model = engine.build_model(design).eval()
    a = torch.randn(2, *shape)
    options = {"align_corners": corners} if mode != "nearest" else {}
    expected = nn.functional.interpolate(model.pooled(a), size=a.shape[-count:], mode=mode,
                                         **options)
    assert torch.equal(model(a), expected)
    code = _unwrapped(export_script(design).code)
    assert f"F.interpolate(pooled,size=x.shape[-{count}:],mode={mode!r}" in code
    assert_exports_faithfully(design)


def test_interpolate_refuses_a_reference_too_short_for_its_sizes():
    spec = get_layer("Interpolate")
    with pytest.raises(ShapeError, match="last dimensions of input 1"):
        spec.infer([TensorInfo(("N", 3, 4, 5)), TensorInfo(("N", 7))], spec.defaults())


def _unwrapped(code: str) -> str:
    """The code without white space and with one kind of quote, however the formatter wrapped
    its lines."""
    return "".join(code.split()).replace('"', "'")


class UNetStep(nn.Module):
    """A decoder step as U-Nets write it: upsample to the skip's size, then join."""

    def __init__(self) -> None:
        super().__init__()
        self.down = nn.Conv2d(3, 4, 3, stride=2, padding=1)
        self.up = nn.Conv2d(4, 3, 1)

    def forward(self, x):
        coarse = self.up(self.down(x))
        fine = nn.functional.interpolate(coarse, size=x.shape[-2:], mode="bilinear",
                                         align_corners=False)
        scaled = nn.functional.interpolate(coarse, scale_factor=2.0, mode="nearest")
        return torch.cat([fine, x], 1), scaled * (x.size(2), x.size(3))[0]


def test_interpolate_to_a_tensors_size_and_by_a_scale_import_exactly(tmp_path):
    design, code = assert_round_trip(UNetStep(), (torch.randn(2, 3, 9, 7),), tmp_path)
    assert "F.interpolate(up,size=x.shape[-2:],mode='bilinear',align_corners=False" in _unwrapped(code)
    assert {design.node(n).type for n in design.nodes()} >= {"Interpolate", "Upsample"}


@pytest.mark.parametrize("name", ["fcn_resnet50", "deeplabv3_mobilenet_v3_large",
                                  "lraspp_mobilenet_v3_large"])
def test_torchvision_segmentation_models_import_exactly(name, tmp_path):
    torch.manual_seed(0)
    original = getattr(torchvision.models.segmentation, name)(weights=None,
                                                             weights_backbone=None)
    assert_round_trip(original, (torch.randn(1, 3, 48, 40),), tmp_path)
