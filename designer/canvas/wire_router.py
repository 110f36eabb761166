"""Keeps a scene's wires routed around its cards (engine.routing) as cards move.

A moved card only marks its wires; they are routed once the event loop is free, so an auto
layout that moves every card routes each wire once, and a drag re-routes only the dragged
cards' wires. Routing a large design takes seconds, so it runs in slices of a few
milliseconds between the window's events (engine.routing.route_steps pauses inside a long
search): the window keeps drawing and answering, a marked wire shows as a plain curve until
its route arrives, and a wire marked again while its search runs drops that stale search and
is routed afresh. Each wire is routed against the cards where they are when its search starts,
so the routes end up what routing them all at once would give. The cards the wires avoid are
kept in one spatial index that the scene updates card by card (`place_card`), so a step of a
drag on a design of a thousand cards does not look at every card again. Auto layout also asks
here for the cards' sizes and the room its shape labels need between columns.
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import QObject

from designer.canvas.edge_item import EdgeItem, label_size
from designer.canvas.node_item import NodeItem
from designer.canvas.style import HEADER_HEIGHT, PORT_TOP
from designer.canvas.turn_slices import TurnSlices
from engine import Edge
from engine.layout import COLUMN_GAP, NodeSize
from engine.routing import STUB, Box, BoxIndex, Steps, Wire, route_steps

_LABEL_MARGIN = 8.0  # between a shape label and the bend of a wire beside it


class WireRouter(QObject):
    """Routes the wires of one scene whose ends moved, a slice per event-loop turn. It reads
    the scene's cards and wires (kept up to date by the scene) and nothing else."""

    def __init__(self, parent: QObject, cards: Mapping[str, NodeItem],
                 wires: Mapping[Edge, EdgeItem]) -> None:
        super().__init__(parent)
        self._cards, self._wires = cards, wires
        self._index = BoxIndex({})
        self._pending: dict[Edge, None] = {}   # in the order marked
        self._routing: Edge | None = None       # the wire whose search `_steps` is
        self._steps: Steps | None = None
        self.slices = TurnSlices(self, self._step, lambda: self.pending)

    @property
    def pending(self) -> bool:
        """Does a wire still wait for its route?"""
        return bool(self._pending) or self._routing is not None

    @property
    def routing(self) -> Edge | None:
        """The wire being routed now, if any."""
        return self._routing

    def invalidate(self, item: EdgeItem) -> None:
        """The wire's ends moved: route it afresh once the event loop is free."""
        if item.edge == self._routing:
            self._routing = self._steps = None
        self._pending[item.edge] = None
        self.slices.start()

    def place_card(self, node_id: str) -> None:
        """The card was added, moved or resized: wires avoid it where it is now."""
        item = self._cards[node_id]
        self._index.place(node_id, Box(item.x(), item.y(), item.width, item.height))

    def remove_card(self, node_id: str) -> None:
        self._index.remove(node_id)

    def _step(self) -> None:
        """Take the routing of the current wire one pause further (starting the next marked
        wire's when none is under way), and show its route when it is done."""
        if self._routing is not None and self._routing not in self._wires:
            self._routing = self._steps = None   # the wire was removed
        if self._steps is None:
            edge = next(iter(self._pending))
            del self._pending[edge]
            if edge not in self._wires:
                return
            self._routing, self._steps = edge, route_steps(self._wire(edge), self._index)
        try:
            next(self._steps)
        except StopIteration as done:
            self._wires[self._routing].set_route(done.value)
            self._routing = self._steps = None

    def _wire(self, edge: Edge) -> Wire:
        """The wire between where its ports are now."""
        start = self._cards[edge.src].output_anchor(edge.out)
        end = self._cards[edge.dst].input_anchor(edge.port)
        return Wire(edge, edge.src, edge.dst, (start.x(), start.y()), (end.x(), end.y()))

    def layout_hints(self) -> tuple[dict[str, NodeSize], float]:
        """The cards' sizes and the column gap that fits the widest shape label beside the
        bends of routed wires, for engine.layout.layered_positions."""
        anchor = HEADER_HEIGHT + PORT_TOP
        sizes = {node_id: NodeSize(item.width, item.height, anchor)
                 for node_id, item in self._cards.items()}
        widest = max((label_size(item.label, item.style)[0]
                      for item in self._wires.values() if item.label), default=0.0)
        return sizes, max(COLUMN_GAP, widest + 2 * (STUB + _LABEL_MARGIN))
