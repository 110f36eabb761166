"""Why a shape is what it is: each layer's working with the user's numbers, equal to what the
shape rule computes, and the check's shape errors carry the line with the number to change."""

from __future__ import annotations

import re

import pytest
from layer_samples import SAMPLE_SHAPES, one_layer_design

from engine import Design, check
from engine.errors import ShapeError
from engine.layers import TensorInfo, all_layers, get_layer
from engine.layers.base import as_outputs
from engine.shape_working import WORKINGS, shape_working


def lines(layer_type: str, inputs: list[tuple], **params) -> list[str]:
    values = {**get_layer(layer_type).defaults(), **params}
    infos = [TensorInfo(("N", *shape)) for shape in inputs]
    return [line.text for line in shape_working(layer_type, values, infos)]


def _changes_the_shape(spec) -> bool:
    """Whether the layer's output differs from its input on the first sample it accepts."""
    design, node = one_layer_design(spec)
    report = check(design)
    inputs = report.input_infos[node]
    return bool(inputs) and any(out.shape != inputs[0].shape for out in report.output_infos[node])


@pytest.mark.parametrize("spec", [s for s in all_layers() if s.name not in ("Input", "Output")],
                         ids=lambda spec: spec.name)
def test_every_layer_that_changes_a_shape_has_a_working_that_ends_in_its_numbers(spec):
    design, node = one_layer_design(spec)
    report = check(design)
    found = shape_working(spec.name, design.node(node).params, report.input_infos[node])
    if _changes_the_shape(spec):
        assert spec.name in WORKINGS, f"{spec.name} changes the shape but has no working"
    if spec.min_inputs:   # (a Parameter's shape is its setting: nothing to work out)
        assert found and not any(line.wrong for line in found)


@pytest.mark.parametrize("layer, size", [("Conv1d", 1), ("Conv2d", 2), ("Conv3d", 3)])
def test_convolution_sizes_are_worked_out_as_the_issue_writes_them(layer, size):
    shape = (1, *(8,) * size)
    worked = lines(layer, [shape], padding=1)
    assert worked[0] == "channels = out_channels = 16"
    assert worked[-1].endswith("= floor((8 + 2*1 - 1*(3-1) - 1) / 1) + 1 = 8")
    assert tuple(line.split(" =")[0] for line in worked[1:]) == [
        ("length",), ("height", "width"), ("depth", "height", "width")][size - 1]


def test_working_and_shape_rule_agree_on_many_settings():
    """Every number a working ends in is the size the shape rule computes."""
    cases = [("Conv2d", (3, 17, 9), {"kernel_size": (5, 3), "stride": (2, 1), "padding": (2, 0),
                                          "dilation": (1, 2)}),
             ("ConvTranspose2d", (4, 7, 7), {"kernel_size": 4, "stride": 2, "padding": 1,
                                                 "output_padding": 1}),
             ("MaxPool2d", (2, 9, 9), {"kernel_size": 2, "ceil_mode": True}),
             ("MaxPool1d", (2, 10), {"kernel_size": 3, "stride": 3, "padding": 1,
                                     "ceil_mode": True}),
             ("AvgPool2d", (2, 7, 8), {"kernel_size": 3, "stride": 2, "padding": 1}),
             ("AdaptiveAvgPool2d", (5, 9, 9), {"output_size": (2, 3)}),
             ("Upsample", (3, 5, 6), {"scale_factor": 1.5})]
    for layer, shape, params in cases:
        values = {**get_layer(layer).defaults(), **params}
        info = TensorInfo(("N", *shape))
        out = as_outputs(get_layer(layer).infer([info], values))[0]
        ends = [int(re.search(r"= (-?\d+)( \(.*\))?$", line).group(1))
                for line in lines(layer, [shape], **params)
                if not line.startswith("channels")]
        assert tuple(ends) == out.shape[2:], (layer, ends, out.shape)


def test_ceil_mode_says_when_the_last_window_is_dropped():
    assert lines("MaxPool1d", [(2, 5)], kernel_size=2, stride=2, padding=1, ceil_mode=True) == [
        "channels stay 2",
        ("length = ceil((5 + 2*1 - 2) / 2) + 1 = 4 - 1 = 3 (the last window would start in the "
        "padding)")]


