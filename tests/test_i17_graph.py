"""Issue 17: the design's networks are engine.graph MultiDiGraphs (networkx held up the first
paint and every `check`). Built and edited by the same steps as a networkx MultiDiGraph, one
reads the same everywhere the project reads it, and the walks give the same orders, so a
check, the exported code and a layout do not change."""

from __future__ import annotations

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.graph import (
    CycleError,
    MultiDiGraph,
    dfs_postorder_nodes,
    has_path,
    lexicographical_topological_sort,
    strongly_connected_components,
    topological_sort,
)


@st.composite
def edit_steps(draw: st.DrawFn) -> tuple[list, list]:
    """Nodes (each with its creation number) added first, then wires added (source,
    destination, port, source output) and some wires or nodes removed again, as a design's
    edits do."""
    nodes = [f"n{i}" for i in range(draw(st.integers(2, 8)))]
    seqs = draw(st.lists(st.integers(0, 50), min_size=len(nodes), max_size=len(nodes),
                         unique=True))
    pair = st.tuples(st.sampled_from(nodes), st.sampled_from(nodes))
    if draw(st.booleans()):   # wires only forwards: no cycle
        pair = pair.filter(lambda ends: ends[0] < ends[1])
    wire = st.tuples(st.just("wire"), pair, st.integers(0, 2), st.integers(0, 1)).map(
        lambda step: (step[0], *step[1], *step[2:]))
    edits = draw(st.lists(wire, min_size=len(nodes) - 1, max_size=2 * len(nodes)))
    edits += draw(st.lists(st.one_of(wire, st.tuples(st.just("unwire"), st.integers(0, 99)),
                                     st.tuples(st.just("drop"), st.integers(0, 99))),
                           max_size=10))
    return list(zip(nodes, seqs, strict=True)), edits


STEPS = edit_steps()


def built_both(steps: tuple[list, list]) -> tuple[MultiDiGraph, nx.MultiDiGraph]:
    """The same steps on both graphs, skipping what a design would refuse (a wire to a node
    that is not there)."""
    ours, theirs = MultiDiGraph(), nx.MultiDiGraph()
    nodes, edits = steps
    for node, seq in nodes:
        for graph in (ours, theirs):
            graph.add_node(node, seq=seq, name=node)
    for step in edits:
        if step[0] == "wire" and step[1] in theirs and step[2] in theirs:
            for graph in (ours, theirs):
                graph.add_edge(step[1], step[2], key=step[3], out=step[4])
        elif step[0] == "unwire" and theirs.number_of_edges():
            src, dst, key = list(theirs.edges(keys=True))[step[1] % theirs.number_of_edges()]
            for graph in (ours, theirs):
                graph.remove_edge(src, dst, key=key)
        elif step[0] == "drop" and len(theirs) > 1:
            node = list(theirs)[step[1] % len(theirs)]
            for graph in (ours, theirs):
                graph.remove_node(node)
    return ours, theirs


def outcome(walk, *arguments):
    """What a walk gives, or that it found a cycle."""
    try:
        return list(walk(*arguments))
    except (CycleError, nx.NetworkXUnfeasible):
        return "cycle"


@settings(max_examples=150, deadline=None)
@given(STEPS)
def test_the_graph_reads_as_networkx_reads_after_the_same_edits(steps):
    ours, theirs = built_both(steps)
    assert list(ours) == list(theirs) and len(ours) == len(theirs)
    assert list(ours.nodes(data=True)) == list(theirs.nodes(data=True))
    assert list(ours.nodes(data="seq")) == list(theirs.nodes(data="seq"))
    assert ours.succ == theirs._succ and ours.pred == theirs._pred
    assert list(ours.edges(keys=True, data="out")) == list(theirs.edges(keys=True, data="out"))
    assert list(ours.edges()) == list(theirs.edges())
    for node in theirs:
        assert ours.nodes[node] == theirs.nodes[node] and node in ours.nodes
        assert (list(ours.in_edges(node, keys=True, data="out"))
                == list(theirs.in_edges(node, keys=True, data="out")))
        assert (list(ours.out_edges(node, keys=True, data=True))
                == list(theirs.out_edges(node, keys=True, data=True)))
        assert ours.in_degree(node) == theirs.in_degree(node)
        assert ours.out_degree(node) == theirs.out_degree(node)
        for other in theirs:
            assert has_path(ours, node, other) == nx.has_path(theirs, node, other)
            for key in range(3):
                assert ours.has_edge(node, other, key) == theirs.has_edge(node, other, key)


@settings(max_examples=150, deadline=None)
@given(STEPS)
def test_the_walks_give_networkx_orders(steps):
    ours, theirs = built_both(steps)
    seq = dict(theirs.nodes(data="seq"))
    assert ({frozenset(c) for c in strongly_connected_components(ours)}
            == {frozenset(c) for c in nx.strongly_connected_components(theirs)})
    assert outcome(topological_sort, ours) == outcome(nx.topological_sort, theirs)
    assert dfs_postorder_nodes(ours) == list(nx.dfs_postorder_nodes(theirs))
    assert (outcome(lexicographical_topological_sort, ours, seq.__getitem__)
            == outcome(lambda: nx.lexicographical_topological_sort(theirs, seq.__getitem__)))
    acyclic = [n for n in theirs if not any(n in c and (len(c) > 1 or theirs.has_edge(n, n))
                                            for c in nx.strongly_connected_components(theirs))]
    assert (lexicographical_topological_sort(ours, seq.__getitem__, among=acyclic)
            == list(nx.lexicographical_topological_sort(theirs.subgraph(acyclic),
                                                        seq.__getitem__)))


def test_a_cycle_is_named_and_a_long_chain_does_not_overflow():
    graph = MultiDiGraph()
    for index in range(20_000):   # deeper than Python's recursion limit
        graph.add_edge(index, index + 1, key=0)
    assert dfs_postorder_nodes(graph)[0] == 20_000
    assert len(strongly_connected_components(graph)) == 20_001
    graph.add_edge(20_000, 0, key=0)
    assert strongly_connected_components(graph) == [set(range(20_001))]
    with pytest.raises(CycleError, match="has a cycle"):
        topological_sort(graph)
