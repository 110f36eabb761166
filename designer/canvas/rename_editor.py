"""The in-place name editor shown over a node's header (double-click or Rename in its menu)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QLineEdit, QWidget


class RenameEditor(QLineEdit):
    """Enter or leaving commits (once), Escape cancels; the editor then deletes itself."""

    def __init__(self, parent: QWidget, name: str, commit: Callable[[str], None]) -> None:
        super().__init__(name, parent)
        self._commit, self._done = commit, False
        self.selectAll()
        self.editingFinished.connect(self.finish)

    def place_over(self, rect: QRect) -> None:
        """Cover the header, tall enough to type in even when the canvas is zoomed out."""
        height = max(rect.height() - 4, self.sizeHint().height())
        width = max(rect.width() - 4, 120)
        self.setGeometry(rect.left() + 2, rect.center().y() - height // 2, width, height)
        self.show()
        self.setFocus()

    def finish(self, accept: bool = True) -> None:
        if self._done:
            return
        self._done = True
        if accept:
            self._commit(self.text())
        self.hide()
        self.deleteLater()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.finish(accept=False)
            return
        super().keyPressEvent(event)
