"""Training settings: defaults, validation naming the field, the file hook, the form schema."""

import json
import re

import pytest

from engine import DesignError, load_design, save_design
from engine.training.settings import TrainingSettings, problems_in, schema, settings_from
from templates import load_template, template_names


def test_missing_settings_take_their_defaults():
    settings = settings_from({"task": "regression", "optimizer": {"lr": 0.1}})
    assert settings.task == "regression"
    assert settings.optimizer.lr == 0.1 and settings.optimizer.name == "adam"
    assert settings.epochs == TrainingSettings().epochs
    assert settings_from({}) == TrainingSettings()


@pytest.mark.parametrize("training, path, words", [
    ({"optimizer": {"lr": -1}}, ".optimizer.lr", "greater than 0"),
    ({"optimizer": {"name": "adagrad"}}, ".optimizer.name", "'sgd', 'adam', 'adamw', 'rmsprop'"),
    ({"epochs": 2.5}, ".epochs", "whole number"),
    ({"epochs": True}, ".epochs", "must be a whole number"),
    ({"data": {"source": "cifar"}}, ".data.source", "must be one of"),
    ({"data": {"image_size": [32]}}, ".data.image_size", "a list of 2 whole numbers"),
    ({"data": {"validation_split": 0.95}}, ".data.validation_split", "at most 0.9"),
    ({"device": "gpu"}, ".device", "cuda:N"),
    ({"early_stopping": {"patience": 0}}, ".early_stopping.patience", "at least 1"),
    ({"optimiser": {}}, ".optimiser", ("training has no setting 'optimiser'; did you mean "
                                       "'optimizer'?")),
    ({"epochz": 5}, ".epochz", "training has no setting 'epochz'; did you mean 'epochs'?"),
    ({"optimizer": {"lrr": 1}}, ".optimizer.lrr", "training.optimizer has no setting 'lrr'"),
    ({"schedule": "cosine"}, ".schedule", "expected an object"),
])
def test_bad_values_are_reported_with_their_path(training, path, words):
    problems = problems_in(training)
    assert problems and problems[0][0] == path and words in problems[0][1]
    with pytest.raises(DesignError, match=re.escape(f"training{path}")):
        settings_from(training)


def test_every_problem_is_listed_at_once():
    with pytest.raises(DesignError) as caught:
        settings_from({"epochs": 0, "batch_size": 0, "seed": -1})
    assert len(caught.value.problems) == 3


def test_a_design_file_with_bad_settings_does_not_load(tmp_path):
    path = tmp_path / "bad.ncnet"
    save_design(load_template("mlp"), path)
    document = json.loads(path.read_text())
    document["training"]["optimizer"]["lr"] = "fast"
    path.write_text(json.dumps(document))
    with pytest.raises(DesignError, match=r"\$\.training\.optimizer\.lr: 'lr' must be a finite number"):
        load_design(path)


@pytest.mark.parametrize("name", template_names())
def test_every_template_has_valid_settings(name):
    settings_from(load_template(name).training)


def test_schema_lists_every_field_with_its_rule():
    fields = schema()
    assert fields["optimizer.lr"].kind == "float" and fields["optimizer.lr"].above == 0
    assert fields["task"].choices == ("classification", "regression", "sequence", "autoencoder",
                                      "gan")
    assert "digits" in fields["data.layout"].sources
    assert fields["data.image_size"].kind == "ints"
    defaults = TrainingSettings().to_dict()
    for path, info in fields.items():
        value = defaults
        for part in path.split("."):
            value = value[part]
        assert value == info.default, path
