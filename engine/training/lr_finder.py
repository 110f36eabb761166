"""The learning-rate range test (Leslie Smith, "Cyclical Learning Rates for Training Neural
Networks", 2017): train a throwaway copy of the design for a few hundred steps while the
learning rate rises exponentially, and watch the loss.

    curve = find_learning_rate(design)      # the design itself is left as it was
    curve.suggestion, curve.rule            # e.g. 2.1e-03, "steepest descent"

At first the rate is too small to change anything and the loss stays flat; then it falls,
fastest where the rate suits the network; then the steps grow too large and the loss shoots
up, which ends the test (once the smoothed loss is 4x the best so far). The run uses the
design's own data, batch size, optimizer (with its momentum and weight decay), loss and seed,
so the curve is about this design as it would train.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.design import Design
from engine.errors import DesignError

START_LR = 1e-7
END_LR = 10.0
STEPS = 200
RUNNING = 0.9             # the running average the stop watches (about 10 steps)
DIVERGED = 4.0            # stop once the running average is this many times its best
HALF_WINDOW = 5           # the curve's smoothing: the mean of 11 steps centred on each
SKIP_START = 10           # the first steps' slope says little (too small to change anything)


@dataclass(frozen=True)
class LrCurve:
    """The range test's result. learning_rates, losses (each step's) and smoothed (the mean
    of the 2 * HALF_WINDOW + 1 steps around each, so no rate lags) run in step; suggestion: the rate to train with, chosen by `rule`
    ("steepest descent" or "minimum / 10"); minimum: the rate at the lowest smoothed loss;
    current: the design's own rate; ended: why the test stopped, in words."""

    learning_rates: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    suggestion: float
    rule: str
    minimum: float
    current: float
    optimizer: str
    ended: str


def find_learning_rate(design: Design, steps: int = STEPS, start: float = START_LR,
                       end: float = END_LR, overrides: dict[str, Any] | None = None) -> LrCurve:
    """Run the range test on a copy of `design` (with the settings `overrides` applied, by
    dotted path as a run takes them). A DesignError says why it cannot run (a GAN, whose two
    networks pull against each other, has no single loss to follow)."""
    from engine.training.run_state import decide, prepare

    if not 0 < start < end or steps < SKIP_START + 2:
        raise DesignError(f"the range test needs 0 < start < end and at least "
                          f"{SKIP_START + 2} steps (got start {start:g}, end {end:g}, "
                          f"{steps} steps)")
    setup = decide(design, {**(overrides or {}), "compile": False})
    if setup.plan.task == "gan":
        raise DesignError("the learning-rate finder follows one loss; a GAN's generator and "
                          "discriminator pull against each other, so their rates are set by "
                          "hand (both usually 2e-4 with Adam)")
    state = prepare(setup, run_id=0)
    rates = start * (end / start) ** np.linspace(0.0, 1.0, steps)
    losses, ended = _sweep(state, rates)
    smoothed = _smoothed(losses)
    suggestion, rule, minimum = suggest(rates[:len(smoothed)], smoothed)
    return LrCurve(rates[:len(losses)], np.asarray(losses), smoothed, suggestion, rule,
                   minimum, setup.settings.optimizer.lr, setup.settings.optimizer.name, ended)


def find_for_worker(design: dict[str, Any], options: dict[str, Any]) -> LrCurve:
    """find_learning_rate for a call into the training worker (a design as its dict)."""
    return find_learning_rate(Design.from_dict(design), **options)


def _sweep(state: Any, rates: np.ndarray) -> tuple[list[float], str]:
    """Each step's loss at its rate, until the rates run out or the loss diverges."""
    networks, settings = state.networks, state.setup.settings
    optimizer = networks.optimizers[0]
    steps = networks.steps(networks.networks[0], optimizer, _endless_batches(state),
                           networks.loss, settings.grad_clip, networks.amp, networks.scaler)
    losses: list[float] = []
    average, best = 0.0, math.inf
    for index, rate in enumerate(rates):
        for group in optimizer.param_groups:
            group["lr"] = float(rate)
        loss = float(next(steps)["loss"])
        if not math.isfinite(loss):
            return losses, f"the loss became {loss} at learning rate {rate:.2g}"
        losses.append(loss)
        average = RUNNING * average + (1 - RUNNING) * loss
        running = average / (1 - RUNNING ** (index + 1))   # corrected for starting at 0
        if running > DIVERGED * best:
            return losses, (f"the loss grew to {DIVERGED:g}x its best at learning rate "
                            f"{rate:.2g}")
        best = min(best, running)
    return losses, f"the rates ran out at {rates[-1]:.2g}"


def _endless_batches(state: Any) -> Iterator[tuple]:
    """The training batches, epoch after epoch, drawn as a run draws them."""
    epoch = 0
    while True:
        epoch += 1
        state.data.sampler.set_epoch(epoch)
        yield from state.epoch_batches()


def _smoothed(losses: list[float]) -> np.ndarray:
    """Each loss replaced by the mean of the steps around it (fewer at the ends): centred,
    so the curve's minimum and steepest fall stay at the rates where they happened (a running
    average would move them a few tenths of a decade later)."""
    values = np.asarray(losses, dtype=float)
    sums = np.concatenate([[0.0], np.cumsum(values)])
    index = np.arange(len(values))
    low = np.maximum(index - HALF_WINDOW, 0)
    high = np.minimum(index + HALF_WINDOW + 1, len(values))
    return (sums[high] - sums[low]) / (high - low)


def suggest(rates: np.ndarray, smoothed: np.ndarray) -> tuple[float, str, float]:
    """(suggestion, rule, rate at the minimum) from a smoothed curve.

    The suggestion is the rate where the smoothed loss falls fastest per decade of rate
    ("steepest descent"), looked for between the first SKIP_START steps and the minimum: that
    is where a step of training gains most while the loss is still far from diverging (on
    the templates it lands within a factor of 4 of their tuned rates). Where the curve has no
    descent to speak of (too short, or flat until it blows up) it falls back to a tenth of
    the rate at the minimum ("minimum / 10", the usual rule of thumb): the minimum itself
    already lies at the edge of divergence.
    """
    if not len(smoothed):
        raise DesignError("the range test stopped before its first step")
    lowest = int(np.argmin(smoothed))
    minimum = float(rates[lowest])
    if lowest - SKIP_START >= 3:
        window = slice(SKIP_START, lowest + 1)
        slopes = np.gradient(smoothed[window], np.log10(rates[window]))
        if slopes.min() < 0:
            return float(rates[SKIP_START + int(np.argmin(slopes))]), "steepest descent", minimum
    return minimum / 10, "minimum / 10", minimum
