"""Copy and paste of node sets through the system clipboard, so paste works between windows
and between NeuralCanvas processes.

The payload is a complete design document (the `.ncnet` JSON) holding only the copied nodes
and the edges among them. It goes on the clipboard under our own MIME type and as plain text,
and pasting validates it exactly as opening a file does, so a damaged or foreign payload gives
a clear message instead of a half-pasted graph.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from PySide6.QtCore import QMimeData, QPointF
from PySide6.QtGui import QGuiApplication

from designer.undo_commands import AddNodes
from engine import Design, DesignError, Edge, Node, __version__
from engine.fileformat import FORMAT_TAG, SCHEMA_VERSION, design_from_json

NODES_MIME = "application/x-neuralcanvas-nodes"
_SOURCE = "the clipboard"

Fit = Callable[[list[Node]], list[Node]]  # moves nodes about to be added (to a free spot)


def node_set_json(design: Design, node_ids: list[str]) -> str:
    """The chosen nodes of one network and the edges among them, as design-file JSON."""
    if not node_ids:
        raise DesignError("nothing is selected to copy")
    network = design.network_of(node_ids[0])
    chosen = set(node_ids)
    content = design.to_dict()["networks"][network]
    payload = {
        "format": FORMAT_TAG, "schema_version": SCHEMA_VERSION, "app_version": __version__,
        "name": design.name, "description": "",
        "networks": {network: {
            "nodes": [n for n in content["nodes"] if n["id"] in chosen],
            "edges": [e for e in content["edges"] if e["src"] in chosen and e["dst"] in chosen],
        }},
        "training": {},
    }
    return json.dumps(payload, indent=1, ensure_ascii=False, allow_nan=False)


def nodes_from_json(text: str) -> tuple[list[Node], list[Edge]]:
    """The nodes (in creation order) and edges of every network in a payload; DesignError if
    it is not a valid NeuralCanvas node set."""
    design = design_from_json(text, _SOURCE)
    nodes = [design.node(n) for network in design.networks for n in design.nodes(network)]
    edges = [e for network in design.networks for e in design.edges(network)]
    return nodes, edges


def copy_to_clipboard(design: Design, node_ids: list[str]) -> None:
    text = node_set_json(design, node_ids)
    data = QMimeData()
    data.setData(NODES_MIME, text.encode("utf-8"))
    data.setText(text)
    QGuiApplication.clipboard().setMimeData(data)


def clipboard_json() -> str | None:
    """The node-set JSON on the clipboard: our own format first, else text that looks like it."""
    data = QGuiApplication.clipboard().mimeData()
    if data is None:
        return None
    if data.hasFormat(NODES_MIME):
        return bytes(data.data(NODES_MIME)).decode("utf-8", errors="replace")
    text = data.text() if data.hasText() else ""
    return text if FORMAT_TAG in text else None


def paste_command(design: Design, network: str, text: str, top_left: QPointF,
                  label: str = "Paste", fit: Fit | None = None) -> AddNodes:
    """The undoable command adding a payload's nodes with their bounding box's top-left corner
    at `top_left` (then moved by `fit`); raises DesignError for an invalid payload."""
    nodes, edges = nodes_from_json(text)
    if not nodes:
        raise DesignError(f"{_SOURCE} holds no layers")
    moved = placed(nodes, top_left)
    return AddNodes(design, network, fit(moved) if fit else moved, edges,
                    _describe(label, nodes))


def duplicate_command(design: Design, node_ids: list[str], offset: QPointF,
                      fit: Fit | None = None) -> AddNodes:
    """Copies of the nodes and the edges among them, shifted by `offset` (then moved by
    `fit`), in their network."""
    ordered = sorted(node_ids, key=design.seq_of)
    chosen = set(ordered)
    nodes = [design.node(n) for n in ordered]
    edges = sorted({e for n in ordered for e in design.outputs_of(n) if e.dst in chosen},
                   key=lambda e: (e.dst, e.port))
    moved = [_moved(node, offset.x(), offset.y()) for node in nodes]
    if fit:
        moved = fit(moved)
    return AddNodes(design, design.network_of(ordered[0]), moved, edges,
                    _describe("Duplicate", nodes))


def placed(nodes: list[Node], top_left: QPointF) -> list[Node]:
    left = min(n.pos[0] for n in nodes)
    top = min(n.pos[1] for n in nodes)
    return [_moved(n, top_left.x() - left, top_left.y() - top) for n in nodes]


def _moved(node: Node, dx: float, dy: float) -> Node:
    return Node(node.id, node.type, node.name, node.params, (node.pos[0] + dx, node.pos[1] + dy),
                node.network)


def _describe(verb: str, nodes: list[Node]) -> str:
    return f"{verb} {nodes[0].name}" if len(nodes) == 1 else f"{verb} {len(nodes)} nodes"
