"""Wire routes recomputed from node positions: a wire whose plain curve would pass behind a
card is routed around the cards instead.

A wire leaves its source's output port to the right and enters its destination's input port
from the left. When the plain S-curve between the two ports is clear of every card it stays a
curve; otherwise the wire becomes an orthogonal path found by A* on a sparse grid whose lines
are the cards' outlines (kept `CLEARANCE` away) and the middles between them, so it runs in
the free lanes between cards. Routes depend only on where the cards are, so nothing about them
is saved: a loaded design gets the same routes, and a moved card re-routes its own wires.

A search can take a while on a large design, so each wire's routing is a generator
(`route_steps`) that pauses every few hundred steps of the search: an editor runs it in short
slices between the events of its window, and drops it when the wire moved meanwhile.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import math
from collections.abc import Generator, Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TypeVar

Point = tuple[float, float]

CLEARANCE = 12.0  # how far a routed wire keeps from every card
LANE_OFFSET = 36.0  # how far a lane keeps from cards when there is room; closer costs more
STUB = 16.0  # the straight piece a routed wire runs out of and into its ports
_BEND_COST = 60.0  # a bend costs as much as this many units of length
_PORT_ROW_COST = 0.6  # extra cost per unit run along a port's row (where the plain wires are)
_CRAMPED_COST = 1.0  # extra cost per unit run hugging a card, at CLEARANCE (less when further)
_MIN_CURVE_REACH = 40.0  # the S-curve's horizontal tangent length, at least
_CELL = 256.0  # the box index's cell size
_PAUSE_EVERY = 20  # search steps between two pauses (a step on a large design: up to 1 ms)

_SAMPLES_PER_PAUSE = 2000  # samples of a plain curve tested between two pauses
Steps = Generator[None, None, "list[Point]"]  # pauses (None), then returns the route
_Result = TypeVar("_Result")


@dataclass(frozen=True)
class Box:
    """A card's rectangle in scene coordinates."""

    x: float
    y: float
    width: float
    height: float

    @property
    def right(self) -> float:
        return self.x + self.width

    @property
    def bottom(self) -> float:
        return self.y + self.height

    def grown(self, margin: float) -> Box:
        return Box(self.x - margin, self.y - margin, self.width + 2 * margin,
                   self.height + 2 * margin)

    def holds(self, point: Point) -> bool:
        """Strictly inside (a point on the outline is outside)."""
        return self.x < point[0] < self.right and self.y < point[1] < self.bottom

    def meets(self, other: Box) -> bool:
        return (self.x < other.right and other.x < self.right and self.y < other.bottom
                and other.y < self.bottom)


@dataclass(frozen=True)
class Wire:
    """One wire to route: its key (the caller's), its end nodes and its port positions."""

    key: Hashable
    src: str
    dst: str
    start: Point
    end: Point


def curve_controls(start: Point, end: Point) -> tuple[Point, Point]:
    """The two control points of the plain wire: a cubic that leaves `start` and enters `end`
    horizontally (also when `end` is left of `start`)."""
    reach = max(abs(end[0] - start[0]) * 0.5, _MIN_CURVE_REACH)
    return (start[0] + reach, start[1]), (end[0] - reach, end[1])


def curve_points(start: Point, end: Point) -> list[Point]:
    """The plain wire sampled densely enough that no card can sit between two samples."""
    return [point for chunk in _curve_chunks(start, end) for point in chunk]


def _curve_chunks(start: Point, end: Point) -> Iterator[list[Point]]:
    """curve_points in pieces of _SAMPLES_PER_PAUSE (a wire across a large design has tens of
    thousands of samples)."""
    (c1x, c1y), (c2x, c2y) = curve_controls(start, end)
    length = abs(end[0] - start[0]) + abs(end[1] - start[1]) + 2 * abs(c1x - start[0])
    count = max(16, int(length / 12))
    for first in range(0, count + 1, _SAMPLES_PER_PAUSE):
        points = []
        for i in range(first, min(first + _SAMPLES_PER_PAUSE, count + 1)):
            t = i / count
            u = 1 - t
            a, b, c, d = u * u * u, 3 * u * u * t, 3 * u * t * t, t * t * t
            points.append((a * start[0] + b * c1x + c * c2x + d * end[0],
                           a * start[1] + b * c1y + c * c2y + d * end[1]))
        yield points


def label_centre(route: list[Point]) -> Point:
    """Where a wire's shape label goes: the middle of a plain wire, or the middle of a routed
    wire's longest horizontal run (a lane between cards, away from every port)."""
    if len(route) == 2:
        (x0, y0), (x1, y1) = route
        return (x0 + x1) / 2, (y0 + y1) / 2
    runs = [(abs(b[0] - a[0]), a, b) for a, b in itertools.pairwise(route) if a[1] == b[1]]
    _, a, b = max(runs, key=lambda run: run[0])
    return (a[0] + b[0]) / 2, a[1]


