"""A layout that stacks its widgets in reading order and wraps them into as many equal columns
as the width allows, balancing the columns' heights, so a long form in a wide, short panel
(the Training dock's Setup tab) is seen whole instead of through a slot of four rows.

Hidden widgets take no room. The layout answers heightForWidth, so a QScrollArea holding it
scrolls only when even the widest arrangement does not fit.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QSize
from PySide6.QtWidgets import QLayout, QLayoutItem, QWidget


def balanced_columns(heights: list[int], columns: int, spacing: int) -> list[int]:
    """How many items go in each column, in order, so the tallest column is as short as it
    can be (items keep their order: down the first column, then the next)."""
    count = len(heights)
    columns = max(1, min(columns, count))
    best: dict[tuple[int, int], tuple[int, list[int]]] = {}

    def solve(start: int, left: int) -> tuple[int, list[int]]:
        """(tallest column, sizes) for items[start:] in `left` columns."""
        if (start, left) in best:
            return best[(start, left)]
        if left == 1:
            answer = (sum(heights[start:]) + spacing * (count - start - 1), [count - start])
        else:
            answer = (1 << 30, [])
            height = -spacing
            for end in range(start + 1, count - left + 2):
                height += heights[end - 1] + spacing
                rest, sizes = solve(end, left - 1)
                tallest = max(height, rest)
                if tallest < answer[0]:
                    answer = (tallest, [end - start, *sizes])
        best[(start, left)] = answer
        return answer

    return solve(0, columns)[1] if count else []


class ColumnFlowLayout(QLayout):
    """Widgets top to bottom, wrapped into balanced columns at least `min_column` wide (or as
    wide as the widest widget's minimum, if that is more)."""

    def __init__(self, parent: QWidget | None = None, min_column: int = 240) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self.min_column = min_column

    # ------------------------------------------------------------------ QLayout's interface
    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._arrange(QRect(0, 0, width, 0), move=False)

    def sizeHint(self) -> QSize:
        return self.minimumSize()

    def minimumSize(self) -> QSize:
        """One column wide and as tall as the tallest widget: the height at any given width
        comes from heightForWidth (a scroll area asks for it)."""
        left, top, right, bottom = self.getContentsMargins()
        width = self._column_width()
        tallest = max((self._item_height(item, width) for item in self._shown()), default=0)
        return QSize(width + left + right, tallest + top + bottom)

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._arrange(rect, move=True)

    # ------------------------------------------------------------------ arranging
    def _shown(self) -> list[QLayoutItem]:
        return [item for item in self._items if not item.isEmpty()]

    def _column_width(self) -> int:
        widths = [item.minimumSize().width() for item in self._shown()]
        return max([self.min_column, *widths])

    def _item_height(self, item: QLayoutItem, width: int) -> int:
        if item.hasHeightForWidth():
            return item.heightForWidth(width)
        return item.sizeHint().height()

    def _arrange(self, rect: QRect, move: bool) -> int:
        """Place the items in `rect` (when `move`); the height the arrangement needs."""
        left, top, right, bottom = self.getContentsMargins()
        area = rect.adjusted(left, top, -right, -bottom)
        items, gap = self._shown(), max(self.spacing(), 0)
        if not items:
            return top + bottom
        columns = max(1, (area.width() + gap) // (self._column_width() + gap))
        columns = min(columns, len(items))
        width = (area.width() - gap * (columns - 1)) // columns
        heights = [self._item_height(item, width) for item in items]
        tallest, index = 0, 0
        for column, size in enumerate(balanced_columns(heights, columns, gap)):
            y = area.y()
            for item, height in zip(items[index:index + size], heights[index:index + size]):
                if move:
                    item.setGeometry(QRect(QPoint(area.x() + column * (width + gap), y),
                                           QSize(width, height)))
                y += height + gap
            tallest = max(tallest, y - gap - area.y())
            index += size
        return tallest + top + bottom
