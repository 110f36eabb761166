"""What keeps a large canvas smooth (issue 17): an edit touches only the cards and wires whose
report changed, a card zoomed far out draws no text or ports, wires zoomed out draw without
antialiasing, and the router's index of cards follows every move."""

from __future__ import annotations

from PySide6.QtCore import QPointF
from PySide6.QtGui import QImage, QPainter, QTransform
from PySide6.QtWidgets import QStyleOptionGraphicsItem

from designer.canvas.edge_item import EdgeItem
from designer.canvas.node_item import NodeItem
from designer.undo_commands import MoveNodes, SetParams
from engine import Design
from tests.test_canvas import open_canvas


class RecordingPainter(QPainter):
    """A painter on an image that notes the text it is asked to draw and its ellipses."""

    def __init__(self, lod: float) -> None:
        self.image = QImage(400, 400, QImage.Format.Format_ARGB32)
        super().__init__(self.image)
        self.setWorldTransform(QTransform.fromScale(lod, lod))
        self.texts: list[str] = []
        self.ellipses = 0

    def drawText(self, *args) -> None:
        self.texts.append(str(args[-1]))
        super().drawText(*args)

    def drawEllipse(self, *args) -> None:
        self.ellipses += 1
        super().drawEllipse(*args)


def chain(length: int) -> tuple[Design, list[str]]:
    design = Design()
    previous = design.add("Input", shape=(8,), pos=(0, 0))
    linears = []
    for index in range(length):
        previous = design.add("Linear", previous, out_features=8, pos=(260 * (index + 1), 0))
        linears.append(previous)
    design.add("Output", previous, pos=(260 * (length + 1), 0))
    return design, linears


def test_an_edit_touches_only_the_cards_and_wires_whose_report_changed(qtbot, monkeypatch):
    design, linears = chain(6)
    document, tabs = open_canvas(qtbot, design)
    scene = tabs.current_view().network_scene()
    cards: list[str] = []
    labels: list[str] = []
    card_update = NodeItem.apply_report
    monkeypatch.setattr(NodeItem, "apply_report",
                        lambda item, *a: (cards.append(item.node_id), card_update(item, *a)))
    label_update = EdgeItem.set_label
    monkeypatch.setattr(EdgeItem, "set_label",
                        lambda item, text: (labels.append(text), label_update(item, text)))
    last = linears[-1]
    document.push(SetParams(document.design, last, {"out_features": 5}))
    qtbot.waitUntil(lambda: scene.nodes[last].shape_label == "(N, 5)")
    qtbot.waitUntil(lambda: not scene.wires_pending)   # labels not on screen follow
    output = next(n for n in scene.nodes if scene.nodes[n].layer_type == "Output")
    assert sorted(cards) == sorted([last, output])   # not the other six cards
    assert labels == ["(N, 5)"]                        # the one wire out of it


def test_a_card_far_zoomed_out_draws_no_text_or_ports_and_readable_zooms_do(qtbot):
    design, linears = chain(1)
    document, tabs = open_canvas(qtbot, design)
    card = tabs.current_view().network_scene().nodes[linears[0]]
    drawn = {}
    for lod in (0.1, 0.4, 1.0):
        painter = RecordingPainter(lod)
        card.paint(painter, QStyleOptionGraphicsItem(), None)
        painter.end()
        drawn[lod] = painter
    assert drawn[0.1].texts == [] and drawn[0.1].ellipses == 0
    assert card.name in drawn[0.4].texts and drawn[0.4].ellipses == 2   # overview
    assert card.name in drawn[1.0].texts and "\u2192 (N, 8)" in drawn[1.0].texts


def test_wires_zoomed_out_are_drawn_without_antialiasing(qtbot):
    design, _linears = chain(1)
    document, tabs = open_canvas(qtbot, design)
    wire = next(iter(tabs.current_view().network_scene().edges.values()))
    smooth = {}
    for lod in (0.1, 1.0):
        painter = RecordingPainter(lod)
        wire.paint(painter, QStyleOptionGraphicsItem(), None)
        smooth[lod] = bool(painter.renderHints() & QPainter.RenderHint.Antialiasing)
        painter.end()
    assert smooth == {0.1: False, 1.0: True}


def test_wires_route_around_a_card_where_it_was_moved_to(qtbot):
    """The router keeps one index of the cards: a card moved into a wire's way is in it
    when the wire is next routed."""
    design = Design()
    source = design.add("Input", shape=(8,), pos=(0, 0))
    target = design.add("Output", source, pos=(900, 0))
    blocker = design.add("Linear", design.add("Input", shape=(8,), pos=(0, 600)),
                         out_features=8, pos=(450, 600))
    document, tabs = open_canvas(qtbot, design)
    scene = tabs.current_view().network_scene()
    (wire,) = [item for edge, item in scene.edges.items() if edge.dst == target]
    qtbot.waitUntil(lambda: not scene.router.pending)
    assert len(wire.route) == 2   # a plain curve: nothing in the way
    document.push(MoveNodes(document.design, {blocker: (450, -20)}))
    document.push(MoveNodes(document.design, {target: (905, 0)}))   # the wire is re-routed
    qtbot.waitUntil(lambda: not scene.router.pending)
    assert len(wire.route) > 2
    card = scene.nodes[blocker]
    assert not wire.shape().intersects(card.mapRectToScene(card.card_rect()))


def test_a_wire_is_picked_where_it_runs_now(qtbot):
    design, _linears = chain(1)
    document, tabs = open_canvas(qtbot, design)
    wire = next(iter(tabs.current_view().network_scene().edges.values()))
    wire.set_route([(0.0, 0.0), (200.0, 0.0)])
    assert wire.shape().contains(QPointF(100, 0))
    wire.set_route([(0.0, 300.0), (200.0, 300.0)])
    assert wire.shape().contains(QPointF(100, 300)) and not wire.shape().contains(QPointF(100, 0))
