"""The wall-clock limits the tests used to assert, measured where load cannot fail the suite.

  first batch   a warm training worker (torch imported, one run done) starts a run: time from
                `start` to its first `batch` event                       limit 2 s
  stop          a run is stopped mid-epoch: time from `stop` to the worker's `ack`
                ("stopping"), and to its final event                     limit 1 s (ack)
  import        `import_module` of a 1,000-layer residual model          limit 10 s

Each is measured several rounds; the median and worst are printed beside the limit. The tests
keep asserting the order and outcome of the same steps (tests/test_worker.py,
tests/test_training_panel.py, tests/test_import_modules.py).

    python benchmarks/latency.py [--rounds 5] [--sections first_batch,stop,import]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine import Design
from engine.training.worker import Run, TrainingService

LIMITS_S = {"first batch": 2.0, "stop (ack)": 1.0, "stop (final)": None, "import": 10.0}


def classifier(epochs: int, samples: int = 512, hidden: int = 32) -> Design:
    """A small classifier on generated data (the tests' `classifier`)."""
    design = Design("classifier")
    x = design.add("Input", shape=(8,), name="features")
    h = design.add("ReLU", design.add("Linear", x, out_features=hidden, name="hidden"))
    design.add("Output", design.add("Linear", h, out_features=3, name="scores"), name="label")
    design.set_training(task="classification", data={"source": "generated", "samples": samples},
                        optimizer={"name": "adam", "lr": 0.01}, epochs=epochs, batch_size=32)
    return design


def until(run: Run, kind: str, timeout: float = 300.0) -> float:
    """Seconds until the run reports an event of `kind` (raises if it ends first)."""
    start, deadline = time.perf_counter(), time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if any(event.kind == kind for event in run.events(timeout=0.005)):
            return time.perf_counter() - start
        if run.done:
            raise RuntimeError(f"the run ended without a {kind!r} event: {run.final}")
    raise RuntimeError(f"no {kind!r} event within {timeout} s")


def first_batch(service: TrainingService) -> dict[str, float]:
    run = service.start(classifier(epochs=1))
    seconds = until(run, "batch")
    run.wait(timeout=120)
    return {"first batch": seconds}


def stop(service: TrainingService) -> dict[str, float]:
    run = service.start(classifier(epochs=30, samples=8192, hidden=512))
    until(run, "epoch")
    until(run, "batch")  # mid-epoch, a batch under way
    asked = time.perf_counter()
    run.stop()
    ack = until(run, "ack", timeout=60)
    run.wait(timeout=60)
    return {"stop (ack)": ack, "stop (final)": time.perf_counter() - asked}


def import_thousand_nodes() -> dict[str, float]:
    import torch

    from engine.importing import import_module
    from tests.deep_residual import DeepResidual

    start = time.perf_counter()
    design = import_module(DeepResidual(), torch.randn(2, 8))
    seconds = time.perf_counter() - start
    assert len(design.nodes()) == 1002
    return {"import": seconds}


def report(samples: dict[str, list[float]]) -> None:
    for name, values in samples.items():
        limit = LIMITS_S.get(name)
        verdict = "" if limit is None else (
            f"  limit {limit:g} s: {'ok' if statistics.median(values) < limit else 'OVER'}")
        print(f"{name:14} median {statistics.median(values) * 1000:9.1f} ms  "
              f"worst {max(values) * 1000:9.1f} ms  ({len(values)} rounds){verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--sections", default="first_batch,stop,import")
    args = parser.parse_args()
    sections = set(args.sections.split(","))
    samples: dict[str, list[float]] = {}

    def measure(step: Callable[[], dict[str, float]]) -> None:
        for _ in range(args.rounds):
            for name, seconds in step().items():
                samples.setdefault(name, []).append(seconds)

    if sections & {"first_batch", "stop"}:
        with TrainingService() as service:
            service.start(classifier(epochs=1)).wait(timeout=300)  # warm: torch imported
            if "first_batch" in sections:
                measure(lambda: first_batch(service))
            if "stop" in sections:
                measure(lambda: stop(service))
    if "import" in sections:
        measure(import_thousand_nodes)
    report(samples)


if __name__ == "__main__":
    main()
