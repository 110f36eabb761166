"""Help > About: what this is and the versions a bug report needs.

Torch's version is read from the installed package's metadata, never by importing torch in
the editor; the training devices are listed by the helper process, as the Setup form does.
"""

from __future__ import annotations

import html
import platform
from importlib.metadata import PackageNotFoundError, version

import PySide6
from PySide6.QtCore import Qt, qVersion
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from designer.training import tasks
from designer.training.jobs import Jobs

SUMMARY = ("Design neural networks by drawing them, train them with live curves, and export "
           "them as plain PyTorch code or ONNX.")


def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def versions() -> list[tuple[str, str]]:
    """(what, version) for NeuralCanvas and what it runs on, without importing torch."""
    return [("NeuralCanvas", package_version("neuralcanvas")),
            ("PyTorch", package_version("torch")),
            ("Qt", qVersion()),
            ("PySide6", PySide6.__version__),
            ("Python", platform.python_version()),
            ("System", platform.platform(terse=True))]


class AboutDialog(QDialog):
    """Versions at once; the training devices when the helper has listed them."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About NeuralCanvas")
        title = QLabel(f"<h2>NeuralCanvas</h2><p>{html.escape(SUMMARY)}</p>", self)
        title.setWordWrap(True)
        form = QFormLayout()
        self.values: dict[str, QLabel] = {}
        for what, text in versions() + [("Training devices", "looking…")]:
            value = QLabel(text, self)
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            form.addRow(what, value)
            self.values[what] = value
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.setMinimumWidth(460)
        self.jobs = Jobs(self)
        self.jobs.submit("devices", tasks.devices, done=self._show_devices,
                         failed=lambda reason: self.values["Training devices"].setText(
                             f"could not be listed: {reason}"))

    def _show_devices(self, devices: list[tuple[str, str]]) -> None:
        self.values["Training devices"].setText(
            "\n".join(f"{description} ({name})" for name, description in devices))

    def done(self, result: int) -> None:
        self.jobs.shutdown()
        super().done(result)
