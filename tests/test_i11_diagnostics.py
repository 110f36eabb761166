"""Issue 11, item 4: each training problem gets the right diagnosis and advice that helps.

A diverging loss is "learning rate too high" (lower it) and outranks what it causes (dead
units, vanished gradients, whose advice would be to raise it). Rules are tested on crafted
histories; the end-to-end tests train tiny designs and are marked slow.
"""

import json

import pytest
import torch
from test_training_support import classifier, of_kind, regressor, train
from torch import nn

from engine.training.diagnostics import (
    DIAGNOSTICS_FILE,
    CollapseWatch,
    DeadUnitWatch,
    DiagnosticLog,
    GradientWatch,
    LossWatch,
    OverfitWatch,
    first_pass_dead_fractions,
    headline,
    relu_modules,
)
from engine.training.settings import DiagnosticsSettings
from engine.training.trainer import RunOptions, Trainer
from templates import load_template


def epochs(*losses, **columns):
    return [{"epoch": i + 1, "loss": loss, **{k: v[i] for k, v in columns.items()}}
            for i, loss in enumerate(losses)]


def grow(history):
    """The history as the trainer shows it: one more epoch each time."""
    return [history[:n] for n in range(1, len(history) + 1)]


def test_a_loss_far_above_its_first_value_means_the_learning_rate_is_too_high():
    watch = LossWatch(lr=100.0, optimizer="adam", run=1)
    assert watch.check_steps([2.33, 2.1], epoch=1, step=2) == []
    found = watch.check_steps([3e9, 2e9, 5e8, 400.0, 330.0], epoch=1, step=7)
    assert [d.code for d in found] == ["learning_rate_too_high"]
    assert found[0].severity == "error" and "3e+09" in found[0].message
    assert found[0].fix.startswith("lower Learning rate (Setup > Optimizer)")
    assert "1e-3" in found[0].fix and "raise" not in found[0].fix
    assert watch.check_steps([5e9], epoch=1, step=8) == []   # said once


def test_one_wild_step_is_not_divergence_but_a_loss_risen_by_orders_of_magnitude_is():
    watch = LossWatch(lr=0.01, optimizer="sgd", run=1)
    assert watch.check_steps([1.0, 0.9, 50.0, 0.8, 0.7], epoch=1, step=5) == []
    found = [d for h in grow(epochs(0.5, 0.004, 0.6)) for d in watch.check_epoch(h)]
    assert [(d.code, d.epoch) for d in found] == [("learning_rate_too_high", 3)]
    assert "lowest epoch mean 0.004" in found[0].message
    assert "0.01 to 0.1" in found[0].fix


def test_a_loss_that_barely_moves_means_the_learning_rate_is_too_low():
    watch = LossWatch(lr=1e-6, optimizer="adam", run=1)
    watch.check_steps([2.33], epoch=1, step=1)
    found = [d for h in grow(epochs(2.32, 2.31, 2.31, 2.30)) for d in watch.check_epoch(h)]
    assert [(d.code, d.epoch) for d in found] == [("learning_rate_too_low", 3)]
    assert "barely moved in 3 epochs" in found[0].message and "-0.9%" in found[0].message
    assert found[0].fix.startswith("raise Learning rate (Setup > Optimizer) tenfold")
    healthy = LossWatch(lr=3e-3, optimizer="adam", run=1)
    healthy.check_steps([2.33], epoch=1, step=1)
    assert [d for h in grow(epochs(1.9, 0.8, 0.45, 0.37)) for d in healthy.check_epoch(h)] == []


def test_divergence_outranks_and_silences_what_it_causes():
    log = DiagnosticLog()
    vanished = GradientWatch(DiagnosticsSettings(), run=1).check(
        [{"network": "model", "node": "n2", "name": "hidden1", "norm": 0.0}], epoch=1, step=22)
    diverged = LossWatch(lr=100.0, optimizer="adam", run=1)
    diverged.check_steps([2.3], epoch=1, step=1)
    too_high = diverged.check_epoch(epochs(2.5e8))
    later_vanished = GradientWatch(DiagnosticsSettings(), run=1).check(
        [{"network": "model", "node": "n5", "name": "hidden2", "norm": 0.0}], epoch=2, step=44)
    stalled = LossWatch(lr=100.0, optimizer="adam", run=1, first=2.3).check_epoch(
        epochs(2.3, 2.3, 2.3))
    assert [log.admit(d) for d in vanished + too_high + later_vanished + stalled] == [
        True, True, False, False]
    assert [d.code for d in log.raised] == ["vanishing_gradients", "learning_rate_too_high"]
    assert headline(log.raised).code == "learning_rate_too_high"
    assert "raise the learning rate" in vanished[0].fix   # advice only a cause may overrule


