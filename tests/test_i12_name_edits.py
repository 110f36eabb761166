"""Issue 12, item 4, at edit: every editor of a name (the inspector, the canvas's in-place editor,
Design Properties) refuses a name the design cannot hold with a visible reason, keeps the old name
and never raises out of a Qt slot."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialogButtonBox
from test_canvas import open_canvas, rename_by_double_click
from test_i11_window import properties_dialog, shown_window
from test_panels_inspector import inspect

from engine.limits import LONGEST_NAME
from templates import load_template

TOO_LONG = "n" * (LONGEST_NAME + 1)


def type_name(qtbot, edit, text: str) -> None:
    edit.setFocus()
    QTest.keyClick(edit, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    QApplication.clipboard().setText(text)   # pasted: a name this long is never typed
    QTest.keyClick(edit, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClick(edit, Qt.Key.Key_Return)


def test_the_inspector_refuses_a_too_long_or_taken_name_and_keeps_the_old_one(qtbot):
    document, inspector, conv = inspect(qtbot, "cnn", "conv1")
    steps = document.undo_stack.count()
    type_name(qtbot, inspector.name_edit, TOO_LONG)
    assert document.design.node(conv).name == "conv1"
    assert not inspector.name_error.isHidden()
    assert f"at most {LONGEST_NAME}" in inspector.name_error.text()
    assert inspector.name_edit.text() == "conv1"
    type_name(qtbot, inspector.name_edit, "conv2")   # another layer's name
    assert document.design.node(conv).name == "conv1"
    assert "already exists" in inspector.name_error.text()
    assert document.undo_stack.count() == steps


def test_the_canvas_rename_refuses_a_too_long_name_with_a_message(qtbot):
    document, tabs = open_canvas(qtbot, load_template("cnn"))
    conv = document.design.find("conv1")
    with qtbot.waitSignal(tabs.message, timeout=1000) as said:
        rename_by_double_click(tabs.current_view(), conv, TOO_LONG)
    assert f"at most {LONGEST_NAME}" in said.args[0]
    assert document.design.node(conv).name == "conv1"


def test_design_properties_refuse_a_too_long_name(qtbot, tmp_path):
    window = shown_window(qtbot, tmp_path)
    dialog = properties_dialog(qtbot, window)
    dialog.name.setFocus()
    QTest.keyClick(dialog.name, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClicks(dialog.name, TOO_LONG)
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert not ok.isEnabled() and f"at most {LONGEST_NAME}" in dialog.problem.text()
    QTest.keyClick(dialog, Qt.Key.Key_Escape)
    assert window.document.design.name == "cnn"
