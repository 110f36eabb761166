"""Issue 15, the vocabulary: Parameter and Buffer nodes, arithmetic with constants and between
tensors (torch's broadcasting), element-wise functions, tensor algebra (MatMul, Expand, Roll,
Pad, Stack, scaled dot-product attention) and the missing layers (GroupNorm, InstanceNorm,
LayerNorm2d, PReLU, Softplus, Mish, channel dropout, 3-D and adaptive pooling, BatchNorm3d,
ConvTranspose1d/3d, AvgPool's count_include_pad). Each shape rule and parameter count is
compared with torch running the built model, and the exported code with the app's model."""

from __future__ import annotations

import tempfile
from math import prod
from pathlib import Path

import pytest
import torch
from test_codegen_helpers import load_exported, outputs, sample_inputs, single_thread
from torch import nn

import engine
from engine import Design, check
from engine.blocks.definitions import argument
from engine.codegen.export import export_script
from engine.errors import DesignError, ShapeError
from engine.layers import TensorInfo, get_layer
from engine.layers.catalogue.arithmetic import FUNCTIONS, OPERATIONS

pytestmark = pytest.mark.usefixtures(single_thread.__name__)
BATCH = 3


def _design(layer: str, shapes: list[tuple], **params) -> tuple[Design, str]:
    """The layer fed by one node per shape: a Parameter (values drawn from a normal
    distribution) for a shape without the batch; for one with it ("N" first), the network's
    one Input, or a Linear of it reshaped where the shape differs from the Input's."""
    design = Design(layer)
    batched = [shape for shape in shapes if shape[0] == "N"]
    x = design.add("Input", shape=batched[0][1:], name="x")
    sources = []
    for shape in shapes:
        if shape[0] != "N":
            sources.append(design.add("Parameter", shape=shape, init="normal", std=1.0))
        elif shape == batched[0]:
            sources.append(x)
        else:
            flat = design.add("Linear", design.add("Flatten", x), out_features=prod(shape[1:]))
            sources.append(design.add("Unflatten", flat, dim=1, sizes=shape[1:]))
    node = design.add(layer, *sources, **params)
    design.add("Output", node)
    return design, node


def assert_exports_faithfully(design: Design) -> None:
    """The exported class loads the app's state_dict strictly, with the same keys in the same
    order, and computes the same outputs bit for bit (NaN where the app has NaN)."""
    built = engine.build_model(design)
    script = export_script(design)
    with tempfile.TemporaryDirectory() as folder:
        exported = load_exported(script.code, Path(folder))[script.classes["model"]]()
    assert list(exported.state_dict()) == list(built.state_dict())
    exported.load_state_dict(built.state_dict(), strict=True)
    inputs = sample_inputs(design, batch=BATCH)
    for mine, theirs in zip(outputs(exported, inputs), outputs(built, inputs), strict=True):
        torch.testing.assert_close(mine, theirs, rtol=0, atol=0, equal_nan=True)


