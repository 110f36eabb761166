"""The canvas driven as a person drives it: palette drops, port drags, keys and the wheel.

Gestures are real Qt events sent to the view's viewport (drops as QDropEvents carrying the
palette's MIME data, wires as mouse press/move/release over port items), so these tests go
through the same event paths as a user. The helpers here are shared by the other canvas tests.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import QByteArray, QEvent, QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QMouseEvent, QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from designer.canvas import LAYER_MIME, NetworkTabs
from designer.canvas.connection_rules import connection_refusal
from designer.canvas.node_text import shape_text
from designer.canvas.style import HEADER_HEIGHT, MAX_ZOOM, MIN_ZOOM, NODE_WIDTH
from designer.undo_commands import SetParams
from designer.document import DesignDocument
from engine import Design, check, load_design, save_design
from templates import load_template

LEFT = Qt.MouseButton.LeftButton
NO_BUTTON = Qt.MouseButton.NoButton


# ---------------------------------------------------------------------------- gestures
def open_canvas(qtbot, design: Design | None = None) -> tuple[DesignDocument, NetworkTabs]:
    document = DesignDocument(design or Design())
    tabs = NetworkTabs(document)
    qtbot.addWidget(tabs)
    tabs.resize(1200, 800)
    tabs.show()
    qtbot.waitExposed(tabs)
    tabs.activateWindow()   # the canvas's keys are actions: they act in the active window
    qtbot.waitUntil(tabs.isActiveWindow)
    return document, tabs


def viewport_point(view, scene_point: QPointF) -> QPointF:
    return QPointF(view.mapFromScene(scene_point))


def mouse(view, kind: QEvent.Type, scene_point: QPointF, button=LEFT, buttons=None,
          modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    """Send one mouse event to the view's viewport at a scene point."""
    mouse_local(view, kind, viewport_point(view, scene_point), button, buttons, modifiers)


def double_click(view, scene_point: QPointF) -> None:
    """Press, release, double-click and release at a scene point, as Qt receives a double-click."""
    for kind in (QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonRelease,
                 QEvent.Type.MouseButtonDblClick, QEvent.Type.MouseButtonRelease):
        mouse(view, kind, scene_point)


