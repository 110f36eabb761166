"""Fused optimizers: where torch has a fused kernel (SGD, Adam, AdamW) the app and the exported
script both ask for it; an optimizer without one (RMSprop) is built as before."""

from __future__ import annotations

import pytest
from test_training_support import classifier, gan, train

from engine.training import script
from engine.training.checkpoint import latest_checkpoint, load_checkpoint
from engine.training.plan import make_plan, optimizer_spec
from engine.training.settings import settings_from
from templates import load_template


@pytest.mark.parametrize(("optimizer", "fused"), [("sgd", True), ("adam", True),
                                                  ("adamw", True), ("rmsprop", False)])
def test_the_optimizer_is_fused_where_torch_has_a_fused_kernel(optimizer, fused):
    design = classifier(optimizer={"name": optimizer})
    _, options = optimizer_spec(make_plan(design, settings_from(design.training)))
    assert ("fused" in options) == fused
    assert options.get("fused", True) is True


def _saved_groups(out) -> list[dict]:
    state = load_checkpoint(latest_checkpoint(out / "checkpoints")).state
    return [group for optimizer in state["optimizers"] for group in optimizer["param_groups"]]


@pytest.mark.parametrize(("design", "fused"), [(classifier(epochs=1), True),
                                               (gan(epochs=1), True),
                                               (classifier(epochs=1,
                                                           optimizer={"name": "rmsprop"}), False)])
def test_a_run_trains_with_the_fused_optimizer(design, fused, tmp_path):
    _, final = train(design, tmp_path)
    assert final.kind == "finished", getattr(final, "reason", "")
    groups = _saved_groups(tmp_path)
    assert groups and all(bool(group.get("fused")) == fused for group in groups)


@pytest.mark.parametrize("name", ["mlp", "gan"])
def test_the_exported_script_asks_for_the_same_optimizer(name):
    design = load_template(name)
    program = script.render_training_program(design, {n: "Net" for n in design.networks})
    calls = program.body.count("torch.optim.Adam(")
    assert calls == len(design.networks)
    assert program.body.count("fused=True") == calls
