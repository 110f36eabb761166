"""The layer palette: the catalogue by category, searchable, dragged onto the canvas to add."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QMimeData, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLineEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from designer.canvas import LAYER_MIME
from designer.canvas.style import CanvasStyle
from engine.layers import LayerSpec, categories

LAYER_ROLE = Qt.ItemDataRole.UserRole


def matches(spec: LayerSpec, query: str) -> bool:
    """Does the layer's name, category or explanation contain every word of the query?"""
    text = f"{spec.name} {spec.category} {spec.explanation}".casefold()
    return all(word in text for word in query.casefold().split())


def _swatch(fill: QColor, border: QColor, size: int = 12) -> QIcon:
    """A small rounded square in the category's colour, as on the canvas node headers."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(border)
    painter.setBrush(fill)
    painter.drawRoundedRect(0.5, 0.5, size - 1, size - 1, 3, 3)
    painter.end()
    return QIcon(pixmap)


class _LayerTree(QTreeWidget):
    """The tree itself: dragging a layer carries its type name under LAYER_MIME."""

    def mimeTypes(self) -> list[str]:
        return [LAYER_MIME]

    def mimeData(self, items: list[QTreeWidgetItem]) -> QMimeData:
        data = QMimeData()
        names = [item.data(0, LAYER_ROLE) for item in items if item.data(0, LAYER_ROLE)]
        if names:
            data.setData(LAYER_MIME, names[0].encode("utf-8"))
            data.setText(names[0])
        return data


class LayerPalette(QWidget):
    """Search box over a category tree; double-click or Return adds, dragging drops."""

    layerActivated = Signal(str)  # a layer type to add at the centre of the canvas

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search layers…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.filter)
        self.search.returnPressed.connect(self._add_first_match)
        self.tree = _LayerTree(self)
        self.tree.setHeaderHidden(True)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.itemActivated.connect(self._on_activated)
        self._items: dict[str, QTreeWidgetItem] = {}
        self._specs: dict[str, LayerSpec] = {}
        self._populate()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.search)
        layout.addWidget(self.tree)

    def _populate(self) -> None:
        for category, specs in categories().items():
            group = QTreeWidgetItem(self.tree, [category])
            group.setFlags(Qt.ItemFlag.ItemIsEnabled)
            font = group.font(0)
            font.setBold(True)
            group.setFont(0, font)
            for spec in specs:
                item = QTreeWidgetItem(group, [spec.name])
                item.setData(0, LAYER_ROLE, spec.name)
                item.setToolTip(0, f"<b>{spec.name}</b><br>{spec.explanation}")
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                              | Qt.ItemFlag.ItemIsDragEnabled)
                self._items[spec.name] = item
                self._specs[spec.name] = spec
        self.tree.expandAll()
        self._paint_swatches()

    def _paint_swatches(self) -> None:
        """Category colours as on the canvas, redrawn when the theme changes."""
        style = CanvasStyle.from_palette(self.palette(), self.font())
        for index in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(index)
            group.setIcon(0, _swatch(style.header(group.text(0)), style.border))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange and self._items:
            self._paint_swatches()
        super().changeEvent(event)

    def item_for(self, layer_type: str) -> QTreeWidgetItem:
        return self._items[layer_type]

    def visible_layers(self) -> list[str]:
        """Layer types currently shown, in palette order."""
        return [name for name, item in self._items.items() if not item.isHidden()]

    def filter(self, query: str) -> None:
        """Show only layers matching the query; hide categories left empty."""
        for name, item in self._items.items():
            item.setHidden(not matches(self._specs[name], query))
        for index in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(index)
            shown = any(not group.child(i).isHidden() for i in range(group.childCount()))
            group.setHidden(not shown)
            group.setExpanded(shown)

    def _on_activated(self, item: QTreeWidgetItem, _column: int) -> None:
        layer_type = item.data(0, LAYER_ROLE)
        if layer_type:
            self.layerActivated.emit(layer_type)

    def _add_first_match(self) -> None:
        shown = self.visible_layers()
        if shown:
            self.layerActivated.emit(shown[0])
