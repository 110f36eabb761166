"""How long engine.check takes: a 1,000-node flat design (first check, and after one edit), and
a 2,000-layer design made of repeated blocks after an edit inside one block (target: under
100 ms), side by side with the same 2,000 layers drawn flat; and torchvision's DenseNet-121 and
EfficientNet-V2-L imported and ungrouped (429 and 1,094 cards, as gui_responsiveness.py opens
them): a full check (nothing kept) against the check after one parameter edit, alternating.

    python benchmarks/check_speed.py [--imported-only] [--edits 30]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from unittest import mock

import engine
from engine import Design, checking
from engine.blocks.library import add_built_in
from engine.checking import _infer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gui_responsiveness import IMPORTED_MODELS, edited_node, imported_design, percentile

STAGES = ((64, 72), (128, 72), (256, 72), (512, 72))  # (planes, repeat): 288 uses of 7 layers


def big_design(blocks: int) -> Design:
    """A residual MLP-ish chain with branches: 4 nodes per block plus input/output."""
    d = Design()
    h = d.add("Linear", d.add("Input", shape=(32,)), out_features=64)
    for _ in range(blocks):
        a = d.add("Linear", h, out_features=64)
        a = d.add("ReLU", a)
        a = d.add("LayerNorm", a)
        h = d.add("Add", a, h)
    d.add("Output", h)
    return d


def block_design() -> tuple[Design, str]:
    """A ResNet-like network of 4 stages, each one BasicBlock use repeated 72 times, with a
    1x1 convolution between stages: 2,000 layers inside blocks. Returns the design and the
    convolution edited inside the block."""
    d = Design("blocks")
    add_built_in(d, "BasicBlock")
    h = d.add("Input", shape=(64, 8, 8))
    for planes, repeat in STAGES:
        h = d.add("Conv2d", h, out_channels=planes, kernel_size=1)
        h = d.add("Block", h, block="BasicBlock", planes=planes, repeat=repeat)
    d.add("Output", h)
    return d, d.find("conv2", "BasicBlock")


def flat_design() -> Design:
    """The same 2,000 layers with no blocks: what checking them one by one costs."""
    d = Design("flat")
    h = d.add("Input", shape=(64, 8, 8))
    for planes, repeat in STAGES:
        h = d.add("Conv2d", h, out_channels=planes, kernel_size=1)
        for _ in range(repeat):
            x = h
            for step in range(2):
                h = d.add("Conv2d", h, out_channels=planes, kernel_size=3, padding=1, bias=False)
                h = d.add("BatchNorm2d", h)
                if step == 0:
                    h = d.add("ReLU", h)
            h = d.add("ReLU", d.add("Add", h, x))
    d.add("Output", h)
    return d


def layers_inside_blocks(design: Design) -> int:
    per_use = len(design.nodes("BasicBlock")) - 2  # less its Input and Output
    return sum(repeat for _, repeat in STAGES) * per_use


def blocks_main() -> None:
    design, inner = block_design()
    flat = flat_design()
    flat_inner = flat.find("conv2d2")
    engine.check(design)
    engine.check(flat)
    edited_blocks, edited_flat = [], []
    for i in range(7):  # toggle a convolution's bias: the counts change, so must the report
        design.set_params(inner, bias=i % 2 == 0)
        edited_blocks.append(timed(lambda: engine.check(design)))
        flat.set_params(flat_inner, bias=i % 2 == 0)
        edited_flat.append(timed(lambda: engine.check(flat)))
    blocks_ms = statistics.median(edited_blocks) * 1000
    flat_ms = statistics.median(edited_flat) * 1000
    uses = sum(repeat for _, repeat in STAGES)
    print(f"{layers_inside_blocks(design):,} layers in {uses} block uses, median of 7 (target: "
          "under 100 ms after an edit inside the block)")
    print(f"  check after editing inside the block {blocks_ms:8.1f} ms")
    print(f"  the same {len(flat.nodes()):,} layers drawn flat   {flat_ms:8.1f} ms "
          f"(blocks / flat: {blocks_ms / flat_ms:.2f})")


def timed(function, *arguments) -> float:
    start = time.perf_counter()
    function(*arguments)
    return time.perf_counter() - start


def full_check(copy: Design) -> None:
    """A check that keeps nothing: of a reloaded copy (a new object with new revisions), every
    shape rule run anew."""
    with mock.patch.object(checking, "_infer", _infer.__wrapped__):
        engine.check(copy)


def imported_main(edits: int) -> None:
    """Full check against the check after one parameter edit, alternating, on the imported
    designs (the middle layer with a width parameter, as the GUI benchmark edits)."""
    print(f"Imported designs, flattened: median and p95 of {edits} checks each, ms")
    print(f"  {'design':34}{'full':>10}{'p95':>10}{'after edit':>12}{'p95':>10}{'ratio':>8}")
    for name, label in IMPORTED_MODELS:
        design = imported_design(name)
        network = design.default_network()
        node, field_name = edited_node(design, network)
        original = design.node(node).params[field_name]
        engine.check(design)
        full, edited = [], []
        for i in range(edits):
            copy = Design.from_dict(design.to_dict())
            full.append(timed(full_check, copy) * 1000)
            design.set_params(node, **{field_name: original + 1 + i % 2})
            edited.append(timed(engine.check, design) * 1000)
        cards = f"{label} ({len(design.nodes(network))} nodes)"
        print(f"  {cards:34}{statistics.median(full):10.1f}{percentile(full, 0.95):10.1f}"
              f"{statistics.median(edited):12.1f}{percentile(edited, 0.95):10.1f}"
              f"{statistics.median(full) / statistics.median(edited):8.1f}")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--imported-only", action="store_true")
    parser.add_argument("--edits", type=int, default=30, help="checks of each kind per design")
    args = parser.parse_args()
    imported_main(args.edits)
    if not args.imported_only:
        synthetic_main()


def synthetic_main() -> None:
    design = big_design(250)
    nodes = len(design.nodes())
    cold, warm, edited = [], [], []
    first = design.nodes()[2]
    for i in range(5):
        cold.append(timed(full_check, Design.from_dict(design.to_dict())))
        warm.append(timed(lambda: engine.check(design)))
        design.set_params(first, out_features=64 + i + 1)
        edited.append(timed(lambda: engine.check(design)))
    print(f"{nodes}-node design, median of 5 (target: under 1 s)")
    print(f"  first check (nothing kept)  {statistics.median(cold) * 1000:8.1f} ms")
    print(f"  check again (nothing edited){statistics.median(warm) * 1000:8.1f} ms")
    print(f"  check after editing 1 node  {statistics.median(edited) * 1000:8.1f} ms")
    print()
    blocks_main()


if __name__ == "__main__":
    main()
