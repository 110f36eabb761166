"""Every registered layer: shape rule and parameter count agree with torch, and it round-trips."""

import pytest
import torch
from layer_samples import one_layer_design

import engine
from engine import Design
from engine.layers import all_layers, get_layer

LAYERS = [spec.name for spec in all_layers() if spec.name not in ("Input", "Output")]


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
    design, node = one_layer_design(get_layer(layer_type))
    report = engine.check(design)
    assert report.ok, report.problems
    model = engine.build_model(design).eval()
    with torch.no_grad():
        output = model(*_sample_inputs(design, batch=3))
    assert tuple(output.shape) == (3, *report.shape(node)[1:])
    assert report.total_params() == sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("layer_type", LAYERS)
def test_every_layer_round_trips_through_a_file(layer_type, tmp_path):
    design, _ = one_layer_design(get_layer(layer_type))
    engine.save_design(design, tmp_path / "layer.ncnet")
    assert engine.load_design(tmp_path / "layer.ncnet") == design


@pytest.mark.parametrize("spec", all_layers(), ids=lambda s: s.name)
def test_every_layer_is_explained_and_typed(spec):
    sentences = [s for s in spec.explanation.split(". ") if s.strip()]
    assert 2 <= len(sentences) <= 4, spec.explanation
    for param in spec.params:
        assert param.coerce(param.default) == param.default
        assert param.help
