"""A node card: coloured header with name and type, key parameters, output shape, size, ports.

Inputs sit down the left edge, outputs down the right: most layers have one output; one with
several (Chunk's pieces, attention's output and weights) has a port per output, labelled with
its name, from which wires leave.

The card only shows what the scene tells it (from the design and the latest report); moving,
selecting and wiring are reported to the scene, which turns them into undoable commands.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, QSizeF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsSceneMouseEvent, QStyleOptionGraphicsItem

from designer.canvas.node_text import (
    count_text,
    counts_parameters,
    first_sentence,
    kind_text,
    param_summary,
    shape_text,
)
from designer.canvas.port_item import INPUT, OUTPUT, PortItem
from designer.canvas.probe_tag import ProbeTag
from designer.canvas.style import (
    BADGE_RADIUS,
    CORNER_RADIUS,
    HEADER_HEIGHT,
    MAX_NODE_WIDTH,
    NODE_WIDTH,
    PADDING,
    PORT_RADIUS,
    PORT_SPACING,
    PORT_TOP,
    CanvasStyle,
)
from engine import Node, Problem
from engine.layers import TensorInfo, get_layer
from engine.layers.block_node import BLOCK_TYPE
from engine.probes import NodeProbe

DETAIL_LOD = 0.55  # below this zoom a card shows only its name and shape, in larger letters
_OVERVIEW_PIXELS = 11.0  # on-screen text height of the overview
_MIN_TEXT_PIXELS = 5.0  # overview text smaller than this on screen is noise: not drawn
_PORT_LOD = 0.3  # below this zoom ports are specks (wires still show the connections)
_MIN_BODY_LINES = 2  # cards keep a common height unless they have more to say
_MAX_BODY_LINES = 3  # parameters, output shape, parameter count
_NAME_TYPE_GAP = 6.0  # between the name and the type in the header
_MIN_TYPE_WIDTH = 24.0  # less room than this and the header shows the name alone
_WIDTH_STEP = 10.0  # grown cards widen in steps, so similar names give equal cards
_STACK_STEP = 5.0  # a repeated block shows the cards of its copies stacked behind it


def card_width(style: CanvasStyle, name: str, layer_type: str) -> float:
    """The card's width: the common width, grown (up to MAX_NODE_WIDTH) so the header shows
    the name and the type whole."""
    title = QFontMetricsF(style.title_font).horizontalAdvance(name)
    kind = QFontMetricsF(style.small_font).horizontalAdvance(layer_type)
    needed = 2 * PADDING + math.ceil(title) + _NAME_TYPE_GAP + math.ceil(kind) + 1
    stepped = math.ceil(needed / _WIDTH_STEP) * _WIDTH_STEP
    return min(MAX_NODE_WIDTH, max(NODE_WIDTH, stepped))


def card_height(style: CanvasStyle, body_lines: int, input_ports: int,
                output_ports: int = 1) -> float:
    """The card's height: the header, then the taller of its text lines and its ports."""
    lines = max(body_lines, _MIN_BODY_LINES)
    body = PADDING * 2 + style.line_height * lines - 4
    ports = PORT_TOP + PORT_SPACING * (max(input_ports, output_ports) - 1) + PADDING
    return HEADER_HEIGHT + max(body, ports)


def expected_card_size(style: CanvasStyle, layer_type: str, name: str,
                       input_ports: int = 1) -> QSizeF:
    """The size a card will have before it exists (to find it a free spot): its header, and
    room for every body line, since its shapes are not known yet."""
    spec = get_layer(layer_type)
    ports = spec.max_inputs if spec.max_inputs is not None else max(spec.min_inputs, input_ports)
    return QSizeF(card_width(style, name, layer_type), card_height(style, _MAX_BODY_LINES, ports))