CASES = [
    ("GroupNorm", [("N", 6, 5, 5)], {"num_groups": 3}),
    ("GroupNorm", [("N", 8, 10)], {"num_groups": 2, "affine": False}),
    ("InstanceNorm1d", [("N", 4, 10)], {"affine": True}),
    ("InstanceNorm2d", [("N", 3, 6, 6)], {"track_running_stats": True}),
    ("InstanceNorm3d", [("N", 2, 3, 4, 4)], {}),
    ("LayerNorm2d", [("N", 6, 4, 5)], {}),
    ("LayerNorm2d", [("N", 6, 4, 5)], {"elementwise_affine": False, "eps": 1e-6}),
    ("PReLU", [("N", 5, 4, 4)], {"num_parameters": 5, "init": 0.1}),
    ("PReLU", [("N", 7)], {}),
    ("Softplus", [("N", 7)], {"beta": 2.0, "threshold": 5.0}),
    ("Mish", [("N", 7)], {}),
    ("Dropout1d", [("N", 4, 9)], {"p": 0.3}),
    ("Dropout2d", [("N", 3, 5, 5)], {}),
    ("Dropout3d", [("N", 2, 3, 3, 3)], {}),
    ("AdaptiveMaxPool1d", [("N", 4, 10)], {"output_size": 3}),
    ("AdaptiveMaxPool2d", [("N", 3, 7, 9)], {"output_size": (2, 4)}),
    ("AdaptiveAvgPool3d", [("N", 2, 5, 6, 7)], {"output_size": (1, 2, 3)}),
    ("MaxPool3d", [("N", 2, 6, 7, 8)], {"kernel_size": 3, "stride": 2, "padding": 1,
                                        "ceil_mode": True}),
    ("AvgPool3d", [("N", 2, 5, 5, 5)], {"kernel_size": 2, "padding": 1,
                                        "count_include_pad": False}),
    ("AvgPool2d", [("N", 3, 7, 7)], {"kernel_size": 3, "stride": 2, "padding": 1,
                                     "count_include_pad": False}),
    ("AvgPool1d", [("N", 3, 7)], {"kernel_size": 3, "padding": 1, "ceil_mode": True,
                                  "count_include_pad": False}),
    ("BatchNorm3d", [("N", 3, 4, 4, 4)], {"affine": False}),
    ("BatchNorm1d", [("N", 5, 6)], {"features": "last"}),
    ("BatchNorm1d", [("N", 2, 3, 6)], {"features": "last", "affine": False}),
    ("BatchNorm1d", [("N", 6)], {"features": "last"}),
    ("Contiguous", [("N", 3, 4)], {}),
    ("ConvTranspose1d", [("N", 4, 9)], {"out_channels": 6, "kernel_size": 4, "stride": 2,
                                        "padding": 1}),
    ("ConvTranspose3d", [("N", 2, 3, 4, 5)], {"out_channels": 4, "kernel_size": 3, "stride": 2,
                                              "output_padding": 1, "groups": 2}),
    ("Upsample", [("N", 2, 3, 4, 5)], {"mode": "trilinear", "align_corners": True}),
    ("Upsample", [("N", 3, 5, 5)], {"mode": "bilinear", "align_corners": True,
                                    "scale_factor": 1.5}),
    *[("Arithmetic", [("N", 4)], {"operation": operation, "constant": constant})
      for operation in OPERATIONS for constant in (2.0, -0.5)],
    *[("Elementwise", [("N", 4)], {"function": function}) for function in FUNCTIONS],
    ("Subtract", [("N", 3, 4), (4,)], {}),
    ("Divide", [("N", 3, 1), ("N", 1, 5)], {}),
    ("Power", [("N", 3, 4), (3, 1)], {}),
    ("Add", [("N", 2, 4, 4), (2, 1, 1)], {}),
    ("Multiply", [(4,), ("N", 3, 4), ("N", 1, 4)], {}),
    ("MatMul", [("N", 3, 4), ("N", 4, 5)], {}),
    ("MatMul", [("N", 2, 3, 4), (4, 6)], {}),
    ("MatMul", [(5, 3), ("N", 3, 2)], {}),
    ("MatMul", [("N", 3, 4), (4,)], {}),
    ("MatMul", [(4,), ("N", 2, 4, 5)], {}),
    ("Expand", [("N", 3, 1, 1)], {"sizes": (-1, -1, 4, 5)}),
    ("Expand", [(1, 1, 8), ("N", 5, 8)], {"sizes": (-1, -1, -1)}),
    ("Expand", [(8,), ("N", 5, 8)], {"sizes": (-1, 2, 8)}),
    ("Roll", [("N", 5, 6)], {"shifts": (2, -1), "dims": (1, 2)}),
    ("Roll", [("N", 5, 6)], {"shifts": (3,), "dims": (-1,)}),
    ("Pad", [("N", 3, 5, 5)], {"pad": (1, 2, -1, 0), "value": 0.5}),
    ("Pad", [("N", 3, 5)], {"pad": (0, 0, 2, 2)}),
    ("Stack", [("N", 4), ("N", 4), ("N", 4)], {"dim": -1}),
    ("Stack", [("N", 2, 3), ("N", 2, 3)], {"dim": 2}),
    ("ScaledDotProductAttention", [("N", 2, 5, 8), ("N", 2, 7, 8), ("N", 2, 7, 3)],
     {"is_causal": True}),
    ("ScaledDotProductAttention", [("N", 5, 8), ("N", 5, 8), ("N", 5, 8)],
     {"scale": 0.3, "dropout_p": 0.2}),
    ("ScaledDotProductAttention", [("N", 2, 5, 8), ("N", 2, 5, 8), ("N", 2, 5, 8)],
     {"scale": 0.3, "dropout_p": 0.2}),
]


