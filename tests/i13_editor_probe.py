"""Run by tests/test_i13_codegen.py in a fresh pytest process (not collected by the suite, whose
other tests import torch): the editor shows the Code tab, copies and exports Python, and torch
is never imported in its process."""

import sys

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from test_app_support import make_window

from designer.panels.export_dialog import ExportDialog

HELPER_MS = 120_000  # the helper process starts


def torch_modules() -> list[str]:
    return sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "torchvision"))


def test_code_tab_copy_and_export_leave_torch_out_of_the_editor(qtbot, tmp_path):
    assert torch_modules() == []
    window = make_window(qtbot, tmp_path, "transfer")
    window.show()
    window.docks["code"].raise_()
    view = window.code_view
    qtbot.waitUntil(lambda: view.is_current() and "pretrained_backbone(" in
                    view.editor.toPlainText(), timeout=HELPER_MS)
    QTest.mouseClick(view.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == view.editor.toPlainText()
    QTest.keyClick(window, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.findChild(ExportDialog) is not None)
    dialog = window.findChild(ExportDialog)
    target = tmp_path / "transfer.py"
    dialog.file.setFocus()
    QTest.keyClick(dialog.file, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClicks(dialog.file, str(target))
    QTest.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.findChild(ExportDialog) is None, timeout=HELPER_MS)
    assert target.read_text(encoding="utf-8") == view.editor.toPlainText()
    assert torch_modules() == []
