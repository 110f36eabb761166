"""Training speed with fused optimizers (the engine's and the exported script's choice) against
torch's default optimizer implementation.

For each template, train_overhead.py's plain loop runs twice per round in this process, once
with each optimizer, taking turns going first, for at least `--rounds` rounds and `--seconds`
seconds. Both use torch's default CPU threads, the template's settings and the same seeds, so
the ratio is the optimizer's alone. Each run lasts at least about RUN_S seconds (sized from a
warm-up run of two epochs).

    python benchmarks/fused_optimizers.py [--rounds 5] [--seconds 30] [--templates mlp gan ...]
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))   # the repository's packages
                                                                   # before benchmarks/templates.py
import torch
from train_overhead import EPOCHS, RUN_S, plain_loop, quartiles

from templates import load_template, template_names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="at least this many rounds")
    parser.add_argument("--seconds", type=float, default=30.0,
                        help="and rounds until a template has taken this long")
    parser.add_argument("--templates", nargs="+", default=template_names())
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; samples per second, "
          "fused optimizer / torch's default, alternating")
    with tempfile.TemporaryDirectory() as folder:
        for name in args.templates:
            design = load_template(name)
            epochs = max(EPOCHS.get(name, 3), math.ceil(RUN_S / _epoch_seconds(design, folder)))
            speeds: dict[bool, list[float]] = {False: [], True: []}
            began = time.perf_counter()
            while len(speeds[True]) < args.rounds or time.perf_counter() - began < args.seconds:
                order = (True, False) if len(speeds[True]) % 2 else (False, True)
                for fused in order:
                    speeds[fused].append(plain_loop(design, epochs, Path(folder), fused)[0])
            ratios = [f / d for f, d in zip(speeds[True], speeds[False], strict=True)]
            print(f"{name}: {epochs} epochs; default {statistics.median(speeds[False]):,.0f} "
                  f"samples/s, fused {statistics.median(speeds[True]):,.0f}; ratio fused/default "
                  f"median {statistics.median(ratios):.3f} over {len(ratios)} rounds (quartiles "
                  f"{quartiles(ratios)})", flush=True)


def _epoch_seconds(design, folder: str) -> float:
    """One epoch's seconds, from a warm-up run of two."""
    return plain_loop(design, 2, Path(folder), fused=True)[2] / 2

if __name__ == "__main__":
    main()
