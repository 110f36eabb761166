"""Layer parameters at their extremes: what checks clean also builds and runs (issue 12, item 3).

Found by feeding every layer type each extreme value (0, -1, int32/int64 bounds, 1e308, ...)
in an Input -> layer -> Output design: a float beyond float32 and an output with a size of 0
checked clean, then torch refused them when the layer ran.
"""

from __future__ import annotations

import pytest

from engine import Design
from engine.checking import check
from engine.compiler import build_model
from engine.layers import all_layers, get_layer
from engine.limits import LARGEST_FLOAT32

FLOAT_PARAMS = [(spec.name, param.name) for spec in all_layers() for param in spec.params
                if param.kind == "float"]


def _one_layer(layer: str, shape: tuple[int, ...], **params) -> tuple[Design, str]:
    """Input -> layer -> Output (a layer without inputs, a Parameter, beside the Input)."""
    design = Design()
    x = design.add("Input", shape=shape)
    node = design.add(layer, *[x][:get_layer(layer).input_ports], **params)
    design.add("Output", node)
    return design, node


@pytest.mark.parametrize("layer, param", FLOAT_PARAMS)
@pytest.mark.parametrize("sign", [1, -1])
def test_a_float_parameter_beyond_float32_is_a_check_error_on_its_node(layer, param, sign):
    design, node = _one_layer(layer, (4, 8, 8), **{param: sign * 1e308})
    errors = [problem for problem in check(design).errors if problem.node == node]
    assert errors and f"'{param}'" in errors[0].message, [str(e) for e in errors]


def test_a_float_parameter_float32_can_hold_checks_clean_and_runs():
    import torch

    design, _ = _one_layer("LeakyReLU", (8,), negative_slope=LARGEST_FLOAT32 / 2)
    assert not check(design).errors
    build_model(design)(torch.randn(2, 8))


@pytest.mark.parametrize("scale, shape", [(0.5, (1, 1, 1)), (0.01, (3, 50, 99))])
def test_an_output_with_a_size_of_zero_is_a_check_error_with_a_fix(scale, shape):
    design, node = _one_layer("Upsample", shape, scale_factor=scale)
    errors = [problem for problem in check(design).errors if problem.node == node]
    assert errors and "empty" in errors[0].message and errors[0].fix, [str(e) for e in errors]


def test_a_shrinking_upsample_that_keeps_every_size_checks_clean_and_runs():
    import torch

    design, node = _one_layer("Upsample", (1, 4, 4), scale_factor=0.5)
    report = check(design)
    assert not report.errors
    assert build_model(design)(torch.randn(2, 1, 4, 4)).shape[1:] == report.info(node).shape[1:]


@pytest.mark.parametrize("layer", ["Conv2d", "ConvTranspose2d"])
@pytest.mark.parametrize("param", ["stride", "dilation"])
def test_a_convolution_step_beyond_what_torch_survives_is_an_error_on_its_node(layer, param):
    design = Design()
    x = design.add("Input", shape=(1, 4, 4))
    conv = design.add(layer, x, out_channels=1, **{param: 32_768})
    design.add("Output", conv)
    (problem,) = [p for p in check(design).errors if p.node == conv]
    assert param in problem.message and "1024" in problem.message.replace(",", "")


LOWEST_FLOATS = [(spec.name, param.name, param.minimum) for spec in all_layers()
                 for param in spec.params if param.kind == "float" and param.minimum is not None]


@pytest.mark.parametrize("layer, param, lowest", LOWEST_FLOATS)
def test_a_float_parameter_at_its_lowest_allowed_value_trains(layer, param, lowest):
    """Found with BatchNorm's eps: 0 was allowed and checked clean, then torch refused it in
    training mode. Whatever a parameter's range allows, the layer takes a training step."""
    import torch

    for shape in [(4, 6), (4, 6, 6), (2, 4, 6, 6)]:
        design, _ = _one_layer(layer, shape, **{param: lowest})
        if not check(design).errors:
            break
    else:
        pytest.skip(f"{layer} takes none of the sample shapes")
    model = build_model(design).train()
    out = model(torch.randn(3, *shape, requires_grad=True))
    if out.requires_grad:  # a Buffer's output has no gradient
        out.sum().backward()
