"""Gradient flow on the wires: which order of magnitude of gradient flows back along each edge.

The run measures the gradient norm of each layer's parameters (engine.training.diagnostics,
the `Gradients` messages the heat strip draws). The gradient that flows back along a wire
src -> dst is what reaches src's output, so a wire takes the norm of src, or of the nearest
layer with parameters before it (an activation or a pooling passes the gradient on to it);
wires before the first such layer take the first one's. Colours go by decade, on a fixed
scale from the run's vanishing bound to its exploding bound, so epochs compare at a glance.
No Qt here but colours as hex strings.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from typing import TYPE_CHECKING

from engine import Design, Edge
from engine.graph import CycleError, topological_sort
from engine.training.settings import DiagnosticsSettings

if TYPE_CHECKING:   # the window's first paint does not wait for numpy
    import numpy as np

LOWEST = round(math.log10(DiagnosticsSettings().vanishing))   # -7: vanishing below this
HIGHEST = round(math.log10(DiagnosticsSettings().exploding))  # 3: exploding above this
# (position 0-1 along the decades, RGB): blue where gradients vanish, red where they explode
STOPS = ((0.0, (49, 54, 149)), (0.3, (69, 117, 180)), (0.5, (26, 152, 80)),
         (0.75, (244, 140, 30)), (1.0, (215, 25, 28)))


def node_norms(layers: list[dict], column: np.ndarray, network: str) -> dict[str, float]:
    """Each node's gradient norm in one report (a column of the live GradientHistory): the
    norm over all its layers (a block node holds several)."""
    squares: dict[str, float] = {}
    for layer, norm in zip(layers, column):
        if layer["network"] == network and math.isfinite(norm):
            squares[layer["node"]] = squares.get(layer["node"], 0.0) + float(norm) ** 2
    return {node: math.sqrt(total) for node, total in squares.items()}


def edge_norms(design: Design, network: str, norms: dict[str, float]) -> dict[Edge, float]:
    """The norm each edge of `network` carries (see the module's docstring); edges with no
    measured layer before or after them are left out."""
    edges = design.edges(network)
    carried: dict[str, float] = {}
    order = _in_order(design, network)
    for node in order:
        if node in norms:
            carried[node] = norms[node]
            continue
        before = [carried[edge.src] for edge in edges if edge.dst == node and edge.src in carried]
        if before:
            carried[node] = max(before)
    first = next((norms[node] for node in order if node in norms), None)
    found = {edge: carried.get(edge.src, first) for edge in edges}
    return {edge: norm for edge, norm in found.items() if norm is not None}


def _in_order(design: Design, network: str) -> list[str]:
    """The nodes, each after those feeding it (as made, where wires form a loop)."""
    try:
        return topological_sort(design.graph(network))
    except CycleError:
        return design.nodes(network)


def decade(norm: float) -> int:
    """The order of magnitude shown: floor(log10), held within the scale's ends."""
    if norm <= 0:
        return LOWEST
    return min(max(math.floor(math.log10(norm)), LOWEST), HIGHEST)


def decade_colour(value: int) -> str:
    """'#rrggbb' for a decade of the scale."""
    position = min(max((value - LOWEST) / (HIGHEST - LOWEST), 0.0), 1.0)
    (low, below), (high, above) = next(pair for pair in itertools.pairwise(STOPS)
                                       if position <= pair[1][0])
    rgb = [round((b - a) / (high - low) * (position - low) + a) for a, b in zip(below, above)]
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def decade_label(value: int) -> str:
    """'1e-3', with the ends marked as open ('≤1e-7', '≥1e3')."""
    text = f"1e{value}"
    if value == LOWEST:
        return f"\u2264{text} (vanishing)"
    if value == HIGHEST:
        return f"\u2265{text} (exploding)"
    return text


def legend_decades(norms: Iterable[float]) -> list[int]:
    """The decades from the smallest to the largest norm shown, highest first."""
    found = [decade(norm) for norm in norms]
    return list(range(max(found), min(found) - 1, -1)) if found else []
