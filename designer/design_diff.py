"""What an operation made of many Design edits changed, so one undo step can take it back and
redo it exactly (grouping into a block, ungrouping, adding a built-in block).

A snapshot holds every node (with its creation order), wire and block definition; going from
one snapshot to another makes only the edits between them, through the Design API, so every
view follows their events as it follows any edit. Nodes keep their ids both ways.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine import Design, Edge, Node
from engine.fields import Param


@dataclass(frozen=True)
class Snapshot:
    """A design's content, as far as edits can change it."""

    networks: tuple[str, ...]
    blocks: dict[str, tuple[Param, ...]]
    nodes: dict[str, tuple[Node, int]]       # id -> (node, creation order)
    edges: frozenset[Edge]

    @classmethod
    def of(cls, design: Design) -> Snapshot:
        scopes = [*design.blocks, *design.networks]
        return cls(tuple(design.networks),
                   {block: design.block_arguments(block) for block in design.blocks},
                   {n: (design.node(n), design.seq_of(n)) for scope in scopes
                    for n in design.nodes(scope)},
                   frozenset(e for scope in scopes for e in design.edges(scope)))


def _same_place(a: Node, b: Node) -> bool:
    """Can `a` become `b` by edits in place (not a move to another scope or block)?"""
    return (a.network, a.type, a.params.get("block")) == (b.network, b.type, b.params.get("block"))


def go(design: Design, now: Snapshot, wanted: Snapshot) -> None:
    """Edit `design`, which holds `now`, until it holds `wanted`."""
    for network in wanted.networks:
        if network not in now.networks:
            design.add_network(network)
    for block, arguments in wanted.blocks.items():
        if block not in now.blocks:
            design.add_block(block, arguments)
        elif now.blocks[block] != arguments:
            design.set_block_arguments(block, arguments)
    kept = {n for n, (node, _) in now.nodes.items()
            if n in wanted.nodes and _same_place(node, wanted.nodes[n][0])}
    # a wire survives only between nodes that stay where they are
    surviving = {e for e in now.edges & wanted.edges if e.src in kept and e.dst in kept}
    for edge in sorted(now.edges - wanted.edges, key=lambda e: (e.dst, e.port, e.src)):
        design.disconnect(edge.src, edge.dst, edge.port)
    for node_id in sorted(set(now.nodes) - kept, key=lambda n: -now.nodes[n][1]):
        design.remove(node_id)
    for node_id, (node, seq) in sorted(wanted.nodes.items(), key=lambda item: item[1][1]):
        if node_id not in kept:
            design.restore(node, seq=seq)
            continue
        current = design.node(node_id)
        changed = {k: v for k, v in node.params.items() if current.params.get(k) != v}
        if changed:
            design.set_params(node_id, **changed)
        if current.name != node.name:
            design.rename(node_id, node.name)
        if current.pos != node.pos:
            design.move(node_id, node.pos)
    for edge in sorted(wanted.edges - surviving, key=lambda e: (e.dst, e.port, e.src)):
        design.connect(edge.src, edge.dst, edge.port, edge.out)
    for block in now.blocks:
        if block not in wanted.blocks:
            design.remove_block(block)
    for network in now.networks:
        if network not in wanted.networks:
            design.remove_network(network)
