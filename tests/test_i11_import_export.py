"""Issue 11 item 15: File > Import of a PyTorch module and File > Export as Python or ONNX, on
the real window; only the file choosers are answered by the test. Import and export run in
the helper process, so most of these are slow."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from test_app_support import ScriptedDialogs
from test_i11_window import CTRL, shown_window

from designer.panels.export_dialog import ExportDialog
from designer.panels.import_dialog import ImportDialog
from engine.codegen.export import export_script
from engine.export_onnx import missing_packages

HELPER_MS = 120_000   # the helper process starts and imports torch

MODELS = '''import torch.nn as nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.flat = nn.Flatten()

    def forward(self, x):
        return self.flat(x)


class Net(Block):
    def __init__(self):
        super().__init__()
        self.scores = nn.Linear(28 * 28, 10)

    def forward(self, x):
        return self.scores(self.flat(x))


class NotAModule:
    pass
'''

BROKEN = '''import torch.nn as nn


raise ValueError("the data folder is missing")
'''


@dataclass
class FileDialogs(ScriptedDialogs):
    python_file: Path | None = None

    def ask_python_file(self, folder: Path) -> Path | None:
        self.asked.append("python file")
        return self.python_file


def import_dialog(qtbot, window) -> ImportDialog:
    QTest.keyClick(window, Qt.Key.Key_I, CTRL)
    qtbot.waitUntil(lambda: window.findChild(ImportDialog) is not None)
    return window.findChild(ImportDialog)


def export_dialog(qtbot, window) -> ExportDialog:
    QTest.keyClick(window, Qt.Key.Key_E, CTRL)
    qtbot.waitUntil(lambda: window.findChild(ExportDialog) is not None)
    return window.findChild(ExportDialog)


def click(button) -> None:
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)


@pytest.mark.slow
def test_import_lists_the_files_modules_and_replaces_the_design(qtbot, tmp_path):
    models = tmp_path / "models.py"
    models.write_text(MODELS)
    window = shown_window(qtbot, tmp_path, dialogs=FileDialogs(python_file=models))
    dialog = import_dialog(qtbot, window)
    click(dialog.browse_button)
    assert dialog.busy.isVisible() and "Reading models.py" in dialog.status.text()
    qtbot.waitUntil(lambda: dialog.classes.isEnabled(), timeout=HELPER_MS)
    assert [dialog.classes.itemText(i) for i in range(dialog.classes.count())] == ["Block",
                                                                                  "Net"]
    dialog.classes.setFocus()
    QTest.keyClick(dialog.classes, Qt.Key.Key_Down)
    assert dialog.classes.currentText() == "Net"
    dialog.shape.setFocus()
    QTest.keyClicks(dialog.shape, "1,x,28")
    click(dialog.import_button)
    assert dialog.error.isVisible() and dialog.error.text().startswith("Input shape:")
    assert "'1,x,28' is not a shape" in dialog.error.text() and not dialog.busy.isVisible()
    QTest.keyClick(dialog.shape, Qt.Key.Key_A, CTRL)
    QTest.keyClicks(dialog.shape, "1,28,28")
    click(dialog.import_button)
    assert not dialog.error.isVisible()
    assert dialog.busy.isVisible() and "Importing Net" in dialog.status.text()
    qtbot.waitUntil(lambda: window.document.design.name == "Net", timeout=HELPER_MS)
    design = window.document.design
    assert sorted(design.node(n).type for n in design.nodes()) == ["Flatten", "Input", "Linear",
                                                                  "Output"]
    qtbot.waitUntil(lambda: window.findChild(ImportDialog) is None)   # closed
    assert window.isWindowModified() and window.document.path is None


@pytest.mark.slow
def test_import_shows_the_file_and_line_that_failed(qtbot, tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text(BROKEN)
    window = shown_window(qtbot, tmp_path)
    dialog = import_dialog(qtbot, window)
    dialog.file.setFocus()
    QTest.keyClicks(dialog.file, str(broken))
    QTest.keyClick(dialog.file, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.error.isVisible(), timeout=HELPER_MS)
    text = dialog.error.text()
    assert "broken.py" in text and "line 4" in text and "the data folder is missing" in text
    assert not dialog.import_button.isEnabled() and dialog.isVisible()
    assert window.document.design.name == "cnn"


@pytest.mark.slow
def test_export_python_closes_when_the_file_exists(qtbot, tmp_path):
    window = shown_window(qtbot, tmp_path)
    dialog = export_dialog(qtbot, window)
    assert dialog.chosen_format() == "python"
    target = tmp_path / "digits.py"
    dialog.file.setFocus()
    QTest.keyClick(dialog.file, Qt.Key.Key_A, CTRL)
    QTest.keyClicks(dialog.file, str(target))
    click(dialog.export_button)
    assert dialog.busy.isVisible() and "Writing digits.py" in dialog.status.text()
    qtbot.waitUntil(lambda: window.findChild(ExportDialog) is None, timeout=HELPER_MS)
    assert target.read_text(encoding="utf-8") == export_script(window.document.design).code
    assert str(target) in window.statusBar().currentMessage()
    assert window.settings.last_folder() == tmp_path


@pytest.mark.slow
def test_export_failure_is_shown_in_the_dialog(qtbot, tmp_path):
    window = shown_window(qtbot, tmp_path)
    design = window.document.design
    design.remove(design.find("digit"))          # no Output: the design cannot be exported
    dialog = export_dialog(qtbot, window)
    dialog.file.setText(str(tmp_path / "cnn.py"))
    click(dialog.export_button)
    qtbot.waitUntil(lambda: not dialog.busy.isVisible(), timeout=HELPER_MS)
    assert "has no Output" in dialog.status.text() and dialog.isVisible()
    assert not (tmp_path / "cnn.py").exists()


@pytest.mark.skipif(not missing_packages(), reason="the onnx extra is installed")
def test_onnx_without_the_extra_says_how_to_install_it(qtbot, tmp_path):
    window = shown_window(qtbot, tmp_path)
    dialog = export_dialog(qtbot, window)
    click(dialog.format_buttons["onnx"])
    assert dialog.chosen_format() == "onnx" and dialog.file.text().endswith("cnn.onnx")
    assert dialog.network.isVisible() and dialog.network.currentText() == "model"
    assert dialog.note.isVisible() and 'pip install "neuralcanvas[onnx]"' in dialog.note.text()
    assert not dialog.export_button.isEnabled()
    click(dialog.format_buttons["python"])
    assert dialog.file.text().endswith("cnn.py") and not dialog.network.isVisible()
    assert dialog.export_button.isEnabled()


@pytest.mark.slow
@pytest.mark.skipif(bool(missing_packages()), reason="needs the onnx extra")
def test_export_onnx_closes_when_the_file_exists(qtbot, tmp_path):
    window = shown_window(qtbot, tmp_path)
    dialog = export_dialog(qtbot, window)
    click(dialog.format_buttons["onnx"])
    dialog.file.setText(str(tmp_path / "cnn.onnx"))
    click(dialog.export_button)
    qtbot.waitUntil(lambda: window.findChild(ExportDialog) is None, timeout=HELPER_MS)
    assert (tmp_path / "cnn.onnx").stat().st_size > 0
    assert "onnxruntime matches torch" in window.statusBar().currentMessage()
