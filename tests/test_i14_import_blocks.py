"""Imported models keep their hierarchy as blocks (issue 14): each submodule call is a block
use, calls that agree share a definition with their differences as arguments, and the design
builds and exports back to the same module tree, weights and outputs."""

import pytest
import torch
import torchvision
from test_codegen_helpers import load_exported, single_thread
from torch import nn
from torchvision_models import build, input_size, marked_slow

import engine
from engine.blocks.definitions import Expr
from engine.codegen.export import export_script
from engine.compiler import build_model
from engine.importing import import_network

pytestmark = pytest.mark.usefixtures(single_thread.__name__)


class Unit(nn.Module):
    """A residual unit whose width is the constructor's argument."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(width, width, 3, padding=1)
        self.norm = nn.BatchNorm2d(width)

    def forward(self, x):
        return torch.relu(x + self.norm(self.conv(x)))


class Widen(nn.Module):
    """Doubles the channels; the same class with and without a pooling step."""

    def __init__(self, width: int, pool: bool) -> None:
        super().__init__()
        self.conv = nn.Conv2d(width, width * 2, 1)
        self.pool = nn.MaxPool2d(2) if pool else None

    def forward(self, x):
        x = self.conv(x)
        return self.pool(x) if self.pool is not None else x


class Nested(nn.Module):
    """Classes inside classes: stages of repeated units, an uneven sequence, a dict."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 3, padding=1)
        self.stage1 = nn.Sequential(Unit(4), Unit(4), Unit(4))
        self.widen = nn.Sequential(Widen(4, pool=True), Widen(8, pool=False))
        self.stage2 = nn.Sequential(Unit(16), Unit(16))
        self.heads = nn.ModuleDict({"pool": nn.AdaptiveAvgPool2d(1), "fc": nn.Linear(16, 5)})

    def forward(self, x):
        x = self.stage2(self.widen(self.stage1(self.stem(x))))
        return self.heads["fc"](torch.flatten(self.heads["pool"](x), 1))


def _imported(module: nn.Module, size: int, channels: int = 3):
    torch.manual_seed(0)
    module = module.eval()
    return module, import_network(module, torch.randn(2, channels, size, size))


def test_nested_classes_become_shared_definitions_with_arguments():
    original, result = _imported(Nested(), 8)
    design = result.design
    assert set(design.blocks) == {"Unit", "Widen", "WidenPool", "WidenSequence"}
    uses = {design.node(n).name: design.node(n).params for n in design.nodes()
            if design.node(n).type == "Block"}
    # Equal items of an nn.Sequential are one use repeated; Unit's width is an argument.
    assert uses["stage1"] == {"block": "Unit", "repeat": 3, "out_channels": 4}
    assert uses["stage2"] == {"block": "Unit", "repeat": 2, "out_channels": 16}
    conv = design.find("conv", network="Unit")
    assert design.node(conv).params["out_channels"] == Expr("out_channels")
    assert design.block_arguments("Widen") == ()  # used once: its values stay constants
    report = engine.check(design)
    assert report.ok
    assert report.total_params() == sum(p.numel() for p in original.parameters())
    output = design.find("output")
    assert report.shape(output) == ("N", 5)


def test_items_that_differ_make_a_sequence_block():
    _, result = _imported(Nested(), 8)
    design = result.design
    widen = next(design.node(n) for n in design.nodes() if design.node(n).name == "widen")
    inner = [design.node(n) for n in design.nodes(widen.params["block"])]
    assert [(n.name, n.type) for n in inner if n.type == "Block"] == [("0", "Block"),
                                                                        ("1", "Block")]


def _type_names(module: nn.Module) -> dict[str, str]:
    return {path: type(m).__name__ for path, m in module.named_modules() if path}


def _round_trip(original: nn.Module, result, size: int, channels: int, tmp_path) -> nn.Module:
    """Build and export the imported design; both compute exactly what the original does and
    hold the same weights under the same keys. Returns the built model."""
    built = build_model(result.design)
    built.load_state_dict(original.state_dict(), strict=True)
    script = export_script(result.design)
    exported = load_exported(script.code, tmp_path)[script.classes["model"]]()
    exported.load_state_dict(original.state_dict(), strict=True)
    assert list(built.state_dict()) == list(original.state_dict())
    assert list(exported.state_dict()) == list(original.state_dict())
    batch = torch.randn(3, channels, size, size)  # not the traced batch size
    with torch.no_grad():
        expected = original(batch)
        assert torch.equal(built.eval()(batch), expected)
        assert torch.equal(exported.eval()(batch), expected)
    return built


def test_nested_classes_round_trip_with_the_same_module_tree(tmp_path):
    original, result = _imported(Nested(), 8)
    built = _round_trip(original, result, 8, 3, tmp_path)
    # Widen with a pool is its own definition (WidenPool), whose modules are still Widen.
    assert "WidenPool" in result.design.blocks
    differing = {path: (name, _type_names(built).get(path))
                 for path, name in _type_names(original).items()
                 if _type_names(built).get(path) != name}
    assert differing == {}


def test_densenet_layers_share_one_definition_whatever_their_inputs():
    """A layer that concatenates every earlier feature map takes them joined, so the first
    layer and the tenth are uses of the same definition."""
    model = torchvision.models.DenseNet(growth_rate=4, block_config=(3, 4),
                                        num_init_features=8, bn_size=2, num_classes=3)
    original, result = _imported(model, 32)
    design = result.design
    assert [b for b in design.blocks if b.startswith("_DenseLayer")] == ["_DenseLayer"]
    assert len(design.uses_of("_DenseLayer")) == 7
    assert engine.check(design).total_params() == sum(p.numel() for p in original.parameters())


def test_resnet50_opens_with_few_top_level_nodes():
    _, result = _imported(torchvision.models.resnet50(weights=None), 32)
    design = result.design
    assert len(design.nodes()) <= 20
    assert {"Bottleneck", "BottleneckDownsample"} <= set(design.blocks)
    layer1 = next(design.node(n) for n in design.nodes() if design.node(n).name == "layer1")
    assert layer1.params["block"] != "Bottleneck"  # its first block downsamples


# Slow ones take many seconds each.
MODELS = ("resnet18", "vgg11", "squeezenet1_0", "mobilenet_v2", "resnet50", "densenet121",
          "mobilenet_v3_large", "efficientnet_b0", "inception_v3")
SLOW = {"resnet50", "densenet121", "mobilenet_v3_large", "efficientnet_b0", "inception_v3"}


@pytest.mark.parametrize("name", marked_slow(MODELS, SLOW))
def test_torchvision_models_round_trip_through_blocks(name, tmp_path):
    """Import -> build -> export -> load gives the same outputs, and the built model has the
    original's module type at every path: structural variants, private class names and
    nn.Sequential subclasses included (each definition keeps its class: Design.module_class)."""
    size = input_size(name)
    original, result = _imported(build(name), size)
    report = engine.check(result.design)
    assert report.ok
    assert report.total_params() == sum(p.numel() for p in original.parameters())
    types = _type_names(build_model(result.design))
    left_out = tuple(result.left_out)
    assert {path: (kind, types.get(path)) for path, kind in _type_names(original).items()
            if types.get(path) != kind and not path.startswith(left_out)} == {}
    built = _round_trip(original, result, size, 3, tmp_path)
    assert [path for path in _type_names(original) if path not in _type_names(built)
            and not path.startswith(left_out)] == []
