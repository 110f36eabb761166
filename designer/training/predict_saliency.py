"""Beside the Predict tab's results: which pixels drove an image classifier's prediction of the
selected sample (engine.saliency), as the sample, its saliency heat map and the two overlaid.
The map is made in the helper process; this pane only draws it."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from designer.theme import coloured
from designer.training.pictures import ImageGrid
from engine.on_first_use import ModuleOnFirstUse

if TYPE_CHECKING:
    import numpy as np
else:   # the window's first paint does not wait for numpy (engine.on_first_use)
    np = ModuleOnFirstUse("numpy")

LEGEND = "brighter: pixels that changed the score most"
OVERLAY_WEIGHT = 0.6   # of the heat map over the greyed sample


def heat_colours(pixels: np.ndarray) -> np.ndarray:
    """A (H, W) uint8 map as (3, H, W) colours in [0, 1], black through red and yellow to
    white, so brightness reads as strength even when printed grey."""
    strength = pixels.astype(np.float32) / 255.0
    return np.clip(np.stack([3 * strength, 3 * strength - 1, 3 * strength - 2]), 0.0, 1.0)


def as_rgb(sample: np.ndarray) -> np.ndarray:
    """One (C, H, W) input as (3, H, W) colours in [0, 1]: scaled by its own range, channels
    other than one or three averaged to grey."""
    image = np.asarray(sample, dtype=np.float32)
    if image.shape[0] != 3:
        image = np.repeat(image.mean(axis=0, keepdims=True), 3, axis=0)
    low, high = float(image.min()), float(image.max())
    return (image - low) / (high - low) if high > low else np.zeros_like(image)


class SaliencyPane(QWidget):
    """The selected sample, its saliency map and the overlay, with a legend; or one line saying
    why there is none."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel(self)
        self.title.setWordWrap(True)
        self.grid = ImageGrid("Select a sample to see which pixels drove its prediction")
        self.legend = QLabel(LEGEND, self)
        self.legend.setWordWrap(True)
        self.pixels: np.ndarray | None = None   # the map shown, (H, W) uint8
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.title)
        layout.addWidget(self.grid, 1)
        layout.addWidget(self.legend)

    def waiting(self, what: str) -> None:
        self.title.setText(f"Finding the pixels that drove {what}\u2026")

    def show_map(self, sample: np.ndarray, pixels: np.ndarray, what: str) -> None:
        self.pixels = pixels
        image, heat = as_rgb(sample), heat_colours(pixels)
        overlay = (1 - OVERLAY_WEIGHT) * image.mean(axis=0, keepdims=True) + OVERLAY_WEIGHT * heat
        self.grid.set_images(np.stack([image, heat, overlay]), ["sample", "saliency", "overlay"],
                             columns=3)
        self.title.setText(f"Which pixels drove {what}")
        self.grid.show()
        self.legend.show()

    def show_reason(self, reason: str, error: bool = False) -> None:
        """No map: say why in one line (in the error colour when making it failed)."""
        self.pixels = None
        line = html.escape(f"No saliency map: {reason}")
        self.title.setText(coloured(line) if error else line)
        self.grid.clear()
        self.grid.hide()
        self.legend.hide()
