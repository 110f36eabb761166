"""Wire routing on large designs: the search looks only at the obstacles across each grid
column (engine.routing._spanning), so it must still never lead a wire through a card; and it
pauses now and then (engine.routing.route_steps), so an editor can spread it over short turns."""

import itertools
import random

from engine.routing import (
    Box,
    BoxIndex,
    Wire,
    _spanning,
    curve_hits_cards,
    curve_points,
    route_steps,
    route_wires,
)


def _rows_of_cards(rows: int, columns: int) -> dict[str, Box]:
    return {f"r{r}c{c}": Box(c * 200.0, r * 150.0, 120.0, 60.0)
            for r in range(rows) for c in range(columns)}


def _inside_a_card(point, boxes) -> bool:
    return any(box.holds(point) for box in boxes.values())


def test_long_wires_across_many_cards_never_pass_through_one():
    boxes = _rows_of_cards(6, 12)
    rng = random.Random(7)
    names = sorted(boxes)
    wires = []
    for key in range(40):
        src, dst = rng.sample(names, 2)
        a, b = boxes[src], boxes[dst]
        if a.x > b.x:
            src, dst, a, b = dst, src, b, a
        wires.append(Wire(key, src, dst, (a.right, a.y + 30.0), (b.x, b.y + 30.0)))
    routes = route_wires(boxes, wires)
    orthogonal = [route for route in routes.values() if len(route) > 2]
    assert orthogonal   # the layout forces detours
    for route in orthogonal:
        inner = route[1:-1]
        middles = [((p[0] + q[0]) / 2, (p[1] + q[1]) / 2) for p, q in itertools.pairwise(route)]
        assert not any(_inside_a_card(point, boxes) for point in inner + middles), route


def test_spanning_lists_exactly_the_boxes_whose_open_range_holds_each_x():
    rng = random.Random(3)
    boxes = [Box(rng.uniform(0, 500), 0.0, rng.uniform(1, 80), 10.0) for _ in range(60)]
    values = [rng.uniform(-10, 600) for _ in range(200)] + [box.x for box in boxes]
    found = _spanning(values, boxes)
    for x in values:
        assert sorted(map(id, found[x])) == sorted(id(b) for b in boxes if b.x < x < b.right)


def test_a_long_search_pauses_and_gives_the_route_routing_at_once_gives():
    boxes = _rows_of_cards(6, 12)
    wire = Wire("far", "r0c0", "r5c11", (boxes["r0c0"].right, 30.0),
                (boxes["r5c11"].x, boxes["r5c11"].y + 30.0))
    steps = route_steps(wire, BoxIndex(boxes))
    pauses = 0
    while True:
        try:
            next(steps)
            pauses += 1
        except StopIteration as done:
            route = done.value
            break
    assert pauses >= 2   # an editor can draw between the pieces of this search
    assert route == route_wires(boxes, [wire])["far"] and len(route) > 2


def test_the_curve_check_finds_exactly_the_wires_whose_samples_enter_a_card():
    boxes = _rows_of_cards(4, 30)   # long wires: their curves are checked piece by piece
    index = BoxIndex(boxes)
    rng = random.Random(11)
    for _ in range(60):
        start = (rng.uniform(-100, 6000), rng.uniform(-50, 600))
        wire = Wire(0, "a", "b", start, (start[0] + rng.uniform(-300, 6000),
                                         start[1] + rng.uniform(-300, 300)))
        inner = curve_points(wire.start, wire.end)[1:-1]
        expected = any(box.holds(point) for point in inner for box in boxes.values())
        assert curve_hits_cards(wire, index) == expected
