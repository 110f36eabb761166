"""Every catalogue layer exports to code that builds the same module and computes the same."""

import subprocess
import sys

import pytest
import torch
from test_codegen_helpers import load_exported, outputs, sample_inputs, single_thread

import engine
from engine import Design
from engine.codegen.export import export_script
from engine.errors import ShapeError
from engine.layers import TensorInfo, all_layers

pytestmark = pytest.mark.usefixtures(single_thread.__name__)
SAMPLE_SHAPES = [((3, 8, 8), "float"), ((4, 12), "float"), ((6,), "float"),
                 ((2, 4, 6, 6), "float"), ((64,), "float"), ((12,), "long")]
LAYERS = [spec for spec in all_layers() if spec.name not in ("Input", "Output")]


def one_layer_design(spec) -> Design:
    """Input -> the layer (every input port fed by the Input) -> Output, on the first sample
    shape the layer accepts with its default parameters."""
    ports = max(spec.min_inputs, 2 if spec.max_inputs is None else spec.max_inputs)
    for shape, dtype in SAMPLE_SHAPES:
        try:
            spec.infer([TensorInfo(("N", *shape), dtype)] * ports, spec.defaults())
        except ShapeError:
            continue
        design = Design(spec.name)
        x = design.add("Input", shape=shape, dtype=dtype)
        design.add("Output", design.add(spec.name, *[x] * ports))
        return design
    raise AssertionError(f"no sample shape fits {spec.name}")


def test_every_layer_exports_faithfully(tmp_path):
    for spec in LAYERS:
        design = one_layer_design(spec)
        script = export_script(design)
        namespace = load_exported(script.code, tmp_path, f"{spec.name.lower()}.py")
        built = engine.build_model(design).eval()
        exported = namespace[script.classes["model"]]().eval()
        assert list(exported.state_dict()) == list(built.state_dict()), spec.name
        exported.load_state_dict(built.state_dict(), strict=True)
        inputs = sample_inputs(design)
        for mine, theirs in zip(outputs(exported, inputs), outputs(built, inputs), strict=True):
            assert torch.equal(mine, theirs), spec.name
    for command in (["format", "--check"], ["check"]):
        result = subprocess.run([sys.executable, "-m", "ruff", *command, "--isolated",
                                 str(tmp_path)], capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stdout[-3000:]
