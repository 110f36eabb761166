"""Blocks on the canvas, driven through the real widgets: Group into Block (Ctrl+G), Ungroup
(Ctrl+Shift+G), open a block by double-click and leave it by the breadcrumb or Alt+Up, edit a
definition and see every use follow; each is one undo step that undo and redo replay."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtTest import QTest

from designer.canvas.node_text import shape_text
from designer.undo_commands import SetParams
from engine import Design, check
from engine.blocks.definitions import argument
from tests.test_canvas import mouse, open_canvas

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
    centre = item.mapToScene(item.card_rect().center())
    mouse(view, QEvent.Type.MouseButtonPress, centre)
    mouse(view, QEvent.Type.MouseButtonRelease, centre)
    mouse(view, QEvent.Type.MouseButtonDblClick, centre)
    mouse(view, QEvent.Type.MouseButtonRelease, centre)


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
