"""Auto layout compared: the columns layout it replaced, grandalf + our router (what the app
uses), and Graphviz `dot` (only when its binary is installed; a pip install has none).

For the templates, an imported torchvision resnet50 and a 1000-node chain it prints, side by
side: layout time, edge crossings, wires passing through a card other than their own, and shape
labels overlapping a card (ports included) or another label. Cards have the canvas's default
size (engine.layout.DEFAULT_SIZE); label widths are estimated from their text.

    python benchmarks/layout.py
"""

from __future__ import annotations

import itertools
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `templates`: the package


from engine import Design
from engine.checking import check
from engine.graph import lexicographical_topological_sort
from engine.layers.base import format_shape
from engine.layout import DEFAULT_SIZE, layered_positions
from engine.routing import Box, BoxIndex, Point, Wire, curve_points, label_centre, route_wires
from templates import load_template, template_names

PORT_REACH = 9.5  # a port's circle sticks out of its card this far
LABEL_HEIGHT = 16.0
Layout = tuple[dict[str, tuple[float, float]], dict, dict]  # positions, paths, label centres


def label_width(text: str) -> float:
    return 6.2 * len(text) + 10


def ports(design: Design, network: str, positions) -> tuple[dict, dict]:
    size = DEFAULT_SIZE
    starts, ends = {}, {}
    for edge in design.edges(network):
        x, y = positions[edge.src]
        starts[edge] = (x + size.width, y + size.anchor)
        x, y = positions[edge.dst]
        ends[edge] = (x, y + size.anchor + 20 * edge.port)
    return starts, ends


def columns_before(design: Design, network: str, _labels) -> Layout:
    """The layout this replaced: column = longest path from an input, rows centred per column,
    every wire a plain curve with its label at the middle."""
    graph = design.graph(network)
    rank = {n: i for i, n in enumerate(design.nodes(network))}
    depth: dict[str, int] = {}
    for node in lexicographical_topological_sort(graph, rank.__getitem__):
        depth[node] = max((depth.get(p, 0) + 1 for p in graph.pred[node]), default=0)
    columns: dict[int, list[str]] = {}
    for node in rank:
        columns.setdefault(depth[node], []).append(node)
    positions = {}
    for column, nodes in columns.items():
        for row, node in enumerate(nodes):
            positions[node] = (column * 240.0, (row - (len(nodes) - 1) / 2) * 130.0)
    starts, ends = ports(design, network, positions)
    paths = {e: curve_points(starts[e], ends[e]) for e in starts}
    centres = {e: label_centre([starts[e], ends[e]]) for e in starts}
    return positions, paths, centres


def grandalf_routed(design: Design, network: str, labels) -> Layout:
    """What the app does: grandalf's layered layout, then engine.routing from positions."""
    widest = max((label_width(t) for t in labels.values()), default=0)
    positions = layered_positions(design, network, column_gap=max(96.0, widest + 48))
    starts, ends = ports(design, network, positions)
    boxes = card_boxes(positions)
    routes = route_wires(boxes, [Wire(e, e.src, e.dst, starts[e], ends[e]) for e in starts])
    paths = {e: curve_points(*r) if len(r) == 2 else r for e, r in routes.items()}
    return positions, paths, {e: label_centre(r) for e, r in routes.items()}


def graphviz_dot(design: Design, network: str, labels) -> Layout:
    """Graphviz dot, left to right, splines around nodes, labels placed by dot."""
    size = DEFAULT_SIZE
    names = {n: f"n{i}" for i, n in enumerate(design.nodes(network))}
    lines = ["digraph g { rankdir=LR; splines=spline; nodesep=0.4; ranksep=0.6;",
             (f"node [shape=box fixedsize=true width={size.width / 72} "
              f"height={size.height / 72}]; edge [fontsize=12];")]
    lines += [f"{names[n]};" for n in names]
    edges = design.edges(network)
    lines += [f'{names[e.src]} -> {names[e.dst]} [label="{labels[e]}"];' for e in edges]
    text = subprocess.run(["dot", "-Tplain"], input="\n".join(lines) + "}", text=True,
                          capture_output=True, check=True).stdout
    by_name = {v: k for k, v in names.items()}
    positions, paths, centres = {}, {}, {}
    remaining = list(edges)
    for row in text.splitlines():
        parts = shlex.split(row)
        if parts[0] == "node":
            x, y = float(parts[2]) * 72, -float(parts[3]) * 72
            positions[by_name[parts[1]]] = (x - size.width / 2, y - size.height / 2)
        elif parts[0] == "edge":
            src, dst, count = by_name[parts[1]], by_name[parts[2]], int(parts[3])
            edge = next(e for e in remaining if (e.src, e.dst) == (src, dst))
            remaining.remove(edge)
            coords = [float(v) * 72 for v in parts[4:4 + 2 * count]]
            controls = [(coords[i], -coords[i + 1]) for i in range(0, len(coords), 2)]
            paths[edge] = bezier_points(controls)
            label = parts[4 + 2 * count:4 + 2 * count + 3]
            centres[edge] = (float(label[1]) * 72, -float(label[2]) * 72)
    return positions, paths, centres


