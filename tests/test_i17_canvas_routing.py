"""Wire routing on the canvas runs in slices between the window's events (issue 17): the
event loop keeps turning while a large design's wires are routed, the routes that arrive are
the ones routing everything at once gives, and a wire moved while its search runs is routed
afresh instead of getting the stale route."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from designer.undo_commands import MoveNodes
from engine import Design, Edge
from engine.routing import Box, Wire, route_wires
from tests.test_canvas import open_canvas


def skips_over_rows(rows: int, length: int) -> Design:
    """Rows of Linear chains; each row's input also skips to an Add at the row's end, so
    every skip wire would run behind the row's cards and has to be routed around them."""
    design = Design()
    for row in range(rows):
        y = row * 260.0
        source = design.add("Input", shape=(8,), pos=(0, y))
        previous = source
        for column in range(length):
            previous = design.add("Linear", previous, out_features=8,
                                  pos=(220.0 * (column + 1), y))
        design.add("Add", previous, source, pos=(220.0 * (length + 1), y))
    return design


def routes_at_once(scene) -> dict[Edge, list]:
    """What engine.routing gives for the scene's cards and ports, all wires in one go."""
    boxes = {node_id: Box(item.x(), item.y(), item.width, item.height)
             for node_id, item in scene.nodes.items()}
    wires = []
    for edge in scene.edges:
        start = scene.nodes[edge.src].output_anchor(edge.out)
        end = scene.nodes[edge.dst].input_anchor(edge.port)
        wires.append(Wire(edge, edge.src, edge.dst, (start.x(), start.y()), (end.x(), end.y())))
    return route_wires(boxes, wires)


def test_routes_arrive_in_slices_while_the_event_loop_keeps_turning(qtbot):
    document, tabs = open_canvas(qtbot, Design())
    scene = tabs.current_view().network_scene()
    scene.router.slices.seconds = 0.0   # one step of routing per turn of the event loop
    ticks_while_routing = []
    ticker = QTimer()
    ticker.setInterval(0)
    ticker.timeout.connect(lambda: ticks_while_routing.append(1) if scene.router.pending
                           else None)
    ticker.start()
    document.replace_design(skips_over_rows(3, 6), None)   # as opening a file does
    assert scene.router.pending
    qtbot.waitUntil(lambda: not scene.router.pending)
    ticker.stop()
    assert len(ticks_while_routing) >= len(scene.edges)   # the loop turned between the slices
    routes = {edge: item.route for edge, item in scene.edges.items()}
    assert routes == routes_at_once(scene)
    assert sum(len(route) > 2 for route in routes.values()) == 3   # the skips went around


def test_a_wire_moved_while_its_search_runs_gets_no_stale_route(qtbot, monkeypatch):
    design = skips_over_rows(1, 8)
    document, tabs = open_canvas(qtbot, design)
    scene = tabs.current_view().network_scene()
    qtbot.waitUntil(lambda: not scene.router.pending)
    add = next(n for n in design.nodes() if design.node(n).type == "Add")
    skip = next(edge for edge in scene.edges if edge.dst == add and edge.port == 1)
    applied = []
    wire = scene.edges[skip]
    set_route = type(wire).set_route
    monkeypatch.setattr(type(wire), "set_route", lambda item, route: (
        applied.append(list(route)) if item is wire else None, set_route(item, route)))
    moved_again = []

    def move_while_searching() -> None:   # between two slices of the skip wire's search
        if scene.router.routing == skip and not moved_again:
            moved_again.append(design.node(add).pos)
            document.push(MoveNodes(design, {add: (design.node(add).pos[0] + 40, 0.0)}))
            applied.clear()   # what the wire is given from now on

    ticker = QTimer()
    ticker.setInterval(0)
    ticker.timeout.connect(move_while_searching)
    ticker.start()
    scene.router.slices.seconds = 0.0
    document.push(MoveNodes(design, {add: (design.node(add).pos[0] + 40, 0.0)}))
    qtbot.waitUntil(lambda: bool(moved_again) and not scene.router.pending)
    ticker.stop()
    end = scene.nodes[add].input_anchor(1)
    assert applied and all(route[-1] == (end.x(), end.y()) for route in applied)
    assert wire.route == routes_at_once(scene)[skip] and len(wire.route) > 2


def test_a_moved_cards_wires_are_routed_after_the_frame_that_shows_the_move(qtbot):
    """The router's first slice waits a frame: the turn that applies a move (or an edit's
    report) draws it without also paying for routing; the routes follow on later turns."""
    document, tabs = open_canvas(qtbot, skips_over_rows(1, 4))
    scene = tabs.current_view().network_scene()
    qtbot.waitUntil(lambda: not scene.router.pending)
    moved = next(n for n in document.design.nodes(document.network)
                 if document.design.node(n).type == "Linear")
    x, y = document.design.node(moved).pos
    document.push(MoveNodes(document.design, {moved: (x, y + 300.0)}))
    QApplication.processEvents()   # the turn that shows the move
    assert scene.nodes[moved].y() == y + 300.0
    assert scene.router.pending   # its wires wait for a later turn
    qtbot.waitUntil(lambda: not scene.router.pending)
    assert {edge: item.route for edge, item in scene.edges.items()} == routes_at_once(scene)
