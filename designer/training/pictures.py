"""Small painted views of samples: image grids, 2-D scatters and sequence windows.

They draw numpy arrays with QPainter (no pyqtgraph, no torch), so the data preview, the live
sample pictures and the Predict tab share them and each costs next to nothing to show.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QImage,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from designer.theme import SEVERITY_COLOURS
from engine.on_first_use import ModuleOnFirstUse

if TYPE_CHECKING:
    import numpy as np
else:   # the window's first paint does not wait for numpy (engine.on_first_use)
    np = ModuleOnFirstUse("numpy")

CLASS_COLOURS = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
                 "#ff9da7", "#9c755f", "#bab0ac")
RIGHT, WRONG = QColor("#2e9d4f"), QColor(SEVERITY_COLOURS["error"])


def class_colour(index: int) -> QColor:
    return QColor(CLASS_COLOURS[index % len(CLASS_COLOURS)])


SQUARE_FROM = 36  # vectors this long or longer whose length is a square are shown square


def as_images(array: np.ndarray) -> np.ndarray:
    """Samples as (N, C, H, W) pictures: images stay; flattened square images (64 values as
    8x8, 784 as 28x28) are shown square; other vectors become one-row strips."""
    array = np.asarray(array, dtype=np.float32)
    if array.ndim == 4:
        return array
    if array.ndim == 3:
        return array[:, None]
    flat = array.reshape(len(array), -1)
    side = math.isqrt(flat.shape[1])
    if flat.shape[1] >= SQUARE_FROM and side * side == flat.shape[1]:
        return flat.reshape(len(flat), 1, side, side)
    return flat.reshape(len(flat), 1, 1, -1)


def to_qimage(image: np.ndarray, low: float, high: float) -> QImage:
    """One (C, H, W) sample as an 8-bit grey or RGB QImage, scaled from [low, high]."""
    scale = 255.0 / (high - low) if high > low else 0.0
    pixels = np.clip((image - low) * scale, 0, 255).astype(np.uint8)
    if pixels.shape[0] == 3:
        rgb = np.ascontiguousarray(pixels.transpose(1, 2, 0))
        height, width = rgb.shape[:2]
        return QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()
    grey = np.ascontiguousarray(pixels[0])
    height, width = grey.shape
    return QImage(grey.data, width, height, width, QImage.Format.Format_Grayscale8).copy()


class PaintedView(QWidget):
    """Base of the painted views: a message when empty, palette-aware colours."""

    def __init__(self, empty_text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.empty_text = empty_text
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(60, 40)

    def sizeHint(self) -> QSize:
        return QSize(320, 240)

    def ink(self) -> QColor:
        return self.palette().color(self.foregroundRole())

    def faint(self) -> QColor:
        colour = self.ink()
        colour.setAlpha(90)
        return colour

    def start_painting(self, has_content: bool, antialiased: bool = True) -> QPainter | None:
        """A painter on this view with the small font, or None once the empty text is painted
        (so paintEvent returns)."""
        painter = QPainter(self)
        if not has_content:
            self.paint_empty(painter)
            return None
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, antialiased)
        painter.setFont(self.small_font())
        return painter

    def paint_empty(self, painter: QPainter) -> None:
        painter.setPen(self.faint())
        painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                         self.empty_text)

    def small_font(self) -> QFont:
        font = QFont(self.font())
        font.setPointSizeF(max(6.5, font.pointSizeF() * 0.85))
        return font


class ImageGrid(PaintedView):
    """Pictures in a grid with an optional caption (and caption colour) under each; rows can
    carry titles (e.g. "input" / "output" for an autoencoder). A click on a picture reports
    its index (`tileClicked`); the `selected` one is framed."""

    tileClicked = Signal(int)

    def __init__(self, empty_text: str = "No images yet", parent: QWidget | None = None) -> None:
        super().__init__(empty_text, parent)
        self.clear()

    def set_images(self, images: np.ndarray, captions: Sequence[str] = (),
                   colours: Sequence[QColor | None] = (), columns: int | None = None,
                   row_titles: Sequence[str] = ()) -> None:
        images = as_images(images)
        finite = images[np.isfinite(images)]
        low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        self.pixmaps = [QPixmap.fromImage(to_qimage(np.nan_to_num(image), low, high))
                        for image in images]
        self.captions = list(captions)
        self.colours = list(colours)
        self.columns, self.row_titles = columns, list(row_titles)
        self.selected = None
        height, width = images.shape[2:] if len(images) else (1, 1)
        self.aspect = width / height
        self.update()

    def clear(self) -> None:
        """No pictures (without numpy: every empty grid is made with the window)."""
        self.selected: int | None = None
        self.pixmaps: list[QPixmap] = []
        self.captions: list[str] = []
        self.colours: list[QColor | None] = []
        self.columns: int | None = None
        self.row_titles: list[str] = []
        self.aspect = 1.0
        self.update()

    def _layout(self) -> tuple[int, int, float, float, float]:
        """columns, rows, tile width, tile height and caption height that fill the widget."""
        count = len(self.pixmaps)
        caption = QFontMetricsF(self.small_font()).height() if self.captions else 0.0
        title = 56.0 if self.row_titles else 0.0
        area_w, area_h = self.width() - 8 - title, self.height() - 8
        best = (1, count, 0.0)
        options = [self.columns] if self.columns else range(1, count + 1)
        for columns in options:
            rows = math.ceil(count / columns)
            width = min(area_w / columns - 4, ((area_h / rows) - 4 - caption) * self.aspect)
            if width > best[2]:
                best = (columns, rows, width)
        columns, rows, width = best
        return columns, rows, max(width, 1.0), max(width, 1.0) / self.aspect, caption

    def select(self, index: int | None) -> None:
        self.selected = index
        self.update()

    def tiles(self) -> list[QRectF]:
        """Where each picture is drawn (without its caption)."""
        columns, rows, width, height, caption = self._layout()
        title = 56.0 if self.row_titles else 0.0
        left = 4 + title + (self.width() - 8 - title - columns * (width + 4)) / 2
        top = 4 + max(0.0, (self.height() - 8 - rows * (height + caption + 4)) / 2)
        return [QRectF(left + column * (width + 4), top + row * (height + caption + 4),
                       width, height)
                for row, column in (divmod(i, columns) for i in range(len(self.pixmaps)))]

    def tile_at(self, point: QPointF) -> int | None:
        """The index of the picture under `point`, if any."""
        return next((i for i, tile in enumerate(self.tiles()) if tile.contains(point)), None)

    def mousePressEvent(self, event) -> None:
        index = self.tile_at(event.position())
        if index is not None:
            self.tileClicked.emit(index)
        super().mousePressEvent(event)

    def paintEvent(self, _event) -> None:
        painter = self.start_painting(bool(self.pixmaps), antialiased=False)
        if painter is None:
            return
        _columns, rows, width, height, caption = self._layout()
        title = 56.0 if self.row_titles else 0.0
        top = 4 + max(0.0, (self.height() - 8 - rows * (height + caption + 4)) / 2)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, width < 2 * 32)
        for index, (pixmap, tile) in enumerate(zip(self.pixmaps, self.tiles())):
            x, y = tile.x(), tile.y()
            painter.drawPixmap(tile.toRect(), pixmap)
            if index == self.selected:
                painter.setPen(QPen(self.palette().color(self.palette().ColorRole.Highlight), 2))
                painter.drawRect(tile.adjusted(-2, -2, 2, 2))
            if index < len(self.captions):
                colour = self.colours[index] if index < len(self.colours) else None
                painter.setPen(colour or self.ink())
                painter.drawText(QRectF(x - 2, y + height, width + 4, caption),
                                 Qt.AlignmentFlag.AlignCenter, self.captions[index])
        painter.setPen(self.ink())
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        for row, text in enumerate(self.row_titles[:rows]):
            y = top + row * (height + caption + 4)
            painter.drawText(QRectF(0, y, title, height),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                             text + "  ")


@dataclass
class PointSet:
    points: np.ndarray          # (N, 2)
    colour: QColor
    label: str = ""
    size: float = 3.0


class ScatterView(PaintedView):
    """2-D points (generated beside real samples, a latent space, two-moons data), equal
    scales on both axes, with a legend."""

    def __init__(self, empty_text: str = "No points yet", parent: QWidget | None = None) -> None:
        super().__init__(empty_text, parent)
        self.sets: list[PointSet] = []
        self.title = ""

    def set_points(self, sets: Sequence[PointSet], title: str = "") -> None:
        self.sets = [s for s in sets if len(s.points)]
        self.title = title
        self.update()

    def paintEvent(self, _event) -> None:
        painter = self.start_painting(bool(self.sets))
        if painter is None:
            return
        metrics = painter.fontMetrics()
        everything = np.concatenate([s.points[:, :2] for s in self.sets])
        everything = everything[np.isfinite(everything).all(axis=1)]
        if not len(everything):
            self.paint_empty(painter)
            return
        low, high = everything.min(axis=0), everything.max(axis=0)
        centre, half = (low + high) / 2, max(float((high - low).max()) / 2, 1e-6) * 1.08
        top = metrics.height() + 6 if self.title else 4
        plot = QRectF(4, top, self.width() - 8, self.height() - top - 4)
        side = min(plot.width(), plot.height())
        box = QRectF(plot.center().x() - side / 2, plot.center().y() - side / 2, side, side)
        painter.setPen(QPen(self.faint(), 1))
        painter.drawRect(box)
        painter.drawLine(QPointF(box.center().x(), box.top()),
                         QPointF(box.center().x(), box.bottom()))
        painter.drawLine(QPointF(box.left(), box.center().y()),
                         QPointF(box.right(), box.center().y()))
        scale = side / (2 * half)
        for point_set in self.sets:
            colour = QColor(point_set.colour)
            colour.setAlpha(170)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colour)
            radius = point_set.size / 2
            xs = box.center().x() + (point_set.points[:, 0] - centre[0]) * scale
            ys = box.center().y() - (point_set.points[:, 1] - centre[1]) * scale
            for x, y in zip(xs.tolist(), ys.tolist()):
                if math.isfinite(x) and math.isfinite(y):
                    painter.drawEllipse(QPointF(x, y), radius, radius)
        painter.setPen(self.ink())
        if self.title:
            painter.drawText(QRectF(0, 2, self.width(), metrics.height()),
                             Qt.AlignmentFlag.AlignCenter, self.title)
        y = box.top() + 4
        for point_set in self.sets:
            if not point_set.label:
                continue
            painter.setBrush(point_set.colour)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.drawEllipse(QPointF(box.left() + 10, y + metrics.height() / 2), 4, 4)
            painter.setPen(self.ink())
            painter.drawText(QPointF(box.left() + 18, y + metrics.ascent()), point_set.label)
            y += metrics.height() + 2


def labelled_sets(points: np.ndarray, labels: np.ndarray | None, label_names=None,
                  size: float = 3.0) -> list[PointSet]:
    """Points split by class id, one colour per class (one set when there are no labels)."""
    if labels is None or len(labels) != len(points):
        return [PointSet(points, class_colour(0), "", size)]
    labels = np.asarray(labels).astype(int).reshape(-1)
    sets = []
    for value in np.unique(labels):
        name = label_names[value] if label_names and value < len(label_names) else str(value)
        sets.append(PointSet(points[labels == value], class_colour(int(value)), name, size))
    return sets


class SeriesView(PaintedView):
    """A few sequence windows: the input (grey), the true continuation and the prediction."""

    def __init__(self, empty_text: str = "No sequences yet", parent: QWidget | None = None) -> None:
        super().__init__(empty_text, parent)
        self.windows: list[tuple[np.ndarray, np.ndarray | None, np.ndarray | None, str]] = []

    def set_series(self, inputs: np.ndarray, targets: np.ndarray | None = None,
                   outputs: np.ndarray | None = None, captions: Sequence[str] = ()) -> None:
        """inputs (N, steps, features); targets/outputs either one value per sample (the step
        after the window) or one per step (the window shifted by one)."""
        self.windows = []
        for index, window in enumerate(np.asarray(inputs, dtype=np.float64)[:6]):
            target = None if targets is None else np.asarray(targets[index], dtype=np.float64)
            output = None if outputs is None else np.asarray(outputs[index], dtype=np.float64)
            caption = captions[index] if index < len(captions) else ""
            self.windows.append((window.reshape(len(window), -1)[:, 0], _first_feature(target),
                                 _first_feature(output), caption))
        self.update()

    def paintEvent(self, _event) -> None:
        painter = self.start_painting(bool(self.windows))
        if painter is None:
            return
        count = len(self.windows)
        columns = 2 if count > 1 and self.width() > 1.2 * self.height() else 1
        rows = math.ceil(count / columns)
        legend = painter.fontMetrics().height() + 4
        width = (self.width() - 4) / columns
        height = (self.height() - legend - 4) / rows
        accent = self.palette().color(self.palette().ColorRole.Highlight)
        for index, (window, target, output, caption) in enumerate(self.windows):
            row, column = divmod(index, columns)
            box = QRectF(4 + column * width, legend + row * height, width - 8, height - 8)
            self._paint_window(painter, box, window, target, output, caption, accent)
        painter.setPen(self.ink())
        painter.drawText(QRectF(4, 0, self.width() - 8, legend), Qt.AlignmentFlag.AlignLeft,
                         "grey: input window    green: true    blue: predicted")

    def _paint_window(self, painter: QPainter, box: QRectF, window: np.ndarray,
                      target: np.ndarray | None, output: np.ndarray | None, caption: str,
                      accent: QColor) -> None:
        steps = len(window)
        curves = [(np.arange(steps), window, self.faint(), False)]
        for values, colour in ((target, RIGHT), (output, accent)):
            if values is None:
                continue
            shifted = len(values) == steps
            xs = np.arange(1, steps + 1) if shifted else np.arange(steps, steps + len(values))
            curves.append((xs, values, colour, not shifted))
        ys = np.concatenate([c[1] for c in curves])
        ys = ys[np.isfinite(ys)]
        low, high = (float(ys.min()), float(ys.max())) if ys.size else (0.0, 1.0)
        span_y = max(high - low, 1e-9)
        span_x = max(max(float(c[0].max()) for c in curves), 1.0)
        painter.setPen(QPen(self.faint(), 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(box)

        def point(x: float, y: float) -> QPointF:
            return QPointF(box.left() + x / span_x * box.width(),
                           box.bottom() - (y - low) / span_y * box.height())

        for xs, values, colour, dots in curves:
            painter.setPen(QPen(colour, 1.6))
            if dots:
                painter.setBrush(colour)
                for x, y in zip(xs.tolist(), values.tolist()):
                    painter.drawEllipse(point(x, y), 3, 3)
                continue
            path = QPainterPath(point(float(xs[0]), float(values[0])))
            for x, y in zip(xs[1:].tolist(), values[1:].tolist()):
                path.lineTo(point(x, y))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(path)
        if caption:
            painter.setPen(self.ink())
            painter.drawText(box.adjusted(4, 2, -4, -2), Qt.AlignmentFlag.AlignTop
                             | Qt.AlignmentFlag.AlignRight, caption)


def _first_feature(values: np.ndarray | None) -> np.ndarray | None:
    """A target or output as one value per step (the first feature of each step)."""
    if values is None:
        return None
    values = np.atleast_1d(values)
    return values.reshape(len(values), -1)[:, 0] if values.ndim > 1 else values