class BadgeItem(QGraphicsItem):
    """The red (error) or yellow (warning) dot on a card's corner; its tooltip is the problem."""

    def __init__(self, node: NodeItem) -> None:
        super().__init__(node)
        self.node = node
        self.severity: str | None = None
        self.setZValue(3)
        self.setVisible(False)

    def boundingRect(self) -> QRectF:
        return QRectF(-BADGE_RADIUS - 1, -BADGE_RADIUS - 1, 2 * BADGE_RADIUS + 2,
                      2 * BADGE_RADIUS + 2)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        style = self.node.style
        colour = style.error if self.severity == "error" else style.warning
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(style.card, 1.5))
        painter.setBrush(colour)
        painter.drawEllipse(QPointF(0, 0), BADGE_RADIUS, BADGE_RADIUS)
        painter.setPen(QColor("#ffffff") if self.severity == "error" else QColor("#1c1c1f"))
        painter.setFont(style.title_font)
        painter.drawText(self.boundingRect(), Qt.AlignmentFlag.AlignCenter, "!")

    def show_problems(self, problems: list[Problem]) -> None:
        """Show the worst severity; repaint only when the badge changed."""
        severity = None
        if problems:
            severity = "error" if any(p.severity == "error" for p in problems) else "warning"
        lines = []
        for problem in problems:
            line = f"{problem.severity.capitalize()}: {problem.message}"
            lines.append(f"{line}\nFix: {problem.fix}" if problem.fix else line)
        text = "\n\n".join(lines)
        if (severity, text) == (self.severity, self.toolTip()):
            return
        self.severity = severity
        self.setToolTip(text)
        self.setVisible(severity is not None)
        self.update()


