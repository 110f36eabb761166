"""An edit's new shapes reach the canvas first (issue 17): the panels (Problems, Summary, the
inspector's shapes) follow the report once the canvas has it, a hidden panel catches up when
shown, wires keep the labels of the report however edits come and go, and a parameter edit
asks no card to redo its probe. Wire labels out of view follow a moment later. Cards keep their size when an edit leaves their shapes unknown
(no wire moves, nothing is re-routed), and write their tooltips only when hovered."""

from __future__ import annotations

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QGraphicsSceneHoverEvent
from test_app_support import make_window

from designer.canvas.edge_item import LABEL_LOD
from designer.canvas.node_item import NodeItem, texts_drawn
from designer.canvas.node_text import shape_text
from designer.undo_commands import AddNode, SetParams
from engine import check


def test_the_canvas_shows_an_edit_before_the_panels_which_then_catch_up(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    document, problems = window.document, window.problems
    scene = window.tabs.current_view().network_scene()
    conv = document.design.find("conv1")
    window.document.set_selection([conv])
    seen_at_report = []
    document.reportChanged.connect(lambda _report: seen_at_report.append((
        scene.nodes[conv].shape_label, problems.model.rowCount())))
    document.push(AddNode(document.design, "Linear", "model", (0.0, 900.0)))
    document.push(SetParams(document.design, conv, {"out_channels": 7}))
    qtbot.waitUntil(lambda: problems.model.rowCount() == len(check(document.design).problems))
    assert seen_at_report == [("(N, 7, 8, 8)", 0)]   # the new shapes, not yet the problems
    assert "(N, 7, 8, 8)" in window.inspector.shapes.text()
    assert problems.summary.text().startswith("1 error")


def test_a_hidden_summary_catches_up_when_shown(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    document, summary = window.document, window.summary
    summary.set_shown(False)
    summary.refresh()
    before = summary.totals.text()
    conv = document.design.find("conv1")
    with qtbot.waitSignal(document.panelsReportChanged):
        document.push(SetParams(document.design, conv, {"out_channels": 7}))
    assert summary.totals.text() == before and summary.is_stale()
    summary.set_shown(True)
    assert f"{document.report.total_params('model'):,}" in summary.totals.text()
    assert summary.totals.text() != before


def test_every_wire_shows_its_tensor_after_edits_undo_and_redo(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    document = window.document
    scene = window.tabs.current_view().network_scene()
    conv = document.design.find("conv1")

    def labels_match() -> bool:
        report = document.current_report()
        return all(item.label == shape_text(report.info(edge.src, edge.out))
                   for edge, item in scene.edges.items())

    def caught_up() -> bool:
        document.current_report()
        qtbot.waitUntil(lambda: not scene.wires_pending)
        return labels_match()

    for channels in (5, 9):
        document.push(SetParams(document.design, conv, {"out_channels": channels}))
        assert caught_up()
    document.undo_stack.undo()
    assert caught_up()
    document.undo_stack.redo()
    assert caught_up()


def test_wire_labels_in_view_change_with_the_edit_the_others_a_moment_later(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    document = window.document
    view = window.tabs.current_view()
    scene = view.network_scene()
    conv = document.design.find("conv1")
    (wire,) = [item for edge, item in scene.edges.items() if edge.src == conv]
    view.reset_zoom()
    view.centerOn(wire.sceneBoundingRect().center())   # labels drawn, this one on screen
    labels_at_report = []
    document.reportChanged.connect(lambda _report: labels_at_report.append(wire.label))
    document.push(SetParams(document.design, conv, {"out_channels": 5}))
    document.current_report()
    assert labels_at_report == ["(N, 5, 8, 8)"]
    view.zoom_by(LABEL_LOD / 2 / view.zoom)   # too far out for labels: they follow later
    document.push(SetParams(document.design, conv, {"out_channels": 6}))
    document.current_report()
    assert labels_at_report[-1] == "(N, 5, 8, 8)" and scene.wires_pending
    qtbot.waitUntil(lambda: wire.label == "(N, 6, 8, 8)")


def test_a_parameter_edit_asks_no_card_to_redo_its_probe_and_a_new_card_is_shown(
        qtbot, tmp_path, monkeypatch):
    window = make_window(qtbot, tmp_path)
    document = window.document
    shown: list[str] = []
    set_probe = NodeItem.set_probe
    monkeypatch.setattr(NodeItem, "set_probe",
                        lambda item, *args: (shown.append(item.node_id),
                                             set_probe(item, *args)))
    conv = document.design.find("conv1")
    with qtbot.waitSignal(document.panelsReportChanged):
        document.push(SetParams(document.design, conv, {"out_channels": 7}))
    qtbot.wait(1)   # let anything else the edit queued run
    assert shown == []
    add = AddNode(document.design, "Linear", "model", (0.0, 900.0))
    document.push(add)
    qtbot.waitUntil(lambda: add.node_id in shown)


def test_cards_whose_shapes_an_edit_leaves_unknown_keep_their_size_and_wires(qtbot, tmp_path,
                                                                             monkeypatch):
    window = make_window(qtbot, tmp_path)
    document = window.document
    scene = window.tabs.current_view().network_scene()
    qtbot.waitUntil(lambda: not scene.router.pending)
    sizes = {node_id: (item.width, item.height) for node_id, item in scene.nodes.items()}
    routes = {edge: item.route for edge, item in scene.edges.items()}
    conv = document.design.find("conv1")
    rerouted = []
    monkeypatch.setattr(scene.router, "invalidate", rerouted.append)
    with qtbot.waitSignal(document.reportChanged):
        document.push(SetParams(document.design, conv, {"kernel_size": 11}))   # > 8x8 input
    qtbot.waitUntil(lambda: not scene.wires_pending)   # cards not drawn now follow later
    after = [item for item in scene.nodes.values() if item.node_id != conv
             and item.layer_type not in ("Input", "Output")]
    assert all(item.shape_label == "?" and not item.count_label for item in after)
    assert {node_id: (item.width, item.height) for node_id, item in scene.nodes.items()} == sizes
    assert rerouted == []   # no wire had to move
    assert {edge: item.route for edge, item in scene.edges.items()} == routes


def test_a_cards_tooltip_is_written_when_hovered_and_follows_edits_meanwhile(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    document = window.document
    scene = window.tabs.current_view().network_scene()
    conv = document.design.find("conv1")
    card = scene.nodes[conv]
    card.hoverEnterEvent(QGraphicsSceneHoverEvent(QEvent.Type.GraphicsSceneHoverEnter))
    assert "(N, 32, 8, 8)" in card.toolTip()
    with qtbot.waitSignal(document.reportChanged):
        document.push(SetParams(document.design, conv, {"out_channels": 7}))
    assert "(N, 7, 8, 8)" in card.toolTip()


def test_cards_the_view_does_not_draw_take_their_shapes_a_moment_later(qtbot, tmp_path):
    """Zoomed out past the cards' text, an edit's new shapes reach the cards after the frame
    that draws it; a card's problems, and the cards the user looks at, change at once; a newer
    report replaces what still waits (an undo before the slices ran shows the undone shapes)."""
    window = make_window(qtbot, tmp_path)
    document = window.document
    view = window.tabs.current_view()
    scene = view.network_scene()
    view.zoom_by(0.05 / view.zoom)
    assert not texts_drawn(scene.canvas_style, view.zoom)
    conv, bn, relu = (document.design.find(name) for name in ("conv1", "bn1", "relu1"))
    document.set_selection([relu])
    at_report = []
    document.reportChanged.connect(lambda _report: at_report.append(
        {node: scene.nodes[node].shape_label for node in (bn, relu)}))
    document.push(SetParams(document.design, conv, {"out_channels": 5}))
    document.current_report()
    assert at_report == [{bn: "(N, 32, 8, 8)", relu: "(N, 5, 8, 8)"}] and scene.wires_pending
    qtbot.waitUntil(lambda: scene.nodes[bn].shape_label == "(N, 5, 8, 8)")

    for channels in (6, 5):   # back to what bn shows before its slice ran: nothing waits
        document.push(SetParams(document.design, conv, {"out_channels": channels}))
        document.current_report()
    qtbot.waitUntil(lambda: not scene.wires_pending)
    assert scene.nodes[bn].shape_label == "(N, 5, 8, 8)"

    document.push(SetParams(document.design, conv, {"out_channels": 6}))
    document.current_report()
    document.undo_stack.undo()
    document.current_report()
    qtbot.waitUntil(lambda: not scene.wires_pending)
    undone = shape_text(check(document.design).info(bn))
    assert undone != "(N, 6, 8, 8)" and scene.nodes[bn].shape_label == undone

    document.push(SetParams(document.design, conv, {"kernel_size": 11}))   # > 8x8 input
    document.current_report()
    assert scene.nodes[conv].badge.severity == "error"
