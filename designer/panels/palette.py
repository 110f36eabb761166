"""The layer palette: the catalogue by category, searchable, dragged onto the canvas to add.

A search shows the layers whose name matches first, under "Name matches", and apart from them
the layers that only mention the words in their category or explanation. Below the layers,
"Blocks" lists the design's block definitions and the built-in blocks, dragged in the same way
(a built-in block is copied into the design when first used).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QMimeData, QPoint, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFontMetrics, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLineEdit,
    QMenu,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from designer.canvas import BLOCK_MIME, LAYER_MIME
from designer.canvas.style import CanvasStyle
from engine.blocks.library import BUILT_IN
from engine.layers import LayerSpec, categories

LAYER_ROLE = Qt.ItemDataRole.UserRole
BLOCK_ROLE = Qt.ItemDataRole.UserRole + 1
NAME_MATCHES = "Name matches"
DESCRIPTION_MATCHES = "Mentioned in description"
DESIGN_BLOCKS = "Blocks in this design"
BUILT_IN_BLOCKS = "Built-in blocks"
BLOCK_CATEGORY = "Blocks"  # the block nodes' colour on the canvas


def matches(spec: LayerSpec, query: str) -> bool:
    """Does the layer's name, category or explanation contain every word of the query?"""
    text = f"{spec.name} {spec.category} {spec.explanation}".casefold()
    return all(word in text for word in query.casefold().split())


def name_matches(spec: LayerSpec, query: str) -> bool:
    """Does the layer's name contain every word of the query?"""
    name = spec.name.casefold()
    return all(word in name for word in query.casefold().split())


def search(specs: list[LayerSpec], query: str) -> tuple[list[LayerSpec], list[LayerSpec]]:
    """(name matches, names starting with the query first; the other matches), each in the
    given order otherwise."""
    first_word = query.casefold().split()[0] if query.split() else ""
    by_name = [spec for spec in specs if name_matches(spec, query)]
    by_name.sort(key=lambda spec: not spec.name.casefold().startswith(first_word))
    rest = [spec for spec in specs if spec not in by_name and matches(spec, query)]
    return by_name, rest


def tooltip(spec: LayerSpec) -> str:
    """The whole name (entries may be cut short) and what the layer does."""
    return f"<b>{spec.name}</b><br>{spec.explanation}"


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
    """The tree itself: dragging a layer carries its type name under LAYER_MIME; never
    narrower than its longest entry, so names are not cut short."""

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        groups = [self.topLevelItem(i) for i in range(self.topLevelItemCount())]
        entries = [group.child(i) for group in groups for i in range(group.childCount())]
        widest = max([self._text_width(item) + self.indentation() for item in groups]
                     + [self._text_width(item) + 2 * self.indentation() for item in entries],
                     default=0)
        margins = 2 * self.frameWidth() + self.verticalScrollBar().sizeHint().width()
        return QSize(max(hint.width(), widest + margins), hint.height())

    def _text_width(self, item: QTreeWidgetItem) -> int:
        """The item's text in its own font, with room for an icon and the text's padding."""
        text = QFontMetrics(item.font(0)).horizontalAdvance(item.text(0))
        return text + self.iconSize().width() + 12

    def mimeTypes(self) -> list[str]:
        return [LAYER_MIME, BLOCK_MIME]

    def mimeData(self, items: list[QTreeWidgetItem]) -> QMimeData:
        data = QMimeData()
        for role, mime in ((LAYER_ROLE, LAYER_MIME), (BLOCK_ROLE, BLOCK_MIME)):
            names = [item.data(0, role) for item in items if item.data(0, role)]
            if names:
                data.setData(mime, names[0].encode("utf-8"))
                data.setText(names[0])
                break
        return data


