"""Each recipe learns on small data; runs are repeatable, resumable and stop early."""

import json
import os

import pytest
import torch
from safetensors.torch import load_file
from test_training_support import (
    RECIPES,
    classifier,
    forecaster,
    of_kind,
    read_metrics,
    regressor,
    train,
)

pytestmark = pytest.mark.slow  # every test trains

LOSS_OF = {"gan": "d_loss"}


@pytest.mark.parametrize("recipe", sorted(RECIPES))
def test_each_recipe_learns_and_records_its_metrics(recipe, tmp_path):
    design = RECIPES[recipe]()
    events, final = train(design, tmp_path)
    assert final.kind == "finished", getattr(final, "reason", "")
    epochs = of_kind(events, "epoch")
    assert [e.epoch for e in epochs] == list(range(1, design.training["epochs"] + 1))
    rows = read_metrics(tmp_path / "metrics.csv")
    assert len(rows) == len(epochs)
    if recipe == "gan":
        assert {"d_loss", "g_loss", "d_accuracy", "diversity", "modes_covered"} <= set(rows[0])
        assert of_kind(events, "samples")[-1].generated.shape == (512, 2)
        return
    assert rows[-1]["loss"] < rows[0]["loss"]
    assert rows[-1]["val_loss"] < rows[0]["val_loss"]
    expected = {"classification": "val_accuracy", "regression": "val_mae", "sequence": "val_mse",
                "characters": "val_accuracy", "autoencoder": "val_relative_mse"}[recipe]
    assert expected in rows[-1]
    assert of_kind(events, "batch")[0].values["loss"]
    assert json.loads((tmp_path / "summary.json").read_text())["status"] == "completed"
    assert (tmp_path / "last" / f"{design.networks[0]}.safetensors").is_file()


def test_validation_reports_confusion_and_per_class_accuracy():
    events, _ = train(classifier(epochs=2))
    validation = of_kind(events, "validation")[-1]
    assert validation.confusion.shape == (3, 3)
    assert validation.confusion.sum() == 102  # 20% of 512 samples
    accuracy = validation.confusion.trace() / validation.confusion.sum()
    assert validation.metrics["val_accuracy"] == pytest.approx(accuracy)
    assert len(validation.per_class) == 3
    assert validation.labels == ["0", "1", "2"]


def test_same_seed_gives_the_same_curve_and_another_seed_does_not():
    first = read_losses(train(classifier(seed=3))[0])
    again = read_losses(train(classifier(seed=3))[0])
    other = read_losses(train(classifier(seed=4))[0])
    assert first == again
    assert first != other


def read_losses(events):
    return [e.metrics["loss"] for e in of_kind(events, "epoch")]


@pytest.mark.parametrize("make", [classifier, forecaster])
def test_resume_from_a_checkpoint_continues_the_same_curve(make, tmp_path):
    whole, _ = train(make(epochs=4), tmp_path / "whole")
    train(make(epochs=2), tmp_path / "half")
    checkpoint = tmp_path / "half" / "checkpoints" / "epoch-0002"
    resumed, final = train(make(epochs=4), tmp_path / "resumed", resume=str(checkpoint))
    assert final.kind == "finished"
    assert of_kind(resumed, "started")[0].first_epoch == 3
    assert [e.epoch for e in of_kind(resumed, "epoch")] == [3, 4]
    assert read_losses(resumed) == read_losses(whole)[2:]
    assert [e.metrics for e in of_kind(resumed, "validation")] == \
        [e.metrics for e in of_kind(whole, "validation")][2:]


def test_checkpoint_holds_weights_optimizer_state_and_record(tmp_path):
    import torch

    train(classifier(epochs=2), tmp_path)
    folder = tmp_path / "checkpoints" / "epoch-0002"
    weights = load_file(folder / "model.safetensors")
    assert set(weights) == {"hidden.weight", "hidden.bias", "scores.weight", "scores.bias"}
    state = torch.load(folder / "state.pt", weights_only=True)
    assert state["optimizers"][0]["state"]
    record = json.loads((folder / "record.json").read_text())
    assert record["epoch"] == 2 and len(record["history"]) == 2


