"""The check after an edit works out again only the edited node and those whose inputs it
changes (engine.check_memo keeps the rest per design), and its report equals a full check's
whatever the edits."""

from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import Design, checking
from engine.blocks.library import add_built_in


def residual_design() -> tuple[Design, dict[str, str]]:
    """A small network with a skip connection, a block used twice and a dead end."""
    d = Design()
    add_built_in(d, "BasicBlock")
    x = d.add("Input", shape=(8, 6, 6))
    stem = d.add("Conv2d", x, out_channels=8, kernel_size=3, padding=1)
    first = d.add("Block", stem, block="BasicBlock", planes=8)
    second = d.add("Block", first, block="BasicBlock", planes=8)
    joined = d.add("Add", second, stem)
    flat = d.add("Flatten", joined)
    head = d.add("Linear", flat, out_features=10)
    d.add("Output", head)
    spare = d.add("Linear", flat, out_features=3)  # its output is not used: a warning
    inner = d.find("conv1", "BasicBlock")
    return d, {"stem": stem, "head": head, "spare": spare, "inner": inner, "input": x,
               "second": second, "joined": joined}


def fresh_check(design: Design) -> checking.Report:
    """A check that keeps nothing: a reloaded copy (a new object, new revisions) with each
    node's shape rule run anew."""
    with mock.patch.object(checking, "_infer", checking._infer.__wrapped__):
        return checking.check(Design.from_dict(design.to_dict()))


EDITS = st.one_of(
    st.tuples(st.just("stem"), st.just("out_channels"), st.integers(-1, 12)),
    st.tuples(st.just("stem"), st.just("kernel_size"), st.integers(1, 9)),
    st.tuples(st.just("head"), st.just("out_features"), st.integers(0, 12)),
    st.tuples(st.just("spare"), st.just("out_features"), st.integers(1, 12)),
    st.tuples(st.just("inner"), st.just("out_channels"),
              st.sampled_from([{"expr": "planes"}, {"expr": "planes * 2"}, {"expr": "oops"}, 4])),
    st.tuples(st.just("second"), st.just("planes"), st.integers(4, 9)),
    st.tuples(st.just("input"), st.just("shape"),
              st.lists(st.integers(1, 8), min_size=1, max_size=3).map(tuple)),
    st.tuples(st.just("rewire"), st.sampled_from(["stem", "second"]), st.integers(0, 1)),
)


def apply(design: Design, nodes: dict[str, str], edit: tuple) -> None:
    what, name, value = edit
    if what == "rewire":  # the skip comes from another node, or from the same one again
        design.disconnect(*next((e.src, e.dst, e.port) for e in design.inputs_of(nodes["joined"])
                                if e.port == value))
        design.connect(nodes[name], nodes["joined"], value)
    else:
        design.set_params(nodes[what], **{name: value})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(EDITS, min_size=1, max_size=8))
def test_the_check_after_each_edit_equals_a_full_check(edits):
    design, nodes = residual_design()
    checking.check(design)
    for edit in edits:
        apply(design, nodes, edit)
        assert checking.check(design) == fresh_check(design)


def test_an_upstream_edit_reaches_every_node_downstream():
    """Kept results would be stale here: the head's own values do not change, only what
    flows into it."""
    d = Design()
    x = d.add("Input", shape=(8,))
    first = d.add("Linear", x, out_features=16)
    second = d.add("Linear", first, out_features=4)
    d.add("Output", second)
    assert checking.check(d).params(second) == 16 * 4 + 4
    d.set_params(first, out_features=32)
    report = checking.check(d)
    assert report.params(second) == 32 * 4 + 4
    assert report.input_infos[second][0].shape == ("N", 32)
    d.set_params(x, shape=(8, 3))
    report = checking.check(d)
    assert report.shape(second) == ("N", 8, 4)
    assert report == fresh_check(d)


def test_a_rewired_node_is_checked_against_its_new_input():
    d = Design()
    x = d.add("Input", shape=(8,))
    wide, narrow = d.add("Linear", x, out_features=16), d.add("Linear", x, out_features=2)
    head = d.add("Linear", wide, out_features=4)
    d.add("Output", head)
    assert checking.check(d).params(head) == 16 * 4 + 4
    d.disconnect(wide, head)
    d.connect(narrow, head)
    report = checking.check(d)
    assert report.params(head) == 2 * 4 + 4
    assert [p.node for p in report.warnings] == [wide]  # now unused
    assert report == fresh_check(d)


def test_only_the_edited_node_and_those_it_feeds_are_worked_out_again():
    d = Design()
    h = d.add("Input", shape=(4,))
    chain = []
    for _ in range(10):
        h = d.add("Linear", h, out_features=4)
        chain.append(h)
    d.add("Output", h)
    checking.check(d)
    with mock.patch.object(checking, "_inferred", wraps=checking._inferred) as inferred, \
            mock.patch.object(checking, "_node_structure",
                              wraps=checking._node_structure) as structured:
        d.set_params(chain[7], out_features=5)
        checking.check(d)
    # the edited node, the next (its input and count change); the one after sees (N, 4) again
    assert [call.args[0] for call in inferred.call_args_list] == [chain[7], chain[8]]
    assert [call.args[0] for call in structured.call_args_list] == [chain[7]]


def test_a_design_collected_while_its_memos_lock_is_held_does_not_hang_the_check():
    """A collection that an allocation under the memos' lock sets off can drop a design;
    its weakref callback takes the lock again on the same thread."""
    import gc
    import threading

    from engine import check_memo

    forgotten = []

    def collect_under_the_lock() -> None:
        design = Design()
        check_memo.memo_for(design, "walk")
        key = id(design)
        design.cycle = design   # freed only by the cyclic collector
        with check_memo._LOCK:
            del design
            gc.collect()   # the callback runs here, on this thread, under the lock
        forgotten.append(key not in check_memo._BY_DESIGN)

    worker = threading.Thread(target=collect_under_the_lock, daemon=True)
    worker.start()
    worker.join(timeout=30)
    assert not worker.is_alive(), "the memos' weakref callback waited for its own lock"
    assert forgotten == [True]   # the thread got through, and the design's memos went


def test_a_file_a_block_reads_is_looked_at_again_on_every_check(tmp_path):
    """A block's walks are kept until the block changes, except those that read files: a
    weights file named inside a definition can change while the design does not."""
    weights = tmp_path / "weights.pth"
    d = Design()
    d.add_block("Features")
    image = d.add("Input", shape=(3, 32, 32), network="Features")
    backbone = d.add("Backbone", image, network="Features", weights_file=str(weights))
    d.add("Output", backbone, network="Features")
    x = d.add("Input", shape=(3, 32, 32))
    use = d.add("Block", x, block="Features")
    d.add("Output", use)

    def missing() -> set[str]:
        return {p.node for p in checking.check(d).errors if "there is no weights file" in p.message}

    assert missing() == {backbone, use}
    weights.write_bytes(b"weights")   # the check looks at no more than the file's presence
    assert missing() == set()
    weights.unlink()
    assert missing() == {backbone, use}


def test_an_edit_outside_a_block_walks_none_of_its_definitions_again():
    d, nodes = residual_design()
    checking.check(d)
    with mock.patch.object(checking, "walk_scope", wraps=checking.walk_scope) as walked:
        d.set_params(nodes["head"], out_features=7)
        report = checking.check(d)
    assert [call.args[1] for call in walked.call_args_list] == ["model"]
    assert report == fresh_check(d)
