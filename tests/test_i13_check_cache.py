"""The check keeps each node's result by (type, parameters, incoming tensors). Whatever sequence
of edits a person makes, the check with that warm cache must equal a fresh check, without the
cache, of the same design saved and loaded again."""

from unittest import mock

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    precondition,
    rule,
)

from engine import Design, DesignError, checking
from engine.layers import all_layers, get_layer

# Every layer that reads no file (a file's state is part of the key, and tested elsewhere).
LAYER_TYPES = sorted(spec.name for spec in all_layers() if not spec.files)
# Half the layers added are the common ones, so chains long enough to meet again are likely.
COMMON = ["Linear", "Conv2d", "ReLU", "Flatten", "MaxPool2d", "Add", "Concat", "Output"]
A_LAYER = st.one_of(st.sampled_from(COMMON), st.sampled_from(LAYER_TYPES))
SHAPE = st.lists(st.integers(1, 12), min_size=1, max_size=4)
SMALL = st.integers(-2, 40)  # includes values the check must refuse (0, negatives)


def value_for(param) -> st.SearchStrategy:
    """Values a person could type for `param`: small numbers, in and out of its range."""
    kind = param.kind
    if kind == "int":
        values = SMALL
    elif kind == "float":
        values = st.sampled_from([0.0, 0.01, 0.1, 0.5, 1.0, 2.0, -1.0, 150.0])
    elif kind == "bool":
        values = st.booleans()
    elif kind == "choice":
        values = st.sampled_from(param.choices)
    elif kind == "ints":
        sizes = {"min_size": param.length, "max_size": param.length} if param.length else {
            "min_size": 1, "max_size": 4}   # a fixed length (Swin's window) is the form's
        values = st.lists(st.integers(-1, 12), **sizes).map(tuple)
    elif kind == "size":
        values = st.one_of(st.integers(0, 6), st.tuples(*[st.integers(0, 6)] * param.length))
    elif kind == "text":   # Einsum's equation: as given, or typed wrong in many ways
        values = st.one_of(st.just(param.default), st.text(alphabet="nijk,->. ", max_size=14))
    else:
        raise AssertionError(f"no values for {param.name!r} of kind {kind!r}")
    return st.one_of(st.none(), values) if param.optional else values


class EditsKeepTheCachedCheckExact(RuleBasedStateMachine):
    """Adds, removes, connects, disconnects, sets parameters and renames at random."""

    nodes = Bundle("nodes")

    def __init__(self) -> None:
        super().__init__()
        self.design = Design()
        checking._infer.cache_clear()  # each example starts cold, so a failure replays alike

    @initialize(target=nodes, shape=SHAPE)
    def start_with_an_input(self, shape):
        return self.add_input(shape)

    @rule(target=nodes, shape=SHAPE)
    def add_input(self, shape):
        return self.design.add("Input", shape=tuple(shape))

    @rule(target=nodes, layer_type=A_LAYER, source=nodes)
    def add_after(self, layer_type, source):
        node = self.design.add(layer_type)
        self.connect(source, node, 0)
        return node

    @rule(node=consumes(nodes))
    def remove(self, node):
        self.design.remove(node)

    @rule(source=nodes, destination=nodes, port=st.integers(0, 2))
    def connect(self, source, destination, port):
        try:  # cycles and doubled ports are stored (the check reports them)
            self.design.connect(source, destination, port)
        except DesignError:
            pass  # a port the layer does not have

    @precondition(lambda self: any(self.design.edges(n) for n in self.design.networks))
    @rule(data=st.data())
    def disconnect(self, data):
        edge = data.draw(st.sampled_from(self.design.edges()))
        self.design.disconnect(edge.src, edge.dst, edge.port)

    @rule(node=nodes, data=st.data())
    def set_parameter(self, node, data):
        params = get_layer(self.design.node(node).type).params
        if params:
            param = data.draw(st.sampled_from(params))
            try:
                self.design.set_params(node, **{param.name: data.draw(value_for(param))})
            except DesignError:
                pass  # refused as the inspector's field refuses it (text against its pattern)

    @rule(node=nodes, name=st.sampled_from(["a", "b", "conv", "head"]))
    def rename(self, node, name):
        if self.design.rename_problem(node, name) is None:
            self.design.rename(node, name)

    @invariant()
    def cached_check_equals_a_fresh_check_of_the_reloaded_design(self):
        warm = checking.check(self.design)
        reloaded = Design.from_dict(self.design.to_dict())
        with mock.patch.object(checking, "_infer", checking._infer.__wrapped__):
            fresh = checking.check(reloaded)  # nothing kept: every node inferred anew
        assert warm == fresh


EditsKeepTheCachedCheckExact.TestCase.settings = settings(
    max_examples=80, stateful_step_count=30, deadline=None,
    suppress_health_check=[HealthCheck.too_slow])
test_cached_check_equals_fresh_check = EditsKeepTheCachedCheckExact.TestCase


def test_a_node_wired_to_itself_can_be_removed():
    """Found by the machine above: a file may hold a loop from a node onto itself (the canvas
    refuses to draw one); deleting that node listed the loop twice and failed."""
    design = Design()
    node = design.add("ReLU")
    design.connect(node, node)
    design.remove(node)
    assert design.nodes() == [] and design.edges() == []


def test_problems_keep_their_order_when_the_design_is_saved_and_reopened():
    """Found by the machine above: the walk followed the order wires were drawn in, which a
    saved file does not keep, so a reopened design listed the same problems in another order."""
    design = Design()
    source = design.add("Input", shape=(1,))
    first, second = design.add("Conv2d"), design.add("Conv2d")
    design.connect(source, second)  # wired in the opposite order to their creation
    design.connect(source, first)
    reopened = Design.from_dict(design.to_dict())
    assert checking.check(design).problems == checking.check(reopened).problems
    assert [p.node for p in checking.check(design).errors if p.node] == [first, second]
