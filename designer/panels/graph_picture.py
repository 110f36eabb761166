"""A small picture of a design's graph (boxes and arrows in layered columns) for the gallery."""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QPainter,
    QPainterPath,
    QPalette,
    QPen,
    QPixmap,
)

from designer.canvas.style import CanvasStyle
from engine import Design
from engine.layers import get_layer
from engine.layout import COLUMN_WIDTH, ROW_HEIGHT, layered_positions

BOX_WIDTH = COLUMN_WIDTH * 0.62
BOX_HEIGHT = ROW_HEIGHT * 0.42
NETWORK_GAP = ROW_HEIGHT * 0.9
LABEL_HEIGHT = ROW_HEIGHT * 0.45
TEXT_PIXELS = 11.0  # wanted size of layer labels in the finished picture


def _layout(design: Design) -> tuple[dict[str, QPointF], list[tuple[str, float]], QRectF]:
    """Box centres of every network stacked top to bottom, the label rows, and the bounds."""
    centres: dict[str, QPointF] = {}
    labels: list[tuple[str, float]] = []
    top = 0.0
    for network in design.networks:
        positions = layered_positions(design, network)
        if not positions:
            continue
        ys = [y for _, y in positions.values()]
        if len(design.networks) > 1:
            labels.append((network, top))
            top += LABEL_HEIGHT
        shift = top - min(ys) + BOX_HEIGHT / 2
        for node, (x, y) in positions.items():
            centres[node] = QPointF(x + BOX_WIDTH / 2, y + shift)
        top = shift + max(ys) + BOX_HEIGHT / 2 + NETWORK_GAP
    if not centres:
        return centres, labels, QRectF(0, 0, BOX_WIDTH, BOX_HEIGHT)
    right = max(p.x() for p in centres.values()) + BOX_WIDTH / 2
    bottom = max(p.y() for p in centres.values()) + BOX_HEIGHT / 2
    return centres, labels, QRectF(0, 0, right, bottom)


def design_picture(design: Design, size: QSize, palette: QPalette, font: QFont) -> QPixmap:
    """Render the design into a pixmap of `size`, scaled to fit, in the palette's colours."""
    style = CanvasStyle.from_palette(palette, font)
    pixmap = QPixmap(size)
    pixmap.fill(style.background)
    centres, labels, bounds = _layout(design)
    margin = 8.0
    scale = min((size.width() - 2 * margin) / bounds.width(),
                (size.height() - 2 * margin) / bounds.height())
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.translate((size.width() - bounds.width() * scale) / 2,
                      (size.height() - bounds.height() * scale) / 2)
    painter.scale(scale, scale)
    _draw_edges(painter, design, centres, style, scale)
    _draw_boxes(painter, design, centres, style, scale)
    _draw_labels(painter, labels, style, scale)
    painter.end()
    return pixmap


def _draw_edges(painter: QPainter, design: Design, centres: dict[str, QPointF],
                style: CanvasStyle, scale: float) -> None:
    pen = QPen(style.edge, 1.4 / scale)
    painter.setPen(pen)
    painter.setBrush(style.edge)
    arrow = 6.0 / scale
    for network in design.networks:
        for edge in design.edges(network):
            start = centres[edge.src] + QPointF(BOX_WIDTH / 2, 0)
            end = centres[edge.dst] - QPointF(BOX_WIDTH / 2, 0)
            path = QPainterPath(start)
            bend = max(abs(end.x() - start.x()) / 2, BOX_WIDTH / 4)
            path.cubicTo(start + QPointF(bend, 0), end - QPointF(bend, 0), end)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(path)
            painter.setBrush(style.edge)
            angle = math.atan2(end.y() - path.pointAtPercent(0.97).y(),
                               end.x() - path.pointAtPercent(0.97).x())
            tip = [end, end - QPointF(math.cos(angle - 0.45) * arrow, math.sin(angle - 0.45) * arrow),
                   end - QPointF(math.cos(angle + 0.45) * arrow, math.sin(angle + 0.45) * arrow)]
            painter.drawPolygon(tip)


def _draw_boxes(painter: QPainter, design: Design, centres: dict[str, QPointF],
                style: CanvasStyle, scale: float) -> None:
    font = QFont(style.body_font)
    font.setPixelSize(max(1, round(min(TEXT_PIXELS / scale, BOX_HEIGHT * 0.5))))
    painter.setFont(font)
    metrics = QFontMetricsF(font)
    legible = TEXT_PIXELS / scale <= BOX_HEIGHT * 0.75
    radius = BOX_HEIGHT * 0.2
    for network in design.networks:
        for node_id in design.nodes(network):
            layer_type = design.graph(network).nodes[node_id]["type"]
            category = get_layer(layer_type).category
            rect = QRectF(centres[node_id] - QPointF(BOX_WIDTH / 2, BOX_HEIGHT / 2),
                          QSize(int(BOX_WIDTH), int(BOX_HEIGHT)).toSizeF())
            painter.setPen(QPen(style.border, 1.0 / scale))
            painter.setBrush(style.header(category))
            painter.drawRoundedRect(rect, radius, radius)
            if legible:
                painter.setPen(style.header_text())
                text = metrics.elidedText(layer_type, Qt.TextElideMode.ElideRight,
                                          rect.width() - 2 * radius)
                painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)


def _draw_labels(painter: QPainter, labels: list[tuple[str, float]], style: CanvasStyle,
                 scale: float) -> None:
    font = QFont(style.title_font)
    font.setPixelSize(max(1, round(min(TEXT_PIXELS / scale, LABEL_HEIGHT * 0.7))))
    painter.setFont(font)
    painter.setPen(QColor(style.muted))
    for network, top in labels:
        painter.drawText(QRectF(0, top, COLUMN_WIDTH * 4, LABEL_HEIGHT),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, network)
