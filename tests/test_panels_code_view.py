"""The code view follows the design (on a thread of the editor, debounced, only while shown),
copies and exports the exported file (exporting runs in the helper process)."""

import ast

import pytest
from PySide6.QtGui import QGuiApplication
from test_app_support import make_window

from designer.undo_commands import AddNode, Rename, SetParams
from designer.panels.export_dialog import ExportDialog
from engine.codegen.export import export_script

GENERATION_TIMEOUT_MS = 30_000  # a loaded machine: the formatter is a subprocess

pytestmark = pytest.mark.slow  # exporting starts the helper process


def shown_code_view(qtbot, tmp_path, template="cnn"):
    window = make_window(qtbot, tmp_path, template)
    window.show()
    window.docks["code"].raise_()
    view = window.code_view
    qtbot.waitUntil(lambda: view.is_current() and bool(view.editor.toPlainText()),
                    timeout=GENERATION_TIMEOUT_MS)
    return window, view


def text_of(view) -> str:
    return view.editor.toPlainText()


def test_code_view_shows_the_exported_file_and_follows_edits(qtbot, tmp_path):
    window, view = shown_code_view(qtbot, tmp_path)
    document = window.document
    assert text_of(view) == export_script(document.design).code
    assert view.editor.isReadOnly() and view.export_button.isEnabled()
    conv = document.design.find("conv1")
    document.push(SetParams(document.design, conv, {"out_channels": 12}))
    document.push(Rename(document.design, conv, "features"))
    qtbot.waitUntil(lambda: view.is_current() and ("self.features = nn.Conv2d(1, 12" in
                    text_of(view)), timeout=GENERATION_TIMEOUT_MS)
    assert "self.conv1" not in text_of(view)
    ast.parse(text_of(view))


def test_a_hidden_code_view_does_no_work_and_catches_up_when_shown(qtbot, tmp_path):
    window, view = shown_code_view(qtbot, tmp_path)
    document = window.document
    window.docks["problems"].raise_()
    qtbot.waitUntil(lambda: view.visibleRegion().isEmpty())
    document.push(Rename(document.design, document.design.find("conv1"), "stem"))
    document.recheck()
    assert view.is_stale() and "self.stem" not in text_of(view)
    window.docks["code"].raise_()
    qtbot.waitUntil(lambda: view.is_current() and "self.stem = " in text_of(view),
                    timeout=GENERATION_TIMEOUT_MS)


def test_errors_replace_the_code_and_disable_export(qtbot, tmp_path):
    window, view = shown_code_view(qtbot, tmp_path)
    document = window.document
    document.push(AddNode(document.design, "Linear", "model", (0.0, 0.0)))
    qtbot.waitUntil(lambda: text_of(view).startswith("# cnn cannot be exported yet"))
    assert "not connected" in text_of(view)
    assert not view.export_button.isEnabled()
    document.undo_stack.undo()
    qtbot.waitUntil(lambda: view.is_current() and view.export_button.isEnabled(),
                    timeout=GENERATION_TIMEOUT_MS)


def test_copy_and_export(qtbot, tmp_path):
    window, view = shown_code_view(qtbot, tmp_path)
    view.copy_button.click()
    assert QGuiApplication.clipboard().text() == text_of(view)
    view.export_button.click()      # the window's export dialog (tests/test_i11_import_export.py)
    qtbot.waitUntil(lambda: window.findChild(ExportDialog) is not None)
    dialog = window.findChild(ExportDialog)
    assert dialog.chosen_format() == "python" and dialog.file.text().endswith("cnn.py")
    dialog.file.setText(str(tmp_path / "missing-folder" / "model.py"))
    dialog.export_button.click()
    assert "missing-folder: there is no such folder" in dialog.status.text()
    assert dialog.isVisible()
    dialog.reject()
