"""Exported files: clean, stable, faithful to build_model, and runnable with plain python."""

import ast
import os
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file
from test_codegen_helpers import load_exported, outputs, ruff_problems, sample_inputs, single_thread

import engine
from engine import Design
from engine.codegen.export import export_script, generate_code
from templates import load_template, template_names

pytestmark = pytest.mark.usefixtures(single_thread.__name__)



def branching_design() -> Design:
    """Two convolution branches joined by Concat, a skip connection joined by Add."""
    d = Design("branches")
    image = d.add("Input", shape=(3, 8, 8), name="image")
    left = d.add("Conv2d", image, out_channels=4, kernel_size=3, padding=1, name="left")
    right = d.add("Conv2d", image, out_channels=4, kernel_size=1, name="right")
    joined = d.add("Concat", left, right, name="joined")
    mixed = d.add("Conv2d", joined, out_channels=8, kernel_size=3, padding=1, name="mixed")
    act = d.add("ReLU", mixed, name="act")
    skip = d.add("Add", act, joined, name="skip")
    pooled = d.add("Mean", skip, dims=(2, 3), name="pooled")
    scores = d.add("Linear", pooled, out_features=10, name="scores")
    d.add("Output", scores, name="digit")
    d.set_training(task="classification")
    return d


def nested_design() -> Design:
    """Dotted names put modules in containers: encoder.0.conv -> self.encoder[0].conv."""
    d = Design("nested")
    x = d.add("Input", shape=(2, 6, 6), name="x")
    for index in range(2):
        x = d.add("Conv2d", x, out_channels=4, kernel_size=3, padding=1,
                  name=f"encoder.{index}.conv")
        x = d.add("BatchNorm2d", x, name=f"encoder.{index}.norm")
        x = d.add("ReLU", x, name=f"encoder.{index}.act")
    x = d.add("Flatten", x, name="flatten")
    x = d.add("Linear", x, out_features=3, name="head.fc")
    d.add("Output", x, name="out")
    d.set_training(task="classification")
    return d


DESIGNS = {**{name: (lambda name=name: load_template(name)) for name in template_names()},
           "branching": branching_design, "nested": nested_design}


@pytest.mark.parametrize("name", list(DESIGNS))
def test_export_is_stable_clean_python(name):
    design = DESIGNS[name]()
    code = generate_code(design)
    assert code == generate_code(DESIGNS[name]())
    ast.parse(code)
    assert ruff_problems(code) == []


@pytest.mark.parametrize("name", list(DESIGNS))
def test_exported_classes_match_build_model_exactly(name, tmp_path):
    design = DESIGNS[name]()
    script = export_script(design)
    namespace = load_exported(script.code, tmp_path)
    for network, class_name in script.classes.items():
        built = engine.build_model(design, network).eval()
        exported = namespace[class_name]().eval()
        assert list(exported.state_dict()) == list(built.state_dict())
        exported.load_state_dict(built.state_dict(), strict=True)
        inputs = sample_inputs(design, network)
        for mine, theirs in zip(outputs(exported, inputs), outputs(built, inputs), strict=True):
            assert torch.equal(mine, theirs)


def test_nested_names_give_nested_state_dict_keys():
    keys = list(engine.build_model(nested_design()).state_dict())
    assert "encoder.1.conv.weight" in keys and "head.fc.bias" in keys
    assert "self.encoder[1].conv = nn.Conv2d(4, 4, 3, padding=1)" in generate_code(
        nested_design())


# Runs each script as `python train.py --epochs 1 ...` would, in one interpreter (starting
# Python and torch once instead of once per design).
_DRIVER = """
import runpy, sys
for folder in sys.argv[1:]:
    sys.argv = ["train.py", "--epochs", "1", "--batch-size", "256", "--out", folder + "/run"]
    print("training", folder, flush=True)
    runpy.run_path(folder + "/train.py", run_name="__main__")
"""


@pytest.mark.slow
def test_exported_scripts_train_one_epoch_with_plain_python(tmp_path):
    folders = []
    for name, make in DESIGNS.items():
        script = export_script(make())
        folder = tmp_path / name
        folder.mkdir()
        (folder / "train.py").write_text(script.code, encoding="utf-8")
        for asset, text in script.assets.items():
            (folder / asset).write_text(text, encoding="utf-8")
        folders.append(str(folder))
    one_thread = {**os.environ, "OMP_NUM_THREADS": "1"}  # two test workers share two cores
    result = subprocess.run([sys.executable, "-c", _DRIVER, *folders], env=one_thread,
                            capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout[-1000:] + result.stderr[-3000:]
    for name, make in DESIGNS.items():
        design = make()
        for network in design.networks:
            weights = load_file(tmp_path / name / "run" / f"{network}.safetensors")
            engine.build_model(design, network).load_state_dict(weights, strict=True)


def test_the_readmes_example_export_is_what_the_exporter_writes_today():
    """The README quotes the model class `neuralcanvas export templates/cnn.ncnet` writes: the
    quote must be what the exporter writes today (copy it again when the exporter changes)."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    quoted = re.search(r"its model part reads:\n\n```python\n(.*?)```", readme, re.S)
    assert quoted, "the README quotes the exported cnn model"
    assert quoted.group(1) in generate_code(load_template("cnn"))
