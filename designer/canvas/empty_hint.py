"""The hint an empty canvas shows: where layers come from.

A label over the view rather than text painted in the scene's foreground: painted text is
redrawn only where items change, so pieces of it stayed on screen, over the first cards, until
something repainted the whole view. A widget is shown or hidden as a whole.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QGraphicsView, QLabel

from designer.canvas.scene import NetworkScene

HINT_TEXT = ("Drag layers here from the palette,\n"
             "or press Tab (or right-click) to search for one")


class EmptyCanvasHint(QLabel):
    """Centred over a view's viewport while its scene has no nodes; hidden otherwise. Mouse
    events and drops pass through it to the canvas. It is the view's child, not the
    viewport's: scrolling the canvas moves the viewport's children along."""

    def __init__(self, view: QGraphicsView, scene: NetworkScene) -> None:
        super().__init__(HINT_TEXT, view)
        self.view, self.scene = view, scene
        self.setObjectName("emptyCanvasHint")
        self.setAccessibleName("Empty canvas hint")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAutoFillBackground(False)
        self.setForegroundRole(QPalette.ColorRole.WindowText)  # not the view's Text role
        self.restyle()
        view.viewport().installEventFilter(self)
        scene.document.designChanged.connect(self.refresh)
        self.refresh()

    def restyle(self) -> None:
        """Muted text a little larger than the view's font, in the view's palette."""
        view = self.view
        font = view.font()
        font.setPointSizeF(font.pointSizeF() + 2)
        self.setFont(font)
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.WindowText, self.scene.canvas_style.muted)
        self.setPalette(palette)
        self.refresh()

    def refresh(self, *_event: object) -> None:
        """Show on an empty canvas only (called after each design event)."""
        self.setVisible(not self.scene.nodes)
        if self.isVisible():
            self.setGeometry(self.view.viewport().geometry())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.Resize, QEvent.Type.Move):
            self.setGeometry(self.view.viewport().geometry())
        return False
