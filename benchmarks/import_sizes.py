"""How compact an imported model is: top-level nodes, definitions, and the exported file's lines.

For each torchvision model (weights=None, nothing downloaded) it imports the model, counts the
network's top-level nodes and block definitions, and exports the design: the whole file's
lines and those of the model classes alone (from the first class to the last class's end).
Run: python benchmarks/import_sizes.py [model ...]
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `tests`: the shared model list

from engine.codegen.export import export_script
from engine.importing import import_network
from tests.torchvision_models import build, input_size

MODELS = ("resnet18", "resnet50", "densenet121", "densenet201", "mobilenet_v2",
          "mobilenet_v3_large", "efficientnet_b0", "vgg11", "inception_v3", "squeezenet1_0")


def class_lines(code: str) -> int:
    """Lines from the first `class` statement to the end of the last class's body."""
    lines = code.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("class ")]
    if not starts:
        return 0
    end = starts[-1] + 1
    while end < len(lines) and (not lines[end] or lines[end].startswith((" ", "\t"))):
        end += 1
    while not lines[end - 1].strip():
        end -= 1
    return end - starts[0]


def measure(name: str) -> tuple[int, int, int, int]:
    size = input_size(name)
    torch.manual_seed(0)
    model = build(name).eval()
    design = import_network(model, torch.randn(2, 3, size, size)).design
    code = export_script(design).code
    return len(design.nodes()), len(design.blocks), class_lines(code), len(code.splitlines())


def main(names: list[str]) -> None:
    print(f"{'model':<20}{'top nodes':>10}{'blocks':>8}{'class lines':>13}{'file lines':>12}")
    for name in names or MODELS:
        top, blocks, classes, total = measure(name)
        print(f"{name:<20}{top:>10}{blocks:>8}{classes:>13}{total:>12}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
