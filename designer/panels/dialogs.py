"""Every question the window asks the user, in one place, so tests can answer them instead.

The window calls these methods and never builds a QMessageBox or QFileDialog itself; a test
replaces the Dialogs object with one that returns prepared answers.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from designer.autosave import Recovery
from designer.panels.template_gallery import TemplateGallery
from engine import Design

DESIGN_FILTER = "NeuralCanvas designs (*.ncnet);;All files (*)"
PYTHON_FILTER = "Python files (*.py);;All files (*)"
IMPORT_FILTER = "Python files or ONNX models (*.py *.onnx);;All files (*)"
ONNX_FILTER = "ONNX models (*.onnx);;All files (*)"


class Dialogs:
    """Modal questions and messages shown over `parent`."""

    def __init__(self, parent: QWidget) -> None:
        self.parent = parent

    def ask_unsaved(self, name: str) -> str:
        """"save", "discard" or "cancel" for a design with unsaved changes."""
        buttons = (QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                   | QMessageBox.StandardButton.Cancel)
        answer = QMessageBox.warning(
            self.parent, "Unsaved changes",
            f"“{name}” has changes that are not saved.\nSave them before continuing?",
            buttons, QMessageBox.StandardButton.Save)
        return {QMessageBox.StandardButton.Save: "save",
                QMessageBox.StandardButton.Discard: "discard"}.get(answer, "cancel")

    def ask_open_path(self, folder: Path) -> Path | None:
        path, _ = QFileDialog.getOpenFileName(self.parent, "Open design", str(folder),
                                              DESIGN_FILTER)
        return Path(path) if path else None

    def ask_python_file(self, folder: Path) -> Path | None:
        """A Python file to import an nn.Module class from, or an ONNX file."""
        path, _ = QFileDialog.getOpenFileName(self.parent, "Import a PyTorch module",
                                              str(folder), IMPORT_FILTER)
        return Path(path) if path else None

    def ask_save_path(self, suggested: Path, title: str = "Save design",
                      file_filter: str = DESIGN_FILTER) -> Path | None:
        path, _ = QFileDialog.getSaveFileName(self.parent, title, str(suggested), file_filter)
        return Path(path) if path else None

    def show_error(self, title: str, message: str) -> None:
        QMessageBox.critical(self.parent, title, message)

    def ask_restore(self, recovery: Recovery) -> bool:
        """Offer the work a crashed session left behind."""
        source = f"“{recovery.original.name}”" if recovery.original else "an unsaved design"
        answer = QMessageBox.question(
            self.parent, "Recover unsaved work",
            f"NeuralCanvas did not close properly last time. Unsaved changes to {source} "
            f"were kept at {recovery.saved_at:%Y-%m-%d %H:%M}.\n\nRestore them?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.Yes)
        return answer == QMessageBox.StandardButton.Yes

    def choose_template(self) -> Design | None:
        return TemplateGallery.choose(self.parent)
