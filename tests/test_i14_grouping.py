"""Group into block and ungroup in the engine: the check sees the same network either way."""

import pytest

from engine import Design, check
from engine.blocks.definitions import argument
from engine.blocks.grouping import free_block_name, group, rename_block, ungroup
from engine.errors import DesignError


def _residual() -> tuple[Design, dict[str, str]]:
    """image -> stem -> [conv_a -> relu -> conv_b, + skip] -> add -> flatten -> head -> out."""
    design = Design("residual")
    ids = {}
    ids["image"] = design.add("Input", shape=(3, 16, 16), name="image", pos=(0, 0))
    ids["stem"] = design.add("Conv2d", ids["image"], name="stem", out_channels=8,
                             kernel_size=3, padding=1, pos=(200, 0))
    ids["conv_a"] = design.add("Conv2d", ids["stem"], name="conv_a", out_channels=8,
                               kernel_size=3, padding=1, pos=(400, 0))
    ids["relu"] = design.add("ReLU", ids["conv_a"], name="relu", pos=(600, 0))
    ids["conv_b"] = design.add("Conv2d", ids["relu"], name="conv_b", out_channels=8,
                               kernel_size=3, padding=1, pos=(800, 0))
    ids["add"] = design.add("Add", ids["conv_b"], ids["stem"], name="add", pos=(1000, 0))
    ids["flatten"] = design.add("Flatten", ids["add"], name="flatten", pos=(1200, 0))
    ids["head"] = design.add("Linear", ids["flatten"], name="head", out_features=10,
                             pos=(1400, 0))
    ids["out"] = design.add("Output", ids["head"], name="out", pos=(1600, 0))
    return design, ids


def _flat_form(design: Design, network: str = "model") -> tuple:
    """A network as names, types, parameters and wires (ids aside)."""
    names = {n: design.node(n).name for n in design.nodes(network)}
    nodes = sorted((design.node(n).name, design.node(n).type, repr(design.node(n).params))
                   for n in design.nodes(network))
    edges = sorted((names[e.src], names[e.dst], e.port) for e in design.edges(network))
    return nodes, edges


def _shapes_by_name(design: Design, report, network: str = "model") -> dict[str, tuple]:
    return {design.node(n).name: report.shape(n) for n in design.nodes(network)}


def test_grouping_keeps_every_shape_and_the_parameter_total():
    design, ids = _residual()
    before = check(design)
    selection = [ids[n] for n in ("conv_a", "relu", "conv_b", "add")]
    use = group(design, selection, "Residual")
    after = check(design)
    assert after.errors == [] and before.errors == []
    assert after.total_params() == before.total_params()
    assert after.shape(use) == before.shape(ids["add"])
    for name in ("image", "stem", "flatten", "head", "out"):
        assert _shapes_by_name(design, after)[name] == _shapes_by_name(design, before)[name]
    # the one outside source (stem, used twice inside) became the one Input and port 0
    inputs = [n for n in design.nodes("Residual") if design.node(n).type == "Input"]
    assert len(inputs) == 1 and design.node(inputs[0]).params["shape"] == (8, 16, 16)
    assert [(e.src, e.port) for e in design.inputs_of(use)] == [(ids["stem"], 0)]
    assert [e.dst for e in design.outputs_of(use)] == [ids["flatten"]]
    # listed where the grouped layers were (summary, file and exported code follow this order)
    assert [design.node(n).name for n in design.nodes()][:3] == ["image", "stem", "block1"]
    # the grouped layers moved with their ids
    assert {design.network_of(ids[n]) for n in ("conv_a", "relu", "conv_b", "add")} == {
        "Residual"}


def test_each_distinct_outside_source_becomes_one_input_in_creation_order():
    design = Design()
    a = design.add("Input", shape=(4,), name="a")
    b = design.add("Input", shape=(6,), name="b")
    la = design.add("Linear", a, out_features=5, name="la")
    lb = design.add("Linear", b, out_features=5, name="lb")
    add = design.add("Add", la, lb, name="sum")
    design.add("Output", add)
    before = check(design)
    use = group(design, [add, lb, la], "Merge")
    report = check(design)
    assert report.errors == []
    assert [e.src for e in design.inputs_of(use)] == [a, b]
    shapes = [design.node(n).params["shape"] for n in design.nodes("Merge")
              if design.node(n).type == "Input"]
    assert shapes == [(4,), (6,)]
    assert report.total_params() == before.total_params()