class LayerPalette(QWidget):
    """Search box over a category tree (or, while searching, over the matches in two groups);
    double-click or Return adds, dragging drops."""

    layerActivated = Signal(str)  # a layer type to add at the centre of the canvas
    blockActivated = Signal(str)  # a block (the design's or a built-in) to add likewise
    blockOpenRequested = Signal(str)    # a design's block whose definition to show
    blockDeleteRequested = Signal(str)  # a design's block to remove

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
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._block_menu)
        self._items: dict[str, QTreeWidgetItem] = {}
        self._specs: dict[str, LayerSpec] = {}
        self._result_groups = [self._group(title) for title in (NAME_MATCHES,
                                                                 DESCRIPTION_MATCHES)]
        for group in self._result_groups:
            group.setHidden(True)
        self._category_groups: list[QTreeWidgetItem] = []
        self._block_groups: dict[str, QTreeWidgetItem] = {}
        self._populate()
        self._block_groups.update((title, self._group(title)) for title in (DESIGN_BLOCKS,
                                                                           BUILT_IN_BLOCKS))
        self.show_design_blocks([])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.search)
        layout.addWidget(self.tree)

    def _group(self, title: str) -> QTreeWidgetItem:
        group = QTreeWidgetItem(self.tree, [title])
        group.setFlags(Qt.ItemFlag.ItemIsEnabled)
        font = group.font(0)
        font.setBold(True)
        group.setFont(0, font)
        return group

    @staticmethod
    def _entry(group: QTreeWidgetItem, spec: LayerSpec) -> QTreeWidgetItem:
        item = QTreeWidgetItem(group, [spec.name])
        item.setData(0, LAYER_ROLE, spec.name)
        item.setToolTip(0, tooltip(spec))
        item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                      | Qt.ItemFlag.ItemIsDragEnabled)
        return item

    def _populate(self) -> None:
        for category, specs in categories().items():
            group = self._group(category)
            self._category_groups.append(group)
            for spec in specs:
                self._items[spec.name] = self._entry(group, spec)
                self._specs[spec.name] = spec
        self.tree.expandAll()
        self._paint_swatches()

    def show_design_blocks(self, blocks: list[str]) -> None:
        """List the design's definitions, then the built-in blocks it does not hold yet."""
        design_group = self._block_groups[DESIGN_BLOCKS]
        built_in_group = self._block_groups[BUILT_IN_BLOCKS]
        for group in self._block_groups.values():
            group.takeChildren()
        for block in blocks:
            self._block_entry(design_group, block, BUILT_IN.get(
                block, "A block of this design: its layers are defined once and used at every "
                "node that uses it"))
        for block, description in BUILT_IN.items():
            if block not in blocks:
                self._block_entry(built_in_group, block, description)
        self.filter(self.search.text())

    @staticmethod
    def _block_entry(group: QTreeWidgetItem, block: str, description: str) -> None:
        item = QTreeWidgetItem(group, [block])
        item.setData(0, BLOCK_ROLE, block)
        item.setToolTip(0, f"<b>{block}</b><br>{description}<br><i>Drag onto the canvas, or "
                           "double-click, to add a node that uses it</i>")
        item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                      | Qt.ItemFlag.ItemIsDragEnabled)

    def block_entries(self) -> dict[str, list[str]]:
        """The block names shown under each block group (while searching, the matches)."""
        return {title: [group.child(i).text(0) for i in range(group.childCount())
                        if not group.child(i).isHidden()]
                for title, group in self._block_groups.items() if not group.isHidden()}

    def item_for_block(self, block: str) -> QTreeWidgetItem:
        return next(group.child(i) for group in self._block_groups.values()
                    for i in range(group.childCount()) if group.child(i).text(0) == block)

    def _paint_swatches(self) -> None:
        """Category colours as on the canvas (on search results too), redrawn when the theme
        changes."""
        style = CanvasStyle.from_palette(self.palette(), self.font())
        for group in self._category_groups:
            group.setIcon(0, _swatch(style.header(group.text(0)), style.border))
        for group in self._block_groups.values():
            group.setIcon(0, _swatch(style.header(BLOCK_CATEGORY), style.border))
        for group in self._result_groups:
            for index in range(group.childCount()):
                entry = group.child(index)
                category = self._specs[entry.data(0, LAYER_ROLE)].category
                entry.setIcon(0, _swatch(style.header(category), style.border))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange and self._items:
            self._paint_swatches()
        super().changeEvent(event)

    def item_for(self, layer_type: str) -> QTreeWidgetItem:
        """The layer's entry in its category (shown when not searching)."""
        return self._items[layer_type]

    def visible_layers(self) -> list[str]:
        """Layer types currently shown, top to bottom."""
        return [group.child(i).data(0, LAYER_ROLE)
                for group in self._shown_groups() for i in range(group.childCount())]

    def _shown_groups(self) -> list[QTreeWidgetItem]:
        return [group for group in (*self._result_groups, *self._category_groups)
                if not group.isHidden()]

    def filter(self, query: str) -> None:
        """Browse by category when the query is empty, else list the name matches first and
        the layers that only mention the words apart from them; the top match is current."""
        searching = bool(query.split())
        for group in self._category_groups:
            group.setHidden(searching)
        found = search(list(self._specs.values()), query) if searching else ([], [])
        for group, specs in zip(self._result_groups, found):
            group.takeChildren()
            for spec in specs:
                self._entry(group, spec)
            group.setHidden(not specs)
            group.setExpanded(True)
        self._filter_blocks(query)
        self._paint_swatches()
        shown = self._shown_groups()
        self.tree.setCurrentItem(shown[0].child(0) if searching and shown else None)

    def _filter_blocks(self, query: str) -> None:
        """Blocks whose name or description holds every word stay; empty groups hide."""
        words = query.casefold().split()
        for group in self._block_groups.values():
            for index in range(group.childCount()):
                entry = group.child(index)
                text = f"{entry.text(0)} {entry.toolTip(0)}".casefold()
                entry.setHidden(not all(word in text for word in words))
            shown = any(not group.child(i).isHidden() for i in range(group.childCount()))
            group.setHidden(not shown)
            group.setExpanded(True)

    def _on_activated(self, item: QTreeWidgetItem, _column: int) -> None:
        layer_type, block = item.data(0, LAYER_ROLE), item.data(0, BLOCK_ROLE)
        if layer_type:
            self.layerActivated.emit(layer_type)
        elif block:
            self.blockActivated.emit(block)

    def _block_menu(self, point: QPoint) -> None:
        item = self.tree.itemAt(point)
        if item is None or item.parent() is not self._block_groups[DESIGN_BLOCKS]:
            return
        self.block_menu(item.text(0)).exec(self.tree.viewport().mapToGlobal(point))

    def block_menu(self, block: str) -> QMenu:
        """What can be done with a design's block besides adding it."""
        menu = QMenu(self)
        menu.addAction("Add to Canvas", lambda: self.blockActivated.emit(block))
        menu.addAction("Open Definition", lambda: self.blockOpenRequested.emit(block))
        menu.addSeparator()
        menu.addAction("Delete Definition", lambda: self.blockDeleteRequested.emit(block))
        return menu

    def _add_first_match(self) -> None:
        shown = self.visible_layers()
        if shown:
            self.layerActivated.emit(shown[0])
