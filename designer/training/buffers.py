"""Growing float64 buffers for live curves: appending is amortised O(1) and the filled part is
handed to pyqtgraph as a view, so a redraw never copies a million points it does not need to.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from engine.on_first_use import ModuleOnFirstUse

if TYPE_CHECKING:
    import numpy as np
else:   # the window's first paint does not wait for numpy (engine.on_first_use)
    np = ModuleOnFirstUse("numpy")

SMOOTHING = 0.9  # weight of the running average in the smoothed training loss


class Series:
    """x and y values appended over time; `x` and `y` are views of what was filled."""

    def __init__(self, capacity: int = 256) -> None:
        # reserved at the first value: the panel's empty series are made with the window,
        # which starts without numpy
        self._capacity = capacity
        self._x: np.ndarray | None = None
        self._y: np.ndarray | None = None
        self._size = 0

    def __len__(self) -> int:
        return self._size

    @property
    def x(self) -> np.ndarray:
        return np.empty(0) if self._x is None else self._x[:self._size]

    @property
    def y(self) -> np.ndarray:
        return np.empty(0) if self._y is None else self._y[:self._size]

    def append(self, x: float, y: float) -> None:
        self.extend((x,), (y,))

    def extend(self, xs: Sequence[float] | np.ndarray, ys: Sequence[float] | np.ndarray) -> None:
        count = len(ys)
        if not count:
            return
        self._reserve(self._size + count)
        self._x[self._size:self._size + count] = xs
        self._y[self._size:self._size + count] = ys
        self._size += count

    def _reserve(self, needed: int) -> None:
        held = 0 if self._x is None else len(self._x)
        if needed <= held:
            return
        capacity = max(needed, 2 * held, self._capacity)
        # New arrays: views handed out earlier keep the old memory, which is never written again.
        self._x = np.concatenate([self.x, np.empty(capacity - self._size)])
        self._y = np.concatenate([self.y, np.empty(capacity - self._size)])

    def last(self) -> float | None:
        return float(self._y[self._size - 1]) if self._size else None


class SmoothedSeries(Series):
    """A noisy per-step curve with its exponential moving average (bias-corrected, so the
    start is not dragged towards zero), kept in step as values arrive."""

    def __init__(self, capacity: int = 1024, smoothing: float = SMOOTHING) -> None:
        super().__init__(capacity)
        self.smoothing = smoothing
        self.smooth = Series(capacity)
        self._average = 0.0
        self._weight = 0.0

    def extend(self, xs: Sequence[float] | np.ndarray, ys: Sequence[float] | np.ndarray) -> None:
        super().extend(xs, ys)
        beta = self.smoothing
        smoothed = np.empty(len(ys))
        average, weight = self._average, self._weight
        for index, value in enumerate(ys):
            if not np.isfinite(value):
                smoothed[index] = value
                continue
            average = beta * average + (1 - beta) * value
            weight = beta * weight + (1 - beta)
            smoothed[index] = average / weight
        self._average, self._weight = average, weight
        self.smooth.extend(xs, smoothed)
