"""Search-to-add: a small popup with a search field over the layer list (Tab, right-click, or a
wire dropped on empty canvas). Typing filters and ranks; Enter or a click adds the layer."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QKeyEvent, QPalette
from PySide6.QtWidgets import QFrame, QLabel, QLineEdit, QTreeWidget, QTreeWidgetItem, QVBoxLayout

from designer.canvas.node_text import first_sentence
from engine.layers import get_layer

_NAME_ROLE = Qt.ItemDataRole.UserRole


def match_rank(query: str, name: str, category: str) -> int | None:
    """How well a layer matches what was typed (lower is better), None when it does not.

    Prefix beats substring beats category beats letters in order ("c2d" finds Conv2d).
    """
    q, lowered = query.lower().strip(), name.lower()
    if not q:
        return 0
    if lowered.startswith(q):
        return 0
    if q in lowered:
        return 1
    if q in category.lower():
        return 2
    letters = iter(lowered)
    if all(ch in letters for ch in q.replace(" ", "")):
        return 3
    return None


class LayerSearchPopup(QFrame):
    """Pick one of `layer_types`; emits `chosen` with the type name and closes."""

    chosen = Signal(str)

    def __init__(self, layer_types: list[str], title: str, parent=None) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._types = list(layer_types)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        heading = QLabel(title)
        heading.setWordWrap(True)
        font = heading.font()
        font.setBold(True)
        heading.setFont(font)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search layers\u2026")
        self.search.setClearButtonEnabled(True)
        self.list = QTreeWidget()
        self.list.setColumnCount(2)
        self.list.setHeaderHidden(True)
        self.list.setRootIsDecorated(False)
        self.list.setUniformRowHeights(True)
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        layout.addWidget(heading)
        layout.addWidget(self.search)
        layout.addWidget(self.list)
        self.resize(280, 340)
        self.search.textChanged.connect(self._refill)
        self.search.installEventFilter(self)
        self.list.itemClicked.connect(lambda item, _column: self.choose(item.data(0, _NAME_ROLE)))
        self._refill("")

    def visible_types(self) -> list[str]:
        return [self.list.topLevelItem(i).data(0, _NAME_ROLE)
                for i in range(self.list.topLevelItemCount())]

    def choose(self, layer_type: str) -> None:
        self.close()
        self.chosen.emit(layer_type)

    def popup_at(self, global_pos: QPoint) -> None:
        screen = self.screen().availableGeometry() if self.screen() else None
        pos = QPoint(global_pos)
        if screen is not None:
            pos.setX(min(pos.x(), screen.right() - self.width()))
            pos.setY(min(pos.y(), screen.bottom() - self.height()))
        self.move(pos)
        self.show()
        self.search.setFocus()

    def _refill(self, query: str) -> None:
        ranked = []
        for order, name in enumerate(self._types):
            spec = get_layer(name)
            rank = match_rank(query, name, spec.category)
            if rank is not None:
                ranked.append((rank, order, spec))
        self.list.clear()
        muted = self.palette().color(QPalette.ColorRole.PlaceholderText)
        for _, _, spec in sorted(ranked, key=lambda r: (r[0], r[1])):
            item = QTreeWidgetItem([spec.name, spec.category])
            item.setData(0, _NAME_ROLE, spec.name)
            item.setForeground(1, muted)
            item.setToolTip(0, first_sentence(spec))
            self.list.addTopLevelItem(item)
        self.list.resizeColumnToContents(0)
        if self.list.topLevelItemCount():
            self.list.setCurrentItem(self.list.topLevelItem(0))

    def eventFilter(self, watched, event) -> bool:
        if watched is self.search and isinstance(event, QKeyEvent) and \
                event.type() == QKeyEvent.Type.KeyPress:
            key = event.key()
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                step = 1 if key == Qt.Key.Key_Down else -1
                current = self.list.indexOfTopLevelItem(self.list.currentItem())
                row = max(0, min(self.list.topLevelItemCount() - 1, current + step))
                self.list.setCurrentItem(self.list.topLevelItem(row))
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                item = self.list.currentItem()
                if item is not None:
                    self.choose(item.data(0, _NAME_ROLE))
                return True
            if key == Qt.Key.Key_Escape:
                self.close()
                return True
        return super().eventFilter(watched, event)
