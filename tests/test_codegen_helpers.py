"""Helpers shared by the code generation tests (ruff, loading exported files, sample inputs),
with a check that the ruff helper really notices badly formatted code."""

from __future__ import annotations

import runpy
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from engine import Design


@pytest.fixture
def single_thread():
    """Small tensors run fastest on one thread, and the suite runs two workers on two cores:
    torch's thread pools would otherwise spin against each other."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def ruff(*args: str, source: str) -> subprocess.CompletedProcess:
    """ruff with its default settings (not this repository's) on `source`."""
    return subprocess.run([sys.executable, "-m", "ruff", *args, "--isolated", "-"],
                          input=source, capture_output=True, text=True, timeout=120, check=False)


def ruff_problems(code: str) -> list[str]:
    """What `ruff format`, `ruff check` (default rules) and its import sorting object to."""
    problems = []
    formatted = ruff("format", "--diff", source=code)
    if formatted.returncode != 0:
        problems.append("ruff format would change:\n" + formatted.stdout[:3000])
    for rules in ([], ["--select", "I"]):
        checked = ruff("check", *rules, "--output-format", "concise", source=code)
        if checked.returncode != 0:
            problems.append(f"ruff check {' '.join(rules)}:\n{checked.stdout[:3000]}")
    return problems


def load_exported(code: str, folder: Path, name: str = "exported.py") -> dict:
    """Run an exported file as a module (not as __main__): its classes and functions."""
    path = folder / name
    path.write_text(code, encoding="utf-8")
    return runpy.run_path(str(path), run_name="exported")


def sample_inputs(design: Design, network: str = "model", batch: int = 3) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(batch)
    tensors = []
    for node_id in design.nodes(network):
        node = design.node(node_id)
        if node.type == "Input":
            shape = (batch, *node.params["shape"])
            tensors.append(torch.randint(0, 10, shape, generator=generator)
                           if node.params["dtype"] == "long"
                           else torch.randn(shape, generator=generator))
    return tensors


def outputs(model: torch.nn.Module, inputs: list[torch.Tensor]) -> list[torch.Tensor]:
    with torch.no_grad():
        result = model.eval()(*inputs)
    return list(result) if isinstance(result, tuple) else [result]


def test_ruff_helper_notices_bad_layout_and_unused_imports():
    assert ruff_problems("import os\nimport sys\n\nprint(sys.argv)\n") != []
    assert ruff_problems("x=1\n") != []
    assert ruff_problems("import sys\n\nprint(sys.argv)\n") == []
