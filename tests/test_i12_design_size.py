"""How much one design may hold (issue 12, audit of item 1): a file of 200,000 nodes took
~40 s to check, and 10,000 empty networks slowed the check more than in proportion. Networks,
block definitions and nodes have caps far above any real design, refused at load (with the
JSON path) and at edit (a DesignError), and the check's work grows in proportion."""

from __future__ import annotations

import pytest

from engine import Design, DesignError, checking, limits
from engine.fileformat import FORMAT_TAG, SCHEMA_VERSION, design_from_document
from templates import load_template


def _document(**extra: dict) -> dict:
    document = {"format": FORMAT_TAG, "schema_version": SCHEMA_VERSION,
                **load_template("mlp").to_dict()}
    for key, scopes in extra.items():
        document.setdefault(key, {}).update(scopes)
    return document


def _nodes(count: int, prefix: str = "z") -> dict:
    return {"nodes": [{"id": f"{prefix}{i}", "type": "ReLU", "name": f"{prefix}{i}",
                       "pos": [0, 0]} for i in range(count)], "edges": []}


def _refusal(document: dict) -> DesignError:
    with pytest.raises(DesignError) as caught:
        design_from_document(document, "big.ncnet")
    return caught.value


def test_a_file_with_more_nodes_in_one_network_than_allowed_is_refused_at_its_path():
    error = _refusal(_document(networks={"wide": _nodes(limits.MOST_NODES + 1)}))
    assert error.path == '$.networks["wide"].nodes'
    assert f"{limits.MOST_NODES + 1:,} nodes in network 'wide'" in str(error)
    assert f"at most {limits.MOST_NODES:,}" in str(error)


def test_a_file_with_more_nodes_in_one_block_than_allowed_is_refused_at_its_path():
    error = _refusal(_document(blocks={"huge": _nodes(limits.MOST_NODES + 1)}))
    assert error.path == '$.blocks["huge"].nodes'


def test_a_file_with_more_nodes_in_all_than_allowed_is_refused():
    per_network = limits.MOST_NODES
    count = limits.MOST_NODES_IN_DESIGN // per_network + 1
    error = _refusal(_document(networks={f"net{k}": _nodes(per_network, f"n{k}_")
                                         for k in range(count)}))
    assert error.path == "$"
    assert "nodes in the design" in str(error)


@pytest.mark.parametrize(("section", "most", "things"), [
    ("networks", limits.MOST_NETWORKS, "networks"),
    ("blocks", limits.MOST_BLOCKS, "block definitions")])
def test_a_file_with_more_networks_or_blocks_than_allowed_is_refused(section, most, things):
    error = _refusal(_document(**{section: {f"s{i}": _nodes(0) for i in range(most + 1)}}))
    assert error.path == f"$.{section}"
    assert f"{things} in the design; at most {most:,} are allowed" in str(error)


def test_adding_a_node_beyond_a_scopes_or_the_designs_cap_is_a_design_error(monkeypatch):
    monkeypatch.setattr(limits, "MOST_NODES", 3)
    monkeypatch.setattr(limits, "MOST_NODES_IN_DESIGN", 5)
    design = Design()
    for _ in range(3):
        design.add("ReLU")
    with pytest.raises(DesignError, match="cannot add a ReLU: 4 nodes in network 'model'; "
                                          "at most 3 are allowed; group repeated layers"):
        design.add("ReLU")
    design.add_block("b")
    design.add("ReLU", network="b")
    design.add("ReLU", network="b")
    with pytest.raises(DesignError, match="6 nodes in the design; at most 5"):
        design.add("ReLU", network="b")
    assert len(design.nodes("model")) == 3 and len(design.nodes("b")) == 2


def test_adding_a_network_or_block_beyond_the_cap_is_a_design_error(monkeypatch):
    monkeypatch.setattr(limits, "MOST_NETWORKS", 2)
    monkeypatch.setattr(limits, "MOST_BLOCKS", 1)
    design = Design()
    design.add_network("critic")
    with pytest.raises(DesignError, match="cannot add 'third': 3 networks in the design; "
                                          "at most 2 are allowed"):
        design.add_network("third")
    design.add_block("one")
    with pytest.raises(DesignError, match="2 block definitions in the design; at most 1"):
        design.add_block("two")
    assert design.networks == ["model", "critic"] and design.blocks == ["one"]


def test_the_largest_designs_allowed_reload_from_their_own_files():
    """What the Design API lets one build, the file format lets one open."""
    document = _document(networks={"wide": _nodes(limits.MOST_NODES - 10)})
    design = design_from_document(document)
    assert len(design.nodes("wide")) == limits.MOST_NODES - 10


def test_checking_many_networks_compares_each_problem_once(monkeypatch):
    """Every empty network has two problems (no Input, no Output); the check used to rebuild a
    set of every problem so far for each network, hashing ~N^2 problems."""
    hashes = 0
    plain_hash = checking.Problem.__hash__

    def counted(problem):
        nonlocal hashes
        hashes += 1
        return plain_hash(problem)

    monkeypatch.setattr(checking.Problem, "__hash__", counted)
    count = limits.MOST_NETWORKS - 1
    design = Design(networks=[f"net{i}" for i in range(count)])
    report = checking.check(design)
    assert len(report.errors) == 2 * count
    assert hashes <= 4 * len(report.problems)
