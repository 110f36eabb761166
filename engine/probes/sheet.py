"""One picture of a whole probe, for reports and teaching: a card per node output (name,
layer, shape, its picture with the colour scale, statistics and warnings), in the order the
network computes them. Drawn with Pillow: the engine never imports Qt."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from engine.pillow_fonts import font
from engine.probes.colours import coloured
from engine.probes.probe import NodeProbe, Probe

COLUMNS = 4
CARD = (330, 300)             # width, height
MARGIN = 14
PICTURE = (CARD[0] - 2 * MARGIN, 150)
HEADER = 70                   # the sheet's title lines
BACKGROUND = (236, 238, 242)
CARD_FILL = (255, 255, 255)
INNER_FILL = (247, 248, 252)  # a node inside a block use
ACCENT = (120, 130, 200)
TEXT = (25, 28, 36)
MUTED = (95, 100, 115)
WARNING = (190, 40, 40)
STRIP_CELL = (40, 24)         # the largest cell of a sequence or vector picture


def draw_sheet(probe: Probe, title: str) -> object:
    """The sheet as a PIL image."""
    from PIL import Image, ImageDraw

    rows = max(1, math.ceil(len(probe.nodes) / COLUMNS))
    size = (COLUMNS * CARD[0] + (COLUMNS + 1) * MARGIN,
            HEADER + rows * (CARD[1] + MARGIN) + MARGIN)
    sheet = Image.new("RGB", size, BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    draw.text((MARGIN, 12), title, fill=TEXT, font=font(22))
    draw.text((MARGIN, 42), f"network {probe.network!r} · {probe.source} · {probe.weights} · "
              f"dead units counted over {probe.batch} samples", fill=MUTED, font=font(14))
    for index, node in enumerate(probe.nodes):
        row, column = divmod(index, COLUMNS)
        origin = (MARGIN + column * (CARD[0] + MARGIN), HEADER + row * (CARD[1] + MARGIN))
        _card(sheet, draw, node, origin)
    return sheet


def save_sheet(probe: Probe, title: str, path: str | Path) -> None:
    draw_sheet(probe, title).save(path)


def _card(sheet, draw, node: NodeProbe, origin: tuple[int, int]) -> None:
    x, y = origin
    inside = bool(node.uses)
    draw.rectangle((x, y, x + CARD[0], y + CARD[1]), fill=INNER_FILL if inside else CARD_FILL,
                   outline=(205, 208, 216))
    if inside:
        draw.rectangle((x, y, x + 4, y + CARD[1]), fill=ACCENT)
    left = x + MARGIN
    draw.text((left, y + 10), _fitted(node.label, font(17), PICTURE[0]), fill=TEXT,
              font=font(17))
    shape = "(" + ", ".join(str(d) for d in node.shape) + ")"
    draw.text((left, y + 32), _fitted(f"{node.layer}  {shape}", font(13), PICTURE[0]),
              fill=MUTED, font=font(13))
    top = y + 54
    _picture(sheet, node, (left, top))
    _scale(sheet, draw, node, (left, top + PICTURE[1] + 8))
    for line, (text, colour) in enumerate(_facts(node)):
        draw.text((left, top + PICTURE[1] + 30 + 17 * line), text, fill=colour, font=font(13))


def _picture(sheet, node: NodeProbe, origin: tuple[int, int]) -> None:
    from PIL import Image, ImageDraw

    picture = node.picture
    rgb = coloured(picture.pixels, picture.diverging)
    count, height, width = picture.pixels.shape
    if picture.kind == "maps":
        columns, scale = _grid(count, height, width)
        gap = 3
        total = (columns * (width * scale + gap) - gap,
                 math.ceil(count / columns) * (height * scale + gap) - gap)
        left = origin[0] + (PICTURE[0] - total[0]) // 2
        for index in range(count):
            row, column = divmod(index, columns)
            tile = Image.fromarray(rgb[index]).resize((width * scale, height * scale),
                                                      Image.Resampling.NEAREST)
            sheet.paste(tile, (left + column * (width * scale + gap),
                               origin[1] + row * (height * scale + gap)))
        return
    if picture.pixels.size == 1:
        draw = ImageDraw.Draw(sheet)
        draw.text((origin[0], origin[1] + 20), f"value {_number(node.statistics.mean)}",
                  fill=TEXT, font=font(26))
        return
    cell = (max(1, min(PICTURE[0] // width, STRIP_CELL[0])),
            max(1, min(PICTURE[1] // height, STRIP_CELL[1])))
    levels = rgb[0].copy()
    if picture.kind == "vector":   # the wrapped last row's cells after the values
        levels.reshape(-1, 3)[picture.shown if height > 1 else width:] = CARD_FILL
    strip = Image.fromarray(levels).resize((width * cell[0], height * cell[1]),
                                           Image.Resampling.NEAREST)
    left = origin[0] + (PICTURE[0] - strip.width) // 2
    if height > 1 or picture.kind != "sequence":
        sheet.paste(strip, (left, origin[1]))
        return
    sheet.paste(strip, (left, origin[1] + PICTURE[1] - strip.height))
    _line(ImageDraw.Draw(sheet), picture.pixels[0, 0], (left, origin[1]), cell[0],
          PICTURE[1] - strip.height - 8)


def _line(draw, levels: np.ndarray, origin: tuple[int, int], step: int, height: int) -> None:
    """A one-feature sequence's values as a line above its strip, one point per step (a
    signal reads better as a curve than as colours alone)."""
    bottom = origin[1] + height
    points = [(origin[0] + step * index + step / 2, bottom - level / 255 * height)
              for index, level in enumerate(levels.tolist())]
    draw.line([(origin[0], bottom), (origin[0] + step * len(points), bottom)],
              fill=(210, 212, 220))
    if len(points) > 1:
        draw.line(points, fill=ACCENT, width=2)
    else:
        draw.ellipse((points[0][0] - 3, points[0][1] - 3, points[0][0] + 3, points[0][1] + 3),
                     fill=ACCENT)


def _grid(count: int, height: int, width: int) -> tuple[int, int]:
    """Columns and the whole-number scale that draw `count` maps largest in the picture."""
    best = (count, 1)
    best_scale = 0
    for columns in range(1, count + 1):
        rows = math.ceil(count / columns)
        scale = min((PICTURE[0] - 3 * (columns - 1)) // (columns * width),
                    (PICTURE[1] - 3 * (rows - 1)) // (rows * height))
        if scale > best_scale:
            best, best_scale = (columns, scale), scale
    return best[0], max(1, best_scale)


def _scale(sheet, draw, node: NodeProbe, origin: tuple[int, int]) -> None:
    """The colour bar with its two ends' values, and how much of the output is shown."""
    from PIL import Image

    picture = node.picture
    if picture.pixels.size == 1:
        return
    bar = coloured(np.tile(np.arange(256, dtype=np.uint8), (10, 1)), picture.diverging)
    sheet.paste(Image.fromarray(bar).resize((80, 10)), (origin[0] + 52, origin[1] + 3))
    small = font(12)
    low = _number(picture.low)
    draw.text((origin[0] + 46 - small.getlength(low), origin[1]), low, fill=MUTED, font=small)
    draw.text((origin[0] + 138, origin[1]), _number(picture.high), fill=MUTED, font=small)
    shown = _shown(node)
    if shown:
        width = small.getlength(shown)
        draw.text((origin[0] + PICTURE[0] - width, origin[1]), shown, fill=MUTED, font=small)