def test_ungroup_restores_an_equal_flat_network():
    design, ids = _residual()
    flat, order = _flat_form(design), [design.node(n).name for n in design.nodes()]
    before = check(design)
    use = group(design, [ids[n] for n in ("conv_a", "relu", "conv_b", "add")], "Residual")
    ungroup(design, use)
    assert _flat_form(design) == flat
    assert [design.node(n).name for n in design.nodes()] == order
    after = check(design)
    assert after.errors == [] and after.total_params() == before.total_params()
    assert "Residual" in design.blocks  # the definition stays for other uses


def test_ungroup_works_out_expressions_and_chains_repeated_copies():
    design = Design()
    design.add_block("Stage", [argument("width", "int", 4, minimum=1)])
    x = design.add("Input", shape=(8,), network="Stage")
    h = design.add("Linear", x, out_features={"expr": "width * 2"}, name="fc",
                   network="Stage")
    design.add("Output", design.add("ReLU", h, name="act", network="Stage"), network="Stage")
    image = design.add("Input", shape=(8,), name="image")
    use = design.add("Block", image, block="Stage", width=4, repeat=3, name="stage")
    out = design.add("Output", use, name="out")
    before = check(design)
    added = ungroup(design, use)
    report = check(design)
    assert report.errors == []
    assert len(added) == 6
    assert report.total_params() == before.total_params()
    assert report.shape(design.inputs_of(out)[0].src) == ("N", 8)
    names = sorted(design.node(n).name for n in added)
    assert names == ["act_0", "act_1", "act_2", "fc_0", "fc_1", "fc_2"]
    assert all(design.node(n).params.get("out_features", 8) == 8 for n in added)


def test_grouping_inside_a_definition_passes_the_arguments_it_reads():
    design = Design()
    design.add_block("Outer", [argument("width", "int", 4, minimum=1)])
    x = design.add("Input", shape=(8,), network="Outer")
    fc = design.add("Linear", x, out_features={"expr": "width"}, name="fc", network="Outer")
    act = design.add("ReLU", fc, name="act", network="Outer")
    design.add("Output", act, network="Outer")
    image = design.add("Input", shape=(8,), name="image")
    design.add("Output", design.add("Block", image, block="Outer", width=6))
    before = check(design)
    inner = group(design, [fc, act], "Inner")
    assert [a.name for a in design.block_arguments("Inner")] == ["width"]
    report = check(design)
    assert report.errors == [] and report.total_params() == before.total_params()
    assert design.node(inner).params["width"].text == "width"
    ungroup(design, inner)  # an expression of the outer block's argument comes back
    assert design.node(design.find("fc", "Outer")).params["out_features"].text == "width"


@pytest.mark.parametrize(("picked", "message"), [
    ((), "select the layers"),
    (("image", "stem"), "holds 'image'"),
    (("stem", "conv_a"), "passes on 2 tensors"),
    (("flatten", "head", "out"), "holds 'out'"),
])
def test_a_selection_that_cannot_be_a_block_is_refused_with_the_reason(picked, message):
    design, ids = _residual()
    before = design.to_dict()
    with pytest.raises(DesignError, match=message):
        group(design, [ids[n] for n in picked], "Bad")
    assert design.to_dict() == before  # refused before anything changed


def test_a_selection_passing_on_nothing_is_refused():
    design = Design()
    x = design.add("Input", shape=(4,))
    loose = design.add("ReLU", x)
    with pytest.raises(DesignError, match="nothing leaves the selection"):
        group(design, [loose], "Loose")


def test_names_stay_unique():
    design, ids = _residual()
    assert free_block_name(design) == "Block1"
    group(design, [ids["relu"]], free_block_name(design))
    assert free_block_name(design) == "Block2"
    with pytest.raises(DesignError, match="already a block named 'Block1'"):
        group(design, [ids["flatten"]], "Block1")
    with pytest.raises(DesignError, match="not a block"):
        ungroup(design, ids["head"])


def test_renaming_a_block_keeps_its_layers_and_uses_with_their_ids():
    design, ids = _residual()
    use = group(design, [ids[n] for n in ("conv_a", "relu", "conv_b", "add")], "Block1")
    before = check(design)
    rename_block(design, "Block1", "Residual")
    assert design.blocks == ["Residual"]
    assert design.node(use).params["block"] == "Residual"
    assert design.network_of(ids["relu"]) == "Residual"
    after = check(design)
    assert after.errors == [] and after.shape(use) == before.shape(use)
    with pytest.raises(DesignError, match="already a network named 'model'"):
        rename_block(design, "Residual", "model")
