"""The probe tag under a node card: a small picture of what the node made of the probed sample
(its first feature maps side by side, or a heat strip for vectors and sequences), the share of
zero and saturated units, and a warning where units are dead or saturated.

A child of the card, so it moves with it; it does not change the card's size or its ports, so
wires and layout stay as they are. A stale tag (the design changed since the probe) is faded
until the new probe arrives. Clicking it selects the node (the inspector then shows it large).
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QFontMetricsF, QImage, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsSceneMouseEvent, QStyleOptionGraphicsItem

from designer.probe_images import (
    flag_texts,
    picture_caption,
    picture_images,
    statistics_line,
)
from engine.layers.base import format_shape
from engine.probes import NodeProbe

GAP = 4.0           # between the card and the tag
TILE_GAP = 2.0      # between feature maps
PICTURE_HEIGHT = 26.0
STALE_OPACITY = 0.4


class ProbeTag(QGraphicsItem):
    """What one node's output looks like for the probed sample."""

    def __init__(self, card: QGraphicsItem) -> None:
        super().__init__(card)
        self.card = card
        self.probed: NodeProbe | None = None
        self.images: list[QImage] = []
        self.context = ""
        self._bounds = QRectF()
        self.setAcceptedMouseButtons(Qt.MouseButton.LeftButton)
        self.setZValue(2)

    def show_probe(self, probed: NodeProbe, context: str, stale: bool) -> None:
        """Show `probed` (context: the sample and weights, in words)."""
        if probed is not self.probed:
            self.probed = probed
            self.images = picture_images(probed.picture)
        self.context = context
        self.setOpacity(STALE_OPACITY if stale else 1.0)
        self.setToolTip(self._tooltip())
        self.follow_card()

    @property
    def flagged(self) -> bool:
        return bool(self.probed and self.probed.statistics.flags)

    def follow_card(self) -> None:
        """Sit under the card, as wide as it (after the card grew or shrank)."""
        style = self.card.style
        text = QFontMetricsF(style.small_font).height()
        bounds = QRectF(0, self.card.height + GAP, self.card.width,
                        PICTURE_HEIGHT + text + 6)
        if bounds != self._bounds:
            self.prepareGeometryChange()
            self._bounds = bounds
        self.update()

    def boundingRect(self) -> QRectF:
        return self._bounds.adjusted(-1, -1, 1, 1)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget=None) -> None:
        if self.probed is None:
            return
        style = self.card.style
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        flagged = self.flagged
        painter.setPen(QPen(style.warning if flagged else style.border, 1.6 if flagged else 1.0))
        painter.setBrush(style.label_fill)
        painter.drawRoundedRect(self._bounds, 5, 5)
        inner = self._bounds.adjusted(3, 3, -3, -3)
        picture = QRectF(inner.left(), inner.top(), inner.width(), PICTURE_HEIGHT)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        if self.probed.picture.kind == "maps":
            self._paint_maps(painter, picture)
        elif self.images:
            painter.drawImage(picture, self.images[0])
        painter.setFont(style.small_font)
        painter.setPen(style.warning if flagged else style.muted)
        line = QRectF(inner.left() + 1, picture.bottom() + 1, inner.width() - 2,
                      inner.bottom() - picture.bottom() - 1)
        text = ("\u26a0 " if flagged else "") + statistics_line(self.probed.statistics)
        metrics = QFontMetricsF(style.small_font)
        painter.drawText(line, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         metrics.elidedText(text, Qt.TextElideMode.ElideRight, line.width()))

    def _paint_maps(self, painter: QPainter, area: QRectF) -> None:
        """As many maps as fit side by side, each a square as tall as the strip."""
        side = min(area.height(), (area.width() + TILE_GAP) / len(self.images) - TILE_GAP)
        count = len(self.images) if side >= 8 else int((area.width() + TILE_GAP) //
                                                       (8 + TILE_GAP))
        side = max(side, 8.0)
        x = area.left()
        for image in self.images[:count]:
            painter.drawImage(QRectF(x, area.top() + (area.height() - side) / 2, side, side),
                              image)
            x += side + TILE_GAP

    def _tooltip(self) -> str:
        probed = self.probed
        lines = [f"{probed.label}: output {format_shape(probed.shape)}",
                 f"{picture_caption(probed.picture)}; {self.context}",
                 statistics_line(probed.statistics)]
        for headline, why, fix in flag_texts(probed):
            lines += ["", f"\u26a0 {headline}: {why}.", f"Try: {fix}."]
        lines += ["", "Select the layer to see every channel in the inspector"]
        return "\n".join(lines)

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        """Select the node (its activations show large in the inspector)."""
        self.scene().select_nodes([self.card.node_id])
        event.accept()

