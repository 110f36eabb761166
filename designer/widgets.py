"""Small widgets built the same way across panels and dialogs, so they look and behave alike:
a push button with its tooltip and action, a line that states a problem, a read-only table, a
file row, and a dialog's Cancel and action buttons."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QAbstractItemModel, SignalInstance
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTreeView,
    QWidget,
)

from designer.theme import ERROR_STYLE


def push_button(parent: QWidget, text: str, tooltip: str,
                action: Callable[..., object] | SignalInstance) -> QPushButton:
    """A button with its tooltip whose click calls `action` (a slot, or a signal to emit)."""
    button = QPushButton(text, parent)
    button.setToolTip(tooltip)
    button.clicked.connect(action)
    return button


def error_line(parent: QWidget) -> QLabel:
    """A hidden, wrapping label in the error colour: shown with the text of a problem."""
    label = QLabel(parent)
    label.setWordWrap(True)
    label.setStyleSheet(ERROR_STYLE)
    label.hide()
    return label


def read_only_table(parent: QWidget, model: QAbstractItemModel) -> QTreeView:
    """A flat table of `model`'s rows, striped so a wide row is easy to follow, that the user
    reads and selects but does not edit."""
    table = QTreeView(parent)
    table.setModel(model)
    table.setRootIsDecorated(False)
    table.setAlternatingRowColors(True)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    return table


def add_file_row(form: QFormLayout, label: str, file: QLineEdit, browse: QPushButton) -> None:
    """A row of a path field and its Browse button. A row holding a layout gets no buddy by
    itself, so the label's shortcut is tied to the field here."""
    row = QHBoxLayout()
    row.addWidget(file, 1)
    row.addWidget(browse)
    label_widget = QLabel(label, file.parentWidget())
    label_widget.setBuddy(file)
    form.addRow(label_widget, row)


def cancel_and_action(dialog: QDialog, text: str,
                      action: Callable[[], object]) -> tuple[QDialogButtonBox, QPushButton]:
    """Cancel, which rejects `dialog`, and the button named `text` that starts its work."""
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, dialog)
    button = buttons.addButton(text, QDialogButtonBox.ButtonRole.AcceptRole)
    buttons.accepted.connect(action)
    buttons.rejected.connect(dialog.reject)
    return buttons, button
