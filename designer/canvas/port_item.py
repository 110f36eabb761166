"""A port: the circle on a node's edge where a wire starts (output) or ends (input).

The port item is only the hit area (hover, tooltip); its card draws the circle, so the circle
is part of the card's cached picture and costs nothing while panning. A press on a port is the
scene's to handle: it starts the wire drag.
"""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QGraphicsItem

from designer.canvas.style import PORT_RADIUS

INPUT, OUTPUT = "input", "output"
_HIT_MARGIN = 4.0


class PortOwner(Protocol):
    """What a port needs of its card (a NodeItem): its id, the words for its tooltip, and
    to repaint the circle it draws for the port."""

    node_id: str

    def port_tooltip(self, port: PortItem) -> str: ...

    def set_hovered_port(self, port: PortItem | None) -> None: ...

    def update(self) -> None: ...


class PortItem(QGraphicsItem):
    """One input (by index) or the output of a node, as a child item of its card."""

    def __init__(self, node: PortOwner, kind: str, index: int = 0) -> None:
        super().__init__(node)
        self.node, self.kind, self.index = node, kind, index
        self.connected = False
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemHasNoContents)
        self.setAcceptHoverEvents(True)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setZValue(2)

    @property
    def node_id(self) -> str:
        return self.node.node_id

    def boundingRect(self) -> QRectF:
        r = PORT_RADIUS + _HIT_MARGIN
        return QRectF(-r, -r, 2 * r, 2 * r)

    def paint(self, painter, option, widget=None) -> None:
        """Nothing: the card draws its ports."""

    def set_connected(self, connected: bool) -> None:
        if connected != self.connected:
            self.connected = connected
            self.node.update()

    def hoverEnterEvent(self, event) -> None:
        self.setToolTip(self.node.port_tooltip(self))
        self.node.set_hovered_port(self)

    def hoverLeaveEvent(self, event) -> None:
        self.node.set_hovered_port(None)
