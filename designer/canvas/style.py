"""Colours, fonts and sizes of the canvas, derived from the application palette.

Everything is read from the QPalette the app's theme sets, so switching light/dark repaints the
canvas in matching colours; only the category hues of node headers are our own.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from functools import cached_property

from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPalette

from designer.theme import CANVAS_SEVERITY

NODE_WIDTH = 148.0  # the common card width; cards grow for long names
MAX_NODE_WIDTH = 2 * NODE_WIDTH  # beyond this a name is cut (and whole in the tooltip)
HEADER_HEIGHT = 26.0
PORT_RADIUS = 5.5
PORT_SPACING = 20.0
PORT_TOP = 17.0  # the first port's distance below the header
CORNER_RADIUS = 7.0
PADDING = 9.0
BADGE_RADIUS = 8.0
MIN_ZOOM = 0.1
MAX_ZOOM = 3.0
GRID_STEP = 20.0

# Hue (degrees) per catalogue category; categories added later get a stable hue from their name.
CATEGORY_HUES = {
    "Input / Output": 215, "Dense": 250, "Convolution": 200, "Pooling": 178,
    "Normalization": 38, "Activation": 140, "Reshape": 22, "Recurrent": 318,
    "Attention": 278, "Merge": 90, "Blocks": 345,
}


def category_hue(category: str) -> int:
    return CATEGORY_HUES.get(category, zlib.crc32(category.encode("utf-8")) % 360)


def _mix(a: QColor, b: QColor, t: float) -> QColor:
    """a blended towards b by t (0..1)."""
    return QColor.fromRgbF(a.redF() + (b.redF() - a.redF()) * t,
                           a.greenF() + (b.greenF() - a.greenF()) * t,
                           a.blueF() + (b.blueF() - a.blueF()) * t,
                           a.alphaF() + (b.alphaF() - a.alphaF()) * t)


@dataclass
class CanvasStyle:
    """The resolved look of one palette: colours, fonts and the text metrics derived from them."""

    dark: bool
    background: QColor
    grid_minor: QColor
    grid_major: QColor
    card: QColor
    border: QColor
    text: QColor
    muted: QColor
    selection: QColor
    edge: QColor
    label_fill: QColor
    error: QColor
    warning: QColor
    accept: QColor
    title_font: QFont
    body_font: QFont
    small_font: QFont
    line_height: float
    # widths of texts in the small font, measured once each: a design's shape labels repeat,
    # and an edit brings back the texts the labels had before
    _small_widths: dict[str, float] = field(default_factory=dict, init=False, repr=False,
                                            compare=False)

    @classmethod
    def from_palette(cls, palette: QPalette, font: QFont) -> CanvasStyle:
        window = palette.color(QPalette.ColorRole.Window)
        base = palette.color(QPalette.ColorRole.Base)
        text = palette.color(QPalette.ColorRole.WindowText)
        dark = window.lightnessF() < 0.5
        background = _mix(window, base, 0.5) if not dark else _mix(window, QColor("black"), 0.25)
        card = _mix(base, text, 0.06) if dark else base
        title_font = QFont(font)
        title_font.setBold(True)
        body_font = QFont(font)
        small_font = QFont(font)
        small_font.setPointSizeF(max(7.0, font.pointSizeF() - 1.0))
        return cls(
            dark=dark, background=background,
            grid_minor=_mix(background, text, 0.035), grid_major=_mix(background, text, 0.075),
            card=card, border=_mix(card, text, 0.28 if dark else 0.22), text=text,
            muted=_mix(text, card, 0.42), selection=palette.color(QPalette.ColorRole.Highlight),
            edge=_mix(background, text, 0.55), label_fill=_mix(background, base, 0.6),
            error=QColor(CANVAS_SEVERITY[dark]["error"]),
            warning=QColor(CANVAS_SEVERITY[dark]["warning"]),
            accept=QColor("#46a758") if dark else QColor("#2f8a3f"),
            title_font=title_font, body_font=body_font, small_font=small_font,
            line_height=QFontMetricsF(body_font).height() + 2.0)

    def small_text_size(self, text: str) -> tuple[float, float]:
        """The width and height of `text` in the small font."""
        if text not in self._small_widths:
            self._small_widths[text] = QFontMetricsF(self.small_font).horizontalAdvance(text)
        return self._small_widths[text], self.small_line_height

    @cached_property
    def small_line_height(self) -> float:
        return QFontMetricsF(self.small_font).height()

    def header(self, category: str) -> QColor:
        hue = category_hue(category)
        if self.dark:
            return QColor.fromHsvF(hue / 360, 0.50, 0.50)
        return QColor.fromHsvF(hue / 360, 0.30, 0.93)

    def header_text(self) -> QColor:
        return QColor("#f4f4f5") if self.dark else QColor("#1c1c1f")

    def port(self, category: str) -> QColor:
        hue = category_hue(category)
        return QColor.fromHsvF(hue / 360, 0.55, 0.85 if self.dark else 0.70)
