"""Issue 15: torchvision's Swin Transformer (v1 and v2) imports through four layers that are
its own modules, whole: ShiftedWindowAttention(V2) and PatchMerging(V2). Their windows fold the
batch, so each stays one node taking and giving channels-last images; shapes, parameter counts,
code and ONNX follow the catalogue's pattern."""

from __future__ import annotations

import ast

import pytest
import torch
from test_codegen_helpers import single_thread
from test_i15_importer import assert_round_trip
from torchvision.models import swin_transformer as swin

from engine import Design, check
from engine.errors import ShapeError
from engine.layers import TensorInfo, get_layer

pytestmark = pytest.mark.usefixtures(single_thread.__name__)
_V2 = {"block": swin.SwinTransformerBlockV2, "downsample_layer": swin.PatchMergingV2}


def tiny_swin(v2: bool) -> swin.SwinTransformer:
    """Two stages of two blocks (the second shifted) with 2x2 windows, for 16x16 images."""
    torch.manual_seed(0)
    return swin.SwinTransformer(patch_size=[4, 4], embed_dim=8, depths=[2, 2], num_heads=[1, 2],
                                window_size=[2, 2], num_classes=5, **(_V2 if v2 else {}))


@pytest.mark.parametrize("v2", [False, True], ids=["v1", "v2"])
def test_a_tiny_swin_round_trips_exactly(v2, tmp_path):
    design, code = assert_round_trip(tiny_swin(v2), (torch.randn(2, 3, 16, 16),), tmp_path)
    suffix = "V2" if v2 else ""
    types = {design.node(node).type for scope in (*design.networks, *design.blocks)
             for node in design.nodes(scope)}
    assert {f"ShiftedWindowAttention{suffix}", f"PatchMerging{suffix}"} <= types
    calls = {ast.unparse(node) for node in ast.walk(ast.parse(code))
             if isinstance(node, ast.Call) and "swin_transformer" in ast.unparse(node.func)}
    module = "torchvision.models.swin_transformer"
    assert {f"{module}.ShiftedWindowAttention{suffix}(dim, [2, 2], {shift}, dim // 8)"
            for shift in ("[0, 0]", "[1, 1]")} | {f"{module}.PatchMerging{suffix}(8)"} == calls


@pytest.mark.parametrize("layer, module", [
    ("ShiftedWindowAttention", swin.ShiftedWindowAttention(16, [3, 4], [1, 2], 4,
                                                           proj_bias=False)),
    ("ShiftedWindowAttentionV2", swin.ShiftedWindowAttentionV2(16, [3, 4], [1, 2], 4,
                                                               qkv_bias=False)),
    ("PatchMerging", swin.PatchMerging(16)), ("PatchMergingV2", swin.PatchMergingV2(16))])
def test_shapes_and_parameter_counts_are_the_modules(layer, module):
    spec = get_layer(layer)
    params = {**spec.defaults(), "dim": 16}
    if "Attention" in layer:
        params.update(window_size=(3, 4), shift_size=(1, 2), num_heads=4,
                      qkv_bias=module.qkv.bias is not None, proj_bias=module.proj.bias is not None)
    x = torch.randn(2, 5, 7, 16)
    info = spec.infer([TensorInfo(("N", 5, 7, 16))], params)
    assert info.shape == ("N", *module(x).shape[1:])
    assert spec.count_params([], params) == sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("params, words", [
    ({"dim": 12}, r"has dim 12 but receives \(N, 4, 4, 16\), whose last dimension"),
    ({"num_heads": 5}, "dim 16 must divide evenly among 5 heads")])
def test_an_attention_that_does_not_fit_says_why(params, words):
    spec = get_layer("ShiftedWindowAttention")
    with pytest.raises(ShapeError, match=words):
        spec.infer([TensorInfo(("N", 4, 4, 16))], {**spec.defaults(), "dim": 16, **params})


def test_a_channels_first_image_is_told_to_permute():
    design = Design("windows")
    x = design.add("Input", shape=(16, 8), name="x")
    design.add("Output", design.add("PatchMerging", x, dim=16))
    problems = check(design).errors_in("model")
    assert any("(N, height, width, channels)" in p.message for p in problems)


@pytest.mark.slow
def test_a_tiny_swin_exports_to_onnx_at_any_batch_size(tmp_path):
    pytest.importorskip("onnxscript")
    pytest.importorskip("onnxruntime")
    from engine.export_onnx import export_onnx
    from engine.importing import import_network

    design = import_network(tiny_swin(v2=False), (torch.randn(2, 3, 16, 16),)).design
    assert export_onnx(design, tmp_path / "swin.onnx").max_difference < 1e-4