class BoxIndex:
    """Cards bucketed by a coarse grid, so a wire only looks at the cards near it."""

    def __init__(self, boxes: Mapping[str, Box]) -> None:
        self.boxes: dict[str, Box] = {}
        self._cells: dict[tuple[int, int], list[str]] = {}
        for node, box in boxes.items():
            self.place(node, box)

    def place(self, node: str, box: Box) -> None:
        """Put the card at `box` (moved or resized: only its own cells change, so an editor
        keeps one index while cards move instead of rebuilding it)."""
        if self.boxes.get(node) == box:
            return
        self.remove(node)
        self.boxes[node] = box
        for cell in _cells(box):
            self._cells.setdefault(cell, []).append(node)

    def remove(self, node: str) -> None:
        box = self.boxes.pop(node, None)
        if box is None:
            return
        for cell in _cells(box):
            self._cells[cell].remove(node)

    def near(self, area: Box) -> dict[str, Box]:
        found: dict[str, Box] = {}
        for cell in _cells(area):
            for node in self._cells.get(cell, ()):
                if node not in found and self.boxes[node].meets(area):
                    found[node] = self.boxes[node]
        return found


def _cells(box: Box) -> Iterable[tuple[int, int]]:
    for i in range(math.floor(box.x / _CELL), math.floor(box.right / _CELL) + 1):
        for j in range(math.floor(box.y / _CELL), math.floor(box.bottom / _CELL) + 1):
            yield i, j


def route_wires(boxes: Mapping[str, Box], wires: Iterable[Wire],
                index: BoxIndex | None = None) -> dict[Hashable, list[Point]]:
    """Each wire's route: [start, end] for a plain curve, else the corner points of an
    orthogonal path from start to end. A wire no path can take stays a plain curve."""
    index = index or BoxIndex(boxes)
    return {wire.key: finish(route_steps(wire, index)) for wire in wires}


def route_steps(wire: Wire, index: BoxIndex) -> Steps:
    """The routing of one wire (as route_wires does it) as a generator that pauses now and
    then during a long search and returns the route, so a caller can spread it over short
    turns or stop it."""
    plain = [wire.start, wire.end]
    if not (yield from _curve_hits(wire, index)):
        return plain
    return (yield from _orthogonal_route(wire, index)) or plain


def finish(steps: Generator[None, None, _Result]) -> _Result:
    """Run a wire's routing (or any of its pausing parts) to the end at once."""
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value


def curve_hits_cards(wire: Wire, index: BoxIndex) -> bool:
    """Whether the plain curve passes through a card (its own cards' outlines excepted)."""
    return finish(_curve_hits(wire, index))


def _curve_hits(wire: Wire, index: BoxIndex) -> Generator[None, None, bool]:
    """curve_hits_cards, pausing after each piece of the curve. Each card near a piece looks
    only at the piece's samples within its x-range (sorted by x), so a long wire across a
    large design costs samples plus cards, not their product."""
    chunks = list(_curve_chunks(wire.start, wire.end))
    chunks[0], chunks[-1] = chunks[0][1:], chunks[-1][:-1]   # the ends sit on their cards
    for chunk in chunks:
        inner = sorted(chunk)
        inner_xs = [p[0] for p in inner]
        if inner:
            area = _span(inner[0], inner[-1], min(inner, key=lambda p: p[1]),
                         max(inner, key=lambda p: p[1]))
            for card in index.near(area).values():
                within = inner[bisect.bisect_right(inner_xs, card.x):
                               bisect.bisect_left(inner_xs, card.right)]
                if any(card.y < y < card.bottom for _, y in within):
                    return True
        yield
    return False


def _orthogonal_route(wire: Wire,
                      index: BoxIndex) -> Generator[None, None, list[Point] | None]:
    first = (wire.start[0] + STUB, wire.start[1])
    last = (wire.end[0] - STUB, wire.end[1])
    span = _span(wire.start, wire.end, first, last).grown(CLEARANCE)
    around = _span(*[p for box in index.near(span).values()
                     for p in ((box.x, box.y), (box.right, box.bottom))],
                   (span.x, span.y), (span.right, span.bottom)).grown(3 * CLEARANCE)
    cards = list(index.near(around).values())
    xs = sorted({first[0], last[0], around.x, around.right,
                 *(v for c in cards for v in (c.x - CLEARANCE, c.right + CLEARANCE))})
    ys = _with_middles(sorted({first[1], last[1], around.y, around.bottom, *(
        v for c in cards for v in (c.y - CLEARANCE, c.bottom + CLEARANCE,
                                   c.y - LANE_OFFSET, c.bottom + LANE_OFFSET))}))
    yield   # the grid of a long wire across a large design takes a while to make
    path = yield from _search(xs, ys, first, last, cards, {first[1], last[1]})
    if path is None:
        return None
    return _simplified([wire.start, *path, wire.end])


def _span(*points: Point) -> Box:
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return Box(min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))


def _with_middles(values: list[float]) -> list[float]:
    """The grid lines plus one midway between each neighbouring pair: lanes run centred."""
    middles = [(a + b) / 2 for a, b in itertools.pairwise(values)]
    return sorted({*values, *middles})


