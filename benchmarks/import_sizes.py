"""How compact an imported model is: top-level nodes, definitions, and the exported file's lines.

For each torchvision model (weights=None, nothing downloaded) it imports the model, counts the
network's top-level nodes and block definitions, and exports the design: the whole file's
lines and those of the model classes alone (from the first class to the last class's end).
Run: python benchmarks/import_sizes.py [model ...]
"""

from __future__ import annotations

import sys

import torch
import torchvision

from engine.codegen.export import export_script
from engine.importing import import_network

MODELS = {
    "resnet18": (torchvision.models.resnet18, 32),
    "resnet50": (torchvision.models.resnet50, 32),
    "densenet121": (torchvision.models.densenet121, 32),
    "densenet201": (torchvision.models.densenet201, 32),
    "mobilenet_v2": (torchvision.models.mobilenet_v2, 32),
    "mobilenet_v3_large": (torchvision.models.mobilenet_v3_large, 32),
    "efficientnet_b0": (torchvision.models.efficientnet_b0, 32),
    "vgg11": (torchvision.models.vgg11, 32),
    "inception_v3": (lambda **kw: torchvision.models.inception_v3(
        aux_logits=False, init_weights=False, **kw), 80),
    "squeezenet1_0": (torchvision.models.squeezenet1_0, 64),
}


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
    builder, size = MODELS[name]
    torch.manual_seed(0)
    model = builder(weights=None).eval()
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
