"""Help > Keyboard shortcuts: a table generated from the menus' actions, so it is never stale."""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLineEdit,
    QMenu,
    QMenuBar,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)


def shortcut_text(action: QAction) -> str:
    """All of an action's shortcuts as the platform writes them, e.g. "Ctrl+Y, Ctrl+Shift+Z"."""
    return ", ".join(s.toString(QKeySequence.SequenceFormat.NativeText) for s in action.shortcuts())


def shortcut_rows(menu_bar: QMenuBar) -> list[tuple[str, str, str]]:
    """(menu, action, shortcuts) for every menu action that has a shortcut, in menu order."""
    rows: list[tuple[str, str, str]] = []

    def walk(menu: QMenu, path: str) -> None:
        for action in menu.actions():
            if action.isSeparator():
                continue
            if action.menu() is not None:
                walk(action.menu(), f"{path} › {_plain(action.text())}")
            elif action.shortcuts():
                rows.append((path, _plain(action.text()), shortcut_text(action)))

    for action in menu_bar.actions():
        if action.menu() is not None:
            walk(action.menu(), _plain(action.text()))
    return rows


def _plain(text: str) -> str:
    """Menu text without mnemonics ("&File" -> "File") or trailing ellipses."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip("…").strip()


class CheatSheet(QDialog):
    """A filterable table of the window's shortcuts."""

    def __init__(self, menu_bar: QMenuBar, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.resize(560, 600)
        self.rows = shortcut_rows(menu_bar)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Filter…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.filter)
        self.table = QTableWidget(len(self.rows), 3, self)
        self.table.setHorizontalHeaderLabels(["Menu", "Action", "Shortcut"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        for row, values in enumerate(self.rows):
            for column, text in enumerate(values):
                self.table.setItem(row, column, QTableWidgetItem(text))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.search)
        layout.addWidget(self.table)
        layout.addWidget(buttons)

    def filter(self, text: str) -> None:
        words = text.casefold().split()
        for row, values in enumerate(self.rows):
            haystack = " ".join(values).casefold()
            self.table.setRowHidden(row, not all(word in haystack for word in words))

    def shortcut_of(self, action_text: str) -> str:
        """The shortcut text listed for an action (for tests and scripts)."""
        for _menu, action, keys in self.rows:
            if action == action_text:
                return keys
        raise KeyError(action_text)
