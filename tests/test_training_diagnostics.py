"""Diagnostics: overfitting, vanishing and exploding gradients, mode collapse, samples."""

import pytest
from test_training_support import autoencoder, char_model, forecaster, gan, of_kind, train

from engine import Design
from engine.training.diagnostics import CollapseWatch, GradientWatch, OverfitWatch
from engine.training.settings import DiagnosticsSettings


def rows(losses, val_losses):
    return [{"epoch": i + 1, "loss": a, "val_loss": b}
            for i, (a, b) in enumerate(zip(losses, val_losses, strict=True))]


def test_overfitting_is_flagged_once_with_the_epoch_it_began():
    watch = OverfitWatch(epochs=3, run=7)
    history = rows([1.0, 0.8, 0.6, 0.5, 0.4, 0.3], [1.0, 0.9, 0.95, 1.0, 1.1, 1.2])
    found = [d for n in range(1, len(history) + 1) for d in watch.check(history[:n])]
    assert len(found) == 1
    assert found[0].code == "overfitting" and found[0].data["since_epoch"] == 3
    assert "since epoch 3" in found[0].message and "Dropout" in found[0].fix
    assert not OverfitWatch(3, 0).check(rows([1, 0.9, 0.8, 0.7], [1, 0.9, 0.8, 0.7]))


def test_gradient_bounds_name_the_layer_once_per_state():
    watch = GradientWatch(DiagnosticsSettings(vanishing=1e-6, exploding=100.0), run=1)
    layers = [{"network": "model", "node": "n2", "name": "hidden", "norm": 1e-9},
              {"network": "model", "node": "n4", "name": "scores", "norm": 500.0},
              {"network": "model", "node": "n5", "name": "ok", "norm": 1.0}]
    found = watch.check(layers, epoch=1, step=10)
    assert [(d.code, d.node, d.network) for d in found] == [
        ("vanishing_gradients", "n2", "model"), ("exploding_gradients", "n4", "model")]
    assert "'hidden'" in found[0].message and "Clip gradients at" in found[1].fix
    assert watch.check(layers, epoch=2, step=20) == []


@pytest.mark.slow
def test_deep_sigmoid_stack_reports_a_vanishing_gradient_on_its_first_layer():
    d = Design()
    h = d.add("Input", shape=(8,))
    for k in range(12):
        h = d.add("Sigmoid", d.add("Linear", h, out_features=8, name=f"dense{k}"),
                  name=f"squash{k}")
    d.add("Output", d.add("Linear", h, out_features=3, name="scores"))
    d.set_training(data={"source": "generated", "samples": 256}, epochs=1, batch_size=32,
                   diagnostics={"vanishing": 1e-4})
    events, _ = train(d)
    norms = {layer["name"]: layer["norm"] for layer in of_kind(events, "gradients")[-1].layers}
    assert norms["dense0"] < norms["scores"] / 1000
    flagged = [e for e in of_kind(events, "diagnostic") if e.code == "vanishing_gradients"]
    assert flagged and flagged[0].node == d.find("dense0")


def test_mode_collapse_is_flagged_when_diversity_falls():
    watch = CollapseWatch(below=0.1, run=0)
    assert watch.check(1, diversity=0.8, accuracy=0.6) == []
    found = watch.check(2, diversity=0.02, accuracy=0.99)
    assert found and found[0].code == "mode_collapse" and "99%" in found[0].message
    assert watch.check(3, diversity=0.01, accuracy=0.99) == []


@pytest.mark.slow
def test_samples_for_gans_autoencoders_text_and_series():
    gan_events, _ = train(gan(epochs=1))
    points = of_kind(gan_events, "samples")[-1]
    assert points.form == "points" and points.generated.shape == (512, 2)
    ae_events, _ = train(autoencoder(epochs=1))
    pictures = of_kind(ae_events, "samples")[-1]
    assert pictures.inputs.shape == pictures.outputs.shape == (16, 64)
    assert pictures.latent.shape[1] == 2 and len(pictures.latent_labels) == len(pictures.latent)
    text_events, _ = train(char_model(epochs=1))
    assert len(of_kind(text_events, "samples")[-1].text) == 16 + 160
    series = of_kind(train(forecaster(epochs=1))[0], "samples")[-1]
    assert series.form == "series" and series.outputs.shape == (4, 1)
