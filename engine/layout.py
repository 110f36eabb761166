"""Automatic layout: a layered (Sugiyama) drawing from left to right, computed by grandalf.

Layers are columns; grandalf orders each column to reduce crossings and gives every edge that
skips columns a slot of its own in the columns it passes (a "dummy" vertex), so a skip
connection gets a free lane beside the layers it jumps over instead of running behind them.
Only positions come out of here: the wires' routes are recomputed from positions
(engine.routing), so a saved design needs nothing more than its node positions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.design import DEFAULT_NETWORK, Design
from engine.graph import MultiDiGraph, dfs_postorder_nodes

if TYPE_CHECKING:   # grandalf (and the numpy it imports) loads when a layout is computed,
    # not with the canvas that names these sizes at start-up
    from grandalf.graphs import Edge as LayoutEdge

COLUMN_GAP = 96.0  # room between columns for a wire's bend and its shape label
ROW_GAP = 30.0  # room between the cards of one column
LANE_WIDTH = 16.0  # the free slot a skipping edge gets in each column it passes
COMPONENT_GAP = 60.0  # between unconnected parts of a network
ROW_BREAK_GAP = 70.0  # between the rows a long drawing is folded into
WIDEST_ASPECT = 3.0  # a part wider than this (width / height) is folded into rows...
FOLDED_ASPECT = 1.8  # ...as many as bring it nearest this, as a canvas window is shaped
_ORDERING_ROUNDS = 2  # crossing-reduction sweeps; more rarely helps networks this regular


@dataclass(frozen=True)
class NodeSize:
    """A card's extent; `anchor` is the distance from its top to its first ports' row, the line
    along which wires between cards of one row run straight."""

    width: float
    height: float
    anchor: float


# The canvas card (designer/canvas/style.py) with three body lines; the canvas passes exact sizes.
DEFAULT_SIZE = NodeSize(width=148.0, height=96.0, anchor=43.0)
# Column pitch and row pitch of the default card, for pictures drawn at layout scale.
COLUMN_WIDTH = DEFAULT_SIZE.width + COLUMN_GAP
ROW_HEIGHT = DEFAULT_SIZE.height + ROW_GAP


class _Box:
    """grandalf's view of a vertex. grandalf lays out top to bottom; we turn its drawing a
    quarter turn, so its `w` (across a layer) is our height and its `h` our width."""

    def __init__(self, size: NodeSize) -> None:
        self.w = 2 * max(size.anchor, size.height - size.anchor)  # symmetric about the anchor
        self.h = size.width
        self.xy = (0.0, 0.0)


def layered_positions(design: Design, network: str = DEFAULT_NETWORK,
                      sizes: Mapping[str, NodeSize] | None = None,
                      column_gap: float = COLUMN_GAP) -> dict[str, tuple[float, float]]:
    """Each node's top-left corner: data flows left to right in columns, unconnected parts of
    the network are stacked top to bottom in creation order, and a part far wider than it is
    tall (a long chain: an imported network's top level) is folded into rows.

    `sizes` gives the cards' extents (DEFAULT_SIZE for those missing); `column_gap` the room
    between columns, which the canvas widens to fit its widest shape label. Cycles (an
    unfinished edit) are tolerated: grandalf lays them out with one edge reversed.
    """
    from grandalf.graphs import Edge as LayoutEdge
    from grandalf.graphs import Graph, Vertex

    order = design.nodes(network)
    size_of = {n: (sizes or {}).get(n, DEFAULT_SIZE) for n in order}
    vertices = {n: Vertex(n) for n in order}
    for node, vertex in vertices.items():
        vertex.view = _Box(size_of[node])
    pairs = dict.fromkeys((e.src, e.dst) for e in design.edges(network) if e.src != e.dst)
    edges = {pair: LayoutEdge(vertices[pair[0]], vertices[pair[1]]) for pair in pairs}
    graph = Graph(list(vertices.values()), list(edges.values()))
    reversed_edges = [edges[pair] for pair in _feedback_pairs(order, pairs)]
    rank = {n: i for i, n in enumerate(order)}
    parts = sorted(graph.C, key=lambda part: min(rank[v.data] for v in part.sV))
    positions: dict[str, tuple[float, float]] = {}
    top = 0.0
    for part in parts:
        placed = _fold(_place_component(part, rank, size_of, column_gap, reversed_edges),
                       size_of, pairs)
        upper = min(y for _, y in placed.values())
        lower = max(y + size_of[n].height for n, (_, y) in placed.items())
        for node, (x, y) in placed.items():
            positions[node] = (x, round(y - upper + top))
        top += lower - upper + COMPONENT_GAP
    return positions


def _feedback_pairs(order: list[str], pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Edges to reverse so the graph has no cycle: those pointing backwards in a depth-first
    order. (grandalf finds them itself, but recursively: a long chain overflows the stack.)"""
    graph = MultiDiGraph()
    for a, b in pairs:
        graph.add_edge(a, b, key=0)   # a pair given twice is one edge
    for node in order:
        graph.add_node(node)
    position = {n: i for i, n in enumerate(reversed(dfs_postorder_nodes(graph)))}
    return [(a, b) for a, b in graph.edges() if position[a] > position[b]]


def _place_component(part, rank: Mapping[str, int], size_of: Mapping[str, NodeSize],
                     column_gap: float,
                     reversed_edges: list[LayoutEdge]) -> dict[str, tuple[float, float]]:
    """Top-left corners of one connected part, from grandalf's centres (turned a quarter)."""
    from grandalf.layouts import SugiyamaLayout

    layout = SugiyamaLayout(part)
    layout.xspace, layout.yspace = ROW_GAP, column_gap
    layout.dw, layout.dh = LANE_WIDTH, 1.0  # what each dummy (a lane) takes in a column
    vertices = sorted(part.sV, key=lambda v: rank[v.data])
    roots = [v for v in vertices if not v.e_in()] or vertices[:1]
    layout.init_all(roots=roots, inverted_edges=[e for e in reversed_edges if e in part.sE])
    layout.draw(_ORDERING_ROUNDS)
    placed = {}
    for vertex in vertices:
        across, along = vertex.view.xy
        size = size_of[vertex.data]
        placed[vertex.data] = (round(along - size.width / 2), across - size.anchor)
    return placed


def _fold(placed: dict[str, tuple[float, float]], size_of: Mapping[str, NodeSize],
          pairs: Iterable[tuple[str, str]]) -> dict[str, tuple[float, float]]:
    """`placed` folded into rows, like lines of text, when it is much wider than tall. A row
    ends only where a single wire leaves it, so folding never tangles a branch or a skip."""
    columns = sorted({x for x, _ in placed.values()})
    column_of = {node: columns.index(x) for node, (x, _) in placed.items()}
    width = max(x + size_of[n].width for n, (x, _) in placed.items()) - columns[0]
    height = (max(y + size_of[n].height for n, (_, y) in placed.items())
              - min(y for _, y in placed.values()))
    if width <= WIDEST_ASPECT * height:
        return placed
    crossing = [0] * len(columns)
    for a, b in pairs:
        if a in column_of and b in column_of:
            low, high = sorted((column_of[a], column_of[b]))
            for boundary in range(low, high):
                crossing[boundary] += 1
    candidates = [k for k in range(len(columns) - 1) if crossing[k] == 1]
    rows = min(range(1, len(candidates) + 2), key=lambda r: abs(
        (width / r) / (r * height + (r - 1) * ROW_BREAK_GAP) - FOLDED_ASPECT))
    cuts: list[int] = []
    for row in range(1, rows):  # the candidate nearest each even share of the width
        wanted = columns[0] + row * width / rows
        free = [k for k in candidates if not cuts or k > cuts[-1]]
        if free:
            cuts.append(min(free, key=lambda k: abs(columns[k + 1] - wanted)))
    row_of = {column: sum(column > cut for cut in cuts) for column in range(len(columns))}
    starts = [columns[0], *(columns[cut + 1] for cut in cuts)]
    folded: dict[str, tuple[float, float]] = {}
    top = min(y for _, y in placed.values())
    for row in range(len(starts)):
        members = [n for n in placed if row_of[column_of[n]] == row]
        upper = min(placed[n][1] for n in members)
        for node in members:
            x, y = placed[node]
            folded[node] = (x - starts[row] + columns[0], round(y - upper + top))
        top += max(placed[n][1] + size_of[n].height for n in members) - upper + ROW_BREAK_GAP
    return folded


def apply_layout(design: Design, network: str = DEFAULT_NETWORK) -> None:
    """Move every node of a network to its layered position."""
    for node, pos in layered_positions(design, network).items():
        design.move(node, pos)
