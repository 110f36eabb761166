"""Issue 11 item 20, judged on new counts: a count of one reads "1 epoch" in the overfitting
warning (Overfitting after = 1) and in the exported script's early-stopping line
(Patience = 1), not "1 epochs"."""

from __future__ import annotations

from engine.training.diagnostics import OverfitWatch
from engine.training.script import render_training_program
from templates import load_template


def test_overfitting_after_one_epoch_says_one_epoch():
    watch = OverfitWatch(epochs=1, run=1)
    history = [{"epoch": 1, "loss": 1.0, "val_loss": 1.0},
               {"epoch": 2, "loss": 0.5, "val_loss": 2.0}]
    [warning] = watch.check(history)
    assert "risen for 1 epoch (to 2)" in warning.message


def test_the_exported_scripts_early_stop_with_patience_one_says_one_epoch():
    design = load_template("mlp")
    design.set_training(early_stopping={"enabled": True, "patience": 1})
    code = render_training_program(design, {"model": "Model"}).body
    assert 'print("stopping early: no progress in 1 epoch")' in code
    assert "1 epochs" not in code
