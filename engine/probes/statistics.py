"""What one node's output says about its units: its spread, and units that are off (zero),
stuck at a bound (saturated sigmoid or tanh), or never fire over a whole batch (dead ReLUs:
they get no gradient, so they never learn again)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from engine.training.diagnostics import DEAD_FRACTION

# Layers whose output lies between two bounds, where the gradient all but vanishes.
SATURATING_BOUNDS = {"Sigmoid": (0.0, 1.0), "Hardsigmoid": (0.0, 1.0), "Tanh": (-1.0, 1.0),
                     "LSTM": (-1.0, 1.0), "GRU": (-1.0, 1.0)}
NEAR_BOUND = 0.02         # within this share of the range from a bound counts as saturated
SATURATED_FRACTION = 0.5  # flag a layer with more than this share of its units saturated
RELU_FAMILY = frozenset({"ReLU", "ReLU6"})   # exactly zero for every negative input


@dataclass(frozen=True)
class Statistics:
    """Of one sample's output: mean, std, min, max; zeros: the share of units exactly 0 (off
    for this sample). saturated: the share within NEAR_BOUND of a bound, for layers with
    bounds (else None). dead: for ReLU-family layers, the share of units that are 0 for every
    sample of a batch of `batch` (else None)."""

    mean: float
    std: float
    min: float
    max: float
    zeros: float
    saturated: float | None = None
    dead: float | None = None
    batch: int = 1

    @property
    def flags(self) -> tuple[str, ...]:
        """"dead" and "saturated" when more than half the units are."""
        found = []
        if self.dead is not None and self.dead > DEAD_FRACTION:
            found.append("dead")
        if self.saturated is not None and self.saturated > SATURATED_FRACTION:
            found.append("saturated")
        return tuple(found)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "flags": list(self.flags)}


def bounds_of(layer_type: str, params: dict[str, Any]) -> tuple[float, float] | None:
    """The bounds a layer's output lies between, if it has any (a ReLU RNN's has none)."""
    if layer_type == "RNN":
        return (-1.0, 1.0) if params.get("nonlinearity") == "tanh" else None
    return SATURATING_BOUNDS.get(layer_type)


def statistics_of(sample: Any, batch: Any | None, bounds: tuple[float, float] | None,
                  relu_family: bool) -> Statistics:
    """`sample`: one sample's output; `batch`: the whole batch's (first dimension the batch),
    read only for the dead units of a ReLU-family layer."""
    values = sample.detach().double().flatten()
    if not values.numel():
        return Statistics(0.0, 0.0, 0.0, 0.0, 0.0)
    saturated = None
    if bounds is not None:
        low, high = bounds
        margin = NEAR_BOUND * (high - low)
        saturated = float(((values <= low + margin) | (values >= high - margin)).double().mean())
    dead = None
    if relu_family and batch is not None and batch.dim() > 1:
        fired = (batch != 0).flatten(1).any(0)
        dead = 1.0 - float(fired.double().mean())
    return Statistics(float(values.mean()), float(values.std(unbiased=False)),
                      float(values.min()), float(values.max()),
                      float((values == 0).double().mean()), saturated, dead,
                      len(batch) if batch is not None and batch.dim() > 1 else 1)
