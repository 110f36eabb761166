"""Automatic layout: columns by depth from the inputs, so data flows left to right."""

from __future__ import annotations

import networkx as nx

from engine.design import DEFAULT_NETWORK, Design

COLUMN_WIDTH = 240.0
ROW_HEIGHT = 130.0


def layered_positions(design: Design, network: str = DEFAULT_NETWORK) -> dict[str, tuple[float, float]]:
    """Each node's position: column = longest path from an input, rows centred per column.

    Cycles (an unfinished edit) are tolerated: nodes on them fall back to creation order.
    """
    graph = nx.DiGraph(design.graph(network))
    order = design.nodes(network)
    rank = {n: i for i, n in enumerate(order)}
    depth: dict[str, int] = {}
    try:
        walk = list(nx.lexicographical_topological_sort(graph, key=rank.__getitem__))
    except nx.NetworkXUnfeasible:
        walk = order
    for node in walk:
        depth[node] = max((depth.get(p, 0) + 1 for p in graph.predecessors(node)), default=0)
    columns: dict[int, list[str]] = {}
    for node in walk:
        columns.setdefault(depth[node], []).append(node)
    positions = {}
    for column, nodes in columns.items():
        top = -(len(nodes) - 1) * ROW_HEIGHT / 2
        for row, node in enumerate(nodes):
            positions[node] = (column * COLUMN_WIDTH, top + row * ROW_HEIGHT)
    return positions


def apply_layout(design: Design, network: str = DEFAULT_NETWORK) -> None:
    """Move every node of a network to its layered position."""
    for node, pos in layered_positions(design, network).items():
        design.move(node, pos)
