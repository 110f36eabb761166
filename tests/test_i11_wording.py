"""Issue 11, item 20: messages name a training setting by the Setup form's label, never by its
key in the design file, and counts read right ("1 epoch")."""

import ast
import re
from pathlib import Path

import pytest
from test_training_support import classifier, gan, train

from engine.errors import DesignError
from engine.training.labels import SettingError, setting_label, setting_place
from engine.training.plan import make_plan
from engine.training.settings import schema, settings_from
from engine.wording import count_of

ROOT = Path(__file__).resolve().parents[1]
FILE_KEY = re.compile(r"(?<![\w.])training\.[a-z_]")


def test_every_setting_has_a_label_and_a_place_on_the_setup_form():
    assert setting_place("data.layout") == "Layout (Setup > Task and data)"
    assert setting_place("optimizer.lr") == "Learning rate (Setup > Optimizer)"
    assert setting_place("gan.d_steps") == "D steps per G step (Setup > GAN)"
    for path in schema():
        assert setting_label(path) and "_" not in setting_label(path)


@pytest.mark.parametrize(("training", "setting", "words"), [
    ({"data": {"source": "csv", "path": __file__}}, "data.target",
     "Target (Setup > Task and data) is not set"),
    ({"data": {"source": "npz", "path": "/nowhere/x.npz"}}, "data.path",
     "File or folder (Setup > Task and data): there is no file /nowhere/x.npz"),
    ({"loss": "mse"}, "loss", "Loss (Setup > Task and data) is 'mse', but classification"),
])
def test_a_setting_that_stops_a_run_is_named_by_its_label(training, setting, words):
    design = classifier(**training)
    with pytest.raises(SettingError) as raised:
        make_plan(design, settings_from(design.training))
    assert raised.value.path == setting and words in str(raised.value)
    assert not FILE_KEY.search(str(raised.value))


def test_a_gan_with_early_stopping_is_told_which_control_to_turn_off():
    design = gan(early_stopping={"enabled": True})
    with pytest.raises(SettingError, match=r"^Early stopping \(Setup > Length\) watches"):
        make_plan(design, settings_from(design.training))


@pytest.mark.slow
def test_a_run_stopped_by_a_setting_fails_as_a_settings_problem_in_its_words():
    _events, final = train(classifier(data={"source": "npz", "path": "/nowhere/x.npz"}))
    assert final.kind == "failed" and final.error == "settings"
    assert final.reason.startswith("File or folder (Setup > Task and data)")


def test_no_message_in_the_code_names_a_setting_by_its_file_key():
    """Docstrings may explain the file format; strings people read may not."""
    found = []
    for folder in ("engine", "designer"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                          if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef,
                                               ast.AsyncFunctionDef))
                          and node.body and isinstance(node.body[0], ast.Expr)}
            found += [f"{path.relative_to(ROOT)}:{node.lineno}: {node.value[:60]!r}"
                      for node in ast.walk(tree)
                      if isinstance(node, ast.Constant) and isinstance(node.value, str)
                      and id(node) not in docstrings and FILE_KEY.search(node.value)]
    assert found == []


def test_counts_read_right():
    assert [count_of(n, "epoch") for n in (0, 1, 2)] == ["0 epochs", "1 epoch", "2 epochs"]
    assert count_of(1, "other diagnostic") == "1 other diagnostic"
    assert issubclass(SettingError, DesignError)
