"""Issue 11, the canvas as a new user meets it: wires that are refused say why at the port,
a mismatched wire is made and its error shown on the layer, a layer dropped on a wire goes into
it, new cards never cover others, the empty-canvas hint leaves with the first card, and node
headers show whole names. Driven with real mouse, key and drag-and-drop events."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QByteArray, QEvent, QMimeData, QPointF, QRectF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragLeaveEvent, QDragMoveEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from test_canvas import (
    LEFT,
    NO_BUTTON,
    added_node,
    click,
    drop_layer,
    input_port,
    mouse,
    open_canvas,
    output_port,
    rename_by_double_click,
)

from designer.canvas import LAYER_MIME
from designer.canvas.node_item import NodeItem
from designer.canvas.style import MAX_NODE_WIDTH, NODE_WIDTH
from engine import Design
from templates import load_template

CTRL = Qt.KeyboardModifier.ControlModifier


def card_rects(view) -> dict[str, QRectF]:
    return {node_id: item.mapRectToScene(item.card_rect())
            for node_id, item in view.network_scene().nodes.items()}


def overlaps(view) -> list[tuple[str, str]]:
    """Pairs of cards that cover each other."""
    rects = sorted(card_rects(view).items())
    return [(a, b) for i, (a, ra) in enumerate(rects) for b, rb in rects[i + 1:]
            if ra.intersects(rb)]


def empty_spot(view) -> QPointF:
    """A scene point on the canvas far from every card and wire."""
    return view.network_scene().items_rect().bottomRight() + QPointF(300, 300)


def drag_wire(view, start: QPointF, end: QPointF) -> None:
    """Press on a port, move over the target in two steps, release there."""
    mouse(view, QEvent.Type.MouseButtonPress, start)
    mouse(view, QEvent.Type.MouseMove, (start + end) / 2, NO_BUTTON, LEFT)
    mouse(view, QEvent.Type.MouseMove, end, NO_BUTTON, LEFT)
    mouse(view, QEvent.Type.MouseButtonRelease, end)


def palette_drag(view, layer_type: str, scene_points: list[QPointF]) -> None:
    """A palette drag entering the view at the first point and moving over every point
    (it stays in the view; a drop or drag_leaves ends it)."""
    data = QMimeData()
    data.setData(LAYER_MIME, QByteArray(layer_type.encode("utf-8")))
    local = view.mapFromScene(scene_points[0])
    args = (Qt.DropAction.CopyAction, data, LEFT, Qt.KeyboardModifier.NoModifier)
    enter = QDragEnterEvent(local, *args)
    QApplication.sendEvent(view.viewport(), enter)
    assert enter.isAccepted()
    for point in scene_points:
        move = QDragMoveEvent(view.mapFromScene(point), *args)
        QApplication.sendEvent(view.viewport(), move)
        assert move.isAccepted()


def drag_leaves(view) -> None:
    QApplication.sendEvent(view.viewport(), QDragLeaveEvent())


def chain(qtbot):
    """input -> fc1 -> fc2 on one row, a Flatten below the input, an Output and a Conv2d."""
    design = Design()
    ids = {"x": design.add("Input", shape=(1, 8, 8), pos=(0, 0))}
    ids["fc1"] = design.add("Linear", ids["x"], out_features=8, pos=(240, 0))
    ids["fc2"] = design.add("Linear", ids["fc1"], out_features=4, pos=(480, 0))
    ids["flat"] = design.add("Flatten", ids["x"], pos=(240, 200))
    ids["conv"] = design.add("Conv2d", pos=(480, 200))
    ids["out"] = design.add("Output", pos=(720, 200))
    document, tabs = open_canvas(qtbot, design)
    view = tabs.current_view()
    view.frame_all()
    return document, tabs, ids


# ---------------------------------------------------------------------------- item 5
def test_a_mismatched_wire_is_made_and_its_error_shows_on_the_layer_and_at_the_port(qtbot):
    document, tabs, ids = chain(qtbot)
    view = tabs.current_view()
    scene = view.network_scene()
    count = document.undo_stack.count()
    drag_wire(view, output_port(view, ids["flat"]), input_port(view, ids["conv"]))
    assert [e.src for e in document.design.inputs_of(ids["conv"])] == [ids["flat"]]
    assert document.undo_stack.count() == count + 1
    badge = scene.nodes[ids["conv"]].badge
    qtbot.waitUntil(lambda: "4-D" in badge.toolTip())
    assert badge.isVisible() and badge.severity == "error" and "Fix:" in badge.toolTip()
    note = scene.port_note
    assert note is not None and note.isVisible()
    assert "conv2d1 (Conv2d)" in note.text and "Fix:" in note.text
    assert note.pos() == input_port(view, ids["conv"])
    document.undo_stack.undo()
    assert document.design.inputs_of(ids["conv"]) == []


@pytest.mark.parametrize(("start", "end", "reason"), [
    (("output", "fc2"), ("input", "fc1"), "would make a cycle"),
    (("output", "x"), ("input", "fc1"), "already connected"),
    (("output", "fc1"), ("card", "x"), "takes no inputs"),
    (("input", "conv"), ("card", "out"), "has nothing to pass on"),
])
def test_every_refusal_stays_at_the_port_until_the_next_action(qtbot, start, end, reason):
    document, tabs, ids = chain(qtbot)
    view = tabs.current_view()
    scene = view.network_scene()
    before, count = document.design.to_dict(), document.undo_stack.count()
    ends = {"output": lambda n: output_port(view, n), "input": lambda n: input_port(view, n),
            "card": lambda n: scene.nodes[n].sceneBoundingRect().center()}
    drag_wire(view, ends[start[0]](ids[start[1]]), ends[end[0]](ids[end[1]]))
    assert document.design.to_dict() == before and document.undo_stack.count() == count
    assert view.search_popup is None
    note = scene.port_note
    assert note is not None and note.isVisible() and note.text.startswith("Refused: ")
    assert reason in note.text
    target = scene.nodes[ids[end[1]]]
    assert target.sceneBoundingRect().adjusted(-8, -8, 8, 8).contains(note.pos())
    mouse(view, QEvent.Type.MouseMove, empty_spot(view), NO_BUTTON, NO_BUTTON)
    QTest.keyClick(view, Qt.Key.Key_Shift)
    assert scene.port_note is note and note.scene() is scene  # hovering is no action
    click(view, empty_spot(view))
    assert scene.port_note is None and note.scene() is None


def test_a_key_or_an_edit_elsewhere_clears_the_note(qtbot):
    document, tabs, ids = chain(qtbot)
    view = tabs.current_view()
    scene = view.network_scene()
    drag_wire(view, output_port(view, ids["fc2"]), input_port(view, ids["fc1"]))
    assert scene.port_note is not None
    QTest.keyClick(view, Qt.Key.Key_Escape)
    assert scene.port_note is None
    drag_wire(view, output_port(view, ids["fc2"]), input_port(view, ids["fc1"]))
    assert scene.port_note is not None
    document.design.set_params(ids["fc2"], out_features=3)  # say, from the inspector
    assert scene.port_note is None


# ---------------------------------------------------------------------------- item 8
def test_a_layer_dropped_on_a_wire_goes_into_it_in_one_step(qtbot):
    document, tabs, ids = chain(qtbot)
    view = tabs.current_view()
    scene, design = view.network_scene(), document.design
    edge = design.inputs_of(ids["fc1"])[0]
    on_wire = (output_port(view, ids["x"]) + input_port(view, ids["fc1"])) / 2
    palette_drag(view, "ReLU", [empty_spot(view), on_wire])
    assert scene.drop_wire == edge
    glow = scene.drop_glow
    assert glow is not None and glow.isVisible() and glow.path().contains(on_wire)
    palette_drag(view, "ReLU", [empty_spot(view)])
    assert scene.drop_wire is None and glow.scene() is None
    palette_drag(view, "ReLU", [on_wire])
    drag_leaves(view)
    assert scene.drop_wire is None
    palette_drag(view, "Input", [on_wire])  # an Input cannot split a wire
    assert scene.drop_wire is None
    count = document.undo_stack.count()
    before = set(design.nodes())
    drop_layer(view, "ReLU", on_wire)
    relu = added_node(document, before)
    assert [e.src for e in design.inputs_of(relu)] == [ids["x"]]
    assert [e.src for e in design.inputs_of(ids["fc1"])] == [relu]
    assert document.undo_stack.count() == count + 1
    assert scene.drop_wire is None and overlaps(view) == []
    document.undo_stack.undo()
    assert not design.has_node(relu) and edge in design.edges()


def test_new_pasted_and_duplicated_cards_never_land_on_others(qtbot):
    document, tabs = open_canvas(qtbot, load_template("cnn"))
    view = tabs.current_view()
    design = document.design
    conv = design.find("conv1")
    spot = empty_spot(view)
    before = set(design.nodes())
    drop_layer(view, "ReLU", spot)  # a free spot: the card goes exactly there
    item = view.network_scene().nodes[added_node(document, before)]
    centre = item.mapToScene(item.title_rect().center())
    assert abs(centre.x() - spot.x()) <= 1 and abs(centre.y() - spot.y()) <= 1
    assert overlaps(view) == []
    header = view.network_scene().nodes[conv].sceneBoundingRect().topLeft() + QPointF(40, 10)
    for _ in range(2):
        drop_layer(view, "Conv2d", header)
        assert overlaps(view) == []
    click(view, header)
    assert document.selection == [conv]
    for _ in range(2):
        QTest.keyClick(view, Qt.Key.Key_D, CTRL)
        assert overlaps(view) == []
    view.centerOn(header)
    QTest.mouseMove(view.viewport(), view.mapFromScene(header))
    click(view, header)
    QTest.keyClick(view, Qt.Key.Key_C, CTRL)
    for _ in range(2):
        QTest.keyClick(view, Qt.Key.Key_V, CTRL)
        assert overlaps(view) == []
    assert len(design.nodes()) == 12 + 7


# ---------------------------------------------------------------------------- item 10
def test_the_empty_canvas_hint_shows_only_while_the_canvas_is_empty(qtbot):
    document, tabs = open_canvas(qtbot)
    view = tabs.current_view()
    hint = view.empty_hint
    assert hint.isVisible() and "Drag layers here" in hint.text()
    assert hint.geometry() == view.viewport().geometry()
    view.centerOn(QPointF(5000, 5000))  # scrolling the canvas leaves the hint in place
    assert hint.geometry() == view.viewport().geometry()
    centre = view.viewport().rect().center()
    assert view.childAt(view.viewport().geometry().center()) is view.viewport()  # no obstacle
    drop_layer(view, "Input", view.mapToScene(centre))
    assert not hint.isVisible()
    QTest.keyClick(view, Qt.Key.Key_Delete)
    assert document.design.nodes() == [] and hint.isVisible()
    document.undo_stack.undo()  # Edit > Undo
    assert document.design.nodes() and not hint.isVisible()


# ---------------------------------------------------------------------------- item 12
def test_node_headers_show_whole_names_and_a_cut_name_whole_in_the_tooltip(qtbot):
    document, tabs = open_canvas(qtbot)
    view = tabs.current_view()
    scene = view.network_scene()
    cards: dict[str, NodeItem] = {}
    for index, layer_type in enumerate(["MaxPool2d", "TransformerEncoderLayer", "ReLU"]):
        before = set(document.design.nodes())
        drop_layer(view, layer_type, view.mapToScene(view.viewport().rect().center())
                   + QPointF(0, 150 * index))
        cards[layer_type] = scene.nodes[added_node(document, before)]
    assert cards["MaxPool2d"].shown_name() == "maxpool2d1"
    assert cards["TransformerEncoderLayer"].shown_name() == "transformerencoderlayer1"
    assert cards["ReLU"].width == NODE_WIDTH
    wide = cards["TransformerEncoderLayer"]
    assert NODE_WIDTH < wide.width <= MAX_NODE_WIDTH
    assert wide.output_anchor().x() == wide.pos().x() + wide.width
    long_name = "the_first_convolution_of_the_residual_stem_block_with_batchnorm"
    rename_by_double_click(view, wide.node_id, long_name)
    assert wide.name == long_name and wide.width == MAX_NODE_WIDTH
    shown = wide.shown_name()
    assert shown.endswith("\u2026") and long_name.startswith(shown[:-1])
    mouse(view, QEvent.Type.MouseMove, wide.mapToScene(wide.title_rect().center()),
          NO_BUTTON, NO_BUTTON)
    qtbot.waitUntil(lambda: long_name in wide.toolTip())
