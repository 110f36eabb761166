"""Issue 11, item 9: auto layout routes wires around the cards and gives shape labels room.

After Ctrl+L on an imported residual network no wire passes behind a card, no shape label
covers a card or a port, and the skip connection runs in a lane of its own; routes are
recomputed from positions, so they survive save/load and follow a card the user drags.
"""

from __future__ import annotations

import itertools

import pytest
import torch
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtTest import QTest
from test_app_support import ScriptedDialogs
from test_canvas import drag

from designer.canvas.edge_item import route_path
from designer.document import DesignDocument
from designer.main_window import MainWindow
from designer.settings import AppSettings
from engine import Design
from engine.fileformat import load_design, save_design
from engine.importing import import_module
from engine.layout import layered_positions
from engine.routing import CLEARANCE, Box, Wire, label_centre, route_wires


class ResidualBlock(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = torch.nn.Conv2d(3, 64, 3, padding=1)  # labels as wide as ResNet's
        self.conv1 = torch.nn.Conv2d(64, 64, 3, padding=1)
        self.bn1 = torch.nn.BatchNorm2d(64)
        self.conv2 = torch.nn.Conv2d(64, 64, 3, padding=1)
        self.bn2 = torch.nn.BatchNorm2d(64)

    def forward(self, x):
        x = torch.relu(self.stem(x))
        y = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        return torch.relu(x + y)


@pytest.fixture
def residual() -> Design:
    return import_module(ResidualBlock(), torch.randn(2, 3, 32, 32))


def open_window(qtbot, tmp_path, design: Design) -> MainWindow:
    window = MainWindow(DesignDocument(design), AppSettings(tmp_path / "settings.ini"), None,
                        tmp_path / "recovery", ScriptedDialogs())
    qtbot.addWidget(window)
    window.resize(1600, 1000)
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)  # canvas shortcuts (Ctrl+L) need it active
    return window


def canvas(window: MainWindow):
    view = window.tabs.current_view()
    return view, view.network_scene()


