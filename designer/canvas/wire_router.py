"""Keeps a scene's wires routed around its cards (engine.routing) as cards move.

A moved card only marks its wires; they are routed together once the event loop is free, so
an auto layout that moves every card routes each wire once, and a drag re-routes only the
dragged cards' wires. The cards the wires avoid are kept in one spatial index that the scene
updates card by card (`place_card`), so a step of a drag on a design of a thousand cards
does not look at every card again. Auto layout also asks here for the cards' sizes and the room its shape
labels need between columns.
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import QObject, QTimer

from designer.canvas.edge_item import EdgeItem, label_size
from designer.canvas.node_item import NodeItem
from designer.canvas.style import HEADER_HEIGHT, PORT_TOP
from engine import Edge
from engine.layout import COLUMN_GAP, NodeSize
from engine.routing import STUB, Box, BoxIndex, Wire, route_wires

_LABEL_MARGIN = 8.0  # between a shape label and the bend of a wire beside it


class WireRouter(QObject):
    """Routes the wires of one scene whose ends moved, in one batch per event-loop turn. It
    reads the scene's cards and wires (kept up to date by the scene) and nothing else."""

    def __init__(self, parent: QObject, cards: Mapping[str, NodeItem],
                 wires: Mapping[Edge, EdgeItem]) -> None:
        super().__init__(parent)
        self._cards, self._wires = cards, wires
        self._index = BoxIndex({})
        self._pending: set[Edge] = set()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.flush)

    @property
    def pending(self) -> bool:
        return bool(self._pending)

    def invalidate(self, item: EdgeItem) -> None:
        """The wire's ends moved: route it on the next turn of the event loop."""
        self._pending.add(item.edge)
        self._timer.start()

    def place_card(self, node_id: str) -> None:
        """The card was added, moved or resized: wires avoid it where it is now."""
        item = self._cards[node_id]
        self._index.place(node_id, Box(item.x(), item.y(), item.width, item.height))

    def remove_card(self, node_id: str) -> None:
        self._index.remove(node_id)

    def flush(self) -> None:
        """Route every marked wire now, against where all cards are."""
        edges = [e for e in self._pending if e in self._wires]
        self._pending.clear()
        if not edges:
            return
        nodes = self._cards
        wires = []
        for edge in edges:
            start = nodes[edge.src].output_anchor(edge.out)
            end = nodes[edge.dst].input_anchor(edge.port)
            wires.append(Wire(edge, edge.src, edge.dst, (start.x(), start.y()),
                              (end.x(), end.y())))
        for edge, route in route_wires(self._index.boxes, wires, self._index).items():
            self._wires[edge].set_route(route)

    def layout_hints(self) -> tuple[dict[str, NodeSize], float]:
        """The cards' sizes and the column gap that fits the widest shape label beside the
        bends of routed wires, for engine.layout.layered_positions."""
        anchor = HEADER_HEIGHT + PORT_TOP
        sizes = {node_id: NodeSize(item.width, item.height, anchor)
                 for node_id, item in self._cards.items()}
        widest = max((label_size(item.label, item.style)[0]
                      for item in self._wires.values() if item.label), default=0.0)
        return sizes, max(COLUMN_GAP, widest + 2 * (STUB + _LABEL_MARGIN))
