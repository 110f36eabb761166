"""File > Import PyTorch Module: a Python file, one of its nn.Module classes and an input shape
become a design (or an .onnx file, whose shape is needed only where the file leaves it open).

Listing the classes and importing both run the user's file with torch, so they run in the
helper process (designer.training.jobs) while the dialog shows a busy bar; a failure is shown
in the dialog with the file and line it names, and the dialog stays open to fix the input.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from designer import file_tasks
from designer.panels.busy_bar import busy_bar
from designer.panels.dialogs import Dialogs
from designer.training.jobs import Jobs
from designer.widgets import add_file_row, cancel_and_action, error_line, push_button
from engine import Design, DesignError
from engine.importing.loading import parse_shape
from engine.importing.onnx_file import is_onnx_file

DTYPES = (("float", "Numbers (float)"), ("long", "Token ids (long)"))


def parse_shapes(text: str) -> list[tuple[int, ...]]:
    """"3,224,224" or "1,28,28; 10" (one shape per input of forward) -> shapes."""
    parts = [part for part in text.split(";") if part.strip()]
    if not parts:
        raise DesignError("give the shape of one sample without the batch, e.g. 3,224,224")
    return [parse_shape(part) for part in parts]


class ImportDialog(QDialog):
    """Choose the file, the class and the input; `imported` carries the new design."""

    imported = Signal(object, list)   # engine.Design, the submodules forward never calls

    def __init__(self, dialogs: Dialogs, folder: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import a PyTorch module")
        self.dialogs, self.folder = dialogs, folder
        self.jobs = Jobs(self)
        self._listed: str | None = None   # the file whose classes are listed (or listing)
        form = self._build_form()
        self._build_footer(form)
        self.classes.currentIndexChanged.connect(lambda _i: self._update_button())
        self.resize(560, 260)

    def _build_form(self) -> QFormLayout:
        """File, class, input shape and input type rows."""
        self.file = QLineEdit(self)
        self.file.setPlaceholderText("a .py file that defines an nn.Module class, or an .onnx "
                                     "file")
        self.file.editingFinished.connect(self._list_classes)
        self.browse_button = push_button(self, "Browse…", "Choose the Python file", self.browse)
        self.classes = QComboBox(self)
        self.classes.setPlaceholderText("choose a file first")
        self.classes.setEnabled(False)
        self.shape = QLineEdit(self)
        self.shape.setPlaceholderText("one sample without the batch, e.g. 3,224,224")
        self.shape.setToolTip("Separate the shapes of several inputs with ';', e.g. 1,28,28; 10")
        self.dtype = QComboBox(self)
        for value, text in DTYPES:
            self.dtype.addItem(text, value)
        form = QFormLayout()
        add_file_row(form, "Python &file", self.file, self.browse_button)
        form.addRow("&Class", self.classes)
        form.addRow("&Input shape", self.shape)
        form.addRow("Input &type", self.dtype)
        return form

    def _build_footer(self, form: QFormLayout) -> None:
        """The busy bar, status, error and buttons, laid out below the form."""
        self.busy = busy_bar(self)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.error = error_line(self)
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.buttons, self.import_button = cancel_and_action(self, "Import", self.start_import)
        self.import_button.setEnabled(False)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.busy)
        layout.addWidget(self.status)
        layout.addWidget(self.error)
        layout.addStretch(1)
        layout.addWidget(self.buttons)

    # ------------------------------------------------------------------ choosing
    def browse(self) -> None:
        start = Path(self.file.text()).parent if self.file.text() else self.folder
        path = self.dialogs.ask_python_file(start)
        if path is not None:
            self.file.setText(str(path))
            self._listed = None
            self._list_classes()

    def _list_classes(self) -> None:
        file = self.file.text().strip()
        if not file or file == self._listed:
            return
        self._listed = file
        self.classes.clear()
        self.classes.setEnabled(False)
        self._start(f"Reading {Path(file).name}…")
        self.jobs.submit("import", file_tasks.list_module_classes, file,
                         done=lambda names: self._show_classes(file, names),
                         failed=lambda reason: self._fail(reason, listing=True))

    def _show_classes(self, file: str, names: list[str]) -> None:
        self._stop()
        if not names:
            self._fail(f"{file} defines no nn.Module class", listing=True)
            return
        self.classes.addItems(names)
        self.classes.setCurrentIndex(0)   # with a placeholder, adding items selects none
        self.classes.setEnabled(True)
        self.status.setText(f"an ONNX model: {Path(file).name}" if is_onnx_file(file) else
                            f"{len(names)} nn.Module class{'es' if len(names) > 1 else ''} "
                            f"in {Path(file).name}")
        self._update_button()
        self.shape.setFocus()

    # ------------------------------------------------------------------ importing
    def start_import(self) -> None:
        file, name = self.file.text().strip(), self.classes.currentText()
        try:
            shapes = [] if is_onnx_file(file) and not self.shape.text().strip() else \
                parse_shapes(self.shape.text())
        except DesignError as err:
            self._fail(f"Input shape: {err}")
            self.shape.setFocus()
            return
        self._start(f"Importing {name} from {Path(file).name}: tracing it and checking the "
                    "design computes the same outputs…")
        self.import_button.setEnabled(False)
        self.jobs.submit("import", file_tasks.import_design, file, name, shapes,
                         self.dtype.currentData(), done=self._imported, failed=self._fail)

    def _imported(self, result: file_tasks.Imported) -> None:
        self._stop()
        self.imported.emit(Design.from_dict(result.design), result.left_out)
        self.accept()

    # ------------------------------------------------------------------ feedback
    def _start(self, text: str) -> None:
        self.error.hide()
        self.status.setText(text)
        self.busy.show()

    def _stop(self) -> None:
        self.busy.hide()
        self.status.clear()

    def _fail(self, reason: str, listing: bool = False) -> None:
        """Show what went wrong; after a failed listing the same file may be read again."""
        if listing:
            self._listed = None
        self._stop()
        self.error.setText(reason)
        self.error.show()
        self._update_button()

    def _update_button(self) -> None:
        self.import_button.setEnabled(self.classes.isEnabled() and self.classes.count() > 0
                                      and not self.busy.isVisible())

    def reject(self) -> None:
        """Cancel: a job still running reports to nobody."""
        self.jobs.shutdown()
        super().reject()
