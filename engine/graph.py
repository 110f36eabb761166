"""The design's networks as directed multigraphs, and the few graph walks the engine needs.

A network was a networkx MultiDiGraph; importing networkx (about 0.12 s, 285 modules) held up
the editor's first paint and every `check`. This module keeps the part of networkx's interface
the project reads (the same names, the same dict-of-dicts adjacency, the same iteration
orders), so code written against a MultiDiGraph reads a network unchanged, and it gives the
walks (paths, cycles, topological orders) in the order networkx gives them.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Collection, Hashable, Iterator
from typing import Any

Node = Hashable
Attributes = dict[str, Any]
# source -> destination -> key -> the edge's attributes (one dict shared with `pred`)
Adjacency = dict[Node, dict[Node, dict[Hashable, Attributes]]]


class CycleError(ValueError):
    """The graph has a cycle, so it has no topological order."""


class NodeView:
    """`graph.nodes`: iterate over the nodes (in the order they were added), read one node's
    attributes with `graph.nodes[node]`, or list (node, attributes) pairs with
    `graph.nodes(data=True)` and (node, one attribute) pairs with `graph.nodes(data="name")`."""

    def __init__(self, attributes: dict[Node, Attributes]) -> None:
        self._attributes = attributes

    def __getitem__(self, node: Node) -> Attributes:
        return self._attributes[node]

    def __iter__(self) -> Iterator[Node]:
        return iter(self._attributes)

    def __len__(self) -> int:
        return len(self._attributes)

    def __contains__(self, node: object) -> bool:
        return node in self._attributes

    def __call__(self, data: bool | str = False) -> Iterator[Any]:
        if data is False:
            return iter(self._attributes)
        if data is True:
            return iter(self._attributes.items())
        return ((node, values.get(data)) for node, values in self._attributes.items())


class MultiDiGraph:
    """Nodes with attributes, and edges from a source to a destination, several between one
    pair told apart by their keys, each with attributes."""

    def __init__(self) -> None:
        self._node: dict[Node, Attributes] = {}
        self.succ: Adjacency = {}
        self.pred: Adjacency = {}
        self.nodes = NodeView(self._node)

    def __len__(self) -> int:
        return len(self._node)

    def __iter__(self) -> Iterator[Node]:
        return iter(self._node)

    def __contains__(self, node: object) -> bool:
        return node in self._node

    def add_node(self, node: Node, **attributes: Any) -> None:
        if node not in self._node:
            self._node[node], self.succ[node], self.pred[node] = {}, {}, {}
        self._node[node].update(attributes)

    def remove_node(self, node: Node) -> None:
        """Remove the node and every edge touching it."""
        for destination in self.succ.pop(node):
            del self.pred[destination][node]
        for source in self.pred.pop(node):
            if source != node:
                del self.succ[source][node]
        del self._node[node]

    def add_edge(self, source: Node, destination: Node, key: Hashable,
                 **attributes: Any) -> None:
        """Add the edge (adding its ends where missing), or update the attributes of the edge
        of that key between the two."""
        for end in (source, destination):
            self.add_node(end)
        edges = self.succ[source].setdefault(destination, {})
        edges.setdefault(key, {}).update(attributes)
        self.pred[destination][source] = edges

    def remove_edge(self, source: Node, destination: Node, key: Hashable) -> None:
        edges = self.succ[source][destination]
        del edges[key]
        if not edges:
            del self.succ[source][destination], self.pred[destination][source]

    def has_edge(self, source: Node, destination: Node, key: Hashable | None = None) -> bool:
        edges = self.succ.get(source, {}).get(destination)
        return edges is not None and (key is None or key in edges)

    def edges(self, keys: bool = False, data: bool | str = False) -> Iterator[tuple]:
        """Every edge, by source (in the order nodes were added), then destination, then key."""
        for source in self.succ:
            yield from self.out_edges(source, keys, data)

    def out_edges(self, node: Node, keys: bool = False,
                  data: bool | str = False) -> Iterator[tuple]:
        return (_edge(node, destination, key, attributes, keys, data)
                for destination, edges in self.succ[node].items()
                for key, attributes in edges.items())

    def in_edges(self, node: Node, keys: bool = False,
                 data: bool | str = False) -> Iterator[tuple]:
        return (_edge(source, node, key, attributes, keys, data)
                for source, edges in self.pred[node].items()
                for key, attributes in edges.items())

    def in_degree(self, node: Node) -> int:
        return sum(len(edges) for edges in self.pred[node].values())

    def out_degree(self, node: Node) -> int:
        return sum(len(edges) for edges in self.succ[node].values())


def _edge(source: Node, destination: Node, key: Hashable, attributes: Attributes, keys: bool,
          data: bool | str) -> tuple:
    edge: tuple = (source, destination, key) if keys else (source, destination)
    if data is True:
        return (*edge, attributes)
    return edge if data is False else (*edge, attributes.get(data))


def has_path(graph: MultiDiGraph, source: Node, target: Node) -> bool:
    """Whether edges lead from `source` to `target` (a node reaches itself)."""
    seen, waiting = {source}, [source]
    while waiting:
        node = waiting.pop()
        if node == target:
            return True
        for successor in graph.succ[node]:
            if successor not in seen:
                seen.add(successor)
                waiting.append(successor)
    return False


def strongly_connected_components(graph: MultiDiGraph) -> list[set[Node]]:
    """The sets of nodes that each reach one another (Tarjan's algorithm, without recursion,
    so a long chain cannot overflow the stack); a node in no cycle is a set of its own."""
    index: dict[Node, int] = {}
    lowest: dict[Node, int] = {}
    stack: list[Node] = []
    on_stack: set[Node] = set()
    components: list[set[Node]] = []
    for root in graph:
        if root in index:
            continue
        index[root] = lowest[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        walk = [(root, iter(graph.succ[root]))]
        while walk:
            node, successors = walk[-1]
            successor = next(successors, None)
            if successor is not None:
                if successor not in index:
                    index[successor] = lowest[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    walk.append((successor, iter(graph.succ[successor])))
                elif successor in on_stack:
                    lowest[node] = min(lowest[node], index[successor])
                continue
            walk.pop()
            if walk:
                parent = walk[-1][0]
                lowest[parent] = min(lowest[parent], lowest[node])
            if lowest[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                components.append(component)
    return components


def lexicographical_topological_sort(graph: MultiDiGraph, key: Callable[[Node], Any],
                                     among: Collection[Node] | None = None) -> list[Node]:
    """The nodes (or those `among` them, with the edges between them), each after every node
    with an edge into it, the smallest `key` first wherever the edges leave a choice.
    CycleError when a cycle leaves no order."""
    nodes = list(graph) if among is None else [node for node in graph if node in among]
    kept = set(nodes)
    position = {node: place for place, node in enumerate(nodes)}
    waiting = {node: sum(len(edges) for source, edges in graph.pred[node].items()
                         if source in kept) for node in nodes}
    ready = [(key(node), position[node], node) for node in nodes if not waiting[node]]
    heapq.heapify(ready)
    order = []
    while ready:
        node = heapq.heappop(ready)[2]
        order.append(node)
        for child, edges in graph.succ[node].items():
            if child in kept:
                waiting[child] -= len(edges)
                if not waiting[child]:
                    heapq.heappush(ready, (key(child), position[child], child))
    _refuse_cycle(order, nodes)
    return order


def topological_sort(graph: MultiDiGraph) -> list[Node]:
    """The nodes, each after every node with an edge into it: those with no edge in, in the
    order they were added, then those they alone feed, and so on (networkx's order).
    CycleError when a cycle leaves no order."""
    waiting = {node: graph.in_degree(node) for node in graph}
    generation = [node for node, count in waiting.items() if not count]
    order = []
    while generation:
        order.extend(generation)
        following = []
        for node in generation:
            for child, edges in graph.succ[node].items():
                waiting[child] -= len(edges)
                if not waiting[child]:
                    following.append(child)
        generation = following
    _refuse_cycle(order, graph.nodes)
    return order


def _refuse_cycle(order: list[Node], nodes: Collection[Node]) -> None:
    if len(order) < len(nodes):
        raise CycleError("the graph has a cycle, so it has no topological order")


def dfs_postorder_nodes(graph: MultiDiGraph) -> list[Node]:
    """Every node after all those reachable from it that a depth-first walk reaches through
    it: the walk starts at each node not yet reached, in the order nodes were added, and
    follows edges in the order they were added (networkx's order; no recursion, so a long
    chain cannot overflow the stack)."""
    reached: set[Node] = set()
    order = []
    for root in graph:
        if root in reached:
            continue
        reached.add(root)
        walk = [(root, iter(graph.succ[root]))]
        while walk:
            node, successors = walk[-1]
            child = next((child for child in successors if child not in reached), None)
            if child is None:
                walk.pop()
                order.append(node)
            else:
                reached.add(child)
                walk.append((child, iter(graph.succ[child])))
    return order