def _search(xs: list[float], ys: list[float], first: Point, last: Point, cards: list[Box],
            port_rows: set[float]) -> Generator[None, None, list[Point] | None]:
    """A* over grid points (column, row, heading); the cost counts length, bends, runs along
    port rows and runs close to cards. Returns the corner points from `first` to `last`,
    pausing every _PAUSE_EVERY steps."""
    col, row = {x: i for i, x in enumerate(xs)}, {y: j for j, y in enumerate(ys)}
    obstacles = [card.grown(CLEARANCE) for card in cards]
    start, goal = (col[first[0]], row[first[1]]), (col[last[0]], row[last[1]])
    # Every point the search tests lies on a grid column or midway between two: the
    # obstacles whose open x-range holds each such x, found once instead of at every step.
    across = _spanning(xs + [(a + b) / 2 for a, b in itertools.pairwise(xs)], obstacles)
    yield
    beside: dict[tuple[float, float], list[Box]] = {}   # cards beside a horizontal run

    def free(a: Point, b: Point) -> bool:
        middle = ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
        return b == last or not (any(o.holds(middle) for o in across[middle[0]])
                                 or any(o.holds(b) for o in across[b[0]]))

    def estimate(i: int, j: int) -> float:
        return abs(xs[i] - last[0]) + abs(ys[j] - last[1])

    horizontal, vertical = 0, 1
    counter = itertools.count()
    queue = [(estimate(*start), next(counter), 0.0, start, horizontal)]
    came: dict[tuple[tuple[int, int], int], tuple[tuple[int, int], int] | None] = {
        (start, horizontal): None}
    best = {(start, horizontal): 0.0}
    for popped in itertools.count(1):
        if not queue:
            return None
        if popped % _PAUSE_EVERY == 0:
            yield
        _, _, cost, (i, j), heading = heapq.heappop(queue)
        if cost > best.get(((i, j), heading), math.inf):
            continue
        if (i, j) == goal:
            if heading == horizontal:
                return _unwind(came, (goal, heading), xs, ys)
            turned = cost + _BEND_COST  # the wire must enter its port horizontally
            if turned < best.get((goal, horizontal), math.inf):
                best[(goal, horizontal)] = turned
                came[(goal, horizontal)] = came[(goal, vertical)]
                heapq.heappush(queue, (turned, next(counter), turned, goal, horizontal))
            continue
        for di, dj in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            ni, nj = i + di, j + dj
            if not (0 <= ni < len(xs) and 0 <= nj < len(ys)):
                continue
            here, there = (xs[i], ys[j]), (xs[ni], ys[nj])
            if not free(here, there):
                continue
            step = abs(there[0] - here[0]) + abs(there[1] - here[1])
            move = horizontal if dj == 0 else vertical
            if move == horizontal:
                run = (min(here[0], there[0]), max(here[0], there[0]))
                if run not in beside:
                    beside[run] = [c for c in cards if c.x < run[1] and run[0] < c.right]
                step *= 1 + _run_penalty(here[1], beside[run], port_rows)
            total = cost + step + (_BEND_COST if move != heading else 0.0)
            state = ((ni, nj), move)
            if total < best.get(state, math.inf):
                best[state] = total
                came[state] = ((i, j), heading)
                heapq.heappush(queue, (total + estimate(ni, nj), next(counter), total,
                                       (ni, nj), move))


def _spanning(values: list[float], boxes: list[Box]) -> dict[float, list[Box]]:
    """For each x in `values`, the boxes whose open x-range holds it (sweeping both sorted)."""
    order = sorted(boxes, key=lambda box: box.x)
    found: dict[float, list[Box]] = {}
    active: list[Box] = []
    entered = 0
    for x in sorted(set(values)):
        arriving = entered
        while entered < len(order) and order[entered].x < x:
            entered += 1
        active = [box for box in active + order[arriving:entered] if x < box.right]
        found[x] = active
    return found


def _run_penalty(y: float, beside: list[Box], port_rows: set[float]) -> float:
    """The extra cost per unit of a horizontal run at height `y`: on a port row, or cramped
    beside one of the cards `beside` it (those overlapping the run's x-range)."""
    gaps = [max(card.y - y, y - card.bottom) for card in beside]
    clearance = min(gaps, default=LANE_OFFSET)
    cramped = max(0.0, LANE_OFFSET - clearance) / (LANE_OFFSET - CLEARANCE)
    return _CRAMPED_COST * min(cramped, 1.0) + (_PORT_ROW_COST if y in port_rows else 0.0)


def _unwind(came, state, xs: list[float], ys: list[float]) -> list[Point]:
    points = []
    while state is not None:
        (i, j), _ = state
        points.append((xs[i], ys[j]))
        state = came[state]
    return points[::-1]


def _simplified(points: list[Point]) -> list[Point]:
    """Drop repeated points and the middle one of three on a line."""
    kept: list[Point] = []
    for point in points:
        if kept and point == kept[-1]:
            continue
        if len(kept) >= 2 and (kept[-2][0] == kept[-1][0] == point[0]
                               or kept[-2][1] == kept[-1][1] == point[1]):
            kept[-1] = point
            continue
        kept.append(point)
    return kept
