"""The confusion matrix of the last validation: true classes down, predicted across.

Cells are shaded by the share of their row (so rare classes read as clearly as common ones),
the diagonal in the accent colour and mistakes in red, with the count written in each cell.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QWidget

from designer.theme import SEVERITY_COLOURS
from designer.training.pictures import PaintedView

MISTAKE = QColor(SEVERITY_COLOURS["error"])


class ConfusionView(PaintedView):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("The confusion matrix appears after the first epoch", parent)
        self.matrix: np.ndarray | None = None
        self.labels: list[str] = []
        self.title = ""
        self.setMouseTracking(True)

    def set_matrix(self, matrix: np.ndarray | None, labels: list[str] | None,
                   epoch: int = 0) -> None:
        self.matrix = None if matrix is None else np.asarray(matrix, dtype=np.int64)
        count = 0 if self.matrix is None else len(self.matrix)
        self.labels = list(labels) if labels and len(labels) == count else \
            [str(i) for i in range(count)]
        if self.matrix is not None and self.matrix.sum():
            accuracy = np.trace(self.matrix) / self.matrix.sum()
            self.title = f"Validation, epoch {epoch}: {accuracy:.1%} right"
        else:
            self.title = ""
        self.update()

    def _grid(self) -> tuple[QRectF, float]:
        metrics = self.fontMetrics()
        label = max((metrics.horizontalAdvance(t) for t in self.labels), default=0) + 8
        top = metrics.height() * 3 + 8
        left = label + metrics.height() + 4
        count = len(self.labels)
        side = max(1.0, min((self.width() - left - 6) / count, (self.height() - top - 6) / count))
        left += max(0.0, (self.width() - left - 6 - side * count) / 2)   # centred
        return QRectF(left, top, side * count, side * count), side

    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        if self.matrix is None or not len(self.matrix):
            self.paint_empty(painter)
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        grid, side = self._grid()
        accent = self.palette().color(self.palette().ColorRole.Highlight)
        totals = self.matrix.sum(axis=1, keepdims=True).clip(min=1)
        shares = self.matrix / totals
        font = self.small_font()
        if side < 22:
            font.setPointSizeF(max(5.0, font.pointSizeF() * side / 22))
        painter.setFont(font)
        for row, col in np.ndindex(self.matrix.shape):
            share = float(shares[row, col])
            colour = QColor(accent if row == col else MISTAKE)
            colour.setAlphaF(0.08 + 0.92 * share if self.matrix[row, col] else 0.0)
            cell = QRectF(grid.left() + col * side, grid.top() + row * side, side, side)
            painter.fillRect(cell.adjusted(0.5, 0.5, -0.5, -0.5), colour)
            if self.matrix[row, col] and side >= 14:
                painter.setPen(QColor("#ffffff") if share > 0.55 else self.ink())
                painter.drawText(cell, Qt.AlignmentFlag.AlignCenter, str(self.matrix[row, col]))
        painter.setPen(self.faint())
        painter.drawRect(grid)
        painter.setPen(self.ink())
        painter.setFont(self.small_font())
        metrics = painter.fontMetrics()
        label = max(metrics.horizontalAdvance(t) for t in self.labels) + 8
        for index, text in enumerate(self.labels):
            y = grid.top() + index * side
            painter.drawText(QRectF(grid.left() - label, y, label - 4, side),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, text)
            x = grid.left() + index * side
            painter.drawText(QRectF(x, grid.top() - metrics.height() - 2, side,
                                    metrics.height()), Qt.AlignmentFlag.AlignCenter, text)
        painter.drawText(QRectF(0, 0, self.width(), metrics.height()),
                         Qt.AlignmentFlag.AlignCenter, self.title)
        painter.drawText(QRectF(grid.left(), metrics.height() + 2, grid.width(),
                                metrics.height()), Qt.AlignmentFlag.AlignCenter,
                         "predicted \u2192")
        painter.save()
        painter.translate(QPointF(grid.left() - label - metrics.height() / 2 - 2,
                                  grid.center().y()))
        painter.rotate(-90)
        painter.drawText(QRectF(-grid.height() / 2, -metrics.height() / 2, grid.height(),
                                metrics.height()), Qt.AlignmentFlag.AlignCenter, "true  \u2192")
        painter.restore()

    def cell_at(self, x: float, y: float) -> tuple[int, int] | None:
        if self.matrix is None:
            return None
        grid, side = self._grid()
        if not grid.contains(QPointF(x, y)):
            return None
        return int((y - grid.top()) // side), int((x - grid.left()) // side)

    def mouseMoveEvent(self, event) -> None:
        cell = self.cell_at(event.position().x(), event.position().y())
        if cell is None:
            self.setToolTip("")
            return
        row, col = cell
        count, total = int(self.matrix[row, col]), int(self.matrix[row].sum())
        self.setToolTip(f"true {self.labels[row]}, predicted {self.labels[col]}: {count} of "
                        f"{total} ({count / max(total, 1):.0%})")