@pytest.mark.parametrize("layer, inputs, params, expected", [
    ("ConvTranspose2d", [(8, 4, 4)], {"kernel_size": 4, "stride": 2, "padding": 1},
     "height = (4 - 1)*2 - 2*1 + 1*(4-1) + 0 + 1 = 8"),
    ("AdaptiveMaxPool1d", [(4, 50)], {"output_size": 7},
     "length = output_size = 7 (whatever the input's 50)"),
    ("Flatten", [(64, 4, 4)], {}, "dimensions 1 to 3 become one: 64 * 4 * 4 = 1024"),
    ("Unflatten", [(1024,)], {"dim": 1, "sizes": (64, 4, 4)},
     "dimension 1 (1024) becomes (64, 4, 4): 64 * 4 * 4 = 1024"),
    ("Reshape", [(64, 4, 4)], {"shape": (16, -1)}, "-1 = 1024 / 16 = 64"),
    ("Linear", [(1024,)], {"out_features": 10},
     "last dimension 1024 -> out_features = 10 (weight 10 x 1024); the others stay"),
    ("Upsample", [(3, 8, 8)], {}, "height = floor(8 * 2) = 16"),
    ("LSTM", [(32, 1)], {"hidden_size": 64, "bidirectional": True},
     "features = hidden_size * directions = 64 * 2 = 128"),
    ("GRU", [(64, 32)], {"hidden_size": 192, "output": "sequence"},
     "output 'sequence': a state per step, (N, 64, 192)"),
    ("MultiheadAttention", [(32, 64)], {"num_heads": 4},
     "each of num_heads = 4 heads works on 64 / 4 = 16 features"),
    ("TransformerEncoderLayer", [(32, 64)], {"nhead": 8},
     "each of nhead = 8 heads works on 64 / 8 = 8 features"),
    ("Concat", [(32, 8, 8), (16, 8, 8)], {"dim": 1}, "dimension 1 = 32 + 16 = 48"),
    ("Stack", [(4,), (4,), (4,)], {"dim": 1}, "a new dimension 1 of size 3, one per input"),
    ("Add", [(32, 8, 8), (32, 1, 1)], {}, "dimension 2: 8 and 1 -> 8 (a size of 1 repeats)"),
    ("Slice", [(10, 4)], {"dim": 1, "start": 2, "end": 9, "step": 3},
     "dimension 1 = positions 2 to 9 (exclusive) of 10, every 3: ceil((9 - 2) / 3) = 3"),
    ("Chunk", [(10,)], {"dim": 1, "chunks": 3}, ("dimension 1: pieces of ceil(10 / 3) = 4, so 3 "
                                               "pieces")),
    ("Pad", [(3, 8, 8)], {"pad": (1, 2)}, "dimension 3 = 8 + 1 + 2 = 11"),
    ("Mean", [(64, 4, 4)], {"dims": (2, 3)}, ("averaged over 4 (dimension 2), 4 (dimension 3): "
                                              "removed")),
    ("Sum", [(4, 16)], {"dims": (2,), "keepdim": True}, ("summed over 16 (dimension 2): kept "
                                                         "with size 1")),
    ("ReLU", [(32, 8, 8)], {}, "ReLU keeps its input's shape (N, 32, 8, 8)"),
])
def test_each_kind_of_layer_shows_its_working(layer, inputs, params, expected):
    assert expected in lines(layer, inputs, **params)


def test_the_embedding_and_the_inputs_that_do_not_fit_a_rule():
    values = get_layer("Embedding").defaults()
    worked = shape_working("Embedding", {**values, "embedding_dim": 64},
                           [TensorInfo(("N", 32), "long")])
    assert worked[0].text == "each id becomes embedding_dim = 64 numbers: (N, 32) -> (N, 32, 64)"
    assert lines("Conv2d", [(8,)]) == []   # a vector: the check says why, there is no working
    assert shape_working("no such layer", {}, []) == []


def _conv_design(kernel: int) -> tuple[Design, str]:
    design = Design("small images")
    x = design.add("Input", shape=(1, 5, 5))
    conv = design.add("Conv2d", x, kernel_size=kernel, padding=0)
    design.add("Output", design.add("Flatten", conv))
    return design, conv


def test_a_shape_error_shows_the_line_with_the_number_to_change():
    design, conv = _conv_design(kernel=7)
    problem = check(design).problems_for(conv)[0]
    assert problem.severity == "error"
    assert problem.message.endswith(
        "working: height = floor((5 + 2*0 - 1*(7-1) - 1) / 1) + 1 = -1; "
        "width = floor((5 + 2*0 - 1*(7-1) - 1) / 1) + 1 = -1")
    assert problem.fix   # the rule's own fix is kept


def test_an_error_whose_working_has_no_wrong_number_is_left_as_it_was():
    design = Design("joined")
    x = design.add("Input", shape=(3, 8))
    joined = design.add("Concat", x, design.add("Linear", x, out_features=4), dim=1)
    design.add("Output", joined)
    message = check(design).problems_for(joined)[0].message
    assert message.endswith("working: dimension 2: input 1 has 4 but input 0 has 8; they must "
                            "agree")
    design = Design("grouped")
    x = design.add("Input", shape=(3, 8, 8))
    conv = design.add("Conv2d", x, groups=2)
    design.add("Output", conv)
    assert "working" not in check(design).problems_for(conv)[0].message


def test_sample_shapes_cover_every_rank_a_rule_reads():
    assert {len(shape) for shape, _ in SAMPLE_SHAPES} >= {1, 2, 3, 4}
    with pytest.raises(ShapeError):
        get_layer("Conv2d").infer([TensorInfo(("N", 8))], get_layer("Conv2d").defaults())
