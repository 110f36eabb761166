"""Issue 14, build and export of designs made of blocks: a use builds as an instance of a class
named after its definition (repeats and plain chains as nn.Sequential), with the paths and
types torchvision's models have, and exports as one class per definition."""

from __future__ import annotations

import pytest
import torch
from test_codegen_helpers import sample_inputs, single_thread
from test_i12_names import _assert_builds_and_exports_faithfully
from torch import nn

import engine
from engine import Design, check
from engine.blocks.definitions import argument
from engine.blocks.library import add_built_in
from engine.codegen.export import export_script

pytestmark = pytest.mark.usefixtures(single_thread.__name__)


def _stage(design: Design) -> None:
    """A block of blocks: a downsampling basic block, then `depth` basic blocks."""
    add_built_in(design, "BasicBlock")
    add_built_in(design, "BasicBlockDown")
    design.add_block("Stage", [argument("width", "int", 64, minimum=1),
                               argument("depth", "int", 1, minimum=1)])
    x = design.add("Input", shape=(64, 16, 16), name="x", network="Stage")
    h = design.add("Block", x, name="down", block="BasicBlockDown", network="Stage",
                   planes={"expr": "width"}, stride=2)
    h = design.add("Block", h, name="blocks", block="BasicBlock", network="Stage",
                   planes={"expr": "width"}, repeat={"expr": "depth"})
    design.add("Output", h, network="Stage")


def _conv_bn_relu(design: Design) -> None:
    """Modules "0", "1", "2" in a chain: a sequence, built as nn.Sequential."""
    design.add_block("ConvBN", [argument("out", "int", 8, minimum=1)])
    h = design.add("Input", shape=(3, 16, 16), name="x", network="ConvBN")
    h = design.add("Conv2d", h, name="0", out_channels={"expr": "out"}, kernel_size=3,
                   padding=1, network="ConvBN")
    h = design.add("BatchNorm2d", h, name="1", network="ConvBN")
    h = design.add("ReLU", h, name="2", network="ConvBN")
    design.add("Output", h, network="ConvBN")


def small_resnet(width: int = 8) -> Design:
    """A stem (a sequence block), a residual block used with repeat 2, and a nested block."""
    design = Design("blocks")
    _conv_bn_relu(design)
    _stage(design)
    x = design.add("Input", shape=(3, 16, 16), name="image")
    h = design.add("Block", x, name="features", block="ConvBN", out=width)
    h = design.add("Block", h, name="layer1", block="BasicBlock", repeat=2, planes=width)
    h = design.add("Block", h, name="layer2", block="Stage", width=2 * width, depth=2)
    h = design.add("Flatten", design.add("AdaptiveAvgPool2d", h, name="pool"), name="flat")
    design.add("Output", design.add("Linear", h, out_features=10, name="fc"), name="y")
    return design


# ---------------------------------------------------------------------------- build

def test_uses_build_as_classes_named_after_their_definitions_with_torchvision_paths():
    model = engine.build_model(small_resnet())
    types = {path: type(module).__name__ for path, module in model.named_modules()}
    assert types["features"] == "Sequential" and types["features.0"] == "Conv2d"
    assert types["layer1"] == "Sequential"
    assert types["layer1.0"] == types["layer1.1"] == "BasicBlock"
    assert types["layer1.1.conv2"] == "Conv2d"
    assert types["layer2"] == "Stage" and types["layer2.down"] == "BasicBlockDown"
    assert types["layer2.blocks"] == "Sequential"
    assert types["layer2.blocks.1.conv1_bn"] == "BatchNorm2d"
    assert type(model.layer1[0]) is type(model.layer1[1])  # one class per definition and code
    assert "layer2.blocks.2" not in types
    assert isinstance(model.features[:2], nn.Sequential) and len(model.features[:2]) == 2


def test_a_use_computes_its_definitions_code_with_its_own_modules():
    model = engine.build_model(small_resnet()).eval()
    block = model.layer1[1]
    x = torch.randn(2, 8, 16, 16)
    h = block.conv1_relu(block.conv1_bn(block.conv1(x)))
    expected = block.relu(block.conv2_bn(block.conv2(h)) + x)
    with torch.no_grad():
        assert torch.equal(block(x), expected)
        assert model(*sample_inputs(small_resnet(), batch=2)).shape == (2, 10)


@pytest.mark.parametrize("width", [4, 8])
def test_expression_arguments_give_each_use_its_own_sizes(width):
    model = engine.build_model(small_resnet(width))
    assert model.features[0].weight.shape == (width, 3, 3, 3)
    assert model.layer1[1].conv2.weight.shape == (width, width, 3, 3)
    assert model.layer2.down.conv1.weight.shape == (2 * width, width, 3, 3)
    assert model.layer2.down.conv1.stride == (2, 2)
    assert model.layer2.blocks[0].conv1.weight.shape == (2 * width, 2 * width, 3, 3)


