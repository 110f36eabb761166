"""Issue 11 item 1: numbers are typed as people write them, in every numeric field.

Driven with real key events on the real Setup form (found by its accessible name) and on the
inspector of selected layers: select-all or not, pasted text, Enter or leaving the field.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit, QWidget
from test_app_support import make_window

from designer.undo_commands import AddNode
from designer.panels.number_field import format_number, parse_number, step_number

CTRL = Qt.KeyboardModifier.ControlModifier


def named(root: QWidget, name: str) -> QLineEdit:
    found = [w for w in root.findChildren(QLineEdit) if w.accessibleName() == name]
    assert len(found) == 1, f"{len(found)} fields named {name!r}"
    return found[0]


def editor_of(field: QWidget):
    """The ParamEditor holding a field (it carries the red frame and the `invalid` signal)."""
    widget = field.parentWidget()
    while not hasattr(widget, "refused"):
        widget = widget.parentWidget()
    return widget


def retype(qtbot, field: QLineEdit, text: str, select_all: bool = True) -> None:
    """Replace the field's text as a person does, then press Enter."""
    field.setFocus()
    if select_all:
        qtbot.keyClick(field, Qt.Key.Key_A, CTRL)
    else:  # put the cursor at the end and erase what is there
        qtbot.keyClick(field, Qt.Key.Key_End)
        for _ in field.text():
            qtbot.keyClick(field, Qt.Key.Key_Backspace)
    if not text:  # erasing, then Enter
        qtbot.keyClick(field, Qt.Key.Key_Backspace)
    qtbot.keyClicks(field, text)
    qtbot.keyClick(field, Qt.Key.Key_Return)


def paste(qtbot, field: QLineEdit, text: str) -> None:
    QApplication.clipboard().setText(text)
    field.setFocus()
    qtbot.keyClick(field, Qt.Key.Key_A, CTRL)
    qtbot.keyClick(field, Qt.Key.Key_V, CTRL)
    qtbot.keyClick(field, Qt.Key.Key_Return)


