"""Train every template headless with its own settings and print its quality next to the target.

    python benchmarks/templates.py [--threads N] [NAME ...]

Each template is trained in this process by the engine's trainer (as `neuralcanvas train`
does), timed from its first batch. The figure is read from the run's own validation events,
except for `dcgan`, whose samples are judged by the `cnn` template trained first (its training
is not counted). The load average is printed with each row: on a machine shared with other
work, times are pessimistic, and `--threads 1` (torch.set_num_threads) keeps each training
step from waiting for a second core that other programs hold.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.training.trainer import Trainer
from templates import load_template, template_names


@dataclass
class Run:
    """What one training run left behind: validation rows with their times, samples, models."""

    name: str
    rows: list[tuple[float, dict[str, float]]] = field(default_factory=list)
    samples: Any = None
    final: Any = None
    trainer: Trainer | None = None
    seconds: float = math.nan

    @property
    def last(self) -> dict[str, float]:
        return self.rows[-1][1] if self.rows else {}

    def first_time(self, met: Callable[[dict[str, float]], bool]) -> float:
        """Seconds from the first batch to the first validation that met the target."""
        return next((t for t, metrics in self.rows if met(metrics)), math.nan)


def train(name: str, overrides: dict[str, Any] | None = None) -> Run:
    """Train a template with its settings (plus overrides), timing from its first batch."""
    from engine.training.trainer import RunOptions

    run = Run(name)
    started: list[float] = []

    def emit(event) -> None:
        now = time.perf_counter()
        if event.kind == "batch" and not started:
            started.append(now - event.elapsed)
        elif event.kind == "validation":
            run.rows.append((now - started[0], dict(event.metrics)))
        elif event.kind == "samples":
            run.samples = event
        elif event.kind in ("finished", "failed"):
            run.final = event
            if started:
                run.seconds = now - started[0]

    run.trainer = Trainer(load_template(name), emit, RunOptions(overrides=overrides))
    run.trainer.run()
    if run.final.kind == "failed":
        raise RuntimeError(f"{name}: training failed: {run.final.reason}")
    return run


# ---------------------------------------------------------------------------- the measures

@dataclass(frozen=True)
class Outcome:
    figure: str
    met: bool
    seconds_to_target: float = math.nan


def accuracy(at_least: float):
    def measure(run: Run) -> Outcome:
        met = lambda m: m["val_accuracy"] >= at_least
        return Outcome(f"val accuracy {run.last['val_accuracy']:.4f}", met(run.last),
                       run.first_time(met))
    return measure


def forecast(run: Run) -> Outcome:
    met = lambda m: m["val_mse"] <= 0.016
    return Outcome(f"val MSE {run.last['val_mse']:.4f}", met(run.last), run.first_time(met))


def text_entropy() -> float:
    """Unigram entropy of the bundled text's characters, in nats (the loss's unit)."""
    from engine.training.plan import BUNDLED_TEXT

    counts = Counter(BUNDLED_TEXT.read_text(encoding="utf-8"))
    total = sum(counts.values())
    return -sum(c / total * math.log(c / total) for c in counts.values())


def text_model(run: Run) -> Outcome:
    bar = 0.5 * text_entropy()
    met = lambda m: m["val_loss"] <= bar
    sample = (run.samples.text or "")[-60:].replace("\n", " ")
    return Outcome(f"val loss {run.last['val_loss']:.3f} (bar {bar:.3f}); sample …{sample!r}",
                   met(run.last) and bool(run.samples and run.samples.text),
                   run.first_time(met))


def ring(run: Run) -> Outcome:
    met = lambda m: m["modes_covered"] >= 7 and m["near_mode"] >= 0.85
    return Outcome(f"{run.last['modes_covered']:.0f}/8 modes, {run.last['near_mode']:.1%} "
                   "near a mode", met(run.last), run.first_time(met))


def reconstruction(run: Run) -> Outcome:
    met = lambda m: m["val_relative_mse"] <= 0.55
    latent = run.samples is not None and run.samples.latent is not None
    return Outcome(f"MSE {run.last['val_relative_mse']:.3f} x mean-image baseline; latent "
                   f"scatter {'shown' if latent else 'MISSING'}", met(run.last) and latent,
                   run.first_time(met))


def judged_digits(run: Run, count: int = 1000) -> Outcome:
    """Generate `count` digits and let a `cnn` trained on real digits judge them."""
    import torch

    judge = train("cnn").trainer.state.networks.models["model"].eval()
    generator = run.trainer.state.networks.models["generator"].eval()
    noise = torch.randn(count, *run.trainer.state.setup.plan.noise_shape,
                        generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        probabilities = torch.softmax(judge(generator(noise)), dim=1)
    confidence, digit = probabilities.max(dim=1)
    sure = confidence > 0.99
    present = len(set(digit[sure].tolist()))
    met = sure.float().mean().item() >= 0.5 and present == 10
    return Outcome(f"{sure.float().mean().item():.1%} of samples judged with confidence > 0.99, "
                   f"{present}/10 digits among them", met)


def transfer(run: Run) -> Outcome:
    from engine import check

    design = load_template("transfer")
    warned = any("no weights file" in p.message for p in check(design).problems)
    return Outcome(f"val accuracy {run.last['val_accuracy']:.4f} from scratch; check warns "
                   f"'no weights file': {warned}", warned)


@dataclass(frozen=True)
class Target:
    text: str
    seconds: float | None
    measure: Callable[[Run], Outcome]


TARGETS = {
    "mlp": Target("val acc >= 0.96", 10, accuracy(0.96)),
    "cnn": Target("val acc >= 0.975", 20, accuracy(0.975)),
    "rnn": Target("val MSE <= 0.016", 30, forecast),
    "gru": Target("val loss <= 0.5 x unigram entropy", 120, text_model),
    "gan": Target(">= 7/8 modes, >= 85% near", 60, ring),
    "dcgan": Target(">= 50% conf > 0.99, 10 digits", 90, judged_digits),
    "autoencoder": Target("MSE <= 0.55 x baseline", 20, reconstruction),
    "transformer": Target("val acc >= 0.95", 60, accuracy(0.95)),
    "resnet": Target("val acc >= 0.975", 30, accuracy(0.975)),
    "transfer": Target("trains; warns without weights", None, transfer),
}


def load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def main(argv: list[str]) -> int:
    import argparse

    import torch

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    parser.add_argument("names", nargs="*", help="templates to train (default: all)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    names = args.names or template_names()
    print(f"torch threads: {torch.get_num_threads()}")
    print(f"{'template':<12} {'time s':>7} {'limit':>6} {'to target':>9} {'load':>5}  "
          "result (target)")
    failures = 0
    for name in names:
        target = TARGETS[name]
        before = load()
        run = train(name)
        outcome = target.measure(run)
        in_time = target.seconds is None or run.seconds <= target.seconds
        ok = outcome.met and in_time
        failures += not ok
        limit = f"{target.seconds:.0f}" if target.seconds else "-"
        print(f"{name:<12} {run.seconds:7.1f} {limit:>6} {outcome.seconds_to_target:9.1f} "
              f"{before}/{load():<5} {'ok  ' if ok else 'MISS'} {outcome.figure} "
              f"({target.text})", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