def test_a_rebuild_keeps_the_weights_of_unchanged_blocks_when_another_node_changes():
    design = small_resnet()
    first = engine.build_model(design)
    reuse = {node: first.get_submodule(path) for path, node in first.node_of_module.items()}
    design.set_params(design.find("fc"), out_features=5)
    design.set_params(design.find("layer2"), depth=3)
    second = engine.build_model(design, reuse=reuse)
    assert second.layer1[0].conv1 is first.layer1[0].conv1
    assert second.features[1] is first.features[1]
    assert second.layer2.blocks[1].conv2 is first.layer2.blocks[1].conv2
    assert second.fc is not first.fc and len(second.layer2.blocks) == 3
    design.set_params(design.find("conv2", "BasicBlock"), kernel_size=1, padding=0)
    third = engine.build_model(design, reuse={node: second.get_submodule(path) for path, node
                                              in second.node_of_module.items()})
    assert third.layer1[0].conv1 is second.layer1[0].conv1
    assert third.layer1[0].conv2 is not second.layer1[0].conv2


def test_a_chain_stops_being_a_sequence_when_a_skip_is_added():
    design = small_resnet()
    conv = design.find("0", "ConvBN")
    relu = design.find("2", "ConvBN")
    output = design.outputs_of(relu)[0].dst
    design.remove(output)
    design.add("Output", design.add("Add", relu, conv, name="add", network="ConvBN"),
               network="ConvBN")
    model = engine.build_model(design)
    assert type(model.features).__name__ == "ConvBN"
    assert check(design).errors == []


# ---------------------------------------------------------------------------- export

def test_the_exported_file_loads_the_apps_weights_and_computes_the_same():
    _assert_builds_and_exports_faithfully(small_resnet())


@pytest.mark.parametrize("width", [4, 8])
def test_each_definition_is_one_class_whose_code_reads_its_arguments(width):
    code = export_script(small_resnet(width)).code
    assert code.count("class BasicBlock(nn.Module)") == 1
    assert ("def __init__(self, planes: int, in_channels: int = "
            f"{width}, stride: int = 2) -> None:") in code
    assert "nn.Conv2d(planes, planes, 3, padding=1, bias=False)" in code
    # a size every use shares is an argument too, passed down through the blocks that nest
    assert "self.down = BasicBlockDown(width, in_channels=in_channels, stride=2)" in code
    assert f"self.layer1 = nn.Sequential(BasicBlock({width}), BasicBlock({width}))" in code
    assert f"self.layer2 = Stage({2 * width}, in_channels={width})" in code
    assert "self.features = nn.Sequential(" in code


def _resnet18() -> Design:
    """ResNet-18 drawn with blocks: stem, four stages of two basic blocks, head."""
    design = Design("resnet18")
    add_built_in(design, "BasicBlock")
    add_built_in(design, "BasicBlockDown")
    x = design.add("Input", shape=(3, 64, 64), name="image")
    h = design.add("Conv2d", x, name="conv1", out_channels=64, kernel_size=7, stride=2,
                   padding=3, bias=False)
    h = design.add("ReLU", design.add("BatchNorm2d", h, name="bn1"), name="relu")
    h = design.add("MaxPool2d", h, name="maxpool", kernel_size=3, stride=2, padding=1)
    h = design.add("Block", h, name="layer1", block="BasicBlock", repeat=2, planes=64)
    for stage, planes in ((2, 128), (3, 256), (4, 512)):
        h = design.add("Block", h, name=f"layer{stage}.0", block="BasicBlockDown",
                       planes=planes, stride=2)
        h = design.add("Block", h, name=f"layer{stage}.1", block="BasicBlock", planes=planes)
    h = design.add("Flatten", design.add("AdaptiveAvgPool2d", h, name="avgpool"))
    design.add("Output", design.add("Linear", h, name="fc", out_features=10))
    return design


def test_a_resnet18_of_blocks_exports_short_faithful_classes():
    design = _resnet18()
    _assert_builds_and_exports_faithfully(design)
    code = export_script(design).code
    start = code.index("class BasicBlock(")
    end = code.index("\n\n\n", code.index("class Model("))
    assert len(code[start:end].splitlines()) < 120


def test_the_positional_names_are_torchs_own():
    import inspect

    from engine.codegen.signatures import POSITIONAL_NAMES

    for target, names in POSITIONAL_NAMES.items():
        name = target.rpartition(".")[2]
        parameters = list(inspect.signature(getattr(nn, name)).parameters)
        if parameters == ["args", "kwargs"]:  # the recurrent layers document theirs
            assert all(f"{n}: " in getattr(nn, name).__doc__ for n in names), target
        else:
            assert parameters[:len(names)] == list(names), target


def test_a_design_of_blocks_exports_to_onnx(tmp_path):
    pytest.importorskip("onnx")
    pytest.importorskip("onnxscript")
    pytest.importorskip("onnxruntime")
    from engine.export_onnx import export_onnx

    result = export_onnx(small_resnet(), tmp_path / "blocks.onnx")
    assert result.max_difference < 1e-4


def test_a_design_of_blocks_builds_a_model_torch_export_can_trace():
    """What the ONNX exporter does first (it runs where the onnx extra is installed)."""
    model = engine.build_model(small_resnet()).eval()
    batch = torch.export.Dim("batch")
    exported = torch.export.export(model, (torch.randn(2, 3, 16, 16),),
                                   dynamic_shapes=({0: batch},))
    sample = torch.randn(3, 3, 16, 16)
    with torch.no_grad():
        assert torch.allclose(exported.module()(sample), model(sample), atol=1e-6)
