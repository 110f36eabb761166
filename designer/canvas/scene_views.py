"""What the view showing a scene tells the items in it: its zoom and the area on screen."""

from __future__ import annotations

from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QGraphicsScene


def zoom_of(scene: QGraphicsScene) -> float:
    """The zoom of the view showing `scene` (1 when there is none)."""
    views = scene.views()
    return views[0].transform().m11() if views else 1.0


def visible_area(scene: QGraphicsScene) -> QRectF | None:
    """The scene rectangle the view shows (None when no view shows the scene), so notes can
    stay on screen."""
    views = scene.views()
    if not views:
        return None
    return views[0].mapToScene(views[0].viewport().rect()).boundingRect()
