"""A note pinned to a port: why a wire was refused there, or the error a new wire gave its
layer. It stays on screen until the user's next action (a click, a key, an edit), so a reason
is never a status-bar flash the user was not looking at."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem

from designer.canvas.style import PORT_RADIUS, CanvasStyle

NOTE_WIDTH = 320.0  # the widest a note grows before its text wraps (screen pixels)
_OFFSET = QPointF(10.0, 12.0)  # the box's corner from the port (screen pixels)
_MARGIN = QPointF(7.0, 5.0)


class PortNote(QGraphicsItem):
    """A framed, word-wrapped text beside a port, at the same size on screen at any zoom; a
    ring marks the port it speaks of."""

    def __init__(self, style: CanvasStyle, port_pos: QPointF, text: str) -> None:
        super().__init__()
        self.style, self.text = style, text
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.setZValue(6)
        self.setPos(port_pos)
        metrics = QFontMetricsF(style.small_font)
        text_rect = metrics.boundingRect(QRectF(0, 0, NOTE_WIDTH, 1000),
                                         Qt.TextFlag.TextWordWrap, text)
        self._box = QRectF(_OFFSET, text_rect.size()).adjusted(
            0, 0, 2 * _MARGIN.x(), 2 * _MARGIN.y())
        ring = PORT_RADIUS + 4
        self._ring = QRectF(-ring, -ring, 2 * ring, 2 * ring)

    def keep_within(self, visible: QRectF, zoom: float) -> None:
        """Put the box left of (or above) the port when the scene area on screen has no room
        for it on the right (or below)."""
        self.prepareGeometryChange()
        port = self.pos()
        if port.x() + self._box.right() / zoom > visible.right():
            self._box.moveRight(-_OFFSET.x())
        if port.y() + self._box.bottom() / zoom > visible.bottom():
            self._box.moveBottom(-_OFFSET.y())

    def boundingRect(self) -> QRectF:
        return self._box.united(self._ring).adjusted(-2, -2, 2, 2)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget=None) -> None:
        style = self.style
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(style.error, 2.0))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawEllipse(self._ring)
        painter.setPen(QPen(style.error, 1.4))
        painter.setBrush(style.card)
        painter.drawRoundedRect(self._box, 5, 5)
        painter.setFont(style.small_font)
        painter.setPen(style.text)
        inner = self._box.adjusted(_MARGIN.x(), _MARGIN.y(), -_MARGIN.x(), -_MARGIN.y())
        painter.drawText(inner, Qt.TextFlag.TextWordWrap, self.text)
