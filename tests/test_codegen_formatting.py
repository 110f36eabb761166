"""The layout of generated statements matches `ruff format`, including where it breaks lines."""

import random

from test_codegen_helpers import ruff

from engine.codegen.formatting import format_def, format_statement
from engine.codegen.imports import import_block


def _name(rng: random.Random, longest: int = 60) -> str:
    return "v" + "a" * rng.randint(0, longest)


def _statement(rng: random.Random) -> str:
    """A statement of a shape the generator writes, with names of random length."""
    a, b, c = _name(rng), _name(rng), _name(rng)
    short = _name(rng, 20)
    shapes = [
        f"{a} = self.{b}({c})",
        f"{a} = torch.cat([{b}, {c}, {short}], dim=1)",
        f"{a} = {b} + {c} + {short}",
        f"{a} = {b} * {c}",
        f"{a} = {b}.reshape({b}.size(0), {rng.randint(1, 9999)}, -1)",
        f"self.{a}[{rng.randint(0, 20)}].{short} = nn.Conv2d(64, 16, 3, padding=1, bias=False)",
        f"self.{short}[1].{short}[2].{_name(rng, 30)} = nn.Linear({rng.randint(1, 99999)}, 10)",
        f"return {a}, {b}",
        f"{a}, _ = self.{b}({c})",
        f"_, (h_n, _) = self.{b}({c})",
        f"{a} = {b}[:, {rng.randint(0, 99)}:{rng.randint(100, 999)}]",
        f"{a} = {b}[-1]",
        f"self.{a} = nn.ModuleList([{', '.join(['nn.ModuleDict()'] * rng.randint(1, 8))}])",
        (f"self.{short} = nn.ModuleList([nn.ReLU(), nn.ModuleList([nn.Linear(4, 5), nn.Dropout("
         f"p=0.5)]), nn.Conv2d(64, 128, 3, stride=2, padding=1, bias=False), nn.ModuleDict()])"),
        f"{a} = self.{short}.{short}[{rng.randint(0, 9)}].{_name(rng, 20)}({b})",
        f"{a} = self.{short}[{rng.randint(0, 9)}].{short}[3].{_name(rng, 30)}({b})",
        f'{a} = getattr(self, "{rng.randint(0, 99)}")[{rng.randint(0, 9)}].{short}({b})',
        f'self.{a} = torchvision.ops.StochasticDepth({rng.random()!r}, "row")',
        f"{a} = {b}.permute(0, 2, 1, 3).reshape({b}.size(0), -1, {rng.randint(1, 9999)})",
        f"{a} = self.{short}[{rng.randint(0, 9)}](torch.cat([{b}, {c}], dim=1))",
        f"self.{short} = nn.ModuleList([nn.ModuleDict() for _ in range({rng.randint(2, 99)})])",
        f"{a} = {b}.mean(dim=(2, 3), keepdim=True)",
    ]
    return rng.choice(shapes)


def test_statements_are_laid_out_as_ruff_lays_them_out():
    rng = random.Random(20240611)
    lines = ["class Generated:", "    def method(self):"]
    for _ in range(600):
        lines += format_statement(_statement(rng), 2)
    for _ in range(40):
        parameters = ["self", *(f"{_name(rng, 25)}: torch.Tensor"
                                for _ in range(rng.randint(1, 4)))]
        returns = rng.choice(["torch.Tensor", "tuple[torch.Tensor, torch.Tensor]", None])
        lines += ["", *format_def(1, "forward", parameters, returns), "        pass"]
    source = "\n".join(lines) + "\n"
    result = ruff("format", "--diff", source=source)
    assert result.returncode == 0, result.stdout[:4000]


def test_import_block_is_sorted_and_merged_as_ruff_sorts_it():
    lines = ["from torch import nn", "import torch", "import argparse", "from pathlib import Path",
             "import numpy as np", "from torch import nn",
             "from torch.utils.data import TensorDataset",
             "from torch.utils.data import DataLoader, random_split",
             "import torch.nn.functional as F", "import os", "from __future__ import annotations",
             "from safetensors.torch import save_file, load_file", "import torchvision.ops",
             ("from torch.optim.lr_scheduler import CosineAnnealingLR, ReduceLROnPlateau, StepLR, "
              "LinearLR, OneCycleLR")]
    block = import_block(lines)
    names = ["nn", "torch", "argparse", "Path", "np", "TensorDataset", "DataLoader",
             "random_split", "F", "os", "save_file", "load_file", "torchvision",
             "CosineAnnealingLR", "ReduceLROnPlateau", "StepLR", "LinearLR", "OneCycleLR"]
    source = block + "\n" + "".join(f"print({name})\n" for name in names)
    assert block.count("from torch import nn") == 1
    for args in (["check", "--select", "I,F"], ["format", "--diff"]):
        result = ruff(*args, source=source)
        assert result.returncode == 0, result.stdout
