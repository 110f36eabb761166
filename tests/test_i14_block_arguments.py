"""A block definition's arguments in the inspector, driven through the real widgets: with a
definition open and nothing selected the inspector lists its arguments; adding, renaming,
retyping, a new default or range, removing, and Make argument beside a layer's value are each
one undo step, and a refused edit says why beside the field and keeps what was typed."""

from __future__ import annotations

import pytest
from test_app_support import make_window
from test_canvas import open_canvas
from test_i11_accessibility import unnamed_controls
from test_i14_canvas_blocks import _double_click, _two_uses

from designer.panels.block_arguments import BlockDefinitionView
from designer.panels.inspector import Inspector
from designer.panels.param_editors import ExpressionEditor
from engine.blocks.definitions import Expr


@pytest.fixture
def opened(qtbot):
    """`_two_uses` (Stage reads `width` in conv's out_channels; uses at 4 and 6) with Stage
    open and an inspector beside the canvas."""
    design = _two_uses()
    document, tabs = open_canvas(qtbot, design)
    inspector = Inspector(document)
    qtbot.addWidget(inspector)
    inspector.resize(360, 900)
    inspector.show()
    _double_click(qtbot, tabs, design.find("first"))
    assert document.scope == "Stage" and document.selection == []
    return document, tabs, inspector


def _view(inspector: Inspector) -> BlockDefinitionView:
    assert isinstance(inspector.definition, BlockDefinitionView)
    assert inspector.widget() is inspector.definition
    return inspector.definition


def _type(line, text: str) -> None:
    line.setText(text)
    line.editingFinished.emit()


def _names(design) -> list[str]:
    return [a.name for a in design.block_arguments("Stage")]


def _shape(qtbot, document, node_id: str, channels: int) -> None:
    qtbot.waitUntil(lambda: document.report.shape(node_id) == ("N", channels, 16, 16))


def test_add_an_argument_use_it_and_change_its_default_and_a_uses_value(qtbot, opened):
    document, tabs, inspector = opened
    design, stack = document.design, document.undo_stack
    view = _view(inspector)
    assert [card.declared.name for card in view.cards] == ["width"]
    assert "Used by 2 block nodes" in view.uses.text()
    view.add_button.click()
    assert _names(design) == ["width", "argument1"] and stack.count() == 1
    card = view.cards[-1]
    assert card.name_edit.hasFocus() or not inspector.isActiveWindow()
    assert design.node(design.find("first")).params["argument1"] == 1
    _type(card.name_edit, "scale")
    assert _names(design) == ["width", "scale"] and stack.count() == 2
    conv = design.find("conv", "Stage")
    tabs.current_view().network_scene().select_nodes([conv])
    _type(inspector.fields["out_channels"].editor.line, "width * scale")
    assert design.node(conv).params["out_channels"] == Expr("width * scale")
    tabs.current_view().network_scene().select_nodes([])
    view = _view(inspector)
    _shape(qtbot, document, conv, 8)
    default = view.card("scale").default_editor
    default.field.setText("3")
    default.field.commit()
    assert design.block_arguments("Stage")[1].default == 3 and stack.count() == 4
    _shape(qtbot, document, conv, 24)                  # the definition's own walk
    first, second = design.find("first"), design.find("second")
    assert design.node(first).params["scale"] == 1     # a use keeps its value
    document.leave_block()
    tabs.current_view().network_scene().select_nodes([first])
    scale = inspector.fields["scale"].editor
    scale.field.setText("2")
    scale.field.commit()
    _shape(qtbot, document, first, 8)
    assert document.report.shape(second) == ("N", 6, 16, 16)
    stack.undo()
    _shape(qtbot, document, first, 4)
    stack.undo()                                       # the default goes back to 1
    _shape(qtbot, document, conv, 8)
    stack.redo()
    _shape(qtbot, document, conv, 24)
    for _ in range(3):
        stack.undo()
    assert _names(design) == ["width", "argument1"]
    stack.undo()
    assert _names(design) == ["width"] and "argument1" not in design.node(first).params
    stack.redo()
    assert _names(design) == ["width", "argument1"]


def test_renaming_an_argument_renames_the_expressions_that_read_it_in_one_step(qtbot, opened):
    document, tabs, inspector = opened
    design, stack = document.design, document.undo_stack
    conv, first = design.find("conv", "Stage"), design.find("first")
    _type(_view(inspector).card("width").name_edit, "channels")
    assert _names(design) == ["channels"] and stack.count() == 1
    assert design.node(conv).params["out_channels"] == Expr("channels")
    assert design.node(first).params["channels"] == 4
    assert _view(inspector).cards[0].title() == "channels (whole number)"
    _shape(qtbot, document, first, 4)
    tabs.current_view().network_scene().select_nodes([conv])
    assert inspector.fields["out_channels"].editor.line.text() == "channels"
    stack.undo()
    assert inspector.fields["out_channels"].editor.line.text() == "width"
    assert design.node(first).params["width"] == 4
    stack.redo()
    assert design.node(conv).params["out_channels"] == Expr("channels")


@pytest.mark.parametrize(("name", "words"), [
    ("2x", "plain name"), ("class", "Python keyword"), ("block", "block node's own parameter"),
    ("repeat", "block node's own parameter"), ("argument1", "already has an argument")])