def test_exploding_and_vanishing_gradients_name_the_layer_and_advise_opposite_ways():
    found = GradientWatch(DiagnosticsSettings(vanishing=1e-6, exploding=100.0), run=1).check(
        [{"network": "model", "node": "n2", "name": "first", "norm": 1e-9},
         {"network": "model", "node": "n4", "name": "last", "norm": float("inf")}], 1, 10)
    vanishing, exploding = found
    assert (vanishing.code, vanishing.node) == ("vanishing_gradients", "n2")
    assert "BatchNorm or skip connections" in vanishing.fix
    assert (exploding.code, exploding.node) == ("exploding_gradients", "n4")
    assert exploding.fix.startswith("lower the learning rate")
    assert "Clip gradients at (Setup > Optimizer)" in exploding.fix
    assert headline(found) is exploding


def test_overfitting_advises_regularising_and_names_the_early_stopping_control():
    watch = OverfitWatch(epochs=2, run=1)
    history = epochs(1.0, 0.7, 0.5, 0.3, val_loss=[1.0, 0.9, 1.0, 1.2])
    found = [d for h in grow(history) for d in watch.check(h)]
    assert [(d.code, d.data["since_epoch"]) for d in found] == [("overfitting", 3)]
    assert "Dropout or weight decay" in found[0].fix
    assert "Early stopping (Setup > Length)" in found[0].fix
    assert "training." not in found[0].fix


def test_mode_collapse_advises_the_discriminator_steps_by_their_label():
    found = CollapseWatch(below=0.1, run=1).check(4, diversity=0.03, accuracy=0.97)
    assert found[0].code == "mode_collapse" and "97%" in found[0].message
    assert "D steps per G step (Setup > GAN)" in found[0].fix


def test_relus_that_never_fire_on_the_first_batch_are_dead_and_the_hooks_go_after():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU())
    with torch.no_grad():
        model[2].bias.fill_(-100.0)        # the second ReLU can never fire
    model.node_of_module = {"0": "n1", "1": "n2", "2": "n3", "3": "n4"}
    relus = relu_modules(model)
    assert list(relus) == ["n2", "n4"]
    with torch.no_grad(), first_pass_dead_fractions(relus) as fractions:
        model(torch.randn(64, 4))
        model[0].weight.zero_()
        model[0].bias.fill_(-1.0)          # from now on n2 never fires either...
        model(torch.randn(64, 4))          # ...but only the first batch counts
    assert fractions["n4"] == 1.0 and 0 <= fractions["n2"] < 0.5
    assert not model[1]._forward_hooks and not model[3]._forward_hooks
    found = DeadUnitWatch(1, {"n2": "relu1", "n4": "relu2"}, "model").check(fractions, 3)
    assert [(d.code, d.node) for d in found] == [("dead_relus", "n4")]
    assert "100% of the units of 'relu2'" in found[0].message
    assert "LeakyReLU" in found[0].fix and found[0].fix.startswith("lower the learning rate")


def test_each_validation_measures_the_relus_not_yet_warned_about_on_its_first_batch():
    trainer = Trainer(load_template("mlp"), lambda event: None,
                      RunOptions(overrides={"epochs": 1}))
    trainer._prepare()
    relus = trainer.state.watches.relus
    assert relus
    dead = trainer._validate({})["dead"]
    assert set(dead) == set(relus) and all(0.0 <= share <= 1.0 for share in dead.values())
    trainer.state.watches.dead.check(dict.fromkeys(relus, 1.0), 1)   # each one warned about
    assert trainer._validate({})["dead"] == {}
    assert not any(module._forward_hooks for module in relus.values())


@pytest.mark.slow
def test_the_mlp_at_learning_rate_100_is_told_to_lower_it_and_the_run_folder_keeps_it(
        tmp_path):
    design = load_template("mlp")
    design.set_training(epochs=2, optimizer={"name": "adam", "lr": 100.0})
    events, final = train(design, out=tmp_path)
    codes = [d.code for d in of_kind(events, "diagnostic")]
    assert final.kind == "finished" and codes[0] == "learning_rate_too_high"
    assert not {"vanishing_gradients", "dead_relus", "learning_rate_too_low"} & set(codes)
    assert headline(of_kind(events, "diagnostic")).code == "learning_rate_too_high"
    kept = json.loads((tmp_path / DIAGNOSTICS_FILE).read_text())
    assert [d["code"] for d in kept] == codes
    assert kept[0]["fix"].startswith("lower Learning rate")


@pytest.mark.slow
def test_a_tiny_learning_rate_and_a_nan_loss_are_diagnosed_end_to_end(tmp_path):
    events, final = train(classifier(epochs=3, optimizer={"name": "adam", "lr": 1e-7}))
    assert final.kind == "finished"
    assert [d.code for d in of_kind(events, "diagnostic")] == ["learning_rate_too_low"]
    events, final = train(regressor(epochs=1, optimizer={"name": "sgd", "lr": 1e12}),
                          out=tmp_path)
    assert final.kind == "failed" and final.error == "non_finite_loss"
    assert "Clip gradients at (Setup > Optimizer)" in final.reason
    assert "training." not in final.reason
    kept = json.loads((tmp_path / DIAGNOSTICS_FILE).read_text())
    assert kept[-1]["code"] == "non_finite_loss"
