"""Wire labels the view does not draw now take a new report's text a moment later.

An edit early in a large design can change the tensor of hundreds of wires. The labels on
screen change in the frame that draws the edit; those off screen, or all of them when the view
is zoomed out past the labels' detail level (edge_item.LABEL_LOD), change in slices of a few
milliseconds between the window's events, long before anyone can scroll to them.
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import QObject, QRectF

from designer.canvas.edge_item import EdgeItem
from designer.canvas.node_text import shape_text
from designer.canvas.turn_slices import TurnSlices
from engine import Edge
from engine.layers import TensorInfo


class DeferredLabels(QObject):
    """The labels waiting for their text, applied a slice per event-loop turn."""

    def __init__(self, parent: QObject, wires: Mapping[Edge, EdgeItem]) -> None:
        super().__init__(parent)
        self._wires = wires
        self._due: dict[Edge, TensorInfo | None] = {}
        self._slices = TurnSlices(self, self._relabel_one, lambda: self.pending)

    @property
    def pending(self) -> bool:
        return bool(self._due)

    def set_label(self, item: EdgeItem, info: TensorInfo | None, shown: QRectF | None) -> None:
        """Label the wire with the tensor `info`: now when it shows within `shown` (None:
        everywhere; a null rectangle: nowhere), else on a later turn."""
        if shown is None or (not shown.isNull() and shown.intersects(item.sceneBoundingRect())):
            self._due.pop(item.edge, None)
            item.set_label(shape_text(info))
        else:
            self._due[item.edge] = info
            self._slices.start()

    def clear(self) -> None:
        self._due.clear()

    def _relabel_one(self) -> None:
        edge = next(iter(self._due))
        info = self._due.pop(edge)
        if edge in self._wires:
            self._wires[edge].set_label(shape_text(info))
