"""The shape rules several layers share (engine.layers.base): one wording wherever they apply."""

import pytest

from engine.errors import ShapeError
from engine.layers import TensorInfo, get_layer

IMAGE = TensorInfo(("N", 3, 8, 8))


def _refusal(layer: str, inputs: list[TensorInfo], **params) -> ShapeError:
    spec = get_layer(layer)
    with pytest.raises(ShapeError) as caught:
        spec.infer(inputs, {**spec.defaults(), **params})
    return caught.value


@pytest.mark.parametrize("layer, inputs, action", [
    ("Concat", [IMAGE, IMAGE], "join along"),
    ("Slice", [IMAGE], "index"),
    ("Select", [IMAGE], "index"),
    ("Unflatten", [TensorInfo(("N", 12))], "split"),
])
@pytest.mark.parametrize("dim", [0, -4])
def test_a_layer_working_within_samples_refuses_the_batch_dimension(layer, inputs, action, dim):
    rank = inputs[0].rank
    error = _refusal(layer, inputs, dim=dim if dim >= 0 else -rank)
    assert str(error).startswith(f"{layer} must not {action} the batch dimension (dim 0)")


def test_a_dim_that_does_not_exist_is_named_before_the_batch_rule():
    error = _refusal("Slice", [IMAGE], dim=7)
    assert "dim 7 does not exist in a 4-D tensor" in str(error)


@pytest.mark.parametrize("layer, inputs, layout", [
    ("Conv2d", [TensorInfo(("N", 12))], "a 4-D tensor ((N, channels, height, width))"),
    ("Conv3d", [IMAGE], "a 5-D tensor ((N, channels, depth, height, width))"),
    ("MaxPool1d", [IMAGE], "a 3-D tensor ((N, channels, length))"),
    ("AdaptiveAvgPool2d", [TensorInfo(("N", 12))], "a 4-D tensor ((N, channels, height, width))"),
    ("Upsample", [TensorInfo(("N", 12))],
     "a 3-D tensor or a 4-D tensor or a 5-D tensor ((N, channels, length) or (N, channels, "
     "height, width) or (N, channels, depth, height, width))"),
])
def test_sliding_layers_name_the_channels_first_layout_they_expect(layer, inputs, layout):
    assert f"{layer} expects {layout} but receives" in str(_refusal(layer, inputs))
