"""Gradient saliency maps of image classifiers (engine.saliency): equal to a hand computation with
autograd, highest on the pixel a model reads, and refused with a reason for other models."""

import numpy as np
import pytest
import torch
from test_runs import stored_run

from engine import DesignError
from engine.runs import load_models
from engine.saliency import gradient_saliency, run_saliency, why_no_saliency


def test_the_map_is_the_scaled_gradient_of_the_predicted_score():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.ReLU(),
                                torch.nn.Flatten(), torch.nn.Linear(4 * 5 * 6, 3)).eval()
    sample = torch.rand(3, 5, 6)
    image = sample[None].clone().requires_grad_(True)
    scores = model(image)
    predicted = int(scores.argmax())
    scores[0, predicted].backward()
    strength = image.grad[0].abs().amax(dim=0)
    expected = (strength / strength.max() * 255).round().to(torch.uint8).numpy()

    saliency = gradient_saliency(model, sample)
    assert saliency.predicted == predicted
    assert saliency.pixels.dtype == np.uint8 and saliency.pixels.shape == (5, 6)
    assert np.array_equal(saliency.pixels, expected)
    assert saliency.pixels.max() == 255


def test_the_map_is_brightest_on_the_pixel_the_model_reads():
    linear = torch.nn.Linear(2 * 4 * 4, 2, bias=False)
    with torch.no_grad():
        linear.weight.zero_()
        linear.weight[1, 16 + 2 * 4 + 3] = 5.0   # class 1 reads channel 1, row 2, column 3
        linear.weight[0, 0] = 0.1                # class 0 reads another pixel, faintly
    model = torch.nn.Sequential(torch.nn.Flatten(), linear)
    sample = torch.ones(2, 4, 4)
    saliency = gradient_saliency(model, sample)
    assert saliency.predicted == 1
    assert saliency.pixels[2, 3] == 255
    assert np.count_nonzero(saliency.pixels) == 1   # only the read pixel moves class 1's score


def test_a_run_of_the_cnn_template_has_a_map_for_its_own_weights(tmp_path):
    _store, record = stored_run(tmp_path / "net.runs", template="cnn")
    sample = np.random.default_rng(0).random((1, 8, 8), dtype=np.float32)
    saliency = run_saliency(record, sample)
    expected = gradient_saliency(load_models(record)["model"], sample)
    assert np.array_equal(saliency.pixels, expected.pixels)
    assert saliency.pixels.shape == (8, 8) and saliency.pixels.max() == 255
    with pytest.raises(DesignError, match=r"takes \[1, 8, 8\]"):
        run_saliency(record, sample[0])


def test_models_that_are_not_image_classifiers_get_a_reason(tmp_path):
    _store, record = stored_run(tmp_path / "net.runs", template="mlp")
    with pytest.raises(DesignError, match="image inputs"):
        run_saliency(record, np.zeros(64, dtype=np.float32))
    assert why_no_saliency(True, (1, 8, 8), (10,)) is None
    assert "classifiers" in why_no_saliency(False, (1, 8, 8), (10,))
    assert "one score per class" in why_no_saliency(True, (3, 8, 8), (10, 8, 8))