def bezier_points(controls: list[Point]) -> list[Point]:
    points = []
    for i in range(0, len(controls) - 1, 3):
        p0, p1, p2, p3 = controls[i:i + 4]
        for step in range(13):
            t = step / 12
            u = 1 - t
            points.append(tuple(u ** 3 * a + 3 * u * u * t * b + 3 * u * t * t * c + t ** 3 * d
                                for a, b, c, d in zip(p0, p1, p2, p3)))
    return points


def card_boxes(positions) -> dict[str, Box]:
    size = DEFAULT_SIZE
    return {n: Box(x, y, size.width, size.height) for n, (x, y) in positions.items()}


def quality(design: Design, network: str, layout: Layout, labels) -> tuple[int, int, int, int]:
    """Edge crossings, wires through other cards, labels on cards or ports, labels on labels."""
    positions, paths, centres = layout
    boxes = card_boxes(positions)
    index = BoxIndex(boxes)
    through = 0
    for edge, points in paths.items():
        near = index.near(span(points))
        if any(box.holds(p) for n, box in near.items() if n not in (edge.src, edge.dst)
               for p in points):
            through += 1
    rects = {e: Box(x - label_width(labels[e]) / 2, y - LABEL_HEIGHT / 2,
                    label_width(labels[e]), LABEL_HEIGHT) for e, (x, y) in centres.items()}
    with_ports = BoxIndex({n: b.grown(PORT_REACH) for n, b in boxes.items()})
    on_cards = sum(bool(with_ports.near(r)) for r in rects.values())
    on_labels = sum(a.meets(b) for a, b in pairs_near(list(rects.values())))
    crossings = 0
    segments = {e: list(itertools.pairwise(p)) for e, p in paths.items()}
    spans = {e: span(p) for e, p in paths.items()}
    for a, b in pairs_near(list(paths), key=spans.__getitem__):
        if {a.src, a.dst} & {b.src, b.dst}:
            continue
        crossings += any(cross(s, t) for s in segments[a] for t in segments[b])
    return crossings, through, on_cards, on_labels


def pairs_near(items: list, key: Callable = lambda item: item):
    """Pairs whose boxes overlap in x (a sweep, so a long chain is not quadratic)."""
    ordered = sorted(items, key=lambda item: key(item).x)
    for i, a in enumerate(ordered):
        for b in ordered[i + 1:]:
            if key(b).x > key(a).right:
                break
            if key(a).meets(key(b)):
                yield a, b


def span(points) -> Box:
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return Box(min(xs), min(ys), max(xs) - min(xs) + 1e-6, max(ys) - min(ys) + 1e-6)


def cross(s, t) -> bool:
    def side(a, b, c):
        return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
    (p, q), (r, u) = s, t
    return side(p, q, r) * side(p, q, u) < 0 and side(r, u, p) * side(r, u, q) < 0


def designs() -> list[tuple[str, Design]]:
    import torch
    import torchvision

    from engine.importing import import_module

    found = [(name, load_template(name)) for name in template_names()]
    resnet = import_module(torchvision.models.resnet50(weights=None), torch.randn(1, 3, 64, 64))
    found.append(("resnet50 (imported)", resnet))
    chain = Design("chain")
    previous = chain.add("Input", shape=(8,))
    for _ in range(998):
        previous = chain.add("ReLU", previous)
    chain.add("Output", previous)
    found.append(("chain of 1000", chain))
    return found


def main() -> None:
    methods = {"columns (before)": columns_before, "grandalf + router": grandalf_routed}
    if shutil.which("dot"):
        methods["graphviz dot"] = graphviz_dot
    print(f"{'design':<22}{'method':<20}{'nodes':>6}{'ms':>9}{'crossings':>11}"
          f"{'through cards':>15}{'labels on cards':>17}{'on labels':>11}")
    for name, design in designs():
        report = check(design)
        for network in design.networks:
            labels = {e: format_shape(report.info(e.src).shape) if report.info(e.src) else "?"
                      for e in design.edges(network)}
            title = name if len(design.networks) == 1 else f"{name}/{network}"
            for method, run in methods.items():
                start = time.perf_counter()
                layout = run(design, network, labels)
                elapsed = (time.perf_counter() - start) * 1000
                figures = quality(design, network, layout, labels)
                print(f"{title:<22}{method:<20}{len(design.nodes(network)):>6}{elapsed:>9.1f}"
                      + "".join(f"{v:>{w}}" for v, w in zip(figures, (11, 15, 17, 11))))


if __name__ == "__main__":
    main()