class NodeItem(QGraphicsItem):
    """The view of one design node; `node_id` ties it to the design."""

    def __init__(self, node: Node, input_ports: int, style: CanvasStyle,
                 output_names: tuple[str, ...] = ("",)) -> None:
        super().__init__()
        self.node_id = node.id
        self.style = style
        spec = get_layer(node.type)
        self.layer_type, self.category = node.type, spec.category
        self.block: str | None = node.params["block"] if node.type == BLOCK_TYPE else None
        self.kind = kind_text(node.type, node.params)
        self.repeat = node.params.get("repeat", 1) if self.block else 1
        self._explanation = first_sentence(spec)
        self.name = node.name
        self.summary = param_summary(node.type, node.params)
        self.shape_label = "?"
        self.count_label = ""
        self._count_known = False
        self._counts = counts_parameters(node.type)
        self.inputs: list[TensorInfo | None] = []
        self.outputs: tuple[TensorInfo | None, ...] = ()
        self.output_names: tuple[str, ...] = ()
        self._width = NODE_WIDTH
        self._fitted_width: float | None = None   # for the name, type and style shown now
        self._height = 0.0
        self._stack = 0.0
        self._bounds = QRectF()
        self._card_path = QPainterPath()
        self._header_path = QPainterPath()
        self._texts: tuple[str, str, list[tuple[str, QColor]]] | None = None
        self._hovered_port: PortItem | None = None
        self._hovered = False
        self.highlight: QColor | None = None
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setAcceptHoverEvents(True)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setZValue(1)
        self.input_ports: list[PortItem] = []
        self.output_ports: list[PortItem] = []
        self.badge = BadgeItem(self)
        self.probe_tag: ProbeTag | None = None   # what the node made of a probed sample
        self.set_input_port_count(input_ports)
        self.set_output_names(output_names if spec.has_output else ())
        self.setPos(QPointF(*node.pos))

    # ------------------------------------------------------------------ content
    def set_style(self, style: CanvasStyle) -> None:
        self.style = style
        self._fitted_width = None
        self._layout()
        self._changed()

    def set_name(self, name: str) -> None:
        if name != self.name:
            self.name = name
            self._fitted_width = None
            self._layout()
            self._changed()

    def set_params(self, params: dict) -> None:
        summary, kind = param_summary(self.layer_type, params), kind_text(self.layer_type, params)
        if (summary, kind) != (self.summary, self.kind):
            self.summary, self.kind = summary, kind
            self._fitted_width = None
            self.repeat = params.get("repeat", 1) if self.block else 1
            self._layout()
            self._changed()

    @property
    def output_port(self) -> PortItem | None:
        """The first (for most layers the only) output's port; None on an Output."""
        return self.output_ports[0] if self.output_ports else None

    def apply_report(self, outputs: tuple[TensorInfo, ...], count: int | None,
                     problems: list[Problem], inputs: list[TensorInfo | None]) -> None:
        """Show the latest check result (`outputs`: the tensor of each output, empty when
        unknown); repaints only when something visible changed."""
        shape, counted = _outputs_text(outputs), count_text(count)
        self.inputs, self.outputs = inputs, outputs
        if (shape, counted) != (self.shape_label, self.count_label):
            lines = self._body_lines()
            self.shape_label, self.count_label = shape, counted
            self._count_known = count is not None
            if self._body_lines() != lines:
                self._layout()
            self._changed()
        self.badge.show_problems(problems)

    def set_input_port_count(self, count: int) -> None:
        _resize_ports(self, self.input_ports, INPUT, count)
        self._layout()
        self.update()

    def set_output_names(self, names: tuple[str, ...]) -> None:
        """One output port per name (the layer's outputs, from its parameters); labelled on
        the card when there are several."""
        if names == self.output_names:
            return
        self.output_names = names
        _resize_ports(self, self.output_ports, OUTPUT, len(names))
        self._layout()
        self._changed()

    def set_highlight(self, colour: QColor | None) -> None:
        """Ring the card in a colour (a training diagnostic about this layer), or not."""
        if colour != self.highlight:
            self.highlight = colour
            self.update()

    def set_probe(self, probed: NodeProbe | None, context: str = "",
                  stale: bool = False) -> None:
        """Show the node's output for the probed sample under the card (None: hide it)."""
        if probed is None:
            if self.probe_tag is not None:
                self.probe_tag.setParentItem(None)
                if self.probe_tag.scene():
                    self.probe_tag.scene().removeItem(self.probe_tag)
                self.probe_tag = None
            return
        if self.probe_tag is None:
            self.probe_tag = ProbeTag(self)
        self.probe_tag.show_probe(probed, context, stale)

    def set_hovered_port(self, port: PortItem | None) -> None:
        self._hovered_port = port
        self.update()

    def set_connected_ports(self, ports: set[int], outputs: set[int]) -> None:
        """Fill the input ports in `ports` and the output ports in `outputs` (wired ones)."""
        for port in self.input_ports:
            port.set_connected(port.index in ports)
        for port in self.output_ports:
            port.set_connected(port.index in outputs)

    def _changed(self) -> None:
        self._texts = None
        if self._hovered:
            self.setToolTip(self.tooltip())
        self.update()

    # ------------------------------------------------------------------ geometry
    def _body_lines(self) -> int:
        """The summary, the shape and the parameter count; the count's line stays (blank)
        while the count is unknown on a layer that has one, so a card keeps its height
        when an edit before it leaves its shapes unknown."""
        lines = [line for line in (self.summary, self.shape_label, self.count_label) if line]
        held = not self.count_label and not self._count_known and self._counts
        return len(lines) + held

    def _layout(self) -> None:
        """Ports sit at a fixed height below the header, so wires between cards placed on one
        row run straight whatever the cards' heights."""
        if self._fitted_width is None:
            self._fitted_width = card_width(self.style, self.name, self.kind)
        width = self._fitted_width
        height = card_height(self.style, self._body_lines(), len(self.input_ports),
                             len(self.output_ports))
        stack = self._stacked_cards() * _STACK_STEP
        if (width, height, stack) != (self._width, self._height, self._stack):
            self.prepareGeometryChange()
            self._width, self._height, self._stack = width, height, stack
            reach = PORT_RADIUS + 3
            self._bounds = self.card_rect().adjusted(-reach, -3, reach + stack, 3 + stack)
            self._card_path = QPainterPath()
            self._card_path.addRoundedRect(self.card_rect(), CORNER_RADIUS, CORNER_RADIUS)
            header = QPainterPath()
            header.addRect(self.title_rect())
            self._header_path = self._card_path.intersected(header)
        for port in self.input_ports:
            port.setPos(0.0, HEADER_HEIGHT + PORT_TOP + port.index * PORT_SPACING)
        for port in self.output_ports:
            port.setPos(self._width, HEADER_HEIGHT + PORT_TOP + port.index * PORT_SPACING)
        self.badge.setPos(self._width - 2, 2)
        if self.probe_tag is not None:
            self.probe_tag.follow_card()

    def _stacked_cards(self) -> int:
        """Cards drawn behind a repeated block, one per further copy, at most two."""
        return min(self.repeat - 1, 2)

    @property
    def attended(self) -> bool:
        """Is the user looking at this card (selected, or under the pointer)?"""
        return self._hovered or self.isSelected()

    @property
    def width(self) -> float:
        return self._width

    @property
    def height(self) -> float:
        return self._height

    def card_rect(self) -> QRectF:
        return QRectF(0, 0, self._width, self._height)

    def title_rect(self) -> QRectF:
        return QRectF(0, 0, self._width, HEADER_HEIGHT)

    def boundingRect(self) -> QRectF:
        return self._bounds

    def input_anchor(self, index: int) -> QPointF:
        if index < len(self.input_ports):
            return self.input_ports[index].scenePos()
        return self.mapToScene(QPointF(0, HEADER_HEIGHT + PORT_TOP))

    def output_anchor(self, index: int = 0) -> QPointF:
        """Where a wire from output `index` leaves (the first output's place when the layer no
        longer has that output: the wire is then an error the check reports)."""
        if index < len(self.output_ports):
            return self.output_ports[index].scenePos()
        if self.output_ports:
            return self.output_ports[0].scenePos()
        return self.mapToScene(QPointF(self._width, HEADER_HEIGHT + PORT_TOP))

    # ------------------------------------------------------------------ painting
    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget=None) -> None:
        style = self.style
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        detailed = lod >= DETAIL_LOD
        header = style.header(self.category)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if self.highlight is not None:  # half of the wide pen shows outside the card
            painter.setPen(QPen(self.highlight, 5.0))
            painter.drawPath(self._card_path)
        for depth in range(self._stacked_cards(), 0, -1):
            painter.setPen(QPen(style.border, 1.0))
            painter.setBrush(style.card)
            painter.drawPath(self._card_path.translated(depth * _STACK_STEP,
                                                        depth * _STACK_STEP))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(style.card if detailed else header)
        painter.drawPath(self._card_path)
        if detailed:
            painter.setBrush(header)
            painter.drawPath(self._header_path)
        selected = self.isSelected()
        painter.setPen(QPen(style.selection if selected else style.border,
                            2.4 if selected else 1.0))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._card_path)
        if lod >= _PORT_LOD:
            self._paint_ports(painter)
        if detailed:
            self._paint_texts(painter)
        else:
            self._paint_overview(painter, lod)

    def _paint_overview(self, painter: QPainter, lod: float) -> None:
        """Zoomed out, small text is unreadable: show the name and output shape at a size that
        stays legible on screen (as far as the card has room); zoomed out further, where even
        that would be a smudge of a few pixels, the card is just its coloured shape."""
        style = self.style
        rect = self.card_rect().adjusted(PADDING / 2, 2, -PADDING / 2, -2)
        size = _overview_text_size(style, lod)
        if size * lod < _MIN_TEXT_PIXELS:
            return
        title = QFont(style.title_font)
        title.setPixelSize(max(1, round(size)))
        detail = QFont(style.body_font)
        detail.setPixelSize(max(1, round(size * 0.8)))
        name_height = QFontMetricsF(title).height()
        detail_height = QFontMetricsF(detail).height()
        top = rect.center().y() - (name_height + detail_height) / 2
        centre = Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter
        elide = Qt.TextElideMode.ElideRight
        painter.setPen(style.header_text())
        for font, text, height in ((title, self.name, name_height),
                                   (detail, self.shape_label, detail_height)):
            painter.setFont(font)
            fitted = QFontMetricsF(font).elidedText(text, elide, rect.width())
            painter.drawText(QRectF(rect.left(), top, rect.width(), height), centre, fitted)
            top += height

    def _paint_ports(self, painter: QPainter) -> None:
        """Filled circles for connected ports, rings for free ones; the hovered one grows."""
        style = self.style
        colour = style.port(self.category)
        for port in self.input_ports + self.output_ports:
            hovered = port is self._hovered_port
            radius = PORT_RADIUS + (1.5 if hovered else 0.0)
            painter.setPen(QPen(style.selection if hovered else colour, 2.0))
            painter.setBrush(colour if port.connected else style.card)
            painter.drawEllipse(port.pos(), radius, radius)
        if len(self.output_ports) > 1:
            self._paint_output_labels(painter)

    def _paint_output_labels(self, painter: QPainter) -> None:
        """Each output's name just inside the card, beside its port."""
        style = self.style
        painter.setFont(style.small_font)
        painter.setPen(style.muted)
        height = QFontMetricsF(style.small_font).height()
        room = self._width / 2 - PORT_RADIUS - 2
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        for port, name in zip(self.output_ports, self.output_names):
            box = QRectF(self._width - PORT_RADIUS - 3 - room, port.pos().y() - height / 2,
                         room, height)
            painter.drawText(box, right, name)

    def _paint_texts(self, painter: QPainter) -> None:
        if self._texts is None:
            self._texts = self._fitted_texts()
        name, layer_type, lines = self._texts
        style = self.style
        inner = self._width - 2 * PADDING
        header = QRectF(PADDING, 0, inner, HEADER_HEIGHT)
        left = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        header_text = style.header_text()
        faded = QColor(header_text)
        faded.setAlphaF(0.72)
        painter.setFont(style.small_font)
        painter.setPen(faded)
        painter.drawText(header, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                         layer_type)
        painter.setFont(style.title_font)
        painter.setPen(header_text)
        painter.drawText(header, left, name)
        painter.setFont(style.body_font)
        y = HEADER_HEIGHT + PADDING - 2
        for text, colour in lines:
            painter.setPen(colour)
            painter.drawText(QRectF(PADDING, y, inner, style.line_height), left, text)
            y += style.line_height

    def _fitted_texts(self) -> tuple[str, str, list[tuple[str, QColor]]]:
        """Name, type and body lines fitted to the card. The card grew to show the name and
        type whole; on a card at its widest the type gives way first, then the name is cut
        (the card's tooltip shows it whole)."""
        style = self.style
        inner = self._width - 2 * PADDING
        small, title, body = (QFontMetricsF(f) for f in
                              (style.small_font, style.title_font, style.body_font))
        elide = Qt.TextElideMode.ElideRight
        name = title.elidedText(self.name, elide, inner)
        room = inner - math.ceil(title.horizontalAdvance(name)) - _NAME_TYPE_GAP
        layer_type = small.elidedText(self.kind, elide, room) \
            if room >= _MIN_TYPE_WIDTH else ""
        lines = []
        if self.summary:
            lines.append((self.summary, style.text))
        if self.shape_label:
            unknown = self.shape_label == "?"
            lines.append((f"\u2192 {self.shape_label}", style.muted if unknown else style.text))
        if self.count_label:
            lines.append((self.count_label, style.muted))
        return name, layer_type, [(body.elidedText(t, elide, inner), c) for t, c in lines]

    def shown_name(self) -> str:
        """The name as the header shows it: whole, or cut with an ellipsis on the widest card."""
        if self._texts is None:
            self._texts = self._fitted_texts()
        return self._texts[0]

    # ------------------------------------------------------------------ tooltips
    def tooltip(self) -> str:
        lines = [f"{self.name} ({self.kind})"]
        if self.summary:
            lines.append(self.summary)
        lines.append(f"output {self.shape_label}" +
                     (f", {self.count_label}" if self.count_label else ""))
        lines.append(self._explanation)
        if self.block is not None:
            lines.append("Double-click to open its definition")
        return "\n".join(lines)

    def port_tooltip(self, port: PortItem) -> str:
        if port.kind == OUTPUT:
            info = self.outputs[port.index] if port.index < len(self.outputs) else None
            name = self.output_names[port.index]
            which = "output" if len(self.output_ports) == 1 else (
                f"output {port.index}" + (f" '{name}'" if name != str(port.index) else ""))
            return f"{which} {shape_text(info)}: drag to an input to connect"
        info = self.inputs[port.index] if port.index < len(self.inputs) else None
        if port.connected:
            return f"input {port.index}: {shape_text(info)}; drag to move or remove the wire"
        return f"input {port.index}: free; drag to an output to connect"

    # ------------------------------------------------------------------ mouse
    def hoverEnterEvent(self, event) -> None:
        """The tooltip is written when the pointer comes (and kept current while it stays):
        setting it on every card an edit changes costs more than the rest of the edit."""
        self._hovered = True
        self.setToolTip(self.tooltip())
        super().hoverEnterEvent(event)

    def hoverLeaveEvent(self, event) -> None:
        self._hovered = False
        super().hoverLeaveEvent(event)

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value):
        if change == QGraphicsItem.GraphicsItemChange.ItemSelectedHasChanged:
            self.setZValue(1.5 if value else 1)
        return super().itemChange(change, value)

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        super().mousePressEvent(event)
        if event.button() == Qt.MouseButton.LeftButton:
            self.scene().begin_move(event.scenePos())

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self.scene().drag_move(event.scenePos())

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.scene().end_move()
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        """A block opens anywhere (rename it from its menu or the inspector); on another
        layer a double-click on the header renames it in place."""
        if event.button() == Qt.MouseButton.LeftButton and self.block is not None:
            self.scene().open_block(self.node_id)
            event.accept()
            return
        if event.button() == Qt.MouseButton.LeftButton and \
                self.title_rect().contains(event.pos()):
            self.scene().renameRequested.emit(self.node_id)
            event.accept()
            return
        super().mouseDoubleClickEvent(event)


