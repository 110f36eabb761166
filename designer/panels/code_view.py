"""The code view: the design's exported PyTorch file, kept up to date as the design changes.

Writing the file takes tens of milliseconds (the formatter runs as a subprocess), so it runs on
a thread of the editor (designer.training.jobs.editor_thread; code generation imports no torch),
from a snapshot of the design, only while the panel is shown and only once edits pause (a short
debounce); typing and dragging never wait for it. It used to run in the helper process, where
it queued behind jobs that import torch: the first show took 10-18 s.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from designer import file_tasks
from designer.document import DesignDocument
from designer.panels.dialogs import Dialogs
from designer.panels.lazy import RefreshWhenShown
from designer.panels.python_highlighter import PythonHighlighter, is_dark
from designer.timers import make_timer
from designer.training.jobs import Jobs, editor_thread
from designer.widgets import push_button
from engine import Design, Report

DEBOUNCE_MS = 250


def errors_comment(design: Design, report: Report) -> str:
    """What the view shows instead of code while the design has errors."""
    lines = [f"# {design.name} cannot be exported yet: fix these errors first."]
    lines += [f"#   - {problem.scope}: {problem.message}" for problem in report.errors]
    return "\n".join(lines) + "\n"


class CodeView(QWidget, RefreshWhenShown):
    """Read-only highlighted code with Copy and Export… buttons."""

    message = Signal(str)
    codeChanged = Signal()
    exportRequested = Signal()   # Export…: the window's export dialog writes the file

    def __init__(self, document: DesignDocument, dialogs: Dialogs,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.dialogs = dialogs
        self.editor = QPlainTextEdit(self)
        self.editor.setReadOnly(True)
        self.editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.editor.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.editor.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                            | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        self.highlighter = PythonHighlighter(self.editor.document(), is_dark(self.palette()))
        self.status = QLabel(self)
        self.copy_button = push_button(self, "Copy", "Copy the code to the clipboard",
                                       self.copy_code)
        self.export_button = push_button(self, "Export…", "Save the code as a Python script, "
                                         "or the model as ONNX", self.exportRequested)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        buttons.addWidget(self.copy_button)
        buttons.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(buttons)
        layout.addWidget(self.editor)
        self._timer = make_timer(self, DEBOUNCE_MS, self.refresh, single_shot=True)
        self.jobs = Jobs(self, editor_thread)
        self._generation = 0
        self._pending = False
        self._copy_when_ready = False
        document.reportChanged.connect(self.mark_stale)

    # ------------------------------------------------------------------ generating
    def schedule_refresh(self) -> None:
        self._timer.start()

    def refresh(self) -> None:
        """Start generating the code of the design as it is now (results arrive later)."""
        self._timer.stop()
        self.mark_fresh()
        self._generation += 1
        report = self.document.current_report()
        if report.errors:
            self._show_result(self._generation, errors_comment(self.document.design, report),
                              False)
            return
        self._pending = True
        self.status.setText("Generating code…")
        generation = self._generation
        self.jobs.submit(
            "code", file_tasks.script_text, self.document.design.to_dict(),
            done=lambda result: self._show_result(generation, *result),
            failed=lambda reason: self._show_result(
                generation, f"# the code could not be generated: {reason}\n", False))

    def _show_result(self, generation: int, text: str, exportable: bool) -> None:
        if generation != self._generation:
            return  # the design changed (to one with errors) while this was being written
        self._pending = False
        if text != self.editor.toPlainText():
            scroll = self.editor.verticalScrollBar().value()
            self.editor.setPlainText(text)
            self.editor.verticalScrollBar().setValue(scroll)
        self.export_button.setEnabled(exportable)
        self.status.setText("Ready to export." if exportable else "Fix the errors to export.")
        self.codeChanged.emit()
        if self._copy_when_ready:
            self._copy_when_ready = False
            self.copy_code()

    def is_current(self) -> bool:
        """True when the text shown is the code of the design as it is now."""
        return not self.is_stale() and not self._pending

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self.highlighter.set_dark(is_dark(self.palette()))
        super().changeEvent(event)

    # ------------------------------------------------------------------ copy
    def copy_code(self) -> None:
        """Copy the file of the design as it is now: the text shown when it is current, else
        the text being written, once it arrives."""
        if not self.is_current():
            self._copy_when_ready = True
            self.refresh()
            return
        if not self.export_button.isEnabled():
            self.dialogs.show_error("Cannot export", self.editor.toPlainText())
            return
        QGuiApplication.clipboard().setText(self.editor.toPlainText())
        self.message.emit("Code copied to the clipboard")
