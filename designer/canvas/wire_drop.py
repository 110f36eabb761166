"""Dropping a layer on a wire inserts it into the wire: which layers can go into a wire, and the
glow that marks the wire a drop would split while the palette drag hovers it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPainterPath
from PySide6.QtWidgets import QGraphicsPathItem

from designer.canvas.style import CanvasStyle
from engine import DesignError
from engine.layers import get_layer


def fits_into_wire(layer_type: str) -> bool:
    """A layer can split a wire when it takes an input and passes an output on (not Input,
    not Output; an unknown type never)."""
    try:
        spec = get_layer(layer_type)
    except DesignError:
        return False
    return spec.max_inputs != 0 and spec.has_output


class WireGlow(QGraphicsPathItem):
    """A translucent band in the selection colour over a wire (and its label), under the cards."""

    def __init__(self, style: CanvasStyle, outline: QPainterPath) -> None:
        super().__init__(outline)
        colour = QColor(style.selection)
        colour.setAlphaF(0.45)
        self.setBrush(colour)
        self.setPen(Qt.PenStyle.NoPen)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.setZValue(0.5)
