"""Issue 13, smaller rooms: a run's prepared parts are frozen, failures are told apart by
their type, and the plan names portable functions by members that must exist."""

import dataclasses

import pytest
from test_training_support import classifier

from engine.design import Design
from engine.errors import DesignError
from engine.training import excerpt
from engine.training.cost import TooLargeForMemory
from engine.training.datacheck import DataError
from engine.training.labels import SettingError
from engine.training.plan import Loss, Portable, make_plan
from engine.training.run_state import decide, prepare
from engine.training.trainer import FAILURE_KINDS, Trainer


def test_every_function_a_plan_names_is_a_portable_definition():
    portable = excerpt.definitions()
    assert [member for member in Portable if member.value not in portable] == []
    assert [loss for loss in Loss if loss.torch_name is None] == [Loss.CLASSIFICATION]


def test_a_plan_holds_members_that_render_as_the_names_the_script_calls():
    plan = make_plan(classifier())
    assert plan.steps_function is Portable.SUPERVISED_STEPS and plan.loss is Loss.CLASSIFICATION
    assert f"{plan.steps_function}(" == "supervised_steps("
    assert all(isinstance(call.function, Portable) for call in plan.data.calls)


def test_several_bad_settings_fail_a_run_as_a_settings_problem():
    design = classifier()
    design.training.update(epochs=0, batch_size=-3)
    with pytest.raises(SettingError, match="the training settings have problems"):
        decide(design)
    final = Trainer(design, lambda message: None).run()
    assert final.error == "settings" and "epochs" in final.reason and "batch_size" in final.reason


def test_failures_are_classified_by_type_subclasses_first():
    kinds = [kind for kind, _ in FAILURE_KINDS]
    assert kinds.index(SettingError) < kinds.index(DesignError)
    for specific in (DataError, TooLargeForMemory, SettingError):
        assert kinds.index(specific) < kinds.index(DesignError)


def test_prepared_parts_are_frozen_and_decide_leaves_the_callers_design_alone():
    design = classifier(epochs=1)
    setup = decide(design, {"epochs": 3})
    assert setup.settings.epochs == 3 and design.training["epochs"] == 1
    state = prepare(setup, run_id=1)
    for part in (state, state.setup, state.data, state.networks, state.watches):
        with pytest.raises(dataclasses.FrozenInstanceError):
            part.setup = None
    assert state.main_model() is state.networks.models["model"]
    assert state.data.batches_per_epoch == len(state.data.sampler) // setup.settings.batch_size


def test_training_and_onnx_export_mean_the_same_network_when_none_is_named():
    assert Design().default_network() == "model"
    assert Design(networks=("encoder",)).default_network() == "encoder"
    assert Design(networks=("generator", "discriminator")).default_network() is None


def test_relus_are_measured_only_until_each_was_warned_about():
    from engine.training.diagnostics import DeadUnitWatch

    watch = DeadUnitWatch(1, {"a": "first relu", "b": "second relu"}, "model")
    relus = {"a": "module a", "b": "module b"}
    assert watch.unflagged(relus) == relus
    assert [d.node for d in watch.check({"a": 0.99, "b": 0.0}, epoch=1)] == ["a"]
    assert watch.unflagged(relus) == {"b": "module b"}
    watch.check({"b": 0.99}, epoch=2)
    assert watch.unflagged(relus) == {}   # no forward pass from here on
