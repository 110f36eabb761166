"""Small widgets built the same way across panels and dialogs, so they look and behave alike:
a push button with its tooltip and action, and a line that states a problem."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import SignalInstance
from PySide6.QtWidgets import QLabel, QPushButton, QWidget

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
