"""Blocks in the engine: definitions with arguments, uses with repeat, checked per use."""

import json

import pytest

from engine import Design, check
from engine.blocks.definitions import argument
from engine.errors import DesignError
from engine.fileformat import SCHEMA_VERSION, design_from_json, load_design, save_design


def _bottleneck(design: Design, name: str = "Bottleneck") -> None:
    """1x1 down to `planes`, 3x3 at `stride`, 1x1 up to `planes * 4`, projected skip."""
    design.add_block(name, [argument("planes", "int", 4, minimum=1),
                            argument("stride", "int", 1, minimum=1)])
    x = design.add("Input", shape=(16, 8, 8), name="x", network=name)
    h = design.add("Conv2d", x, name="conv1", out_channels={"expr": "planes"}, kernel_size=1,
                   network=name)
    h = design.add("Conv2d", h, name="conv2", out_channels={"expr": "planes"}, kernel_size=3,
                   padding=1, stride={"expr": "stride"}, network=name)
    h = design.add("Conv2d", h, name="conv3", out_channels={"expr": "planes * 4"},
                   kernel_size=1, network=name)
    skip = design.add("Conv2d", x, name="downsample", out_channels={"expr": "planes * 4"},
                      kernel_size=1, stride={"expr": "stride"}, network=name)
    design.add("Output", design.add("Add", h, skip, name="add", network=name), network=name)


def _network(planes: int, stride: int, repeat: int = 1) -> tuple[Design, str]:
    design = Design("blocks")
    _bottleneck(design)
    x = design.add("Input", shape=(16, 8, 8), name="image")
    use = design.add("Block", x, name="layer1", block="Bottleneck", planes=planes,
                     stride=stride, repeat=repeat)
    design.add("Output", use)
    return design, use


def _conv_params(c_in: int, c_out: int, k: int) -> int:
    return c_in * c_out * k * k + c_out


@pytest.mark.parametrize(("planes", "stride", "shape"), [(4, 1, ("N", 16, 8, 8)),
                                                          (8, 2, ("N", 32, 4, 4))])
def test_an_expression_argument_gives_the_right_shapes_at_each_value(planes, stride, shape):
    design, use = _network(planes, stride)
    report = check(design)
    assert report.errors == []
    assert report.shape(use) == shape
    expected = (_conv_params(16, planes, 1) + _conv_params(planes, planes, 3)
                + _conv_params(planes, planes * 4, 1) + _conv_params(16, planes * 4, 1))
    assert report.params(use) == expected
    walk = report.uses[use][0]
    conv3 = design.find("conv3", "Bottleneck")
    assert walk.infos[conv3].shape == shape


def test_a_repeated_block_chains_its_copies_and_counts_each():
    design, use = _network(planes=4, stride=1, repeat=3)
    report = check(design)
    assert report.errors == []
    assert len(report.uses[use]) == 3
    one = check(_network(planes=4, stride=1)[0])
    assert report.params(use) == 3 * one.params(one.networks["model"][1])


def test_a_problem_inside_a_block_is_reported_on_the_use_with_its_path_and_on_the_inner_node():
    design, use = _network(planes=4, stride=1, repeat=2)
    design.set_params(use, stride=2)  # copy [1] gets 16 channels at 4x4: fine; now break it:
    conv1 = design.find("conv1", "Bottleneck")
    design.set_params(conv1, kernel_size={"expr": "planes * 4"}, padding=0)  # 16x16 on 8x8
    report = check(design)
    on_use = [p for p in report.errors if p.node == use]
    assert on_use and "inside 'Bottleneck' at [0].conv1" in on_use[0].message
    on_inner = [p for p in report.errors if p.node == conv1]
    assert on_inner and on_inner[0].network == "Bottleneck"


def test_the_check_follows_an_edit_inside_a_definition_at_every_use():
    design, use = _network(planes=4, stride=1)
    assert check(design).shape(use) == ("N", 16, 8, 8)
    design.set_params(design.find("conv3", "Bottleneck"), out_channels={"expr": "planes * 2"})
    design.set_params(design.find("downsample", "Bottleneck"), out_channels={"expr": "planes * 2"})
    assert check(design).shape(use) == ("N", 8, 8, 8)