@pytest.mark.parametrize("layer, shapes, params", CASES,
                         ids=[f"{case[0]}-{index}" for index, case in enumerate(CASES)])
def test_shape_and_count_match_torch_and_the_export_is_faithful(layer, shapes, params):
    design, node = _design(layer, shapes, **params)
    report = check(design)
    assert report.errors == [], [str(problem) for problem in report.errors]
    model = engine.build_model(design).eval()
    with torch.no_grad():
        result = model(*sample_inputs(design, batch=BATCH))
    expected = tuple(BATCH if size == "N" else size for size in report.shape(node))
    assert tuple(result.shape) == expected
    assert report.total_params() == sum(p.numel() for p in model.parameters())
    assert_exports_faithfully(design)


REFUSALS = [
    ("Add", [("N", 3), ("N", 1, 3)], {}, "its batch (N) would not stay the first dimension"),
    ("Add", [("N", 5), (2, 5)], {}, "input 0 is (N, 5) and input 1 is (2, 5)"),
    ("Subtract", [("N", 4, 3), ("N", 4, 2)], {}, "sizes of 1 that broadcast"),
    ("MatMul", [("N", 3, 4), ("N", 5, 6)], {}, "(4 against 5)"),
    ("MatMul", [(5,), (5,)], {}, "gives a single number"),
    ("MatMul", [(5, "N"), ("N", 4)], {}, "would sum over the batch"),
    ("MatMul", [("N", 3), (3, "N")], {}, "would move the batch dimension"),
    ("MatMul", [("N", 2, 3, 4), (3, 4, 5)], {}, "dimensions before the last two"),
    ("Expand", [("N", 3, 2)], {"sizes": (-1, -1, 4)}, "can only grow dimensions of size 1"),
    ("Expand", [("N", 3, 2)], {"sizes": (-1, 2)}, "give 2 dimensions"),
    ("Expand", [(1, 8), ("N", 8)], {"sizes": (5, -1)}, "must be -1"),
    ("Expand", [("N", 3)], {"sizes": (-1, -1, -1)}, "dimension 0 is new"),
    ("Expand", [("N", 3)], {"sizes": (2, -1, -1)}, "would move the batch"),
    ("Roll", [("N", 5, 6)], {"shifts": (1, 2), "dims": (1,)}, "one shift per dimension"),
    ("Roll", [("N", 5, 6)], {"shifts": (1,), "dims": (0,)}, "must not roll along the batch"),
    ("Pad", [("N", 5, 6)], {"pad": (1, 1, 1)}, "pairs"),
    ("Pad", [("N", 5)], {"pad": (1, 1, 1, 1)}, "has 1 besides the batch"),
    ("Pad", [("N", 5)], {"pad": (-3, -2)}, "with size 0"),
    ("Stack", [("N", 4), ("N", 5)], {}, "same shape"),
    ("Stack", [("N", 4), ("N", 4)], {"dim": 0}, "must not stack along the batch"),
    ("Concat", [(1, 1, 8), ("N", 4, 8)], {}, "Expand"),
    ("GroupNorm", [("N", 6, 4, 4)], {"num_groups": 4}, "cannot be split into 4"),
    ("InstanceNorm2d", [("N", 3, 1, 1)], {}, "one value per channel"),
    ("LayerNorm2d", [("N", 3, 4)], {}, "(N, channels, height, width)"),
    ("PReLU", [("N",)], {"num_parameters": 3}, "one slope per channel"),
    ("PReLU", [("N", 4, 5)], {"num_parameters": 3}, "use 1 (one slope for all) or 4"),
    ("Dropout2d", [("N", 3, 4)], {}, "(N, channels, height, width)"),
    ("ConvTranspose3d", [("N", 3, 4, 4)], {}, "(N, channels, depth, height, width)"),
    ("Upsample", [("N", 3, 4, 4)], {"align_corners": True}, "not 'nearest'"),
    ("Upsample", [("N", 3, 4, 4, 4)], {"mode": "bilinear"}, "5-D"),
    ("ScaledDotProductAttention", [("N", 5, 8), ("N", 5, 4), ("N", 5, 8)], {},
     "queries and keys of the same size"),
    ("ScaledDotProductAttention", [("N", 5, 8), ("N", 5, 8), ("N", 6, 8)], {},
     "one value per key"),
    ("ScaledDotProductAttention", [("N", 8), ("N", 8), ("N", 8)], {}, "(N, length, features)"),
    ("ScaledDotProductAttention", [("N", 2, 5, 8), ("N", 3, 5, 8), ("N", 3, 5, 8)], {},
     "agree in every dimension before the last two"),
]


