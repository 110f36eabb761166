"""The inspector's activation section: the selected node's output for the probed sample, large
and channel by channel, with its statistics and what its flags mean."""

from __future__ import annotations

import html

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QImage, QPainter, QPaintEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from designer.probe_images import (
    flag_texts,
    picture_caption,
    picture_images,
    statistics_rows,
)
from designer.theme import coloured
from engine.layers.base import format_shape
from engine.probes import NodeProbe

TILE = 64          # a map's side on screen (pixels); small maps are enlarged without blur
TILE_GAP = 6
LABEL_HEIGHT = 14
STRIP_HEIGHT = 96  # a sequence's or vector's picture


class ChannelGrid(QWidget):
    """Feature maps in a grid that wraps to the panel's width, each labelled with its channel;
    a sequence or vector as one wide strip."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.images: list[QImage] = []
        self.maps = True
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)

    def show_images(self, images: list[QImage], maps: bool) -> None:
        self.images, self.maps = images, maps
        self.updateGeometry()
        self.update()

    def _columns(self, width: int) -> int:
        return max(1, (width + TILE_GAP) // (TILE + TILE_GAP))

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        if not self.images:
            return 0
        if not self.maps:
            return STRIP_HEIGHT
        rows = -(-len(self.images) // self._columns(width))
        return rows * (TILE + LABEL_HEIGHT + TILE_GAP)

    def sizeHint(self) -> QSize:
        return QSize(4 * (TILE + TILE_GAP), self.heightForWidth(4 * (TILE + TILE_GAP)))

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        if not self.maps:
            if self.images:
                painter.drawImage(QRectF(0, 0, self.width(), STRIP_HEIGHT), self.images[0])
            return
        columns = self._columns(self.width())
        painter.setPen(self.palette().color(self.palette().ColorRole.PlaceholderText))
        for index, image in enumerate(self.images):
            row, column = divmod(index, columns)
            x = column * (TILE + TILE_GAP)
            y = row * (TILE + LABEL_HEIGHT + TILE_GAP)
            scale = TILE / max(image.width(), image.height())
            width, height = image.width() * scale, image.height() * scale
            painter.drawImage(QRectF(x, y, width, height), image)
            painter.drawText(QRectF(x, y + TILE, TILE, LABEL_HEIGHT),
                             Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                             f"{index}")


class ActivationView(QWidget):
    """Everything the probe says about one node's output."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel("<b>Activations</b>", self)
        self.caption = QLabel(self)
        self.caption.setWordWrap(True)
        self.grid = ChannelGrid(self)
        self.table = QLabel(self)
        self.table.setTextFormat(Qt.TextFormat.RichText)
        self.flags = QLabel(self)
        self.flags.setWordWrap(True)
        self.flags.setTextFormat(Qt.TextFormat.RichText)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        for widget in (self.title, self.caption, self.grid, self.table, self.flags):
            layout.addWidget(widget)
        self.probed: NodeProbe | None = None

    def show_probe(self, probed: NodeProbe, context: str, stale: bool, large: bool) -> None:
        self.probed = probed
        picture = probed.picture
        notes = [f"{html.escape(probed.label)}: output {html.escape(format_shape(probed.shape))}",
                 f"{picture_caption(picture)} for {html.escape(context)}"]
        if not large:
            notes.append("<i>(thumbnails; the channels in full come once the probe is made "
                         "from saved weights)</i>")
        if stale:
            notes.append(coloured("The design changed: these are from before the edit, the "
                                  "new ones are on their way", "warning"))
        self.caption.setText("<br>".join(notes))
        self.grid.show_images(picture_images(picture), picture.kind == "maps")
        rows = "".join(f"<tr><td>{name}&nbsp;&nbsp;</td><td>{html.escape(value)}</td></tr>"
                       for name, value in statistics_rows(probed.statistics))
        self.table.setText(f"<table>{rows}</table>")
        flags = flag_texts(probed)
        self.flags.setText("<br>".join(
            coloured(f"<b>\u26a0 {html.escape(headline)}</b>: {html.escape(why)}.", "warning")
            + f" Try: {html.escape(fix)}." for headline, why, fix in flags))
        self.flags.setVisible(bool(flags))