def test_early_stopping_stops_and_keeps_the_best_weights(tmp_path):
    # A learning rate far too high makes the validation loss stall at once.
    design = regressor(epochs=30, optimizer={"name": "sgd", "lr": 0.5, "momentum": 0.9},
                       early_stopping={"enabled": True, "patience": 2})
    _, final = train(design, tmp_path)
    assert final.status == "early_stopped"
    rows = read_metrics(tmp_path / "metrics.csv")
    assert len(rows) < 30
    best = min(rows, key=lambda r: r["val_loss"])
    assert final.best_epoch == best["epoch"]
    assert len(rows) == best["epoch"] + 2
    assert final.weights["model"].endswith("best/model.safetensors")
    # last/ holds the weights training ended with (the last checkpoint's, linked), not the best
    last_checkpoint = tmp_path / "checkpoints" / f"epoch-{len(rows):04d}"
    last, kept = (load_file(tmp_path / folder / "model.safetensors") for folder in ("last", "best"))
    assert _same_file(tmp_path / "last" / "model.safetensors",
                      last_checkpoint / "model.safetensors")
    assert any(not torch.equal(last[key], kept[key]) for key in last)
    assert all(torch.equal(kept[key], value) for key, value in
               load_file(last_checkpoint / "best-model.safetensors").items())


def test_a_finished_run_links_its_final_weights_instead_of_copying_them(tmp_path):
    _, final = train(regressor(epochs=3, optimizer={"name": "adam", "lr": 0.002}), tmp_path)
    assert final.best_epoch == 3   # the validation loss still falls at the last epoch
    last = tmp_path / "last" / "model.safetensors"
    assert _same_file(last, tmp_path / "checkpoints" / "epoch-0003" / "model.safetensors")
    assert _same_file(tmp_path / "best" / "model.safetensors", last)


def _same_file(one, other) -> bool:
    return os.stat(one).st_ino == os.stat(other).st_ino


def test_schedules_change_the_learning_rate_and_report_it():
    events, _ = train(classifier(epochs=3, schedule={"name": "step", "step_size": 1,
                                                     "gamma": 0.5}))
    changes = of_kind(events, "lr_change")
    assert [c.lr for c in changes] == [0.005, 0.0025, 0.00125]
    events, _ = train(classifier(epochs=3, schedule={"name": "cosine"}))
    assert of_kind(events, "lr_change")[-1].lr == pytest.approx(0.0)


@pytest.mark.parametrize("optimizer", [{"name": "sgd", "nesterov": True, "lr": 0.1},
                                       {"name": "adamw", "weight_decay": 0.01},
                                       {"name": "rmsprop", "lr": 0.005}])
def test_every_optimizer_trains(optimizer):
    events, final = train(classifier(optimizer=optimizer, grad_clip=1.0))
    losses = read_losses(events)
    assert final.kind == "finished" and losses[-1] < losses[0]


def test_started_event_reports_settings_data_and_cost():
    events, _ = train(classifier(epochs=1))
    started = of_kind(events, "started")[0]
    assert started.settings["optimizer"]["lr"] == 0.01
    assert started.data["train_samples"] + started.data["val_samples"] == 512
    assert started.cost["parameters"] == 8 * 32 + 32 + 32 * 3 + 3
    assert started.cost["flops_per_sample"] == 2 * (8 * 32 + 32 * 3)
    assert started.cost["activation_bytes"] == 32 * 4 * (32 + 32 + 3)
    assert started.batches_per_epoch == (512 - 102) // 32


@pytest.mark.parametrize("clip_norm", [0.0, 1e-3])
def test_gan_steps_clip_each_networks_gradients_when_asked(clip_norm):
    """training.grad_clip reaches the GAN loop too: with SGD at lr 1, no parameter moves
    further than the clipped gradient norm."""
    import torch
    from torch import nn

    from engine.training.portable.steps import gan_steps

    torch.manual_seed(0)
    generator, discriminator = nn.Linear(2, 2), nn.Linear(2, 1)
    before = [p.detach().clone() for m in (generator, discriminator) for p in m.parameters()]
    optimizers = [torch.optim.SGD(m.parameters(), lr=1.0) for m in (generator, discriminator)]
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    real = torch.randn(64, 2) * 10
    list(gan_steps((generator, discriminator), optimizers, [(real,)], (2,), 1, clip_norm,
                   None, scaler))
    after = [p.detach() for m in (generator, discriminator) for p in m.parameters()]
    moves = [torch.cat([(a - b).flatten() for a, b in zip(after[i:j], before[i:j])]).norm()
             for i, j in ((0, 2), (2, 4))]
    if clip_norm:
        assert all(move <= clip_norm * 1.001 for move in moves)
    else:
        assert all(move > 0.01 for move in moves)
