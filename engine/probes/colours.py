"""Colour maps for probe pictures (uint8 levels to RGB): one for values of one sign, dark to
bright, and one for values of both signs, blue through white to red, 0 in the middle."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:   # numpy is imported where it is used: the editor starts without it
    import numpy as np

# (position 0-1, RGB) stops; colour-blind safe, readable in grey
SEQUENTIAL = ((0.0, (12, 7, 40)), (0.35, (98, 38, 120)), (0.65, (214, 86, 72)),
              (1.0, (252, 236, 150)))
DIVERGING = ((0.0, (33, 84, 160)), (0.5, (246, 246, 246)), (1.0, (180, 30, 45)))


def colour_table(stops: tuple[tuple[float, tuple[int, int, int]], ...]) -> np.ndarray:
    """(256, 3) uint8: each level's colour, interpolated between the stops."""
    import numpy as np

    positions = np.array([p for p, _ in stops])
    levels = np.linspace(0.0, 1.0, 256)
    channels = [np.interp(levels, positions, [c[i] for _, c in stops]) for i in range(3)]
    return np.stack(channels, axis=1).round().astype(np.uint8)


def coloured(pixels: np.ndarray, diverging: bool) -> np.ndarray:
    """(..., 3) RGB for uint8 levels."""
    return colour_table(DIVERGING if diverging else SEQUENTIAL)[pixels]
