"""Built-in blocks check on their own and at a use, and count what torchvision's do."""

import pytest

from engine import Design, check
from engine.blocks.library import BUILT_IN, add_built_in
from engine.errors import DesignError


def _use(name: str, shape: tuple, **arguments) -> tuple[Design, str]:
    design = Design(name)
    add_built_in(design, name)
    use = design.add("Block", design.add("Input", shape=shape), block=name, **arguments)
    design.add("Output", use)
    return design, use


@pytest.mark.parametrize("name", list(BUILT_IN))
def test_each_built_in_block_checks_clean_on_its_own(name):
    design = Design(name, networks=())
    assert add_built_in(design, name) == name
    assert add_built_in(design, name) == name  # a second drag reuses the definition
    assert design.blocks == [name]
    assert check(design).errors == []


def test_unknown_built_in_names_are_refused_with_the_list():
    with pytest.raises(DesignError, match="built-in blocks: BasicBlock"):
        add_built_in(Design(), "ResNet")


def _count(module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_resnet_blocks_count_what_torchvision_blocks_count():
    from torch import nn
    from torchvision.models.resnet import BasicBlock, Bottleneck

    design, use = _use("BasicBlock", (128, 8, 8), planes=128)
    report = check(design)
    assert report.shape(use) == ("N", 128, 8, 8)
    assert report.params(use) == _count(BasicBlock(128, 128))

    design, use = _use("Bottleneck", (256, 8, 8), planes=128, stride=2)
    report = check(design)
    assert report.shape(use) == ("N", 512, 4, 4)
    downsample = nn.Sequential(nn.Conv2d(256, 512, 1, stride=2, bias=False), nn.BatchNorm2d(512))
    assert report.params(use) == _count(Bottleneck(256, 128, stride=2, downsample=downsample))


def test_a_transformer_block_repeats_at_another_width():
    design, use = _use("TransformerEncoderBlock", (10, 32), d_model=32, heads=8, repeat=3)
    report = check(design)
    assert report.errors == [] and report.shape(use) == ("N", 10, 32)
    design.set_params(use, heads=5)
    assert any("divisible by the number of heads" in p.message for p in check(design).errors)


@pytest.mark.parametrize("name", ["resnet", "transformer"])
def test_the_resnet_and_transformer_templates_are_built_from_blocks(name):
    from templates import load_template

    design = load_template(name)
    uses = [n for n in design.nodes() if design.node(n).type == "Block"]
    assert uses and design.blocks
    assert "a named part defined once and used like a layer" in design.card["structure"]
    assert check(design).errors == []


def test_a_design_with_blocks_costs_what_the_same_layers_drawn_flat_cost():
    """Memory counts the outputs kept inside every copy of a block use, as if drawn flat."""
    from engine.blocks.grouping import ungroup
    from engine.training.cost import estimate_cost

    design = Design("costs")
    add_built_in(design, "BasicBlock")
    stem = design.add("Conv2d", design.add("Input", shape=(1, 8, 8)), out_channels=8,
                      kernel_size=3, padding=1)
    use = design.add("Block", stem, block="BasicBlock", planes=8, repeat=2)
    design.add("Output", design.add("Linear", design.add("Flatten", use), out_features=10))
    design.set_training(data={"source": "digits", "layout": "images"})
    flat = design.copy()
    ungroup(flat, use)
    assert flat.blocks == ["BasicBlock"] and not any(
        flat.node(n).type == "Block" for n in flat.nodes())
    assert estimate_cost(design) == estimate_cost(flat)
