"""What probing each epoch end costs training: the `cnn` template trained with probes off and
on (every node's output for one sample at each epoch end, as the editor asks while it shows
activations), in alternating rounds so a machine's drift falls on both alike.

Throughput is training samples per second over the steady epochs (from the end of the first
epoch to the end of the last, each epoch's validation and probe included), in wall time and
in this process's CPU time (steadier on a machine other work shares). Target: the median ratio
on/off at least 0.97 (at most 3% slower). The probe's batch, made once when the run starts,
is reported apart (start-up, not throughput).

    python benchmarks/probe_overhead.py [--rounds 5] [--epochs 4] [--threads 1]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))   # the repository's templates

from engine.training.events import Batch, EpochEnd, Finished, Probed, Started, Validation
from engine.training.trainer import RunOptions, Trainer
from templates import load_template


@dataclass
class Round:
    """One run: samples per second of wall time and of CPU time over epochs 2 to the last,
    seconds per epoch (wall), seconds from Started to the first batch (start-up), and each
    probe's seconds (from the message before it)."""

    wall: float
    cpu: float
    epoch: float
    start_up: float
    probes: list[float]


def train(epochs: int, probe: dict | None) -> Round:
    design = load_template("cnn")
    design.set_training(epochs=epochs)
    marks: dict[str, tuple[float, float]] = {}
    samples: list[int] = []
    probes: list[float] = []

    def emit(message) -> None:
        now = (time.perf_counter(), time.process_time())
        if isinstance(message, Started):
            samples.append(message.data["train_samples"])
            marks["started"] = now
        if isinstance(message, Batch):
            marks.setdefault("first batch", now)
        if isinstance(message, EpochEnd) and message.epoch == 2:
            marks["steady"] = marks["epoch 1 done"]
        if isinstance(message, (EpochEnd, Validation, Probed)) and message.epoch == 1:
            marks["epoch 1 done"] = now
        if isinstance(message, Finished):
            marks["end"] = now
        if isinstance(message, Probed):
            probes.append(now[0] - marks["previous"][0])
        marks["previous"] = now

    Trainer(design, emit, RunOptions(probe=probe)).run()
    (wall0, cpu0), (wall1, cpu1) = marks["steady"], marks["end"]
    counted = (epochs - 1) * samples[0]
    return Round(counted / (wall1 - wall0), counted / (cpu1 - cpu0),
                 (wall1 - wall0) / (epochs - 1), marks["first batch"][0] - marks["started"][0],
                 probes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (one: idle threads spinning on a busy machine "
                        "swamp a 1%% difference)")
    arguments = parser.parse_args()
    import torch

    torch.set_num_threads(arguments.threads)
    train(2, {"sample": 0})   # warm up: imports, data cache, first allocations
    pairs = []
    for index in range(arguments.rounds):
        off, on = train(arguments.epochs, None), train(arguments.epochs, {"sample": 0})
        assert on.probes, "the run sent no probe"
        pairs.append((off, on))
        print(f"round {index + 1}: off {off.wall:,.0f} samples/s ({off.cpu:,.0f} per CPU s), "
              f"on {on.wall:,.0f} ({on.cpu:,.0f}); ratio wall {on.wall / off.wall:.3f}, CPU "
              f"{on.cpu / off.cpu:.3f}; start-up {off.start_up:.2f} s off, "
              f"{on.start_up:.2f} s on; {len(on.probes)} probes", flush=True)
    for name, ratios in (("wall time", [on.wall / off.wall for off, on in pairs]),
                         ("CPU time", [on.cpu / off.cpu for off, on in pairs])):
        median = statistics.median(ratios)
        print(f"median ratio on/off, {name}, over {arguments.rounds} rounds: {median:.3f} "
              f"({(1 - median) * 100:+.1f}% cost; target at most 3%)")
    probe = statistics.median([seconds for _, on in pairs for seconds in on.probes])
    epoch = statistics.median([off.epoch for off, _ in pairs])
    print(f"one probe: median {probe * 1000:.0f} ms; an epoch without probes: median "
          f"{epoch:.2f} s; so a probe adds {probe / epoch:.2%} to an epoch")

if __name__ == "__main__":
    main()