def _resize_ports(card: NodeItem, ports: list[PortItem], kind: str, count: int) -> None:
    """Add or remove ports of one kind at the end, so `count` remain."""
    while len(ports) < count:
        ports.append(PortItem(card, kind, len(ports)))
    while len(ports) > count:
        port = ports.pop()
        port.setParentItem(None)
        if port.scene():
            port.scene().removeItem(port)


def _overview_text_size(style: CanvasStyle, lod: float) -> float:
    """The letters' height in the scene when zoomed out below DETAIL_LOD."""
    common = HEADER_HEIGHT + PADDING * 2 + style.line_height * _MIN_BODY_LINES - 8
    return min(_OVERVIEW_PIXELS / max(lod, 0.05), common / 2.4)


def texts_drawn(style: CanvasStyle, lod: float) -> bool:
    """Whether cards show any text at this zoom; further out they are coloured shapes, which a
    new shape or count does not change."""
    return lod >= DETAIL_LOD or _overview_text_size(style, lod) * lod >= _MIN_TEXT_PIXELS


def _outputs_text(outputs: tuple[TensorInfo, ...]) -> str:
    """The card's shape line: the output's shape; for several, `(N, 4) ×3` when they agree,
    else each in turn."""
    if len(outputs) <= 1:
        return shape_text(outputs[0] if outputs else None)
    shapes = [shape_text(info) for info in outputs]
    if len(set(shapes)) == 1:
        return f"{shapes[0]} \u00d7{len(shapes)}"
    return " | ".join(shapes)