def _shown(node: NodeProbe) -> str:
    picture = node.picture
    if picture.shown == picture.total:
        return ""
    what = {"maps": "channels", "sequence": "features", "vector": "values"}[picture.kind]
    if picture.kind == "maps":
        return f"{picture.shown} of {picture.total} {what}"
    return f"{picture.total} {what} averaged"


def _facts(node: NodeProbe) -> list[tuple[str, tuple[int, int, int]]]:
    s = node.statistics
    lines = [(f"mean {_number(s.mean)}   std {_number(s.std)}", TEXT),
             (f"min {_number(s.min)}   max {_number(s.max)}   zero {s.zeros:.0%}", TEXT)]
    notes = []
    if s.dead is not None:
        notes.append(f"never fire over {s.batch} samples: {s.dead:.0%}")
    if s.saturated is not None:
        notes.append(f"saturated: {s.saturated:.0%}")
    warned = "dead" in s.flags or "saturated" in s.flags
    if notes:
        lines.append(("   ".join(notes), WARNING if warned else TEXT))
    if s.flags:
        lines.append(("warning: " + " and ".join(s.flags) + " units", WARNING))
    return lines


def _number(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 1000 or abs(value) < 0.01:
        return f"{value:.2e}"
    return f"{value:.3g}"


def _fitted(text: str, font, width: int) -> str:
    """`text` cut with an ellipsis to fit `width` pixels."""
    if font.getlength(text) <= width:
        return text
    while text and font.getlength(text + "…") > width:
        text = text[:-1]
    return text + "…"
