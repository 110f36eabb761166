"""The code view: the design's exported PyTorch file, kept up to date as the design changes.

Generating the file imports torch the first time and takes tens of milliseconds after that, so
it runs on a worker thread from a snapshot of the design, only while the panel is shown and
only once edits pause (a short debounce); typing and dragging never wait for it.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from designer.document import DesignDocument
from designer.panels.dialogs import Dialogs
from designer.panels.lazy import RefreshWhenShown
from designer.panels.python_highlighter import PythonHighlighter, is_dark
from engine import Design, DesignError, Report
from engine.codegen.export import ExportedScript, export_script

DEBOUNCE_MS = 250


def errors_comment(design: Design, report: Report) -> str:
    """What the view shows instead of code while the design has errors."""
    lines = [f"# {design.name} cannot be exported yet: fix these errors first."]
    lines += [f"#   - {problem.scope}: {problem.message}" for problem in report.errors]
    return "\n".join(lines) + "\n"


def generate_from_snapshot(snapshot: dict[str, Any]) -> tuple[str, bool]:
    """(text, exportable) for a design given as `Design.to_dict()` (runs on the worker)."""
    try:
        return export_script(Design.from_dict(snapshot)).code, True
    except DesignError as err:
        return "# " + "\n# ".join(str(err).splitlines()) + "\n", False


class _Delivery(QObject):
    """Carries results from the worker thread to the GUI thread (queued signal)."""

    ready = Signal(int, str, bool)  # generation, text, exportable


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
        self.copy_button = QPushButton("Copy", self)
        self.copy_button.setToolTip("Copy the code to the clipboard")
        self.copy_button.clicked.connect(self.copy_code)
        self.export_button = QPushButton("Export…", self)
        self.export_button.setToolTip("Save the code as a Python script, or the model as ONNX")
        self.export_button.clicked.connect(self.exportRequested)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        buttons.addWidget(self.copy_button)
        buttons.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(buttons)
        layout.addWidget(self.editor)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.refresh)
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="code-view")
        self._delivery = _Delivery(self)
        self._delivery.ready.connect(self._show_result)
        self._generation = 0
        self._pending = False
        document.reportChanged.connect(self.mark_stale)
        self.destroyed.connect(lambda: self._worker.shutdown(wait=False, cancel_futures=True))

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
        future = self._worker.submit(generate_from_snapshot, self.document.design.to_dict())
        generation = self._generation
        future.add_done_callback(lambda done: self._deliver(generation, done))

    def _deliver(self, generation: int, future: Future) -> None:
        """Worker thread: hand the result to the GUI thread (nothing if the view is gone)."""
        if future.cancelled():
            return
        try:
            text, exportable = future.result()
        except Exception as err:  # noqa: BLE001 - a generator bug must show, not die in the worker
            text = f"# the code could not be generated: {type(err).__name__}: {err}\n"
            exportable = False
        try:
            self._delivery.ready.emit(generation, text, exportable)
        except RuntimeError:
            pass  # the window closed while the code was being generated

    def _show_result(self, generation: int, text: str, exportable: bool) -> None:
        if generation != self._generation:
            return  # an older request finished after a newer one started
        self._pending = False
        if text != self.editor.toPlainText():
            scroll = self.editor.verticalScrollBar().value()
            self.editor.setPlainText(text)
            self.editor.verticalScrollBar().setValue(scroll)
        self.export_button.setEnabled(exportable)
        self.status.setText("Ready to export." if exportable else "Fix the errors to export.")
        self.codeChanged.emit()

    def is_current(self) -> bool:
        """True when the text shown is the code of the design as it is now."""
        return not self.is_stale() and not self._pending

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self.highlighter.set_dark(is_dark(self.palette()))
        super().changeEvent(event)

    # ------------------------------------------------------------------ copy
    def copy_code(self) -> None:
        script = self._script_now()
        if script is not None:
            QGuiApplication.clipboard().setText(script.code)
            self.message.emit("Code copied to the clipboard")

    def _script_now(self) -> ExportedScript | None:
        """The current design's file, generated here and now (an explicit user action)."""
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            return export_script(self.document.design)
        except DesignError as err:
            self.dialogs.show_error("Cannot export", str(err))
            return None
        finally:
            QApplication.restoreOverrideCursor()