@pytest.mark.parametrize("layer, shapes, params, words", REFUSALS,
                         ids=[f"{case[0]}-{index}" for index, case in enumerate(REFUSALS)])
def test_a_misfit_is_refused_in_plain_words(layer, shapes, params, words):
    spec = get_layer(layer)
    with pytest.raises(ShapeError) as refused:
        spec.infer([TensorInfo(shape) for shape in shapes], {**spec.defaults(), **params})
    assert words in f"{refused.value} {refused.value.fix}"


def test_long_ids_keep_their_dtype_through_abs_and_neg_and_become_floats_otherwise():
    ids = TensorInfo(("N", 4), "long")
    function = get_layer("Elementwise")
    assert function.infer([ids], {"function": "abs"}).dtype == "long"
    assert function.infer([ids], {"function": "exp"}).dtype == "float"
    assert get_layer("Arithmetic").infer([ids], get_layer("Arithmetic").defaults()).dtype == (
        "float")
    assert get_layer("Add").infer([ids, TensorInfo((4,))], {}).dtype == "float"


# ---------------------------------------------------------------------------- Parameter nodes

def tiny_vit(patches: int = 4, width: int = 8, heads: int = 2) -> Design:
    """A class token in front of the patches, a position embedding, causal attention over
    heads and a LayerScale gamma: the tensors a Vision Transformer reads directly in forward."""
    design = Design("tiny vit")
    x = design.add("Input", shape=(patches, width), name="x")
    cls_token = design.add("Parameter", name="cls_token", shape=(1, 1, width))
    pos = design.add("Parameter", name="pos_embedding", shape=(1, patches + 1, width),
                     init="normal")
    gamma = design.add("Parameter", name="gamma", shape=(width,), init="constant", value=1e-6)
    scale = design.add("Buffer", name="scale", shape=(width,), init="ones")
    tokens = design.add("Concat", design.add("Expand", cls_token, x, sizes=(-1, -1, -1),
                                             name="batch_cls"), x, dim=1, name="tokens")
    tokens = design.add("Add", tokens, pos, name="embedded")

    def split_heads(h: str) -> str:  # (N, L, width) -> (N, heads, L, width / heads)
        h = design.add("Unflatten", h, dim=2, sizes=(heads, width // heads))
        return design.add("Transpose", h, dim0=1, dim1=2)

    q = split_heads(design.add("Linear", tokens, out_features=width, name="q"))
    kv = split_heads(tokens)
    attended = design.add("ScaledDotProductAttention", q, kv, kv, is_causal=True, name="attn")
    attended = design.add("Flatten", design.add("Transpose", attended, dim0=1, dim1=2),
                          start_dim=2)
    h = design.add("Add", tokens, design.add("Multiply", gamma, attended, name="scaled"),
                   name="residual")
    design.add("Output", design.add("Multiply", h, scale, name="out"))
    return design


class HandWrittenTinyVit(nn.Module):
    """The same model as a person writes it."""

    def __init__(self, patches: int = 4, width: int = 8, heads: int = 2) -> None:
        super().__init__()
        self.heads = heads
        self.cls_token = nn.Parameter(torch.zeros(1, 1, width))
        self.pos_embedding = nn.Parameter(torch.zeros(1, patches + 1, width))
        self.gamma = nn.Parameter(torch.full((width,), 1e-6))
        self.register_buffer("scale", torch.ones(width))
        self.q = nn.Linear(width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1)
        tokens = tokens + self.pos_embedding
        q, kv = (h.unflatten(2, (self.heads, -1)).transpose(1, 2)
                 for h in (self.q(tokens), tokens))
        attended = nn.functional.scaled_dot_product_attention(q, kv, kv, is_causal=True)
        attended = attended.transpose(1, 2).flatten(2)
        return (tokens + self.gamma * attended) * self.scale


def test_a_parameter_is_the_state_dict_key_named_after_its_node_as_in_hand_written_code():
    design = tiny_vit()
    model = engine.build_model(design).eval()
    assert list(model.state_dict()) == ["cls_token", "pos_embedding", "gamma", "scale",
                                        "q.weight", "q.bias"]
    assert [name for name, _ in model.named_parameters()] == [
        "cls_token", "pos_embedding", "gamma", "q.weight", "q.bias"]  # a Buffer is not learnt
    assert engine.check(design).total_params() == 8 + 5 * 8 + 8 + 8 * 8 + 8
    model(torch.randn(2, 4, 8)).sum().backward()
    assert model.cls_token.grad is not None and model.scale.grad is None
    person = HandWrittenTinyVit()
    person.load_state_dict(model.state_dict(), strict=True)
    x = torch.randn(3, 4, 8)
    with torch.no_grad():
        assert torch.equal(person.eval()(x), model(x))
    assert_exports_faithfully(design)


def test_the_exported_code_reads_parameters_where_they_are_used():
    code = export_script(tiny_vit()).code
    assert "self.cls_token = nn.Parameter(torch.zeros(1, 1, 8))" in code
    assert "self.gamma = nn.Parameter(torch.full((8,), 1e-06))" in code
    assert "self.scale = nn.Buffer(torch.ones(8))" in code
    assert "batch_cls = self.cls_token.expand(x.size(0), -1, -1)" in code
    assert "embedded = tokens + self.pos_embedding" in code
    assert "cls_token = self.cls_token" not in code


@pytest.mark.parametrize("init, values", [
    ("zeros", {"zeros": True}), ("ones", {"ones": True}),
    ("constant", {"value": 0.25}), ("normal", {"std": 0.5})])
def test_a_parameter_starts_from_its_init(init, values):
    design = Design()
    x = design.add("Input", shape=(4000,))
    design.add("Output", design.add("Add", x, design.add(
        "Parameter", name="bias", shape=(4000,), init=init,
        **{key: value for key, value in values.items() if key in ("value", "std")})))
    start = engine.build_model(design).bias.detach()
    if init == "zeros":
        assert torch.equal(start, torch.zeros(4000))
    elif init == "ones":
        assert torch.equal(start, torch.ones(4000))
    elif init == "constant":
        assert torch.equal(start, torch.full((4000,), 0.25))
    else:
        assert abs(start.std().item() - 0.5) < 0.05 and abs(start.mean().item()) < 0.05


def test_a_setting_the_init_ignores_is_a_warning():
    design = Design()
    x = design.add("Input", shape=(4,))
    bias = design.add("Parameter", shape=(4,), init="zeros", std=0.5)
    design.add("Output", design.add("Add", x, bias))
    (warning,) = [p for p in check(design).warnings if p.node == bias]
    assert "only init 'normal' reads it" in warning.message and "std back to 0.02" in warning.fix


def test_a_parameter_inside_a_block_is_a_key_of_each_use():
    design = Design("layer scale")
    design.add_block("LayerScale", [argument("width", "int", 8, minimum=1)])
    x = design.add("Input", shape=(5, 8), name="x", network="LayerScale")
    gamma = design.add("Parameter", name="gamma", shape=(8,), init="constant", value=1e-6,
                       network="LayerScale")
    fc = design.add("Linear", x, out_features={"expr": "width"}, name="fc",
                    network="LayerScale")
    design.add("Output", design.add("Multiply", gamma, fc, network="LayerScale"),
               network="LayerScale")
    design.add("Output", design.add("Block", design.add("Input", shape=(5, 8)), name="blocks",
                                    block="LayerScale", repeat=2))
    model = engine.build_model(design)
    assert list(model.state_dict())[:3] == ["blocks.0.gamma", "blocks.0.fc.weight",
                                            "blocks.0.fc.bias"]
    assert "self.gamma = nn.Parameter(torch.full((8,), 1e-06))" in export_script(design).code
    assert_exports_faithfully(design)


def test_a_parameter_named_with_dots_lives_in_its_container():
    design = Design()
    x = design.add("Input", shape=(4,))
    design.add("Output", design.add("Add", x, design.add("Parameter", name="head.bias",
                                                         shape=(4,), init="ones")))
    assert list(engine.build_model(design).state_dict()) == ["head.bias"]
    assert_exports_faithfully(design)


# ---------------------------------------------------------------------------- ONNX

def test_the_tiny_vit_exports_to_onnx_at_any_batch_size(tmp_path):
    pytest.importorskip("onnx")
    pytest.importorskip("onnxscript")
    pytest.importorskip("onnxruntime")
    from engine.export_onnx import export_onnx

    assert export_onnx(tiny_vit(), tmp_path / "vit.onnx").max_difference < 1e-4


def _onnx_case(index: int, case: tuple) -> object:
    """A case torch's ONNX exporters cannot convert is expected to fail (strictly: when it
    starts working, the test says so)."""
    layer, _, params = case
    reason = None
    if layer.startswith("Adaptive") and params["output_size"] != 1:
        reason = "ONNX has no adaptive pooling to an output size above 1"
    marks = pytest.mark.xfail(reason=reason, strict=True, raises=DesignError) if reason else ()
    return pytest.param(*case, marks=marks, id=f"{layer}-{index}")


@pytest.mark.slow
@pytest.mark.parametrize("layer, shapes, params", [
    _onnx_case(index, case) for index, case in enumerate(
        [*CASES, ("AdaptiveMaxPool2d", [("N", 3, 7, 9)], {"output_size": 1})])])
def test_every_case_exports_to_onnx(layer, shapes, params, tmp_path):
    """Inputs made positive first (abs, + 1), so log, sqrt and powers compare without NaN."""
    pytest.importorskip("onnx")
    pytest.importorskip("onnxscript")
    pytest.importorskip("onnxruntime")
    from engine.export_onnx import export_onnx

    design, node = _design(layer, shapes, **params)
    for edge in design.inputs_of(node):
        if design.node(edge.src).type == "Input":
            design.disconnect(edge.src, node, edge.port)
            positive = design.add("Arithmetic", design.add("Elementwise", edge.src,
                                                           function="abs"),
                                  operation="x + c", constant=1.0)
            design.connect(positive, node, edge.port)
    assert export_onnx(design, tmp_path / "layer.onnx").max_difference < 1e-3
