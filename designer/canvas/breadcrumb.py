"""The bar above a canvas inside a block: where the definition shown was opened from
(model > layer1 > BasicBlock), each step a button that leads back to it."""

from __future__ import annotations

import html

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QWidget

SEPARATOR = " \u203a "


class Breadcrumb(QWidget):
    """Shows the steps it is given; `chosen(depth)` when the user clicks one to go back."""

    chosen = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("breadcrumb")
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(6, 2, 6, 2)
        self._layout.setSpacing(2)
        self.buttons: list[QToolButton] = []
        self._steps: list[tuple[str, str]] = []

    def steps(self) -> list[str]:
        return [text for text, _ in self._steps]

    def show_steps(self, steps: list[tuple[str, str]]) -> None:
        """Each step is (text, tooltip); the last is where the canvas is now."""
        if steps == self._steps:
            return
        self._steps = list(steps)
        while self._layout.count():
            item = self._layout.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.buttons = []
        for depth, (text, tip) in enumerate(steps[:-1]):
            if depth:
                self._layout.addWidget(QLabel(SEPARATOR, self))
            button = QToolButton(self)
            button.setText(text)
            button.setToolTip(tip)
            button.setAutoRaise(True)
            button.setAccessibleName(f"Go to {text}")
            button.clicked.connect(lambda _checked=False, d=depth: self.chosen.emit(d))
            self._layout.addWidget(button)
            self.buttons.append(button)
        if steps:  # where the canvas is now: read, not clicked
            text, tip = steps[-1]
            if len(steps) > 1:
                self._layout.addWidget(QLabel(SEPARATOR, self))
            here = QLabel(f"<b>{html.escape(text)}</b>", self)
            here.setToolTip(tip)
            self._layout.addWidget(here)
        hint = QLabel("  Alt+Up goes up a level", self)
        hint.setEnabled(False)
        self._layout.addWidget(hint)
        self._layout.addStretch(1)