def test_a_bad_argument_name_is_refused_beside_the_field_and_kept_as_typed(
        qtbot, opened, name, words):
    document, _tabs, inspector = opened
    view = _view(inspector)
    view.add_button.click()
    count = document.undo_stack.count()
    card = view.card("width")
    _type(card.name_edit, name)
    assert _names(document.design) == ["width", "argument1"]
    assert document.undo_stack.count() == count
    assert card.errors["name"].isVisible() and words in card.errors["name"].text()
    assert card.name_edit.text() == name
    view.card("argument1").help_edit.setText("an edit elsewhere")
    view.card("argument1").help_edit.editingFinished.emit()
    assert card.name_edit.text() == name and card.errors["name"].isVisible()
    _type(card.name_edit, "planes")
    assert not card.errors["name"].isVisible() and _names(document.design)[0] == "planes"


def test_a_default_outside_the_range_is_refused_and_so_is_a_range_that_leaves_it_out(opened):
    document, _tabs, inspector = opened
    card = _view(inspector).card("width")
    card.default_editor.field.setText("0")
    card.default_editor.field.commit()
    assert card.errors["default"].isVisible() and "from 1" in card.errors["default"].text()
    _type(card.minimum_edit, "10")
    assert "'width' is 8 but must be at least 10 (the default)" in card.errors["minimum"].text()
    _type(card.maximum_edit, "x")
    assert "not a number" in card.errors["maximum"].text()
    assert document.design.block_arguments("Stage")[0].minimum == 1
    assert document.undo_stack.count() == 0
    _type(card.maximum_edit, "16")
    assert document.design.block_arguments("Stage")[0].maximum == 16
    assert not card.errors["maximum"].isVisible() and card.minimum_edit.text() == "10"


def test_removing_an_argument_that_expressions_read_is_refused_naming_them(opened):
    document, _tabs, inspector = opened
    view = _view(inspector)
    view.card("width").remove_button.click()
    assert _names(document.design) == ["width"] and document.undo_stack.count() == 0
    assert "conv.out_channels reads 'width'" in view.card("width").remove_error.text()
    view.add_button.click()
    view.card("argument1").remove_button.click()
    assert _names(document.design) == ["width"] and len(view.cards) == 1
    assert view.card("width").remove_error.isVisible()  # one remove's refusal stays said
    document.undo_stack.undo()
    assert [card.declared.name for card in view.cards] == ["width", "argument1"]


def test_a_new_kind_shows_its_own_fields_and_a_choices_edit_keeps_the_default_valid(opened):
    document, _tabs, inspector = opened
    view = _view(inspector)
    view.add_button.click()
    card = view.card("argument1")
    assert card.minimum_edit.isVisible() and not card.choices_edit.isVisible()
    card.kind_combo.setCurrentIndex(3)
    card.kind_combo.activated.emit(3)
    declared = document.design.block_arguments("Stage")[1]
    assert (declared.kind, declared.default, declared.choices) == ("choice", "1", ("1",))
    assert card.choices_edit.isVisible() and not card.minimum_edit.isVisible()
    _type(card.choices_edit, "relu, gelu")
    declared = document.design.block_arguments("Stage")[1]
    assert (declared.default, declared.choices) == ("relu", ("relu", "gelu"))
    assert card.default_editor.combo.count() == 2
    assert document.design.node(document.design.find("second")).params["argument1"] == "relu"
    _type(card.choices_edit, " , ")
    assert "at least one choice" in card.errors["choices"].text()
    document.undo_stack.undo()
    document.undo_stack.undo()
    assert document.design.block_arguments("Stage")[1].kind == "int"
    assert card.kind_combo.currentText() == "whole number" and card.minimum_edit.isVisible()


def test_make_argument_beside_a_layers_value_makes_one_and_the_layer_reads_it(qtbot, opened):
    document, tabs, inspector = opened
    design = document.design
    conv = design.find("conv", "Stage")
    tabs.current_view().network_scene().select_nodes([conv])
    assert inspector.fields["out_channels"].button is None   # already an expression
    inspector.fields["kernel_size"].button.click()
    assert _names(design) == ["width", "kernel_size"] and document.undo_stack.count() == 1
    assert design.node(conv).params["kernel_size"] == Expr("kernel_size")
    assert isinstance(inspector.fields["kernel_size"].editor, ExpressionEditor)
    assert design.node(design.find("second")).params["kernel_size"] == 3
    document.leave_block()
    second = design.find("second")
    tabs.current_view().network_scene().select_nodes([second])
    inspector.fields["kernel_size"].editor.field.setText("1")
    inspector.fields["kernel_size"].editor.field.commit()
    qtbot.waitUntil(lambda: document.report.params(second) == 3 * 6 + 6)
    document.undo_stack.undo()
    document.undo_stack.undo()
    assert design.node(conv).params["kernel_size"] == 3 and _names(design) == ["width"]


def test_the_definition_is_renamed_from_the_inspector_and_a_taken_name_is_refused(
        qtbot, opened):
    document, _tabs, inspector = opened
    _type(_view(inspector).name_edit, "model")
    assert "already a network named 'model'" in _view(inspector).name_error.text()
    assert document.design.blocks == ["Stage"] and document.undo_stack.count() == 0
    _type(_view(inspector).name_edit, "Widen")
    qtbot.waitUntil(lambda: document.scope == "Widen")
    assert "Widen" in _view(inspector).title.text() and _view(inspector).block == "Widen"
    document.undo_stack.undo()
    qtbot.waitUntil(lambda: document.scope == "Stage")
    assert _view(inspector).name_edit.text() == "Stage"


def test_every_control_of_an_open_definition_is_named(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path, "resnet")
    window.resize(1600, 1000)
    window.show()
    qtbot.waitExposed(window)
    window.document.open_definition("BasicBlockDown")
    view = _view(window.inspector)
    assert [card.declared.name for card in view.cards] == ["planes", "stride"]
    assert unnamed_controls(window) == []
    assert view.cards[0].minimum_edit.accessibleName() == "Range 1 of 2"
