"""Tables whose text is never silently cut short.

Columns are as wide as their content; the width left over is shared by the columns that may
grow, and when there is too little, those columns share what there is in proportion to their
content (long text then wraps onto more lines, or is elided). A cell that still cannot show
all of its text shows it whole as a tooltip.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QEvent, QModelIndex, QObject, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolTip,
    QTreeView,
)

Index = QModelIndex | QPersistentModelIndex
NARROWEST_SHARE = 80  # pixels a growing column keeps however little room there is


class WholeTextTooltips(QStyledItemDelegate):
    """The cells of a flat table view: wrapped text asks for the height it needs at its
    column's width (QTreeView does not say the width), and a cell whose text does not fit
    gets that text as its tooltip (a tooltip the model gives wins)."""

    def __init__(self, view: QTreeView) -> None:
        super().__init__(view)
        self.view = view

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        if self.view.wordWrap():
            option = QStyleOptionViewItem(option)
            option.rect = QRect(0, 0, self.view.header().sectionSize(index.column()),
                                max(option.rect.height(), 1))  # a valid rect, or no wrapping
            option.features |= QStyleOptionViewItem.ViewItemFeature.WrapText
        return super().sizeHint(option, index)

    def _view_option(self) -> QStyleOptionViewItem:
        """The view's own drawing options (font, icon size, wrapping) for a cell."""
        option = QStyleOptionViewItem()
        self.view.initViewItemOption(option)
        return option

    def content_width(self, index: Index) -> int:
        """The width the cell (icon and text) takes on one line."""
        option = self._view_option()
        option.features &= ~QStyleOptionViewItem.ViewItemFeature.WrapText
        return super().sizeHint(option, index).width()

    def is_cut(self, index: Index) -> bool:
        """Does the cell need more room than the view gives it?"""
        option = self._view_option()
        option.rect = self.view.visualRect(index)
        needed = self.sizeHint(option, index)
        return needed.width() > option.rect.width() or needed.height() > option.rect.height()

    def helpEvent(self, event: QHelpEvent, view: QAbstractItemView,
                  option: QStyleOptionViewItem, index: Index) -> bool:
        if (event.type() == QEvent.Type.ToolTip and index.isValid()
                and not index.data(Qt.ItemDataRole.ToolTipRole)):
            text = index.data(Qt.ItemDataRole.DisplayRole)
            if text and self.is_cut(index):
                QToolTip.showText(event.globalPos(), str(text), view)
                return True
        return super().helpEvent(event, view, option, index)


def share_width(content: list[int], grow: set[int], width: int) -> list[int]:
    """Column widths: content widths, plus an equal share of what is left for the `grow`
    columns, or, when the content does not fit, the room left shared by `grow` in proportion
    to their content (never under NARROWEST_SHARE)."""
    widths = list(content)
    growing = [c for c in range(len(content)) if c in grow]
    if not growing:
        return widths
    room = width - sum(w for c, w in enumerate(content) if c not in grow)
    wanted = sum(content[c] for c in growing)
    for column in growing:
        if wanted <= room:
            widths[column] = content[column] + (room - wanted) // len(growing)
        else:
            share = room * content[column] // max(wanted, 1)
            widths[column] = max(NARROWEST_SHARE, min(content[column], share))
    return widths


class ColumnFitter(QObject):
    """Keeps a view's columns fitted (see `share_width`) as its rows and its width change;
    with `wrap`, long text takes more lines and rows grow to show it."""

    def __init__(self, view: QTreeView, grow: Iterable[int], wrap: bool = False) -> None:
        super().__init__(view)
        self.view = view
        self.grow = set(grow)
        header = view.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        view.setWordWrap(wrap)
        view.setUniformRowHeights(not wrap)
        view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.delegate = WholeTextTooltips(view)
        view.setItemDelegate(self.delegate)
        self.viewport = view.viewport()
        self.viewport.installEventFilter(self)
        model = view.model()
        for signal in (model.modelReset, model.layoutChanged, model.rowsInserted,
                       model.rowsRemoved, model.dataChanged):
            signal.connect(self.fit)

    def content_widths(self) -> list[int]:
        """Each column's widest cell (or its title) on one line."""
        header, model = self.view.header(), self.view.model()
        return [max([header.sectionSizeHint(column)]
                    + [self.delegate.content_width(model.index(row, column))
                       for row in range(model.rowCount())])
                for column in range(header.count())]

    def fit(self) -> None:
        header = self.view.header()
        widths = share_width(self.content_widths(), self.grow, self.viewport.width())
        for column, width in enumerate(widths):
            header.resizeSection(column, width)
        if self.view.wordWrap():
            self.view.scheduleDelayedItemsLayout()  # row heights follow the new widths

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and watched is self.viewport:
            self.fit()
        return False
