"""Draw the picture of every template's graph to `templates/<name>.png` (for the README, the
docs and `neuralcanvas templates`).

The picture is the canvas itself, in the light theme, at the template's own layout: the same
cards, shapes and wires a person sees after opening the template, one network under the other.

    QT_QPA_PLATFORM=offscreen python tools/render_template_pictures.py [NAME ...]
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QFont, QImage, QPainter
from PySide6.QtWidgets import QApplication

from designer.canvas.scene import NetworkScene
from designer.canvas.style import CanvasStyle
from designer.document import DesignDocument
from designer.theme import build_palette
from templates import load_template, picture_path, template_names

SCALE = 0.8         # picture pixels per scene unit: cards keep their full texts above 0.55
MARGIN = 16.0       # around each network, in scene units
TITLE_HEIGHT = 28   # picture pixels above each network's drawing when there are several


def render(name: str) -> str:
    """Draw one template's picture; returns the file written."""
    palette = build_palette("light")
    style = CanvasStyle.from_palette(palette, QFont(QApplication.font()))
    document = DesignDocument(load_template(name))
    networks = document.design.networks
    scenes = [NetworkScene(document, network, style) for network in networks]
    rects = [scene.items_rect().adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN) for scene in scenes]
    title = TITLE_HEIGHT if len(networks) > 1 else 0
    width = round(max(rect.width() for rect in rects) * SCALE)
    height = sum(round(rect.height() * SCALE) + title for rect in rects)
    image = QImage(width, height, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(style.background)
    painter = QPainter(image)
    painter.setRenderHints(QPainter.RenderHint.Antialiasing
                           | QPainter.RenderHint.TextAntialiasing)
    top = 0.0
    for network, scene, rect in zip(networks, scenes, rects, strict=True):
        if title:
            painter.setPen(style.muted)
            painter.setFont(style.title_font)
            painter.drawText(QRectF(MARGIN * SCALE, top, width, title),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, network)
            top += title
        target = QRectF(QPointF(0, top), rect.size() * SCALE)
        scene.render(painter, target, rect)
        top += target.height()
    painter.end()
    path = picture_path(name)
    if not image.save(str(path), "PNG"):
        raise OSError(f"could not write {path}")
    return str(path)


def main(argv: list[str] | None = None) -> int:
    names = (argv if argv is not None else sys.argv[1:]) or template_names()
    app = QApplication.instance() or QApplication([])
    app.setPalette(build_palette("light"))
    for name in names:
        print(render(name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
