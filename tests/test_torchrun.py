"""The exported script scales out unchanged with torchrun (two CPU processes, Gloo)."""

import sys

import pytest
import torch
from safetensors.torch import load_file
from test_training_support import classifier, exported_script, read_metrics, run_script

pytestmark = pytest.mark.slow  # trains in two processes

# Runs the exported script's own train(), then saves what this process holds.
WRAPPER = """
import os
import sys
from pathlib import Path

from safetensors.torch import save_file

sys.path.insert(0, str(Path(__file__).parent))
import train_design

args = train_design.parse_args()
model = train_design.train(args)
save_file(model.state_dict(), args.out / f"rank{os.environ['RANK']}.safetensors")
"""


def test_torchrun_two_processes_train_one_model(tmp_path):
    design = classifier(epochs=1, data={"source": "generated", "samples": 1024})
    script = exported_script(design, tmp_path)
    wrapper = tmp_path / "wrapper.py"
    wrapper.write_text(WRAPPER)
    out = tmp_path / "out"
    result = run_script(wrapper, "--out", str(out), "--device", "cpu",
                        launcher=(sys.executable, "-m", "torch.distributed.run", "--standalone",
                                  "--nproc_per_node=2"))
    assert "epoch 1" in result.stdout
    assert result.stdout.count("epoch 1,") == 1  # only rank 0 logs
    saved = load_file(out / "model.safetensors")
    ranks = [load_file(out / f"rank{rank}.safetensors") for rank in (0, 1)]
    for key, value in saved.items():
        assert torch.equal(value, ranks[0][key]) and torch.equal(value, ranks[1][key]), key
    assert len(read_metrics(out / "metrics.csv")) == 1
    assert script.exists()
