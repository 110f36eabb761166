"""Wires: a connection between two ports with the tensor shape that flows along it, and the
loose wire that follows the cursor while the user drags from a port."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsSceneMouseEvent, QStyleOptionGraphicsItem

from designer.canvas.style import CanvasStyle
from engine import Edge
from engine.routing import CLEARANCE, Point, curve_controls, label_centre

_PICK_WIDTH = 10.0
_CORNER_RADIUS = CLEARANCE * 0.75  # a routed wire's rounded corners stay clear of the cards
LABEL_LOD = 0.55  # the node cards' detail threshold: labels show with the card texts
_SMOOTH_LOD = 0.3  # zoomed out further, wires are hairlines: drawn without antialiasing


def wire_path(start: QPointF, end: QPointF) -> QPainterPath:
    """A horizontal S-curve from an output (left) to an input (right), also when reversed."""
    first, second = curve_controls((start.x(), start.y()), (end.x(), end.y()))
    path = QPainterPath(start)
    path.cubicTo(QPointF(*first), QPointF(*second), end)
    return path


def route_path(route: list[Point]) -> QPainterPath:
    """The S-curve of a plain route (two points), or the polyline of a routed one with its
    corners rounded."""
    points = [QPointF(x, y) for x, y in route]
    if len(points) == 2:
        return wire_path(points[0], points[1])
    path = QPainterPath(points[0])
    for before, corner, after in zip(points, points[1:], points[2:]):
        radius = min(_CORNER_RADIUS, _length(corner - before) / 2, _length(after - corner) / 2)
        path.lineTo(corner + _towards(before - corner, radius))
        path.quadTo(corner, corner + _towards(after - corner, radius))
    path.lineTo(points[-1])
    return path


def _length(vector: QPointF) -> float:
    return abs(vector.x()) + abs(vector.y())  # routed runs are horizontal or vertical


def _towards(vector: QPointF, distance: float) -> QPointF:
    length = _length(vector)
    return vector * (distance / length) if length else QPointF()


def label_size(text: str, style: CanvasStyle) -> tuple[float, float]:
    """The width and height of a shape label's box."""
    width, height = style.small_text_size(text)
    return width + 10, height + 2


class EdgeItem(QGraphicsItem):
    """One design edge. A click picks it (so Delete disconnects it); it is not a Qt-selectable
    item, so a rubber band drawn around nodes never catches the wires that cross it."""

    def __init__(self, edge: Edge, style: CanvasStyle) -> None:
        super().__init__()
        self.edge = edge
        self.style = style
        self.label = ""
        self.route: list[Point] = []
        self._path = QPainterPath()
        self._label_rect = QRectF()
        self._bounds = QRectF()
        self._shape: QPainterPath | None = None   # worked out when first asked for
        self._hovered = False
        self.picked = False
        self.flow: QColor | None = None   # the gradient's order of magnitude, when shown
        self.setAcceptHoverEvents(True)
        self.setZValue(0)

    def set_picked(self, picked: bool) -> None:
        if picked != self.picked:
            self.picked = picked
            self.update()

    def set_flow(self, colour: QColor | None, tip: str = "") -> None:
        """Colour the wire by the gradient flowing back through it (None: the plain wire)."""
        if colour != self.flow:
            self.flow = colour
            self.update()
        if tip != self.toolTip():
            self.setToolTip(tip)

    def set_style(self, style: CanvasStyle) -> None:
        self.prepareGeometryChange()
        self.style = style
        self._place_label()
        self.update()

    def set_ends(self, start: QPointF, end: QPointF) -> None:
        """Join the ports with a plain curve (the scene's router may route it afterwards)."""
        self.set_route([(start.x(), start.y()), (end.x(), end.y())])

    def ends(self) -> tuple[Point, Point]:
        """Where the wire leaves and where it arrives (it has a route)."""
        return tuple(self.route[0]), tuple(self.route[-1])

    def set_route(self, route: list[Point]) -> None:
        """Follow `route`: two points make a plain curve, more the corners of a routed wire."""
        self.prepareGeometryChange()
        self.route = list(route)
        self._path = route_path(self.route)
        self._place_label()

    def set_label(self, text: str) -> None:
        if text != self.label:
            self.prepareGeometryChange()
            self.label = text
            self._place_label()
            self.update()

    def label_rect(self) -> QRectF:
        return QRectF(self._label_rect)

    def _place_label(self) -> None:
        """Centre the label on the wire's middle, or a routed wire's longest run (see
        engine.routing.label_centre); callers announced the geometry change."""
        if self.label and self.route:
            width, height = label_size(self.label, self.style)
            x, y = label_centre(self.route)
            self._label_rect = QRectF(x - width / 2, y - height / 2, width, height)
        else:
            self._label_rect = QRectF()
        self._bounds = self._path.boundingRect().adjusted(-4, -4, 4, 4).united(self._label_rect)
        self._shape = None

    def boundingRect(self) -> QRectF:
        return self._bounds

    def shape(self) -> QPainterPath:
        """The area a click picks the wire in: kept until the wire or its label moves (Qt asks
        for it on every hover and rubber-band test)."""
        if self._shape is None:
            stroker = QPainterPathStroker()
            stroker.setWidth(_PICK_WIDTH)
            self._shape = stroker.createStroke(self._path)
            if not self._label_rect.isNull():
                self._shape.addRect(self._label_rect)
        return self._shape

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget=None) -> None:
        style = self.style
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, lod >= _SMOOTH_LOD)
        emphasised = self.picked or self._hovered
        colour = style.selection if self.picked else self.flow or style.edge
        width = 2.6 if emphasised else 1.8
        painter.setPen(QPen(colour, width + (1.4 if self.flow is not None else 0.0)))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._path)
        if self._label_rect.isNull() or lod < LABEL_LOD:
            return
        painter.setPen(QPen(colour, 1.0))
        painter.setBrush(style.label_fill)
        painter.drawRoundedRect(self._label_rect, 4, 4)
        painter.setFont(style.small_font)
        painter.setPen(style.text if self.label != "?" else style.muted)
        painter.drawText(self._label_rect, Qt.AlignmentFlag.AlignCenter, self.label)

    def hoverEnterEvent(self, event) -> None:
        self._hovered = True
        self.update()

    def hoverLeaveEvent(self, event) -> None:
        self._hovered = False
        self.update()

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            event.ignore()
            return
        additive = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
        self.scene().pick_edge(self.edge, additive)
        event.accept()


