"""The legend of the gradient flow on the wires: which colour is which order of magnitude.

A small panel in the view's lower left corner (a child of the view, like the empty-canvas
hint, so panning does not move it); mouse events pass through it to the canvas.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QGraphicsView, QWidget

from designer.gradient_flow import decade_colour, decade_label

MARGIN = 10
SWATCH = 12.0
ROW = 16.0


class FlowLegend(QWidget):
    """The decades the wires show now, highest first, with the epoch they come from."""

    def __init__(self, view: QGraphicsView) -> None:
        super().__init__(view)
        self.view = view
        self.decades: list[int] = []
        self.title = ""
        self.setObjectName("gradientFlowLegend")
        self.setAccessibleName("Gradient flow legend")
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        view.viewport().installEventFilter(self)
        self.hide()

    def show_decades(self, decades: list[int], title: str) -> None:
        self.decades, self.title = decades, title
        self.setVisible(bool(decades))
        self.resize(self.sizeHint())
        self._place()
        self.update()

    def text(self) -> str:
        """The legend as words (for tests and screen readers)."""
        return "\n".join([self.title, *(decade_label(d) for d in self.decades)])

    def sizeHint(self) -> QSize:
        metrics = QFontMetricsF(self.font())
        widest = max([metrics.horizontalAdvance(self.title),
                      *(SWATCH + 6 + metrics.horizontalAdvance(decade_label(d))
                        for d in self.decades)], default=0.0)
        return QSize(int(widest) + 16, int(ROW * (len(self.decades) + 1)) + 10)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize:
            self._place()
        return False

    def _place(self) -> None:
        viewport = self.view.viewport().geometry()
        self.move(viewport.left() + MARGIN, viewport.bottom() - self.height() - MARGIN)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        fill = QColor(palette.color(palette.ColorRole.Base))
        fill.setAlphaF(0.92)
        painter.setPen(QPen(palette.color(palette.ColorRole.Mid), 1.0))
        painter.setBrush(fill)
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5), 5, 5)
        painter.setPen(palette.color(palette.ColorRole.Text))
        painter.drawText(QRectF(8, 4, self.width() - 12, ROW),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, self.title)
        y = 4 + ROW
        for value in self.decades:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(decade_colour(value)))
            painter.drawRoundedRect(QRectF(8, y + (ROW - SWATCH) / 2, SWATCH, SWATCH), 2, 2)
            painter.setPen(palette.color(palette.ColorRole.Text))
            painter.drawText(QRectF(8 + SWATCH + 6, y, self.width() - SWATCH - 20, ROW),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                             decade_label(value))
            y += ROW
