"""One node's output for one sample as a small picture: numbers 0-255 a view colours.

    maps      (C, H, W) images: the first channels, each shrunk to fit a small square
    sequence  (L, F) sequences and embeddings: one column per position, one row per feature
              (a spectrum-like strip: the Input of a sequence model is a wave drawn as a band)
    vector    (F,) features: the values in reading order, wrapped into rows
    scalar    one value

Values map linearly from `low` (0) to `high` (255). When they have both signs the range is
made symmetric, so that 0 sits in the middle and a diverging colour map shows the sign
(`diverging`). Volumes (C, D, H, W) show their middle depth slice; larger ranks fold their
leading dimensions into channels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:   # numpy is imported where it is used: the editor starts without it
    import numpy as np


@dataclass(frozen=True)
class PictureLimits:
    """How big a picture may grow: the payload stays small however big the layer."""

    maps: int = 8          # channels shown of a (C, H, W) output
    side: int = 24         # longest side of each map
    rows: int = 32         # rows of a sequence picture or a wrapped vector
    columns: int = 64      # columns of a sequence picture or a wrapped vector


SMALL = PictureLimits()   # a node's thumbnail: about 5 KB for eight 24 x 24 maps


@dataclass(frozen=True)
class Picture:
    """pixels: uint8 (count, height, width); count > 1 only for maps. shown/total: the
    channels (maps), feature rows (sequence) or values (vector) shown of all there are; maps
    past the limit are left out, a sequence's features or a vector's values past it are
    averaged down to fit (and a sequence's steps too, not counted here)."""

    kind: str
    pixels: np.ndarray
    low: float
    high: float
    diverging: bool
    shown: int
    total: int

    def as_dict(self) -> dict[str, Any]:
        """Plain values for JSON."""
        return {"kind": self.kind, "pixels": self.pixels.tolist(), "low": self.low,
                "high": self.high, "diverging": self.diverging, "shown": self.shown,
                "total": self.total}


def picture_of(value: Any, limits: PictureLimits = SMALL) -> Picture:
    """The picture of one sample's tensor (no batch dimension)."""
    import torch

    value = value.detach().float().cpu()
    if value.dim() > 4:
        value = value.flatten(0, value.dim() - 4)
    if value.dim() == 4:
        value = value[:, value.shape[1] // 2]
    if value.dim() == 3:
        return _maps(value, limits)
    if value.dim() == 2:
        grid = _averaged(value.T[None], (min(value.shape[1], limits.rows),
                                         min(value.shape[0], limits.columns)))
        return _scaled("sequence", grid, grid.shape[1], value.shape[1])
    if value.dim() == 1:
        return _vector(value, limits)
    return _scaled("scalar", value.reshape(1, 1, 1), 1, 1) if value.numel() else _scaled(
        "scalar", torch.zeros(1, 1, 1), 0, 0)


def _maps(value: Any, limits: PictureLimits) -> Picture:
    channels = value.shape[0]
    shown = value[:limits.maps]
    return _scaled("maps", _shrunk(shown, limits.side, limits.side), len(shown), channels)


def _vector(value: Any, limits: PictureLimits) -> Picture:
    """Wrapped into rows of `columns` values (a strip when it fits one row); averaged into
    rows x columns cells first when there are more values than that."""
    total = len(value)
    cells = limits.rows * limits.columns
    if total > cells:
        import torch.nn.functional as F

        value = F.adaptive_avg_pool1d(value[None, None], cells)[0, 0]
    width = min(len(value), limits.columns)
    rows = -(-len(value) // width)
    padded = value.new_full((rows * width,), float("nan"))
    padded[:len(value)] = value
    return _scaled("vector", padded.reshape(1, rows, width), min(total, cells), total)


def _shrunk(maps: Any, rows: int, columns: int) -> Any:
    """(count, H, W) averaged down to at most rows x columns, keeping the aspect ratio."""
    height, width = maps.shape[1:]
    factor = max(height / rows, width / columns, 1.0)
    return _averaged(maps, (max(1, round(height / factor)), max(1, round(width / factor))))


def _averaged(maps: Any, size: tuple[int, int]) -> Any:
    """(count, H, W) averaged down to (count, *size)."""
    import torch.nn.functional as F

    if tuple(maps.shape[1:]) == size:
        return maps
    return F.adaptive_avg_pool2d(maps[None], size)[0]


def _scaled(kind: str, values: Any, shown: int, total: int) -> Picture:
    """uint8 pixels from low (0) to high (255); the cells of a wrapped vector's last row
    after its `shown` values hold 0."""
    import numpy as np

    array = values.numpy().astype(np.float32)
    finite = array[np.isfinite(array)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    diverging = low < 0 < high
    if diverging:
        low, high = -max(-low, high), max(-low, high)
    span = high - low
    scaled = (array - low) / span * 255 if span > 0 else np.full_like(array, 128.0)
    pixels = np.nan_to_num(scaled, nan=0.0).round().clip(0, 255).astype(np.uint8)
    return Picture(kind, pixels, low, high, diverging, shown, total)
