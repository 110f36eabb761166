"""`neuralcanvas import PYFILE:CLASS`: a design file (and weights); bad input exits 2."""

import textwrap

import pytest
import torch
from safetensors.torch import load_file
from test_codegen_helpers import single_thread

import engine
from engine import cli

pytestmark = pytest.mark.usefixtures(single_thread.__name__)

MODELS = textwrap.dedent('''
    import torch
    from torch import nn


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU())
            self.head = nn.Linear(4 * 6 * 6, 2)
            self.spare = nn.Linear(1, 1)

        def forward(self, x):
            return self.head(torch.flatten(self.features(x), 1))


    class NeedsArguments(nn.Module):
        def __init__(self, width):
            super().__init__()


    class Strange(nn.Module):
        def forward(self, x):
            return torch.fft.fft(x).real


    NOT_A_MODULE = 3
''')


@pytest.fixture
def models(tmp_path):
    path = tmp_path / "models.py"
    path.write_text(MODELS, encoding="utf-8")
    return path


def test_import_writes_a_design_and_the_weights(models, tmp_path, capsys):
    out, weights = tmp_path / "net.ncnet", tmp_path / "net.safetensors"
    assert cli.main(["import", f"{models}:Net", "--input-shape", "3,8,8", "-o", str(out),
                     "--weights", str(weights)]) == 0
    printed = capsys.readouterr().out
    assert "imported Net" in printed and "spare" in printed
    design = engine.load_design(out)
    model = engine.build_model(design)
    model.load_state_dict(load_file(weights), strict=True)
    assert model(torch.randn(4, 3, 8, 8)).shape == (4, 2)


@pytest.mark.parametrize("source, shape, message", [
    ("{models}", "3,8,8", "is not PYFILE:CLASS"),
    ("{folder}/absent.py:Net", "3,8,8", "no such file"),
    ("{models}:Missing", "3,8,8", "defines no Missing"),
    ("{models}:NOT_A_MODULE", "3,8,8", "not an nn.Module class"),
    ("{models}:NeedsArguments", "3,8,8", "without arguments"),
    ("{models}:Net", "3,x", "is not a shape"),
    ("{models}:Net", "0,8,8", "is not a shape"),
    ("{models}:Net", "5,8,8", "fails on the example input"),
    ("{models}:Strange", "3,8", "has no NeuralCanvas layer"),
    ("{broken}:Net", "3,8,8", "running it failed at line 2"),
])
def test_bad_imports_exit_2_with_a_clear_message(source, shape, message, models, tmp_path,
                                                 capsys):
    broken = tmp_path / "broken.py"
    broken.write_text("import torch\nthis is not python\n", encoding="utf-8")
    spec = source.format(models=models, folder=tmp_path, broken=broken)
    out = tmp_path / "out.ncnet"
    assert cli.main(["import", spec, "--input-shape", shape, "-o", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()