class WireItem(QGraphicsItem):
    """The loose wire during a drag, coloured by whether the port under the cursor accepts it,
    with a note beside the cursor: the shape that would flow, or why it is refused."""

    def __init__(self, style: CanvasStyle, anchor: QPointF, from_output: bool) -> None:
        super().__init__()
        self.style, self.anchor, self.from_output = style, anchor, from_output
        self.verdict: bool | None = None
        self.note = ""
        self._path = QPainterPath()
        self._note_rect = QRectF()
        self.setZValue(5)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

    def follow(self, cursor: QPointF, verdict: bool | None, note: str,
               visible: QRectF | None = None) -> None:
        """Track the cursor; the note goes right of it, or left when `visible` (the scene area
        on screen) has no room on the right."""
        self.prepareGeometryChange()
        self.verdict, self.note = verdict, note
        start, end = (self.anchor, cursor) if self.from_output else (cursor, self.anchor)
        self._path = wire_path(start, end)
        if note:
            metrics = QFontMetricsF(self.style.small_font)
            rect = metrics.boundingRect(QRectF(0, 0, 320, 400), Qt.TextFlag.TextWordWrap, note)
            width, height = rect.width() + 12, rect.height() + 8
            left = cursor.x() + 16
            if visible is not None and left + width > visible.right():
                left = max(visible.left(), cursor.x() - 16 - width)
            self._note_rect = QRectF(left, cursor.y() + 14, width, height)
        else:
            self._note_rect = QRectF()
        self.update()

    def boundingRect(self) -> QRectF:
        return self._path.boundingRect().adjusted(-4, -4, 4, 4).united(self._note_rect)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget=None) -> None:
        style = self.style
        colour = {True: style.accept, False: style.error}.get(self.verdict, style.selection)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(colour, 2.2)
        if self.verdict is None:
            pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._path)
        if self._note_rect.isNull():
            return
        fill = QColor(style.card)
        painter.setPen(QPen(colour, 1.2))
        painter.setBrush(fill)
        painter.drawRoundedRect(self._note_rect, 5, 5)
        painter.setFont(style.small_font)
        painter.setPen(style.text)
        painter.drawText(self._note_rect.adjusted(6, 4, -6, -4), Qt.TextFlag.TextWordWrap, self.note)
