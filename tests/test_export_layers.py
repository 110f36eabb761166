"""Every catalogue layer exports to code that builds the same module and computes the same."""

import subprocess
import sys

import pytest
import torch
from layer_samples import one_layer_design
from test_codegen_helpers import load_exported, outputs, sample_inputs, single_thread

import engine
from engine.codegen.export import export_script
from engine.layers import all_layers

pytestmark = pytest.mark.usefixtures(single_thread.__name__)
LAYERS = [spec for spec in all_layers() if spec.name not in ("Input", "Output")]


def test_every_layer_exports_faithfully(tmp_path):
    for spec in LAYERS:
        design, _ = one_layer_design(spec)
        script = export_script(design)
        namespace = load_exported(script.code, tmp_path, f"{spec.name.lower()}.py")
        built = engine.build_model(design).eval()
        exported = namespace[script.classes["model"]]().eval()
        assert list(exported.state_dict()) == list(built.state_dict()), spec.name
        exported.load_state_dict(built.state_dict(), strict=True)
        inputs = sample_inputs(design)
        for mine, theirs in zip(outputs(exported, inputs), outputs(built, inputs), strict=True):
            # bit for bit, NaN included (Power, log and sqrt of the sample's negative values)
            torch.testing.assert_close(mine, theirs, rtol=0, atol=0, equal_nan=True,
                                       msg=spec.name)
    for command in (["format", "--check"], ["check"]):
        result = subprocess.run([sys.executable, "-m", "ruff", *command, "--isolated",
                                 str(tmp_path)], capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stdout[-3000:]