def auto_layout_by_keyboard(qtbot, window: MainWindow):
    view, scene = canvas(window)
    view.setFocus()
    design = window.document.design
    before = {n: design.node(n).pos for n in design.nodes()}
    QTest.keyClick(view, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert {n: design.node(n).pos for n in design.nodes()} != before, "Ctrl+L laid it out"
    qtbot.waitUntil(lambda: not scene.router.pending)
    return view, scene


def path_samples(item, count: int = 400) -> list[QPointF]:
    path = route_path(item.route)
    return [path.pointAtPercent(i / count) for i in range(count + 1)]


def wires_behind_cards(scene) -> list[str]:
    """Each wire that passes through a card other than its own two."""
    found = []
    for edge, item in scene.edges.items():
        points = path_samples(item)
        for node_id, node in scene.nodes.items():
            if node_id in (edge.src, edge.dst):
                continue
            card = node.mapRectToScene(node.card_rect()).adjusted(1, 1, -1, -1)
            if any(card.contains(p) for p in points):
                found.append(f"{edge} passes behind {node.name}")
    return found


def labels_on_cards(scene) -> list[str]:
    """Each shape label that overlaps a card or a port (a card's bounds include its ports)."""
    found = []
    for edge, item in scene.edges.items():
        label = item.label_rect()
        assert not label.isEmpty(), f"{edge} has no label"
        for node in scene.nodes.values():
            if label.intersects(node.sceneBoundingRect()):
                found.append(f"label {item.label!r} of {edge} covers {node.name}")
    return found


def skip_edge(design: Design):
    """The wire that jumps over the block: into the Add, from the block's input."""
    add = next(n for n in design.nodes() if design.node(n).type == "Add")
    return max(design.inputs_of(add), key=lambda e: design.node(add).pos[0]
               - design.node(e.src).pos[0])


def test_ctrl_l_routes_the_skip_wire_around_the_block_and_labels_fit(qtbot, tmp_path,
                                                                      residual):
    for node_id in residual.nodes():  # as the old layout left it: one row, skip behind cards
        residual.move(node_id, (residual.seq_of(node_id) * 240.0, 0.0))
    window = open_window(qtbot, tmp_path, residual)
    _, scene = auto_layout_by_keyboard(qtbot, window)
    assert wires_behind_cards(scene) == []
    assert labels_on_cards(scene) == []
    skip = scene.edges[skip_edge(residual)]
    assert len(skip.route) > 2, "the skip wire is routed, not a straight curve behind cards"
    _, lane_y = label_centre(skip.route)
    passed = [node for node in scene.nodes.values()
              if node.sceneBoundingRect().left() > skip.route[0][0]
              and node.sceneBoundingRect().right() < skip.route[-1][0]]
    assert passed, "the skip wire jumps over the block's cards"
    for node in passed:
        card = node.mapRectToScene(node.card_rect())
        assert not card.top() - CLEARANCE < lane_y < card.bottom() + CLEARANCE, \
            f"the skip wire's lane runs within {CLEARANCE} of {node.name}"


def test_wires_follow_a_dragged_card_and_undo(qtbot, tmp_path, residual):
    window = open_window(qtbot, tmp_path, residual)
    view, scene = auto_layout_by_keyboard(qtbot, window)
    design = residual
    conv = design.find("conv1")
    card = scene.nodes[conv]
    before = {e: list(i.route) for e, i in scene.edges.items()}
    grab = card.mapToScene(card.title_rect().center())
    drag(view, grab, grab + QPointF(60, 260))
    qtbot.waitUntil(lambda: not scene.router.pending)
    assert design.node(conv).pos != tuple(before[design.inputs_of(conv)[0]][0])
    for edge in design.inputs_of(conv) + design.outputs_of(conv):
        item = scene.edges[edge]
        start = scene.nodes[edge.src].output_anchor()
        end = scene.nodes[edge.dst].input_anchor(edge.port)
        assert item.route[0] == (start.x(), start.y()) and item.route[-1] == (end.x(), end.y())
    assert wires_behind_cards(scene) == []
    QTest.keyClick(view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not scene.router.pending)
    assert {e: i.route for e, i in scene.edges.items()} == before


def test_routes_are_recomputed_after_save_and_load(qtbot, tmp_path, residual):
    window = open_window(qtbot, tmp_path, residual)
    _, scene = auto_layout_by_keyboard(qtbot, window)
    routes = {e: i.route for e, i in scene.edges.items()}
    save_design(residual, tmp_path / "block.ncnet")
    reopened = open_window(qtbot, tmp_path / "again", load_design(tmp_path / "block.ncnet"))
    _, scene = canvas(reopened)
    qtbot.waitUntil(lambda: not scene.router.pending)
    assert {e: i.route for e, i in scene.edges.items()} == routes


def test_a_wire_blocked_by_a_card_goes_around_it_and_a_clear_one_stays_a_curve():
    boxes = {"a": Box(0, 0, 100, 60), "b": Box(400, 0, 100, 60), "wall": Box(200, -40, 100, 100)}
    blocked = Wire("blocked", "a", "b", (100, 30), (400, 30))
    clear = Wire("clear", "a", "b", (100, 30), (400, 300))
    routes = route_wires(boxes, [blocked, clear])
    assert routes["clear"] == [(100, 30), (400, 300)]
    route = routes["blocked"]
    assert route[0] == (100, 30) and route[-1] == (400, 30)
    wall = QRectF(200 - CLEARANCE + 1, -40 - CLEARANCE + 1, 100 + 2 * CLEARANCE - 2,
                  100 + 2 * CLEARANCE - 2)
    for a, b in itertools.pairwise(route):
        assert a[0] == b[0] or a[1] == b[1], "routed runs are horizontal or vertical"
        for t in range(21):
            point = QPointF(a[0] + (b[0] - a[0]) * t / 20, a[1] + (b[1] - a[1]) * t / 20)
            assert not wall.contains(point)


def test_layout_gives_a_skip_connection_a_lane_and_tolerates_cycles():
    design = Design()
    x = design.add("Input", shape=(4,))
    linear = design.add("Linear", x, out_features=4)
    hidden = design.add("ReLU", linear)
    design.add("Add", hidden, x)
    positions = layered_positions(design)
    assert positions == layered_positions(design), "the layout is deterministic"
    assert len({pos[0] for pos in positions.values()}) == 4, "one column per depth"
    assert positions[linear][1] != positions[x][1] and \
        positions[hidden][1] != positions[x][1], "the skip's row is left free beside the block"
    loop = Design()
    first = loop.add("ReLU")
    second = loop.add("ReLU", first)
    loop.connect(second, first)
    assert set(layered_positions(loop)) == {first, second}


def test_a_long_chain_is_folded_into_rows_only_where_one_wire_leaves_a_row():
    """An imported network's top level is a long chain: drawn in one row it frames too small to
    read, so it folds into rows like lines of text; a skip connection is never cut."""
    design = Design()
    h = design.add("Input", shape=(4,))
    for index in range(14):
        branch = design.add("Linear", h, out_features=4)
        h = design.add("Add", branch, h) if index == 6 else branch
    design.add("Output", h)
    positions = layered_positions(design)
    assert positions == layered_positions(design)
    rows = rows_of(positions)
    assert len(rows) > 1
    width = max(x for x, _ in positions.values()) + 148
    assert width < 3 * (max(rows) + 96)
    add = next(n for n in design.nodes() if design.node(n).type == "Add")
    for edge in design.inputs_of(add):  # the skip and its block stay in one row
        assert positions[edge.src][0] < positions[add][0]
        assert abs(positions[edge.src][1] - positions[add][1]) < 96
    wrapped = [e for e in design.edges() if positions[e.src][0] >= positions[e.dst][0]]
    assert len(wrapped) == len(rows_of(positions)) - 1, "one wire leaves each row but the last"


def rows_of(positions) -> list[float]:
    """The top of each row: a row starts where a card sits left of the one before it."""
    ordered = sorted(positions.values(), key=lambda p: (p[1], p[0]))
    tops = [ordered[0][1]]
    for (x, y), (px, _) in zip(ordered[1:], ordered, strict=False):
        if x < px and y - tops[-1] >= 96:
            tops.append(y)
    return tops
