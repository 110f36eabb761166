"""Blocks on the canvas, driven through the real widgets: Group into Block (Ctrl+G), Ungroup
(Ctrl+Shift+G), open a block by double-click and leave it by the breadcrumb or Alt+Up, edit a
definition and see every use follow; each is one undo step that undo and redo replay."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from test_app_support import make_window
from test_canvas import double_click, open_canvas, viewport_point

from designer.canvas import BLOCK_MIME
from designer.canvas.node_text import shape_text
from designer.document import DesignDocument
from designer.panels.inspector import Inspector
from designer.panels.palette import BUILT_IN_BLOCKS, DESIGN_BLOCKS, LayerPalette
from designer.panels.param_editors import ExpressionEditor
from designer.panels.problems import ProblemsPanel
from designer.panels.summary import SummaryPanel
from designer.undo_commands import SetParams
from engine import Design, check
from engine.blocks.definitions import argument

CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier
ALT = Qt.KeyboardModifier.AltModifier


def _chain() -> tuple[Design, dict[str, str]]:
    design = Design("chain")
    ids = {"image": design.add("Input", shape=(3, 16, 16), name="image", pos=(0, 0))}
    ids["conv"] = design.add("Conv2d", ids["image"], name="conv", out_channels=8,
                             kernel_size=3, padding=1, pos=(220, 0))
    ids["relu"] = design.add("ReLU", ids["conv"], name="relu", pos=(440, 0))
    ids["pool"] = design.add("MaxPool2d", ids["relu"], name="pool", pos=(660, 0))
    ids["flatten"] = design.add("Flatten", ids["pool"], name="flatten", pos=(880, 0))
    ids["head"] = design.add("Linear", ids["flatten"], name="head", out_features=10,
                             pos=(1100, 0))
    ids["out"] = design.add("Output", ids["head"], name="out", pos=(1320, 0))
    return design, ids


def _two_uses() -> Design:
    """A definition with an argument used twice, at two widths."""
    design = Design("uses")
    design.add_block("Stage", [argument("width", "int", 8, minimum=1)])
    x = design.add("Input", shape=(3, 16, 16), name="x", network="Stage", pos=(0, 0))
    conv = design.add("Conv2d", x, name="conv", out_channels={"expr": "width"}, kernel_size=3,
                      padding=1, network="Stage", pos=(220, 0))
    design.add("Output", conv, name="out", network="Stage", pos=(440, 0))
    image = design.add("Input", shape=(3, 16, 16), name="image", pos=(0, 0))
    first = design.add("Block", image, block="Stage", width=4, name="first", pos=(220, 0))
    second = design.add("Block", image, block="Stage", width=6, name="second", pos=(220, 200))
    design.add("Output", first, name="o1", pos=(440, 0))
    design.add("Output", second, name="o2", pos=(440, 200))
    return design


def _key(tabs, key, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    view = tabs.current_view()
    view.setFocus()
    QTest.keyClick(view.viewport(), key, modifiers)


def _select(tabs, ids: list[str]) -> None:
    tabs.current_view().network_scene().select_nodes(ids)


def _double_click(qtbot, tabs, node_id: str) -> None:
    view = tabs.current_view()
    item = view.network_scene().nodes[node_id]
    double_click(view, item.mapToScene(item.card_rect().center()))


def _shown_scope(tabs) -> str:
    return tabs.current_view().network_scene().network


def test_ctrl_g_groups_the_selection_into_one_block_node_in_one_undo_step(qtbot):
    design, ids = _chain()
    document, tabs = open_canvas(qtbot, design)
    flat = design.to_dict()
    before = check(design)
    _select(tabs, [ids["conv"], ids["relu"], ids["pool"]])
    _key(tabs, Qt.Key.Key_G, CTRL)
    assert design.blocks == ["Block1"]
    (use,) = design.uses_of("Block1")
    scene = tabs.current_view().network_scene()
    assert set(scene.nodes) == {ids["image"], use, ids["flatten"], ids["head"], ids["out"]}
    assert scene.selected_ids() == [use]
    qtbot.waitUntil(lambda: document.report.info(use) is not None)
    card = scene.nodes[use]
    assert card.kind == "Block1" and len(card.input_ports) == 1
    assert card.shape_label == shape_text(before.info(ids["pool"]))
    assert document.report.total_params() == before.total_params()
    assert document.undo_stack.count() == 1
    document.undo_stack.undo()
    assert design.to_dict() == flat
    assert set(scene.nodes) == set(ids.values())
    document.undo_stack.redo()
    assert design.uses_of("Block1") == [use] and use in scene.nodes
    assert design.network_of(ids["relu"]) == "Block1"


def test_a_selection_that_cannot_be_a_block_is_refused_with_the_reason_and_no_step(qtbot):
    design, ids = _chain()
    document, tabs = open_canvas(qtbot, design)
    messages = []
    tabs.message.connect(messages.append)
    _select(tabs, [ids["image"], ids["conv"]])
    _key(tabs, Qt.Key.Key_G, CTRL)
    assert design.blocks == [] and document.undo_stack.count() == 0
    assert messages and "Cannot group" in messages[-1] and "'image'" in messages[-1]


def test_double_click_opens_a_block_and_the_breadcrumb_and_alt_up_lead_back(qtbot):
    design, ids = _chain()
    document, tabs = open_canvas(qtbot, design)
    _select(tabs, [ids["conv"], ids["relu"]])
    use = tabs.blocks.group_selection("Features")
    page = tabs.current_page()
    assert page.breadcrumb.isHidden()
    _double_click(qtbot, tabs, use)
    assert _shown_scope(tabs) == "Features" and document.scope == "Features"
    assert not page.breadcrumb.isHidden()
    assert page.breadcrumb.steps() == ["model", "block1: Features"]
    inner = tabs.current_view().network_scene()
    assert ids["conv"] in inner.nodes and ids["relu"] in inner.nodes
    assert len([n for n in inner.nodes if design.node(n).type == "Input"]) == 1
    page.breadcrumb.buttons[0].click()
    assert _shown_scope(tabs) == "model" and page.breadcrumb.isHidden()
    _select(tabs, [use])
    _key(tabs, Qt.Key.Key_Down, ALT)
    assert document.scope == "Features"
    _key(tabs, Qt.Key.Key_Up, ALT)
    assert document.scope == "model"


def test_an_edit_inside_a_definition_updates_every_use_and_undoes_in_one_step(qtbot):
    design = _two_uses()
    document, tabs = open_canvas(qtbot, design)
    first, second = design.find("first"), design.find("second")
    scene = tabs.current_view().network_scene()
    qtbot.waitUntil(lambda: scene.nodes[second].shape_label == "(N, 6, 16, 16)")
    assert scene.nodes[first].shape_label == "(N, 4, 16, 16)"
    _double_click(qtbot, tabs, first)
    conv = design.find("conv", "Stage")
    assert conv in tabs.current_view().network_scene().nodes
    document.push(SetParams(design, conv, {"out_channels": {"expr": "width * 2"}}))
    qtbot.waitUntil(lambda: scene.nodes[first].shape_label == "(N, 8, 16, 16)")
    assert scene.nodes[second].shape_label == "(N, 12, 16, 16)"
    document.undo_stack.undo()
    qtbot.waitUntil(lambda: scene.nodes[first].shape_label == "(N, 4, 16, 16)")
    assert scene.nodes[second].shape_label == "(N, 6, 16, 16)"
    document.undo_stack.redo()
    qtbot.waitUntil(lambda: scene.nodes[second].shape_label == "(N, 12, 16, 16)")


def test_ctrl_shift_g_ungroups_a_repeated_block_into_chained_copies_in_one_step(qtbot):
    design = _two_uses()
    first = design.find("first")
    design.set_params(first, repeat=1)
    document, tabs = open_canvas(qtbot, design)
    before = design.to_dict()
    _select(tabs, [first])
    _key(tabs, Qt.Key.Key_G, CTRL | SHIFT)
    assert not design.has_node(first)
    conv = [n for n in design.nodes("model") if design.node(n).type == "Conv2d"]
    assert len(conv) == 1 and design.node(conv[0]).params["out_channels"] == 4
    assert tabs.current_view().network_scene().selected_ids() == conv
    assert document.undo_stack.count() == 1
    qtbot.waitUntil(lambda: document.report.info(conv[0]) is not None)
    assert document.report.shape(conv[0]) == ("N", 4, 16, 16)
    document.undo_stack.undo()
    assert design.to_dict() == before
    document.undo_stack.redo()
    assert not design.has_node(first)


def test_undoing_a_grouping_while_its_block_is_open_goes_back_to_the_network(qtbot):
    design, ids = _chain()
    document, tabs = open_canvas(qtbot, design)
    _select(tabs, [ids["relu"]])
    use = tabs.blocks.group_selection()
    _double_click(qtbot, tabs, use)
    assert document.scope == "Block1"
    document.undo_stack.undo()
    qtbot.waitUntil(lambda: document.scope == "model")
    assert _shown_scope(tabs) == "model"
    assert ids["relu"] in tabs.current_view().network_scene().nodes


def test_renaming_a_block_keeps_it_open_and_every_use_shows_the_new_name(qtbot):
    design, ids = _chain()
    document, tabs = open_canvas(qtbot, design)
    _select(tabs, [ids["relu"]])
    use = tabs.blocks.group_selection()
    scene = tabs.current_view().network_scene()
    _double_click(qtbot, tabs, use)
    assert tabs.blocks.rename("Block1", "Activation")
    qtbot.waitUntil(lambda: document.scope == "Activation")
    assert tabs.current_page().breadcrumb.steps()[-1] == "block1: Activation"
    assert scene.nodes[use].kind == "Activation"
    document.undo_stack.undo()
    assert design.blocks == ["Block1"] and scene.nodes[use].kind == "Block1"
    assert not tabs.blocks.rename("Block1", "model")  # taken by the network: refused


def test_the_inspector_edits_a_block_nodes_repeat_and_arguments_and_the_card_follows(qtbot):
    design = _two_uses()
    document, tabs = open_canvas(qtbot, design)
    inspector = Inspector(document)
    qtbot.addWidget(inspector)
    first = design.find("first")
    _select(tabs, [first])
    assert set(inspector.fields) == {"repeat", "width"}
    assert "Stage" in inspector.title.text()
    width = inspector.fields["width"].editor
    width.field.setText("5")
    width.field.commit()
    assert design.node(first).params["width"] == 5
    inspector.fields["repeat"].editor.field.setText("3")
    inspector.fields["repeat"].editor.field.commit()
    card = tabs.current_view().network_scene().nodes[first]
    assert card.kind == "Stage \u00d73" and card.summary == "width 5"
    document.undo_stack.undo()
    assert card.kind == "Stage" and design.node(first).params["repeat"] == 1


def test_the_inspector_shows_an_expression_inside_a_definition_and_takes_a_new_one(qtbot):
    design = _two_uses()
    document, tabs = open_canvas(qtbot, design)
    inspector = Inspector(document)
    qtbot.addWidget(inspector)
    _double_click(qtbot, tabs, design.find("first"))
    conv = design.find("conv", "Stage")
    _select(tabs, [conv])
    editor = inspector.fields["out_channels"].editor
    assert isinstance(editor, ExpressionEditor) and editor.line.text() == "width"
    editor.line.setText("width ** 2")
    editor.line.editingFinished.emit()
    assert editor.refused and design.node(conv).params["out_channels"].text == "width"
    editor.line.setText("width * 3")
    editor.line.editingFinished.emit()
    assert design.node(conv).params["out_channels"].text == "width * 3"
    qtbot.waitUntil(lambda: document.report.shape(design.find("second")) == ("N", 18, 16, 16))
    editor.line.setText("16")  # a plain number is a plain value again
    editor.line.editingFinished.emit()
    assert design.node(conv).params["out_channels"] == 16
    assert not isinstance(inspector.fields["out_channels"].editor, ExpressionEditor)


def test_a_block_from_the_palette_drops_in_as_one_step_and_is_listed_as_the_designs(qtbot):
    design, _ = _chain()
    document, tabs = open_canvas(qtbot, design)
    palette = LayerPalette()
    qtbot.addWidget(palette)
    assert "BasicBlock" in palette.block_entries()[BUILT_IN_BLOCKS]
    data = palette.tree.mimeData([palette.item_for_block("BasicBlock")])
    assert bytes(data.data(BLOCK_MIME)).decode() == "BasicBlock"
    view = tabs.current_view()
    local = viewport_point(view, QPointF(300, 400))
    enter = QDragEnterEvent(local.toPoint(), Qt.DropAction.CopyAction, data,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(view.viewport(), enter)
    assert enter.isAccepted()
    drop = QDropEvent(local, Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(view.viewport(), drop)
    assert design.blocks == ["BasicBlock"]
    (use,) = design.uses_of("BasicBlock")
    assert use in view.network_scene().nodes and document.undo_stack.count() == 1
    palette.show_design_blocks(design.blocks)
    entries = palette.block_entries()
    assert entries[DESIGN_BLOCKS] == ["BasicBlock"]
    assert "BasicBlock" not in entries[BUILT_IN_BLOCKS]
    document.undo_stack.undo()
    assert design.blocks == [] and use not in view.network_scene().nodes


def test_the_summary_expands_a_block_to_its_layers_and_a_repeat_to_its_copies(qtbot):
    design = _two_uses()
    design.set_params(design.find("second"), repeat=2, width=3)
    document = DesignDocument(design)
    panel = SummaryPanel(document)
    qtbot.addWidget(panel)
    panel.refresh()
    model = panel.model
    names = [row[0] for row in model.rows]
    first = model.index(names.index("first"), 0)
    assert model.rowCount(first) == 1
    layer = [model.index(0, c, first).data() for c in range(4)]
    assert layer == ["conv", "Conv2d", "(N, 4, 16, 16)", f"{3 * 4 * 9 + 4:,}"]
    second = model.index(names.index("second"), 0)
    assert model.index(second.row(), 1).data() == "Stage \u00d72"
    copies = [model.index(r, 0, second).data() for r in range(model.rowCount(second))]
    assert copies == ["[0]", "[1]"]
    copy = model.index(1, 0, second)
    assert model.index(0, 3, copy).data() == f"{3 * 3 * 9 + 3:,}"
    assert model.parent(model.index(0, 0, copy)) == copy


def test_a_problem_inside_a_block_reveals_its_layer_in_the_opened_definition(qtbot):
    design = _two_uses()
    conv = design.find("conv", "Stage")
    design.set_params(conv, kernel_size=32, padding=0)  # larger than the 16x16 image
    document, tabs = open_canvas(qtbot, design)
    panel = ProblemsPanel(document)
    qtbot.addWidget(panel)
    row = next(i for i, p in enumerate(panel.model.problems) if p.node == conv)
    panel.reveal(panel.model.index(row, 0))
    assert document.scope == "Stage" and document.selection == [conv]
    assert tabs.current_page().breadcrumb.steps() == ["model", "first: Stage"]
    assert tabs.current_view().network_scene().selected_ids() == [conv]
    on_use = next(i for i, p in enumerate(panel.model.problems) if p.node == design.find("first"))
    panel.reveal(panel.model.index(on_use, 0))
    assert document.scope == "model"


def test_an_input_added_inside_a_definition_gives_every_use_a_port(qtbot):
    design = _two_uses()
    document, tabs = open_canvas(qtbot, design)
    outer = tabs.current_view().network_scene()
    first, second = design.find("first"), design.find("second")
    assert len(outer.nodes[first].input_ports) == 1
    _double_click(qtbot, tabs, first)
    inner = tabs.current_view().add_layer_at("Input", QPointF(0, 300))
    assert design.network_of(inner) == "Stage"
    assert [len(outer.nodes[n].input_ports) for n in (first, second)] == [2, 2]
    document.undo_stack.undo()
    assert [len(outer.nodes[n].input_ports) for n in (first, second)] == [1, 1]


def test_a_definition_is_deleted_from_the_palette_only_when_unused_and_undo_brings_it_back(
        qtbot, tmp_path):
    window = make_window(qtbot, tmp_path, "resnet")
    document, design = window.document, window.document.design
    messages = []
    window.tabs.message.connect(messages.append)
    palette = window.palette_panel
    assert palette.block_entries()[DESIGN_BLOCKS] == ["BasicBlock", "BasicBlockDown"]
    delete = palette.block_menu("BasicBlock").actions()[-1]
    delete.trigger()
    assert "BasicBlock" in design.blocks and "used by 'layer1'" in messages[-1]
    layer1 = design.find("layer1")
    window.tabs.view_of("model").network_scene().select_nodes([layer1])
    window.tabs.blocks.ungroup_selection()
    delete.trigger()
    assert "BasicBlock" not in design.blocks
    assert palette.block_entries()[DESIGN_BLOCKS] == ["BasicBlockDown"]
    document.undo_stack.undo()
    assert "BasicBlock" in design.blocks and "BasicBlock" in palette.block_entries()[DESIGN_BLOCKS]
    palette.block_menu("BasicBlockDown").actions()[1].trigger()  # Open Definition
    assert document.scope == "BasicBlockDown"
