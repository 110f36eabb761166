"""The learning-rate range test drawn with Pillow: loss against learning rate on a log scale,
each step's loss faint, the smoothed curve strong, the suggestion and the design's own rate
marked, so a report shows why the value was suggested."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from engine.pillow_fonts import font
from engine.training.lr_finder import LrCurve

SIZE = (900, 560)
PLOT = (90, 60, 860, 470)          # left, top, right, bottom of the axes
BACKGROUND = (255, 255, 255)
GRID = (228, 230, 236)
AXIS = (90, 95, 110)
TEXT = (25, 28, 36)
RAW = (180, 190, 220)
SMOOTHED = (40, 70, 160)
SUGGESTED = (200, 60, 40)
CURRENT = (60, 140, 80)
TICKS = 5                          # loss ticks


def draw_lr_curve(curve: LrCurve, title: str) -> object:
    """The plot as a PIL image."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", SIZE, BACKGROUND)
    draw = ImageDraw.Draw(image)
    rates = curve.learning_rates
    low, high = _loss_range(curve)
    decades = (math.floor(math.log10(rates[0])), math.ceil(math.log10(rates[-1])))

    def x(rate: float) -> float:
        return PLOT[0] + (math.log10(rate) - decades[0]) / (decades[1] - decades[0]) * (
            PLOT[2] - PLOT[0])

    def y(loss: float) -> float:
        share = (min(max(loss, low), high) - low) / (high - low)
        return PLOT[3] - share * (PLOT[3] - PLOT[1])

    small = font(13)
    for decade in range(decades[0], decades[1] + 1):
        draw.line([(x(10.0 ** decade), PLOT[1]), (x(10.0 ** decade), PLOT[3])], fill=GRID)
        label = f"1e{decade}"
        draw.text((x(10.0 ** decade) - small.getlength(label) / 2, PLOT[3] + 8), label,
                  fill=AXIS, font=small)
    for tick in np.linspace(low, high, TICKS):
        draw.line([(PLOT[0], y(tick)), (PLOT[2], y(tick))], fill=GRID)
        label = f"{tick:.3g}"
        draw.text((PLOT[0] - 8 - small.getlength(label), y(tick) - 7), label, fill=AXIS,
                  font=small)
    draw.rectangle(PLOT, outline=AXIS)
    draw.line([(x(r), y(loss)) for r, loss in zip(rates, curve.losses)], fill=RAW, width=1)
    draw.line([(x(r), y(loss)) for r, loss in zip(rates, curve.smoothed)], fill=SMOOTHED,
              width=3)
    for rate, colour in ((curve.suggestion, SUGGESTED), (curve.current, CURRENT)):
        if rates[0] <= rate <= rates[-1]:
            draw.line([(x(rate), PLOT[1]), (x(rate), PLOT[3])], fill=colour, width=2)
    draw.text((PLOT[0], 16), title, fill=TEXT, font=font(19))
    legend = [(f"suggested {curve.suggestion:.2g} ({curve.rule})", SUGGESTED),
              (f"the design's {curve.optimizer} rate {curve.current:.2g}", CURRENT),
              ("smoothed loss", SMOOTHED), ("loss of each step", RAW)]
    left = PLOT[0]
    for label, colour in legend:
        draw.rectangle((left, SIZE[1] - 40, left + 16, SIZE[1] - 28), fill=colour)
        draw.text((left + 22, SIZE[1] - 43), label, fill=TEXT, font=small)
        left += 36 + small.getlength(label)
    draw.text((PLOT[0], PLOT[3] + 28), f"learning rate (log scale); {curve.ended}", fill=AXIS,
              font=small)
    return image


def save_lr_curve(curve: LrCurve, title: str, path: str | Path) -> None:
    draw_lr_curve(curve, title).save(path)


def _loss_range(curve: LrCurve) -> tuple[float, float]:
    """From a little below the lowest smoothed loss to a little above the first: the blow-up
    at the end would otherwise flatten everything before it."""
    low = float(min(curve.smoothed.min(), np.percentile(curve.losses, 2)))
    high = float(max(curve.smoothed[0], np.percentile(curve.losses, 5)) * 1.15)
    margin = (high - low) * 0.05 or 1.0
    return low - margin, high
