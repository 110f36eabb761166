"""What lets a check after one edit redo only what the edit changed.

Two kinds of memory, both unable to go stale:

- `layout_of`: what a scope's wiring alone decides (creation order, each node's incoming
  wires, the topological order, cycles), kept by the wiring itself, so a parameter edit
  reuses it and any rewiring makes a new one.
- `memo_for`: per Design object and per walk (scope, chain of blocks, tensors fed, argument
  values, folder), each node's last result together with everything it was made from. A result
  is used again only when all of that compares equal to the node now: the node id finds the
  entry, the content decides whether it still holds.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

from engine.graph import (
    MultiDiGraph,
    lexicographical_topological_sort,
    strongly_connected_components,
)
from engine.recent_cache import RecentCache

Result = TypeVar("Result")
# The editor checks on its GUI thread and while writing code on another. Re-entrant: a
# collection that an allocation under the lock sets off may drop a design, whose weakref
# callback (_forget) takes the lock again on the same thread (a plain Lock hung there).
_LOCK = threading.RLock()
Wire = tuple[int, str, int]  # (input port, source node, source output)


@dataclass(frozen=True)
class Layout:
    """The parts of a scope's check that depend on its wiring only."""

    nodes: tuple[str, ...]                  # creation order
    wires_in: dict[str, tuple[Wire, ...]]   # per node, by (port, source)
    order: tuple[str, ...]                  # topological, ties by creation; cycles left out
    cycle: frozenset[str]                   # nodes in a cycle (a wire onto itself included)
    used: frozenset[str]                    # nodes whose output feeds another node
    # every wire as (source, destination, port, out), by destination's creation, then port
    edges: tuple[tuple[str, str, int, int], ...]


@dataclass(frozen=True)
class _Wiring:
    """A graph's nodes with their creation numbers and its wires, as they were when `layout`
    was worked out (copies, so that later edits cannot change them)."""

    seqs: dict[str, int]
    wires: dict[str, dict[str, dict[int, dict[str, Any]]]]
    layout: Layout


_WIRINGS: weakref.WeakKeyDictionary[MultiDiGraph, _Wiring] = weakref.WeakKeyDictionary()


def layout_of(graph: MultiDiGraph) -> Layout:
    """The graph's Layout, worked out again only when its nodes or wires change. The graph's
    adjacency (`succ`: source -> destination -> port -> wire attributes) is compared with a
    copy in one comparison of plain dicts, far cheaper than listing the wires on every
    check."""
    seqs = dict(graph.nodes(data="seq"))
    with _LOCK:
        kept = _WIRINGS.get(graph)
    if kept is not None and kept.seqs == seqs and kept.wires == graph.succ:
        return kept.layout
    wires = {src: {dst: {port: dict(attributes) for port, attributes in ports.items()}
                   for dst, ports in targets.items()} for src, targets in graph.succ.items()}
    kept = _Wiring(seqs, wires, _layout(graph, seqs))
    with _LOCK:
        _WIRINGS[graph] = kept
    return kept.layout


def _layout(graph: MultiDiGraph, seqs: dict[str, int]) -> Layout:
    nodes = tuple(sorted(seqs, key=seqs.__getitem__))
    incoming: dict[str, list[Wire]] = {node: [] for node in nodes}
    for src, dst, port, out in graph.edges(keys=True, data="out"):
        incoming[dst].append((port, src, out))
    wires_in = {node: tuple(sorted(wires, key=lambda w: (w[0], w[1])))
                for node, wires in incoming.items()}
    cycle = frozenset({n for component in strongly_connected_components(graph)
                       if len(component) > 1 for n in component}
                      | {dst for dst in nodes for _, src, _ in wires_in[dst] if src == dst})
    # ties broken by creation order, so the report does not depend on the order wires were
    # drawn in (a saved and reopened design lists its problems in the same order)
    order = tuple(lexicographical_topological_sort(
        graph, seqs.__getitem__, among=[n for n in nodes if n not in cycle] if cycle else None))
    return Layout(nodes, wires_in, order, cycle,
                  frozenset(src for wires in wires_in.values() for _, src, _ in wires),
                  tuple((src, dst, port, out) for dst in nodes for port, src, out in wires_in[dst]))


class WalkMemo:
    """One walk's last result per node and step, each beside what it was made from."""

    def __init__(self) -> None:
        self._entries: dict[Hashable, tuple[tuple, Any]] = {}

    def get(self, key: Hashable, made_from: tuple, make: Callable[..., Result],
            *arguments: Any) -> Result:
        """The result kept for `key` if it was made from what equals `made_from` (which must
        hold no object that changes later: copy mutable parts), else `make(*arguments)`,
        kept."""
        entry = self._entries.get(key)
        if entry is not None and entry[0] == made_from:
            return entry[1]
        result = make(*arguments)
        self._entries[key] = (made_from, result)
        return result


WALKS_PER_DESIGN = 256  # definitions and their distinct uses; each one's nodes' results
_BY_DESIGN: dict[int, tuple[weakref.ref, RecentCache[WalkMemo]]] = {}


def memo_for(design: object, walk: Hashable) -> WalkMemo:
    """The memo of one walk of `design`, dropped with the design (designs compare by content,
    so they are told apart by identity)."""
    key = id(design)
    with _LOCK:
        kept = _BY_DESIGN.get(key)
        if kept is None or kept[0]() is not design:
            kept = (weakref.ref(design, lambda ref: _forget(key, ref)),
                    RecentCache(WALKS_PER_DESIGN))
            _BY_DESIGN[key] = kept
    return kept[1].get(walk, WalkMemo)


def _forget(key: int, ref: weakref.ref) -> None:
    with _LOCK:
        if key in _BY_DESIGN and _BY_DESIGN[key][0] is ref:
            del _BY_DESIGN[key]
