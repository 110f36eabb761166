"""The font pictures the engine draws (probe sheets, learning-rate plots) are written in:
Pillow's own, so a picture looks the same on every machine, and no system font is needed."""

from __future__ import annotations

from functools import lru_cache
from typing import Any


@lru_cache(maxsize=16)
def font(size: int) -> Any:
    """Pillow's built-in font at `size` pixels."""
    from PIL import ImageFont

    return ImageFont.load_default(size=size)