def mouse_local(view, kind: QEvent.Type, local: QPointF, button=LEFT, buttons=None,
                modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    """Send one mouse event to the view's viewport at a viewport point."""
    global_pos = QPointF(view.viewport().mapToGlobal(local.toPoint()))
    if buttons is None:
        buttons = button if kind != QEvent.Type.MouseButtonRelease else NO_BUTTON
    event = QMouseEvent(kind, local, global_pos, button, buttons, modifiers)
    QApplication.sendEvent(view.viewport(), event)


def drag(view, start: QPointF, end: QPointF, button=LEFT,
         modifiers=Qt.KeyboardModifier.NoModifier, steps: int = 5) -> None:
    """Press at start, move in steps, release at end (all in scene coordinates)."""
    mouse(view, QEvent.Type.MouseButtonPress, start, button, modifiers=modifiers)
    for i in range(1, steps + 1):
        point = start + (end - start) * (i / steps)
        mouse(view, QEvent.Type.MouseMove, point, NO_BUTTON, button, modifiers)
    mouse(view, QEvent.Type.MouseButtonRelease, end, button, modifiers=modifiers)


def click(view, point: QPointF, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    mouse(view, QEvent.Type.MouseButtonPress, point, modifiers=modifiers)
    mouse(view, QEvent.Type.MouseButtonRelease, point, modifiers=modifiers)


def drop_layer(view, layer_type: str, scene_point: QPointF) -> None:
    """Drop a palette entry (its MIME data exactly as the palette makes it) at a scene point."""
    data = QMimeData()
    data.setData(LAYER_MIME, QByteArray(layer_type.encode("utf-8")))
    local = viewport_point(view, scene_point)
    action = Qt.DropAction.CopyAction
    enter = QDragEnterEvent(local.toPoint(), action, data, LEFT, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(view.viewport(), enter)
    assert enter.isAccepted()
    drop = QDropEvent(local, action, data, LEFT, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(view.viewport(), drop)


def card_point(node_pos: tuple[float, float]) -> QPointF:
    """Where to drop a layer so that its card's top-left lands on node_pos."""
    return QPointF(node_pos[0] + NODE_WIDTH / 2, node_pos[1] + HEADER_HEIGHT / 2)


def output_port(view, node_id: str) -> QPointF:
    return view.network_scene().nodes[node_id].output_port.scenePos()


def input_port(view, node_id: str, index: int = 0) -> QPointF:
    return view.network_scene().nodes[node_id].input_ports[index].scenePos()


def wire(view, src: str, dst: str, port: int = 0) -> None:
    drag(view, output_port(view, src), input_port(view, dst, port))


def rename_by_double_click(view, node_id: str, name: str) -> None:
    item = view.network_scene().nodes[node_id]
    double_click(view, item.mapToScene(item.title_rect().center()))
    editor = view.rename_editor
    assert editor is not None and editor.text() == item.name
    editor.setText(name)
    QTest.keyClick(editor, Qt.Key.Key_Return)


def added_node(document: DesignDocument, before: set[str]) -> str:
    (new,) = set(document.design.nodes(document.network)) - before
    return new


def near(a: QPointF, b: QPointF, tolerance: float = 1.0) -> bool:
    return abs(a.x() - b.x()) <= tolerance and abs(a.y() - b.y()) <= tolerance


def structure(design: Design) -> dict:
    """The graph and parameters of every network, without positions."""
    result = {}
    for network, content in design.to_dict()["networks"].items():
        nodes = [{k: v for k, v in n.items() if k != "pos"} for n in content["nodes"]]
        result[network] = {"nodes": nodes, "edges": content["edges"]}
    return result


# ---------------------------------------------------------------------------- building the cnn
def build_by_hand(qtbot, template: Design) -> tuple[DesignDocument, NetworkTabs]:
    """Recreate a single-network template on an empty canvas: drop, rename, set, wire."""
    document, tabs = open_canvas(qtbot)
    view = tabs.current_view()
    view.resetTransform()
    view.centerOn(1300, 60)
    ids = {}
    for node_id in template.nodes("model"):
        node = template.node(node_id)
        before = set(document.design.nodes())
        drop_layer(view, node.type, card_point(node.pos))
        new = added_node(document, before)
        ids[node_id] = new
        view.centerOn(view.network_scene().nodes[new].sceneBoundingRect().center())
        rename_by_double_click(view, new, node.name)
        changed = {k: v for k, v in node.params.items() if document.design.node(new).params[k] != v}
        if changed:
            document.push(SetParams(document.design, new, changed))
        for edge in template.inputs_of(node_id):
            wire(view, ids[edge.src], new, edge.port)
    document.design.set_training(**template.training)
    return document, tabs


def test_cnn_built_from_an_empty_canvas_undoes_to_empty_redoes_and_saves_equal(qtbot, tmp_path):
    template = load_template("cnn")
    document, tabs = build_by_hand(qtbot, template)
    design = document.design
    assert structure(design) == structure(template)
    for node_id in template.nodes():
        assert design.node(node_id).pos == pytest.approx(template.node(node_id).pos, abs=1.0)

    report = document.current_report()
    expected = check(template)
    scene = tabs.current_view().network_scene()
    assert len(scene.edges) == len(template.edges())
    for edge, item in scene.edges.items():
        assert item.label == shape_text(expected.info(edge.src))
    flatten = design.find("flatten")
    assert scene.edges[design.outputs_of(flatten)[0]].label == "(N, 1024)"
    assert scene.nodes[design.find("conv2")].summary == "64 @ 3\u00d73, pad 1"
    assert scene.nodes[design.find("conv2")].count_label == "18,496 params"
    assert report.ok

    built = design.to_dict()
    stack = document.undo_stack
    while stack.canUndo():
        stack.undo()
    assert design.nodes() == [] and design.edges() == []
    assert scene.nodes == {} and scene.edges == {}
    while stack.canRedo():
        stack.redo()
    assert design.to_dict() == built
    assert set(scene.nodes) == set(design.nodes())

    path = tmp_path / "cnn.ncnet"
    save_design(design, path)
    reopened = load_design(path)
    assert structure(reopened) == structure(template)
    assert reopened.training == template.training


# ---------------------------------------------------------------------------- refusing wires
def chain(qtbot) -> tuple[DesignDocument, NetworkTabs, dict[str, str]]:
    design = Design()
    ids = {"x": design.add("Input", shape=(20,), pos=(0, 0))}
    ids["fc1"] = design.add("Linear", ids["x"], out_features=8, pos=(240, 0))
    ids["fc2"] = design.add("Linear", ids["fc1"], out_features=4, pos=(480, 0))
    ids["conv"] = design.add("Conv2d", pos=(480, 200))
    document, tabs = open_canvas(qtbot, design)
    tabs.current_view().frame_all()
    return document, tabs, ids


@pytest.mark.parametrize(("src", "dst", "reason"), [
    ("x", "fc1", "already connected"),
    ("fc2", "fc1", "cycle"),
])
def test_refused_wires_change_nothing_and_say_why(qtbot, src, dst, reason):
    document, tabs, ids = chain(qtbot)
    view = tabs.current_view()
    before = document.design.to_dict()
    count = document.undo_stack.count()
    target = input_port(view, ids[dst])
    mouse(view, QEvent.Type.MouseButtonPress, output_port(view, ids[src]))
    mouse(view, QEvent.Type.MouseMove, (output_port(view, ids[src]) + target) / 2, NO_BUTTON, LEFT)
    mouse(view, QEvent.Type.MouseMove, target, NO_BUTTON, LEFT)
    loose = view.network_scene().loose_wire
    assert loose.verdict is False and reason in loose.note
    with qtbot.waitSignal(tabs.message, timeout=1000) as said:
        mouse(view, QEvent.Type.MouseButtonRelease, target)
    assert reason in said.args[0]
    assert document.design.to_dict() == before
    assert document.undo_stack.count() == count


def test_accepted_wire_shows_the_shape_it_will_carry_before_release(qtbot):
    document, tabs, ids = chain(qtbot)
    view = tabs.current_view()
    relu = document.design.add("ReLU", pos=(480, -200))
    target = input_port(view, relu)
    mouse(view, QEvent.Type.MouseButtonPress, output_port(view, ids["fc1"]))
    mouse(view, QEvent.Type.MouseMove, target, NO_BUTTON, LEFT)
    loose = view.network_scene().loose_wire
    assert loose.verdict is True and "(N, 8)" in loose.note
    mouse(view, QEvent.Type.MouseButtonRelease, target)
    assert document.design.inputs_of(relu)[0].src == ids["fc1"]


def test_wires_across_networks_are_refused():
    design = load_template("gan")
    generator = design.find("point")
    discriminator = design.find("d_hidden1")
    reason = connection_refusal(design, generator, discriminator, 0)
    assert "different networks" in reason


def test_wire_dropped_on_a_connected_input_replaces_its_wire_in_one_step(qtbot):
    document, tabs, ids = chain(qtbot)
    view = tabs.current_view()
    design = document.design
    other = design.add("Input", shape=(8,), pos=(0, 200))
    wire(view, other, ids["fc2"])
    assert [e.src for e in design.inputs_of(ids["fc2"])] == [other]
    document.undo_stack.undo()
    assert [e.src for e in design.inputs_of(ids["fc2"])] == [ids["fc1"]]


def test_picking_up_a_wire_from_its_input_moves_or_removes_it(qtbot):
    document, tabs, ids = chain(qtbot)
    view = tabs.current_view()
    design = document.design
    relu = design.add("ReLU", pos=(480, -200))
    drag(view, input_port(view, ids["fc2"]), input_port(view, relu))
    assert design.inputs_of(ids["fc2"]) == []
    assert [e.src for e in design.inputs_of(relu)] == [ids["fc1"]]
    drag(view, input_port(view, relu), QPointF(900, 600))
    assert design.inputs_of(relu) == []
    document.undo_stack.undo()
    document.undo_stack.undo()
    assert [e.src for e in design.inputs_of(ids["fc2"])] == [ids["fc1"]]


# ---------------------------------------------------------------------------- wire to empty space
def test_wire_dropped_on_empty_canvas_offers_fitting_layers_and_connects_the_choice(qtbot):
    document, tabs, ids = chain(qtbot)
    view = tabs.current_view()
    end = output_port(view, ids["fc2"]) + QPointF(200, 0)
    drag(view, output_port(view, ids["fc2"]), end)
    popup = view.search_popup
    assert popup is not None and popup.isVisible()
    offered = popup.visible_types()
    assert {"ReLU", "Linear", "Output"} <= set(offered)
    assert "Conv2d" not in offered and "Input" not in offered
    QTest.keyClicks(popup.search, "sigm")
    assert popup.visible_types()[0] == "Sigmoid"
    count = document.undo_stack.count()
    QTest.keyClick(popup.search, Qt.Key.Key_Return)
    sigmoid = document.design.find("sigmoid1")
    assert [e.src for e in document.design.inputs_of(sigmoid)] == [ids["fc2"]]
    assert document.undo_stack.count() == count + 1
    assert input_port(view, sigmoid).y() == pytest.approx(end.y(), abs=1.0)
    assert document.selection == [sigmoid]


# ---------------------------------------------------------------------------- navigation
def wheel(view, viewport_pos: QPointF, notches: int) -> None:
    event = QWheelEvent(viewport_pos, QPointF(view.viewport().mapToGlobal(viewport_pos.toPoint())),
                        QPoint(), QPoint(0, 120 * notches), NO_BUTTON,
                        Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(view.viewport(), event)


def test_wheel_zooms_under_the_cursor_and_is_clamped(qtbot):
    _document, tabs = open_canvas(qtbot, load_template("cnn"))
    view = tabs.current_view()
    view.reset_zoom()
    at = QPointF(300, 200)
    under = view.mapToScene(at.toPoint())
    wheel(view, at, 2)
    assert view.zoom > 1.0
    assert near(view.mapToScene(at.toPoint()), under, 2.0)
    for _ in range(30):
        wheel(view, at, 3)
    assert view.zoom == pytest.approx(MAX_ZOOM)
    for _ in range(60):
        wheel(view, at, -3)
    assert view.zoom == pytest.approx(MIN_ZOOM)


def test_frame_keys_show_the_selection_and_everything_without_passing_100_percent(qtbot):
    document, tabs = open_canvas(qtbot, load_template("cnn"))
    view = tabs.current_view()
    scene = view.network_scene()
    view.zoom_by(0.2)
    conv = document.design.find("conv2")
    document.set_selection([conv])
    QTest.keyClick(view, Qt.Key.Key_F)
    assert view.zoom == pytest.approx(1.0)
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    assert visible.contains(scene.nodes[conv].sceneBoundingRect())
    document.design.move(document.design.find("image"), (-3000.0, 0.0))  # wider than the view
    QTest.keyClick(view, Qt.Key.Key_A)
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    assert visible.contains(scene.items_rect())
    assert MIN_ZOOM <= view.zoom < 1.0


def test_reveal_switches_network_selects_and_frames(qtbot):
    document, tabs = open_canvas(qtbot, load_template("gan"))
    assert tabs.count() == 2 and tabs.tabText(1) == "discriminator"
    node = document.design.find("d_act2")
    document.reveal(node)
    view = tabs.current_view()
    assert view.network == "discriminator" and document.network == "discriminator"
    assert view.network_scene().nodes[node].isSelected()
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    assert visible.contains(view.network_scene().nodes[node].sceneBoundingRect())


@pytest.mark.parametrize("how", ["middle", "space", "alt"])
def test_pan_gestures_move_the_view_not_the_nodes(qtbot, how):
    document, tabs = open_canvas(qtbot, load_template("cnn"))
    view = tabs.current_view()
    view.reset_zoom()
    before = document.design.to_dict()
    centre = view.mapToScene(view.viewport().rect().center())
    button = Qt.MouseButton.MiddleButton if how == "middle" else LEFT
    mods = Qt.KeyboardModifier.AltModifier if how == "alt" else Qt.KeyboardModifier.NoModifier
    if how == "space":
        QTest.keyPress(view, Qt.Key.Key_Space)
    start, end = QPointF(600, 700), QPointF(450, 600)
    mouse_local(view, QEvent.Type.MouseButtonPress, start, button, modifiers=mods)
    for i in range(1, 6):
        mouse_local(view, QEvent.Type.MouseMove, start + (end - start) * (i / 5), NO_BUTTON,
                    button, mods)
    mouse_local(view, QEvent.Type.MouseButtonRelease, end, button, modifiers=mods)
    if how == "space":
        QTest.keyRelease(view, Qt.Key.Key_Space)
    moved = view.mapToScene(view.viewport().rect().center())
    assert moved.x() == pytest.approx(centre.x() + 150, abs=2)
    assert moved.y() == pytest.approx(centre.y() + 100, abs=2)
    assert document.design.to_dict() == before


def test_tab_and_right_click_open_search_to_add_at_that_spot(qtbot):
    document, tabs = open_canvas(qtbot)
    view = tabs.current_view()
    QTest.keyClick(view, Qt.Key.Key_Tab)
    assert view.search_popup is not None
    view.search_popup.close()
    qtbot.waitUntil(lambda: view.search_popup is None)
    spot = view.mapToScene(QPoint(400, 300))
    QApplication.sendEvent(view.viewport(), _context_menu_event(view, spot))
    popup = view.search_popup
    assert popup is not None
    QTest.keyClicks(popup.search, "Conv2d")
    QTest.keyClick(popup.search, Qt.Key.Key_Return)
    (conv,) = document.design.nodes()
    assert document.design.node(conv).type == "Conv2d"
    item = view.network_scene().nodes[conv]
    assert near(item.mapToScene(item.title_rect().center()), spot)


def _context_menu_event(view, scene_point: QPointF):
    from PySide6.QtGui import QContextMenuEvent
    local = view.mapFromScene(scene_point)
    return QContextMenuEvent(QContextMenuEvent.Reason.Mouse, local,
                             view.viewport().mapToGlobal(local))


def test_a_drop_of_an_unknown_layer_type_is_refused_with_the_reason(qtbot):
    document, tabs = open_canvas(qtbot)
    view = tabs.current_view()
    with qtbot.waitSignal(tabs.message, timeout=1000) as said:
        drop_layer(view, "Warp9", QPointF(0, 0))
    assert "unknown layer type 'Warp9'" in said.args[0]
    assert document.design.nodes() == [] and document.undo_stack.count() == 0
