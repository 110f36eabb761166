"""File > Export: the design as a standalone PyTorch script or one network as an ONNX file.

Both need torch, so the file is written in the helper process (designer.training.jobs) while
the dialog shows a busy bar; the dialog closes once the file exists, and a failure is shown in
it. ONNX needs the optional `onnx` extra: without it the dialog says how to install it.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from designer import file_tasks
from designer.panels.busy_bar import busy_bar
from designer.panels.dialogs import ONNX_FILTER, PYTHON_FILTER, Dialogs
from designer.theme import ERROR_STYLE
from designer.training.jobs import Jobs
from designer.widgets import add_file_row, cancel_and_action, push_button
from engine import Design
from engine.design import DEFAULT_NETWORK
from engine.export_onnx import INSTALL_HINT, missing_packages

FORMATS = {"python": ("Python script (.py)", ".py", PYTHON_FILTER),
           "onnx": ("ONNX model (.onnx)", ".onnx", ONNX_FILTER)}


class ExportDialog(QDialog):
    """Choose the format, the network (ONNX) and the file; `exported` reports what was written."""

    exported = Signal(str, object)   # a sentence for the status bar, the file written (Path)

    def __init__(self, design: Design, dialogs: Dialogs, folder: Path,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Export {design.name}")
        self.design, self.dialogs = design, dialogs
        self.jobs = Jobs(self)
        self._build_form(design, folder)
        self._build_footer()
        self.formats.buttonToggled.connect(lambda _button, on: on and self._format_changed())
        self.format_buttons["python"].setChecked(True)
        self.resize(600, 240)

    def _build_form(self, design: Design, folder: Path) -> None:
        """Format, network (for ONNX) and file rows."""
        self.formats = QButtonGroup(self)
        format_row = QHBoxLayout()
        self.format_buttons: dict[str, QRadioButton] = {}
        for key, (text, _suffix, _filter) in FORMATS.items():
            button = QRadioButton(text, self)
            self.formats.addButton(button)
            self.format_buttons[key] = button
            format_row.addWidget(button)
        format_row.addStretch(1)
        self.network = QComboBox(self)
        self.network.addItems(design.networks)
        if DEFAULT_NETWORK in design.networks:
            self.network.setCurrentText(DEFAULT_NETWORK)
        self.network.setToolTip("An ONNX file holds one network")
        self.file = QLineEdit(str(folder / f"{design.name}.py"), self)
        browse = push_button(self, "Browse…", "Choose where to write the file", self.browse)
        self.form = QFormLayout()
        self.form.addRow("Format", format_row)
        self.form.addRow("&Network", self.network)
        add_file_row(self.form, "&File", self.file, browse)

    def _build_footer(self) -> None:
        """The note on a missing extra, the busy bar, the status and the buttons, laid out
        below the form."""
        self.note = QLabel(self)
        self.note.setWordWrap(True)
        self.note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.busy = busy_bar(self)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.buttons, self.export_button = cancel_and_action(self, "Export", self.start_export)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.note)
        layout.addWidget(self.busy)
        layout.addWidget(self.status)
        layout.addStretch(1)
        layout.addWidget(self.buttons)

    def chosen_format(self) -> str:
        return next(key for key, button in self.format_buttons.items() if button.isChecked())

    def _format_changed(self) -> None:
        """Follow the format: the file's suffix, the network row, and the extra's note."""
        kind = self.chosen_format()
        suffix = FORMATS[kind][1]
        path = Path(self.file.text().strip() or f"{self.design.name}{suffix}")
        self.file.setText(str(path.with_suffix(suffix)))
        self.form.setRowVisible(self.network, kind == "onnx")
        missing = missing_packages() if kind == "onnx" else []
        self.note.setStyleSheet(ERROR_STYLE if missing else "")
        self.note.setText(f"ONNX export needs {', '.join(missing)}, which "
                          f"{'is' if len(missing) == 1 else 'are'} not installed. Install "
                          f"{'it' if len(missing) == 1 else 'them'} with:\n{INSTALL_HINT}"
                          if missing else "")
        self.note.setVisible(bool(missing))
        self.export_button.setEnabled(not missing)

    def browse(self) -> None:
        _text, suffix, file_filter = FORMATS[self.chosen_format()]
        path = self.dialogs.ask_save_path(Path(self.file.text().strip()),
                                          f"Export {self.design.name}", file_filter)
        if path is not None:
            self.file.setText(str(path if path.suffix else path.with_suffix(suffix)))

    # ------------------------------------------------------------------ writing
    def start_export(self) -> None:
        text = self.file.text().strip()
        if not text:
            self._fail("Say which file to write.")
            return
        path = Path(text).expanduser().absolute()
        if not path.parent.is_dir():
            self._fail(f"{path.parent}: there is no such folder.")
            return
        kind = self.chosen_format()
        self.export_button.setEnabled(False)
        self.status.setStyleSheet("")
        self.status.setText(f"Writing {path.name}…")
        self.busy.show()
        design = self.design.to_dict()
        if kind == "python":
            self.jobs.submit("export", file_tasks.export_python, design, str(path),
                             done=lambda written: self._written(path, self._python_text(written)),
                             failed=self._fail)
        else:
            network = self.network.currentText()
            self.jobs.submit("export", file_tasks.export_onnx_file, design, str(path), network,
                             done=lambda facts: self._written(path, f"Exported {path} ({facts})"),
                             failed=self._fail)

    @staticmethod
    def _python_text(written: list[str]) -> str:
        extra = f" and {', '.join(Path(p).name for p in written[1:])}" if written[1:] else ""
        return f"Exported {written[0]}{extra}; run it with: python {Path(written[0]).name}"

    def _written(self, path: Path, message: str) -> None:
        self.busy.hide()
        if not path.is_file():
            self._fail(f"{path} was not written.")
            return
        self.exported.emit(message, path)
        self.accept()

    def _fail(self, reason: str) -> None:
        self.busy.hide()
        self.status.setStyleSheet(ERROR_STYLE)
        self.status.setText(reason)
        self.export_button.setEnabled(not self.note.isVisible())

    def reject(self) -> None:
        """Cancel: a job still running reports to nobody."""
        self.jobs.shutdown()
        super().reject()
