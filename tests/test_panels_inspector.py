"""The inspector: typed editors from the Param schema, undoable merged edits, inline errors."""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit

from designer.undo_commands import AddNode
from designer.document import DesignDocument
from designer.panels.inspector import Inspector
from designer.panels.number_field import NumberField
from designer.panels.param_editors import (
    BoolEditor,
    ChoiceEditor,
    IntsEditor,
    NumberEditor,
    OptionalEditor,
    SizeEditor,
)
from engine.layers import get_layer
from templates import load_template


def inspect(qtbot, template: str, node_name: str) -> tuple[DesignDocument, Inspector, str]:
    document = DesignDocument(load_template(template))
    inspector = Inspector(document)
    qtbot.addWidget(inspector)
    node = document.design.find(node_name)
    document.set_selection([node])
    return document, inspector, node


def test_each_parameter_kind_gets_its_typed_widget(qtbot):
    document, inspector, _ = inspect(qtbot, "cnn", "conv1")
    fields = inspector.fields
    out = fields["out_channels"].editor
    assert isinstance(out, NumberEditor) and out.field.minimum == 1 and out.value() == 32
    kernel = fields["kernel_size"].editor
    assert isinstance(kernel, SizeEditor)
    assert len(kernel.findChildren(NumberField)) == get_layer("Conv2d").param_index["kernel_size"].length
    assert isinstance(fields["bias"].editor, BoolEditor)
    assert fields["bias"].editor.findChild(QCheckBox).isChecked()

    add = AddNode(document.design, "MaxPool2d", "model", (0.0, 0.0))
    document.push(add)
    document.set_selection([add.node_id])
    stride = inspector.fields["stride"].editor
    assert isinstance(stride, OptionalEditor) and stride.none.isChecked()
    assert not stride.inner.isEnabled()

    for layer, name, kind in (("GELU", "approximate", ChoiceEditor),
                              ("BatchNorm2d", "eps", NumberEditor), ("Input", "shape", IntsEditor)):
        add = AddNode(document.design, layer, "model", (0.0, 0.0))
        document.push(add)
        document.set_selection([add.node_id])
        assert isinstance(inspector.fields[name].editor, kind), layer
        if name == "eps":  # small floats stay readable
            assert inspector.fields[name].editor.findChild(NumberField).text() == "1e-05"


def test_an_edit_applies_at_once_refreshes_shapes_and_merges_into_one_undo_step(qtbot):
    document, inspector, conv = inspect(qtbot, "cnn", "conv1")
    design, stack = document.design, document.undo_stack
    bn = design.find("bn1")
    field = inspector.fields["out_channels"].editor.field
    steps = stack.count()

    def enter(text: str) -> None:
        field.selectAll()
        qtbot.keyClicks(field, text)
        qtbot.keyClick(field, Qt.Key.Key_Return)

    with qtbot.waitSignal(document.panelsReportChanged):   # after the canvas's report
        enter("8")
    assert design.node(conv).params["out_channels"] == 8
    assert document.report.shape(bn)[1] == 8
    assert "(N, 8, 8, 8)" in inspector.shapes.text()
    enter("9")
    enter("10")
    assert stack.count() == steps + 1
    assert "out_channels" in stack.undoText()
    stack.undo()
    assert design.node(conv).params["out_channels"] == 32
    assert field.text() == "32"  # the editor follows undo
    stack.redo()
    assert field.text() == "10"


def test_a_typed_number_applies_when_typing_ends(qtbot):
    document, inspector, conv = inspect(qtbot, "cnn", "conv1")
    field = inspector.fields["out_channels"].editor.field
    field.selectAll()
    qtbot.keyClicks(field, "12")
    assert document.design.node(conv).params["out_channels"] == 32
    qtbot.keyClick(field, Qt.Key.Key_Return)
    assert document.design.node(conv).params["out_channels"] == 12


def test_invalid_values_are_shown_inline_and_never_reach_the_design(qtbot):
    document, inspector, image = inspect(qtbot, "cnn", "image")
    design = document.design
    before = design.node(image).params["shape"]
    field = inspector.fields["shape"]
    line = field.editor.findChild(QLineEdit)
    for text, expected in (("1, x, 8", "'x' is not a whole number"),
                           ("1, 0, 8", "must be at least 1"), ("", "at least one")):
        line.selectAll()
        line.insert(text)  # as a paste: one user edit
        assert not field.error.isHidden(), text
        assert expected in field.error.text()
        assert design.node(image).params["shape"] == before
    line.selectAll()
    qtbot.keyClicks(line, "1, 16, 16")  # typed: each valid prefix applies at once
    assert field.error.isHidden()
    assert design.node(image).params["shape"] == (1, 16, 16)


def test_optional_parameter_switches_between_none_and_a_value(qtbot):
    document, inspector, pool = inspect(qtbot, "cnn", "pool")
    stride = inspector.fields["stride"].editor
    stride.none.setChecked(False)
    assert document.design.node(pool).params["stride"] == stride.inner.value()
    stride.inner.fields[0].setText("3")
    stride.inner.fields[0].commit()
    assert document.design.node(pool).params["stride"] == (3, stride.inner.fields[1].value())
    stride.none.setChecked(True)
    assert document.design.node(pool).params["stride"] is None


def test_choice_and_bool_edits(qtbot):
    document, inspector, conv = inspect(qtbot, "cnn", "conv1")
    inspector.fields["bias"].editor.findChild(QCheckBox).setChecked(False)
    assert document.design.node(conv).params["bias"] is False
    add = AddNode(document.design, "GELU", "model", (0.0, 0.0))
    document.push(add)
    document.set_selection([add.node_id])
    inspector.fields["approximate"].editor.findChild(QComboBox).setCurrentText("tanh")
    assert document.design.node(add.node_id).params["approximate"] == "tanh"


def test_rename_is_undoable_and_an_empty_name_is_refused(qtbot):
    document, inspector, conv = inspect(qtbot, "cnn", "conv1")
    inspector.name_edit.setText("features")
    inspector.name_edit.editingFinished.emit()
    assert document.design.node(conv).name == "features"
    inspector.name_edit.setText("   ")
    inspector.name_edit.editingFinished.emit()
    assert document.design.node(conv).name == "features"
    assert not inspector.name_error.isHidden()
    document.undo_stack.undo()
    assert inspector.name_edit.text() == "conv1"


def test_nothing_or_several_selected_shows_a_hint(qtbot):
    document, inspector, conv = inspect(qtbot, "cnn", "conv1")
    document.set_selection([conv, document.design.find("bn1")])
    assert inspector.fields == {} and "2 layers selected" in inspector.widget().text()
    document.set_selection([])
    assert "Select a layer" in inspector.widget().text()
    assert document.design.description[:40] in inspector.widget().text()
    document.design.set_name("digits")
    assert "<b>digits</b>" in inspector.widget().text()


def test_problems_of_the_node_are_listed(qtbot):
    document, inspector, _ = inspect(qtbot, "cnn", "conv1")
    add = AddNode(document.design, "Linear", "model", (0.0, 0.0))
    document.push(add)
    document.recheck()
    document.set_selection([add.node_id])
    assert not inspector.problems.isHidden()
    assert "not connected" in inspector.problems.text()
