"""Editing on the canvas: delete, duplicate, move, select, auto layout, rename, badges and ports,
and views that follow the design one item at a time."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from test_canvas import (
    NO_BUTTON,
    click,
    drag,
    input_port,
    mouse,
    open_canvas,
    output_port,
    rename_by_double_click,
    wire,
)

from designer.canvas.view import NetworkView
from designer.document import DesignDocument
from designer.undo_commands import SetParams
from engine import Design
from engine.layout import layered_positions
from templates import load_template


def open_template(qtbot, name: str) -> tuple[DesignDocument, NetworkView, Design]:
    """The canvas on a fresh copy of a template: its document, the visible view, the design."""
    document, tabs = open_canvas(qtbot, load_template(name))
    return document, tabs.current_view(), document.design


def header(view, node_id: str) -> QPointF:
    item = view.network_scene().nodes[node_id]
    return item.mapToScene(item.title_rect().center())


def test_delete_key_removes_the_selection_and_undo_restores_it_exactly(qtbot):
    document, view, design = open_template(qtbot, "cnn")
    before = design.to_dict()
    conv = design.find("conv2")
    click(view, header(view, conv))
    assert document.selection == [conv]
    QTest.keyClick(view, Qt.Key.Key_Delete)
    assert not design.has_node(conv)
    assert conv not in view.network_scene().nodes
    assert len(view.network_scene().edges) == len(design.edges()) == len(before["networks"]
                                                                          ["model"]["edges"]) - 2
    document.undo_stack.undo()
    assert design.to_dict() == before
    assert set(view.network_scene().nodes) == set(design.nodes())
    click(view, header(view, conv))
    QTest.keyClick(view, Qt.Key.Key_Backspace)
    assert not design.has_node(conv)


def test_a_clicked_wire_is_deleted_alone(qtbot):
    document, view, design = open_template(qtbot, "cnn")
    edge = design.inputs_of(design.find("relu1"))[0]
    item = view.network_scene().edges[edge]
    click(view, item.label_rect().center())
    assert item.picked and document.selection == []
    QTest.keyClick(view, Qt.Key.Key_Delete)
    assert edge not in design.edges() and len(design.nodes()) == 12
    document.undo_stack.undo()
    assert edge in design.edges()


def test_duplicate_copies_nodes_and_their_inner_wires_beside_them_in_one_step(qtbot):
    document, view, design = open_template(qtbot, "cnn")
    conv, bn = design.find("conv1"), design.find("bn1")
    click(view, header(view, conv))
    click(view, header(view, bn), Qt.KeyboardModifier.ControlModifier)
    assert document.selection == [conv, bn]
    count = document.undo_stack.count()
    QTest.keyClick(view, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert document.undo_stack.count() == count + 1
    new_conv, new_bn = design.find("conv3"), design.find("bn3")
    assert document.selection == [new_conv, new_bn]
    assert design.node(new_conv).params == design.node(conv).params
    assert [e.src for e in design.inputs_of(new_bn)] == [new_conv]
    assert design.inputs_of(new_conv) == []
    (x, y), (bx, by) = design.node(new_conv).pos, design.node(bn).pos
    assert design.node(new_bn).pos == (x + bx - design.node(conv).pos[0],
                                       y + by - design.node(conv).pos[1])
    document.undo_stack.undo()
    assert len(design.nodes()) == 12


def test_dragging_nodes_moves_them_in_the_design_as_one_undo_step(qtbot):
    document, view, design = open_template(qtbot, "cnn")
    conv, bn = design.find("conv1"), design.find("bn1")
    view.reset_zoom()
    view.centerOn(header(view, conv))
    click(view, header(view, conv))
    click(view, header(view, bn), Qt.KeyboardModifier.ControlModifier)
    start = {n: design.node(n).pos for n in (conv, bn)}
    count = document.undo_stack.count()
    drag(view, header(view, conv), header(view, conv) + QPointF(30, 90), steps=8)
    assert document.undo_stack.count() == count + 1
    for node in (conv, bn):
        x, y = start[node]
        assert design.node(node).pos == pytest.approx((x + 30, y + 90), abs=1.5)
        assert view.network_scene().nodes[node].pos() == QPointF(*design.node(node).pos)
    edge = view.network_scene().edges[design.inputs_of(conv)[0]]
    assert edge.boundingRect().contains(input_port(view, conv))
    document.undo_stack.undo()
    assert {n: design.node(n).pos for n in (conv, bn)} == start


def test_rubber_band_selects_the_nodes_it_touches_but_not_wires(qtbot):
    document, view, design = open_template(qtbot, "cnn")
    scene = view.network_scene()
    first = scene.nodes[design.find("conv1")].sceneBoundingRect()
    third = scene.nodes[design.find("relu1")].sceneBoundingRect()
    drag(view, first.topLeft() + QPointF(20, -40), third.bottomLeft() + QPointF(20, 20))
    assert document.selection == [design.find(n) for n in ("conv1", "bn1", "relu1")]
    assert scene.selected_edges() == []


def test_auto_layout_arranges_columns_from_inputs_in_one_step(qtbot):
    design = Design()
    x = design.add("Input", shape=(4,), pos=(500, 500))
    a = design.add("Linear", x, pos=(-300, 20))
    b = design.add("Linear", x, pos=(0, 900))
    design.add("Add", a, b, pos=(-800, -800))
    document, tabs = open_canvas(qtbot, design)
    before = design.to_dict()
    tabs.auto_layout()
    hints = tabs.current_view().network_scene().router.layout_hints()
    expected = layered_positions(design, design.networks[0], *hints)
    assert {n: design.node(n).pos for n in design.nodes()} == expected
    assert design.node(x).pos[0] < design.node(a).pos[0] < design.node(design.nodes()[3]).pos[0]
    document.undo_stack.undo()
    assert design.to_dict() == before


def test_rename_by_double_click_is_undoable_and_refuses_taken_names(qtbot):
    document, tabs = open_canvas(qtbot, load_template("cnn"))
    view = tabs.current_view()
    design = document.design
    conv = design.find("conv1")
    rename_by_double_click(view, conv, "stem")
    assert design.node(conv).name == "stem"
    assert view.network_scene().nodes[conv].name == "stem"
    with qtbot.waitSignal(tabs.message, timeout=1000) as said:
        rename_by_double_click(view, conv, "conv2")
    assert "already exists" in said.args[0]
    assert design.node(conv).name == "stem"
    document.undo_stack.undo()
    assert design.node(conv).name == "conv1"


def test_views_follow_edits_item_by_item_without_rebuilding(qtbot):
    document, tabs = open_canvas(qtbot, load_template("cnn"))
    scene = tabs.current_view().network_scene()
    design = document.design
    items = dict(scene.nodes)
    edges = dict(scene.edges)
    conv = design.find("conv1")
    with qtbot.waitSignal(document.reportChanged, timeout=2000):
        document.push(SetParams(design, conv, {"out_channels": 8, "kernel_size": 5}))
    assert scene.nodes == items and scene.edges == edges
    assert all(scene.nodes[n] is items[n] for n in items)
    assert items[conv].summary == "8 @ 5\u00d75, pad 1"
    assert items[conv].shape_label == "(N, 8, 6, 6)"
    bn_edge = design.outputs_of(conv)[0]
    assert scene.edges[bn_edge].label == "(N, 8, 6, 6)"
    assert items[design.find("flatten")].shape_label == "(N, 576)"


def test_problem_badges_show_severity_and_the_problem_text(qtbot):
    design = Design()
    x = design.add("Input", shape=(6,), pos=(0, 0))
    fc = design.add("Linear", pos=(240, 0))
    _document, tabs = open_canvas(qtbot, design)
    view = tabs.current_view()
    badge = view.network_scene().nodes[fc].badge
    assert badge.isVisible() and badge.severity == "error"
    assert "not connected" in badge.toolTip()
    wire(view, x, fc)
    qtbot.waitUntil(lambda: badge.severity == "warning")
    assert badge.isVisible() and "not used" in badge.toolTip()
    out = design.add("Output", pos=(480, 0))
    wire(view, fc, out)
    qtbot.waitUntil(lambda: not badge.isVisible())


def test_variadic_layers_always_offer_one_more_free_input(qtbot):
    design = Design()
    a = design.add("Input", shape=(3,), pos=(0, 0))
    b = design.add("Input", shape=(3,), pos=(0, 150))
    c = design.add("Input", shape=(3,), pos=(0, 300))
    add = design.add("Add", pos=(300, 100))
    document, tabs = open_canvas(qtbot, design)
    view = tabs.current_view()
    ports = view.network_scene().nodes[add].input_ports
    assert len(ports) == 2
    wire(view, a, add, 0)
    wire(view, b, add, 1)
    assert len(ports) == 3
    wire(view, c, add, 2)
    assert len(ports) == 4
    assert [e.src for e in design.inputs_of(add)] == [a, b, c]
    document.undo_stack.undo()
    assert len(ports) == 3


def test_wire_released_on_a_card_goes_to_its_first_free_input(qtbot):
    design = Design()
    a = design.add("Input", shape=(3,), pos=(0, 0))
    b = design.add("Input", shape=(3,), pos=(0, 150))
    cat = design.add("Concat", a, pos=(300, 100))
    _document, tabs = open_canvas(qtbot, design)
    view = tabs.current_view()
    item = view.network_scene().nodes[cat]
    drag(view, output_port(view, b), item.mapToScene(item.card_rect().center()))
    assert [(e.src, e.port) for e in design.inputs_of(cat)] == [(a, 0), (b, 1)]


def test_palette_change_restyles_the_canvas(qtbot):
    _document, tabs = open_canvas(qtbot, load_template("mlp"))
    scene = tabs.current_view().network_scene()
    app = QApplication.instance()
    original = app.palette()
    dark = QPalette(original)
    for role, colour in ((QPalette.ColorRole.Window, "#202024"),
                         (QPalette.ColorRole.WindowText, "#eeeeee"),
                         (QPalette.ColorRole.Base, "#18181b")):
        dark.setColor(role, QColor(colour))
    try:
        app.setPalette(dark)
        qtbot.waitUntil(lambda: scene.canvas_style.dark)
        assert all(item.style is scene.canvas_style for item in scene.nodes.values())
    finally:
        app.setPalette(original)
    qtbot.waitUntil(lambda: not scene.canvas_style.dark)


def test_tabs_follow_networks_added_removed_and_replaced_designs(qtbot):
    document, tabs = open_canvas(qtbot, load_template("mlp"))
    assert [tabs.tabText(i) for i in range(tabs.count())] == ["model"]
    document.design.add_network("critic")
    assert [tabs.tabText(i) for i in range(tabs.count())] == ["model", "critic"]
    tabs.setCurrentIndex(1)
    assert document.network == "critic"
    document.design.remove_network("critic")
    assert tabs.count() == 1 and document.network == "model"
    gan = load_template("gan")
    document.replace_design(gan, None)
    assert [tabs.tabText(i) for i in range(tabs.count())] == ["generator", "discriminator"]
    assert set(tabs.view_of("discriminator").network_scene().nodes) == \
        set(document.design.nodes("discriminator"))


def test_edge_menu_disconnects_the_wire(qtbot):
    _document, view, design = open_template(qtbot, "mlp")
    edge = design.edges()[0]
    menu = view._edge_menu(view.network_scene().edges[edge])
    (disconnect,) = [a for a in menu.actions() if a.text().startswith("Disconnect")]
    disconnect.trigger()
    assert edge not in design.edges()


def test_hovering_a_port_explains_it(qtbot):
    document, tabs = open_canvas(qtbot, load_template("cnn"))
    view = tabs.current_view()
    conv = document.design.find("conv1")
    mouse(view, QEvent.Type.MouseMove, input_port(view, conv), NO_BUTTON, NO_BUTTON)
    port = view.network_scene().nodes[conv].input_ports[0]
    assert "(N, 1, 8, 8)" in port.toolTip()


def test_insert_layer_on_a_wire_splices_it_in_one_step(qtbot):
    document, view, design = open_template(qtbot, "cnn")
    edge = design.inputs_of(design.find("flatten"))[0]
    menu = view._edge_menu(view.network_scene().edges[edge])
    menu.actions()[0].trigger()
    popup = view.search_popup
    assert "LSTM" not in popup.visible_types() and "Conv2d" in popup.visible_types()
    QTest.keyClicks(popup.search, "Dropout")
    QTest.keyClick(popup.search, Qt.Key.Key_Return)
    (dropout,) = document.selection
    assert design.node(dropout).type == "Dropout"
    assert [e.src for e in design.inputs_of(dropout)] == [edge.src]
    assert [e.src for e in design.inputs_of(edge.dst)] == [dropout]
    document.undo_stack.undo()
    assert edge in design.edges() and not design.has_node(dropout)


def test_escape_drops_the_wire_being_dragged(qtbot):
    _document, view, design = open_template(qtbot, "cnn")
    before = design.to_dict()
    relu = design.find("relu1")
    mouse(view, QEvent.Type.MouseButtonPress, input_port(view, relu))
    mouse(view, QEvent.Type.MouseMove, input_port(view, relu) + QPointF(0, 200), NO_BUTTON,
          Qt.MouseButton.LeftButton)
    assert not view.network_scene().edges[design.inputs_of(relu)[0]].isVisible()
    QTest.keyClick(view, Qt.Key.Key_Escape)
    mouse(view, QEvent.Type.MouseButtonRelease, input_port(view, relu) + QPointF(0, 200))
    assert design.to_dict() == before
    assert view.network_scene().edges[design.inputs_of(relu)[0]].isVisible()
    assert view.search_popup is None
