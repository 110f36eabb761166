"""One canvas tab: the network's view, and over it the views of the block definitions opened
from it, with a breadcrumb bar that leads back up.

The document says what is open (its trail per network); the page keeps one view per open level
and shows the innermost, so going back finds each level as it was left (zoom, scroll).
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QStackedWidget, QVBoxLayout, QWidget

from designer.canvas.breadcrumb import Breadcrumb
from designer.canvas.scene import NetworkScene
from designer.canvas.style import CanvasStyle
from designer.canvas.view import NetworkView
from designer.document import DesignDocument, Opened


class ScopePage(QWidget):
    """The views of one network and of the definitions opened from it."""

    message = Signal(str)

    def __init__(self, document: DesignDocument, network: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document, self.network = document, network
        self.breadcrumb = Breadcrumb(self)
        self.breadcrumb.chosen.connect(self._go_back)
        self.stack = QStackedWidget(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.breadcrumb)
        layout.addWidget(self.stack, 1)
        self.root_view = self._make_view(network)
        self._opened: list[tuple[Opened, NetworkView]] = []
        document.scopeChanged.connect(self.sync)
        self.sync()

    def _make_view(self, scope: str) -> NetworkView:
        style = CanvasStyle.from_palette(self.palette(), self.font())
        scene = NetworkScene(self.document, scope, style)
        view = NetworkView(scene, self.stack)
        scene.setParent(view)
        scene.message.connect(self.message)
        view.message.connect(self.message)
        self.stack.addWidget(view)
        return view

    def views(self) -> list[NetworkView]:
        """The network's view, then one per open definition, outermost first."""
        return [self.root_view, *(view for _, view in self._opened)]

    def current_view(self) -> NetworkView:
        return self.stack.currentWidget()

    def sync(self) -> None:
        """Follow the document's trail: drop the views of closed levels, make the new ones."""
        trail = self.document.trail(self.network)
        keep = 0
        while keep < min(len(trail), len(self._opened)) and self._opened[keep][0] == trail[keep]:
            keep += 1
        for _, view in self._opened[keep:]:
            self._drop(view)
        self._opened = self._opened[:keep]
        for opened in trail[keep:]:
            view = self._make_view(opened.block)
            view.frame_when_shown()
            self._opened.append((opened, view))
        current = self.views()[-1]
        if self.stack.currentWidget() is not current:
            self.stack.setCurrentWidget(current)
            if self.isVisible():
                current.setFocus()
        self.breadcrumb.show_steps(self._steps(trail))
        self.breadcrumb.setVisible(bool(trail))

    def _steps(self, trail: list[Opened]) -> list[tuple[str, str]]:
        design = self.document.design
        steps = [(self.network, f"Back to network {self.network!r}")]
        for opened in trail:
            via = design.node(opened.via).name if opened.via else None
            text = opened.block if via in (None, opened.block) else f"{via}: {opened.block}"
            tip = f"Block definition {opened.block!r}: an edit here changes every use of it"
            steps.append((text, tip))
        return steps

    def _go_back(self, depth: int) -> None:
        if self.document.network != self.network:
            self.document.set_network(self.network)
        self.document.leave_to(depth)

    def _drop(self, view: NetworkView) -> None:
        view.network_scene().detach()
        self.stack.removeWidget(view)
        view.deleteLater()

    def detach(self) -> None:
        """Stop following the document (before the page is dropped)."""
        self.document.scopeChanged.disconnect(self.sync)
        for view in self.views():
            view.network_scene().detach()
