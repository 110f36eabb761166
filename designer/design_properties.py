"""File > Design Properties: the design's name and description, changed as one undo step.

The description is what the exported script's docstring and the Inspector say about the design,
so a design started from a template can be given its own words (or none).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QUndoCommand
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from designer.document import DesignDocument
from designer.widgets import error_line
from engine import Design
from engine.limits import LONGEST_NAME, LONGEST_TEXT, length_problem


class SetDesignProperties(QUndoCommand):
    """Set the design's name and description together; undo restores both."""

    def __init__(self, design: Design, name: str, description: str,
                 text: str = "Change design properties") -> None:
        super().__init__(text)
        self.design = design
        self.new = (name, description)
        self.old = (design.name, design.description)

    def redo(self) -> None:
        self._apply(*self.new)

    def undo(self) -> None:
        self._apply(*self.old)

    def _apply(self, name: str, description: str) -> None:
        # The description first: set_name's event makes every view re-read both.
        self.design.description = description
        self.design.set_name(name)


class DesignPropertiesDialog(QDialog):
    """Edit the name and description; OK pushes one command when something changed."""

    def __init__(self, document: DesignDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.setWindowTitle("Design properties")
        design = document.design
        self.name = QLineEdit(design.name, self)
        self.name.setAccessibleName("Name")
        self.description = QPlainTextEdit(design.description, self)
        self.description.setAccessibleName("Description")
        self.description.setTabChangesFocus(True)
        self.description.setPlaceholderText("What the design is for; it becomes the exported "
                                            "script's docstring")
        self.problem = error_line(self)
        form = QFormLayout()
        form.addRow("&Name", self.name)
        form.addRow("&Description", self.description)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel, self)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self.name.textChanged.connect(self._check)
        self.description.textChanged.connect(self._check)
        self.resize(520, 300)
        self.name.setFocus(Qt.FocusReason.OtherFocusReason)
        self.name.selectAll()

    def _check(self) -> None:
        """A design needs a name of sensible length and a description that fits: OK waits
        until both do, and the dialog says why."""
        name = self.name.text().strip()
        problem = ("The design needs a name." if not name else
                   length_problem(name, "The name", LONGEST_NAME) or
                   length_problem(self.description.toPlainText(), "The description", LONGEST_TEXT))
        self.problem.setText(problem or "")
        self.problem.setVisible(bool(problem))
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not problem)

    def accept(self) -> None:
        name = self.name.text().strip()
        if not self.buttons.button(QDialogButtonBox.StandardButton.Ok).isEnabled():
            return
        description = self.description.toPlainText().strip()
        design = self.document.design
        if (name, description) != (design.name, design.description):
            self.document.push(SetDesignProperties(design, name, description))
        super().accept()
