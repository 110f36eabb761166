"""Every registered layer: shape rule and parameter count agree with torch, and it round-trips."""

import pytest
import torch

import engine
from engine import Design
from engine.errors import ShapeError
from engine.layers import TensorInfo, all_layers, get_layer

CANDIDATE_INPUTS = [
    ((3, 8, 8), "float"), ((4, 12), "float"), ((6,), "float"), ((2, 4, 6, 6), "float"),
    ((64,), "float"), ((12,), "long"),
]
LAYERS = [spec.name for spec in all_layers() if spec.name not in ("Input", "Output")]


def _sample_design(layer_type: str) -> tuple[Design, str]:
    """Input(s) -> layer -> Output with the first sample shape the layer accepts."""
    spec = get_layer(layer_type)
    fan_in = max(spec.min_inputs, 1) if spec.max_inputs is None else spec.max_inputs
    fan_in = max(fan_in, spec.min_inputs, 2 if spec.max_inputs is None else 1)
    for shape, dtype in CANDIDATE_INPUTS:
        info = TensorInfo(("N", *shape), dtype)
        try:
            spec.infer([info] * fan_in, spec.defaults())
        except ShapeError:
            continue
        design = Design()
        sources = [design.add("Input", shape=shape, dtype=dtype) for _ in range(fan_in)]
        node = design.add(layer_type, *sources)
        design.add("Output", node)
        return design, node
    raise AssertionError(f"no sample input fits {layer_type}")


def _sample_inputs(design: Design, batch: int) -> list[torch.Tensor]:
    tensors = []
    for node_id in design.nodes():
        node = design.node(node_id)
        if node.type == "Input":
            shape = (batch, *node.params["shape"])
            tensors.append(torch.randint(0, 10, shape) if node.params["dtype"] == "long"
                           else torch.randn(shape))
    return tensors


@pytest.mark.parametrize("layer_type", LAYERS)
def test_shape_and_parameter_count_match_torch(layer_type):
    design, node = _sample_design(layer_type)
    report = engine.check(design)
    assert report.ok, report.problems
    model = engine.build_model(design).eval()
    with torch.no_grad():
        output = model(*_sample_inputs(design, batch=3))
    assert tuple(output.shape) == (3, *report.shape(node)[1:])
    assert report.params(node) == sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("layer_type", LAYERS)
def test_every_layer_round_trips_through_a_file(layer_type, tmp_path):
    design, _ = _sample_design(layer_type)
    engine.save_design(design, tmp_path / "layer.ncnet")
    assert engine.load_design(tmp_path / "layer.ncnet") == design


@pytest.mark.parametrize("spec", all_layers(), ids=lambda s: s.name)
def test_every_layer_is_explained_and_typed(spec):
    sentences = [s for s in spec.explanation.split(". ") if s.strip()]
    assert 2 <= len(sentences) <= 4, spec.explanation
    for param in spec.params:
        assert param.coerce(param.default) == param.default
        assert param.help