def test_unknown_names_and_bad_expressions_are_errors_on_the_node():
    design, _ = _network(planes=4, stride=1)
    conv2 = design.find("conv2", "Bottleneck")
    design.set_params(conv2, out_channels={"expr": "width * 2"})
    messages = [p.message for p in check(design).errors if p.node == conv2]
    assert any("'width', which is not an argument of the block" in m for m in messages)
    with pytest.raises(DesignError, match="cannot read the expression"):
        design.set_params(conv2, out_channels={"expr": "planes ** 2"})
    with pytest.raises(DesignError, match="must be a whole number"):
        design.add("Conv2d", out_channels={"expr": "2"}, kernel_size=1)  # not in a block


def test_a_block_that_uses_itself_is_refused_directly_and_through_another():
    design = Design()
    design.add_block("A")
    design.add_block("B")
    design.add("Block", block="B", network="A")
    with pytest.raises(DesignError, match="A > B > A|B > A > B"):
        design.add("Block", block="A", network="B")
    with pytest.raises(DesignError, match="would use itself"):
        design.add("Block", block="A", network="A")


def test_changing_a_definitions_arguments_updates_every_use():
    design, use = _network(planes=8, stride=2)
    design.set_block_arguments("Bottleneck", [argument("planes", "int", 4, minimum=1),
                                              argument("stride", "int", 1, minimum=1),
                                              argument("expansion", "int", 4)])
    assert design.node(use).params == {"block": "Bottleneck", "repeat": 1, "planes": 8,
                                       "stride": 2, "expansion": 4}
    with pytest.raises(DesignError, match="used by 'layer1'"):
        design.remove_block("Bottleneck")


def test_blocks_save_and_load_exactly_and_flat_schema_1_files_open_unchanged(tmp_path):
    design, _ = _network(planes=8, stride=2, repeat=2)
    path = tmp_path / "blocks.ncnet"
    save_design(design, path)
    document = json.loads(path.read_text())
    assert document["schema_version"] == SCHEMA_VERSION
    assert document["blocks"]["Bottleneck"]["nodes"][3]["params"]["out_channels"] == {
        "expr": "planes * 4"}
    assert load_design(path) == design
    flat = Design("flat")
    flat.add("Output", flat.add("Linear", flat.add("Input", shape=(4,)), out_features=2))
    old = {"format": "neuralcanvas.design", "schema_version": 1, **flat.to_dict()}
    assert "blocks" not in old
    assert design_from_json(json.dumps(old)) == flat


@pytest.mark.parametrize(("change", "where"), [
    (lambda doc: doc["networks"]["model"]["nodes"][1]["params"].update(block="Nope"),
     '$.networks["model"].nodes[1].params.block'),
    (lambda doc: doc["blocks"]["Bottleneck"]["nodes"][1]["params"].update(
        out_channels={"expr": "planes +"}),
     '$.blocks["Bottleneck"].nodes[1].params.out_channels'),
    (lambda doc: doc["networks"]["model"]["nodes"][1]["params"].update(planez=3),
     '$.networks["model"].nodes[1].params.planez'),
    (lambda doc: doc["blocks"]["Bottleneck"]["arguments"][0].update(name="class"),
     '$.blocks["Bottleneck"].arguments[0]'),
])
def test_a_bad_block_in_a_file_is_an_error_naming_the_place(tmp_path, change, where):
    design, _ = _network(planes=8, stride=2)
    document = {"format": "neuralcanvas.design", "schema_version": 2, **design.to_dict()}
    change(document)
    with pytest.raises(DesignError) as caught:
        design_from_json(json.dumps(document), "bad.ncnet")
    assert f"bad.ncnet: {where}" in str(caught.value)


def test_a_blocks_module_class_saves_and_loads_and_a_bad_one_is_refused(tmp_path):
    from engine.blocks.definitions import ModuleClass

    design, _ = _network(planes=8, stride=2)
    design.set_module_class("Bottleneck", ModuleClass("_Bottleneck"))
    path = tmp_path / "classes.ncnet"
    save_design(design, path)
    assert load_design(path).module_class("Bottleneck") == ModuleClass("_Bottleneck")
    with pytest.raises(DesignError, match="plain Python name"):
        design.set_module_class("Bottleneck", ModuleClass("not a name"))
    document = json.loads(path.read_text())
    document["blocks"]["Bottleneck"]["class"] = {"name": "X", "sequential": "yes"}
    with pytest.raises(DesignError, match=r'\$\.blocks\["Bottleneck"\]\.class'):
        design_from_json(json.dumps(document), "bad.ncnet")
