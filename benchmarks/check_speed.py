"""How long engine.check takes on a 1,000-node design: first check, and after one edit.

    python benchmarks/check_speed.py
"""

from __future__ import annotations

import statistics
import time

import engine
from engine import Design
from engine.checking import _infer


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


def timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def main() -> None:
    design = big_design(250)
    nodes = len(design.nodes())
    cold, warm, edited = [], [], []
    first = design.nodes()[2]
    for i in range(5):
        _infer.cache_clear()
        cold.append(timed(lambda: engine.check(design)))
        warm.append(timed(lambda: engine.check(design)))
        design.set_params(first, out_features=64 + i + 1)
        edited.append(timed(lambda: engine.check(design)))
    print(f"{nodes}-node design, median of 5 (target: under 1 s)")
    print(f"  first check (empty cache)   {statistics.median(cold) * 1000:8.1f} ms")
    print(f"  check again (nothing edited){statistics.median(warm) * 1000:8.1f} ms")
    print(f"  check after editing 1 node  {statistics.median(edited) * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
