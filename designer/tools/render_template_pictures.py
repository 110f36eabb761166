"""Draw the picture of every template's graph to `templates/<name>.png` (for the README, the
docs and `neuralcanvas templates`), with the designer's own graph picture code.

    QT_QPA_PLATFORM=offscreen python -m designer.tools.render_template_pictures [NAME ...]
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QSize
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication

from designer.panels.graph_picture import design_picture
from designer.theme import build_palette
from templates import load_template, picture_path, template_names

WIDTH = 960
HEIGHT_PER_ROW = 64.0   # picture height per stacked row of boxes in the layered drawing
SMALLEST_HEIGHT, LARGEST_HEIGHT = 180, 480


def picture_size(rows: int) -> QSize:
    """A wide picture whose height follows the number of rows of boxes it must show."""
    height = round(min(LARGEST_HEIGHT, max(SMALLEST_HEIGHT, rows * HEIGHT_PER_ROW)))
    return QSize(WIDTH, height)


def render(name: str) -> str:
    """Draw one template's picture; returns the file written."""
    from engine.layout import layered_positions

    design = load_template(name)
    rows = 0
    for network in design.networks:
        heights = {y for _, y in layered_positions(design, network).values()}
        rows += len(heights) + (1 if len(design.networks) > 1 else 0)
    font = QFont(QApplication.font())
    font.setPixelSize(13)
    pixmap = design_picture(design, picture_size(rows), build_palette("light"), font)
    path = picture_path(name)
    if not pixmap.save(str(path), "PNG"):
        raise OSError(f"could not write {path}")
    return str(path)


def main(argv: list[str] | None = None) -> int:
    names = (argv if argv is not None else sys.argv[1:]) or template_names()
    app = QApplication.instance() or QApplication([])
    for name in names:
        print(render(name))
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