@pytest.fixture
def setup_window(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    window.show()
    qtbot.waitExposed(window)
    window.docks["training"].raise_()
    window.training.tabs.setCurrentWidget(window.training.setup)
    return window


def training(window) -> dict:
    return window.document.design.training


@pytest.mark.parametrize("select_all", [True, False])
@pytest.mark.parametrize("typed, value", [("0.01", 0.01), ("0.003", 0.003), (".5", 0.5),
                                          ("1e-4", 1e-4), ("3E-3", 3e-3), ("2.", 2.0)])
def test_learning_rate_takes_what_is_typed_and_shows_it_back(qtbot, setup_window, typed, value,
                                                             select_all):
    field = named(setup_window, "Learning rate")
    retype(qtbot, field, typed, select_all)
    assert training(setup_window)["optimizer"]["lr"] == value
    assert field.text() == typed
    assert not editor_of(field).refused


def test_pasted_and_focus_out_values_are_taken(qtbot, setup_window):
    field = named(setup_window, "Learning rate")
    paste(qtbot, field, " 0.0005 ")
    assert training(setup_window)["optimizer"]["lr"] == 0.0005
    field.setFocus()
    qtbot.keyClick(field, Qt.Key.Key_A, CTRL)
    qtbot.keyClicks(field, "0.02")
    assert training(setup_window)["optimizer"]["lr"] == 0.0005  # nothing while typing
    qtbot.keyClick(field, Qt.Key.Key_Tab)  # leaving the field commits
    qtbot.waitUntil(lambda: training(setup_window)["optimizer"]["lr"] == 0.02)
    assert field.text() == "0.02"


def test_whole_numbers_typed_or_pasted(qtbot, setup_window):
    batch = named(setup_window, "Batch size")
    retype(qtbot, batch, "64")
    assert training(setup_window)["batch_size"] == 64
    paste(qtbot, batch, " 128 ")
    assert training(setup_window)["batch_size"] == 128
    retype(qtbot, batch, "12.5")
    assert training(setup_window)["batch_size"] == 128
    assert editor_of(batch).refused
    assert "whole number" in setup_window.training.setup.form.message.text()


@pytest.mark.parametrize("typed, complaint", [("abc", "'abc' is not a number"),
                                              ("0,01", "use a point for decimals"),
                                              ("1e999", "too large"), ("", "needs a number")])
def test_garbage_is_refused_visibly_and_the_design_keeps_its_value(qtbot, setup_window, typed,
                                                                   complaint):
    field = named(setup_window, "Learning rate")
    before = training(setup_window)["optimizer"]["lr"]
    editor = editor_of(field)
    with qtbot.waitSignal(editor.invalid) as reason:
        retype(qtbot, field, typed)
    assert complaint in reason.args[0] and "Learning rate" in reason.args[0]
    assert editor.refused and "border" in editor.styleSheet()
    message = setup_window.training.setup.form.message
    assert message.isVisible() and complaint in message.text()
    assert training(setup_window)["optimizer"]["lr"] == before
    assert field.text() == typed  # kept for correcting, nothing is lost
    retype(qtbot, field, "0.01")
    assert training(setup_window)["optimizer"]["lr"] == 0.01
    assert not editor.refused and not message.isVisible()


def test_out_of_range_values_are_refused_with_the_range_named(qtbot, setup_window):
    field = named(setup_window, "Beta1")
    before = training(setup_window)["optimizer"].get("beta1")
    with qtbot.waitSignal(editor_of(field).invalid) as reason:
        retype(qtbot, field, "2")
    assert "from 0 to 0.999" in reason.args[0]
    assert training(setup_window)["optimizer"].get("beta1") == before
    lr = named(setup_window, "Learning rate")
    retype(qtbot, lr, "0")  # the engine's rule: greater than 0
    assert editor_of(lr).refused
    assert "greater than 0" in setup_window.training.setup.form.message.text()
    assert training(setup_window)["optimizer"]["lr"] > 0


def test_escape_restores_the_value_and_undo_shows_it(qtbot, setup_window):
    field = named(setup_window, "Learning rate")
    retype(qtbot, field, "0.01")
    qtbot.keyClick(field, Qt.Key.Key_A, CTRL)
    qtbot.keyClicks(field, "zzz")
    qtbot.keyClick(field, Qt.Key.Key_Escape)
    assert field.text() == "0.01" and not editor_of(field).refused
    setup_window.document.undo_stack.undo()
    assert field.text() == format_number(training(setup_window)["optimizer"]["lr"])


def test_arrow_keys_step_tiny_values_sanely(qtbot, setup_window):
    field = named(setup_window, "Learning rate")
    retype(qtbot, field, "0.003")
    qtbot.keyClick(field, Qt.Key.Key_Up)
    assert training(setup_window)["optimizer"]["lr"] == 0.004
    qtbot.keyClick(field, Qt.Key.Key_Down)
    qtbot.keyClick(field, Qt.Key.Key_Down)
    qtbot.keyClick(field, Qt.Key.Key_Down)
    assert training(setup_window)["optimizer"]["lr"] == 0.001
    qtbot.keyClick(field, Qt.Key.Key_Down)
    assert training(setup_window)["optimizer"]["lr"] == 0.0009
    assert field.text() == "0.0009"


def test_stepping_and_formatting_rules():
    assert [step_number(0.003, 1), step_number(0.003, -1), step_number(1e-5, -1)] == \
        [0.004, 0.002, 9e-6]
    assert step_number(0.0, 1) == 0.1 and step_number(-0.01, 1) == -0.009
    assert [format_number(v) for v in (0.003, 1e-05, 100.0, 64)] == ["0.003", "1e-05", "100", "64"]
    assert parse_number(" -2 ", "int", "n") == -2 and parse_number("1e3", "int", "n") == 1000
    with pytest.raises(ValueError, match="'n' must be a whole number"):
        parse_number("2.5", "int", "n")
    with pytest.raises(ValueError, match="is not a number"):
        parse_number("nan", "float", "n")


# ---------------------------------------------------------------------- the inspector

def select_new(window, layer: str) -> str:
    document = window.document
    add = AddNode(document.design, layer, "model", (0.0, 0.0))
    document.push(add)
    document.set_selection([add.node_id])
    return add.node_id


@pytest.fixture
def window(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    window.show()
    qtbot.waitExposed(window)
    return window


def test_inspector_fields_take_typed_and_pasted_numbers(qtbot, window):
    design = window.document.design
    linear = select_new(window, "Linear")
    out = named(window.inspector, "out_features")
    retype(qtbot, out, "64")
    assert design.node(linear).params["out_features"] == 64
    paste(qtbot, out, " 128 ")
    assert design.node(linear).params["out_features"] == 128

    dropout = select_new(window, "Dropout")
    p = named(window.inspector, "p")
    retype(qtbot, p, ".25", select_all=False)
    assert design.node(dropout).params["p"] == 0.25 and p.text() == ".25"

    norm = select_new(window, "BatchNorm2d")
    eps = named(window.inspector, "eps")
    assert eps.text() == "1e-05"
    retype(qtbot, eps, "3E-3")
    assert design.node(norm).params["eps"] == 0.003 and eps.text() == "3E-3"


def test_inspector_refuses_garbage_and_out_of_range_under_the_field(qtbot, window):
    design = window.document.design
    dropout = select_new(window, "Dropout")
    p = named(window.inspector, "p")
    field = window.inspector.fields["p"]
    for typed, complaint in (("1.5", "from 0 to 1"), ("half", "is not a number")):
        retype(qtbot, p, typed)
        assert field.editor.refused, typed
        assert complaint in field.error.text() and field.error.isVisible()
        assert design.node(dropout).params["p"] == 0.5
    retype(qtbot, p, "0.1")
    assert design.node(dropout).params["p"] == 0.1
    assert not field.editor.refused and not field.error.isVisible()


def test_kernel_size_boxes_are_numbers_too(qtbot, window):
    design = window.document.design
    conv = design.find("conv1")
    window.document.set_selection([conv])
    first = named(window.inspector, "kernel_size 1 of 2")
    second = named(window.inspector, "kernel_size 2 of 2")
    retype(qtbot, first, "5")
    assert design.node(conv).params["kernel_size"] == (5, int(second.text()))
    retype(qtbot, second, "5")
    assert design.node(conv).params["kernel_size"] == 5
