"""Gradient norms are reported per node, also for nested (imported) models."""

import torch
from torch import nn

import engine
from engine.training.diagnostics import layers_of


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Linear(4, 4)
        self.conv2 = nn.Linear(4, 4)

    def forward(self, x):
        return self.conv2(self.conv1(x)) + x


class Nested(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.layer1 = nn.Sequential(Block(), Block())
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        return self.head(self.layer1(x))


def test_each_nested_node_is_its_own_layer():
    design = engine.import_module(Nested().eval(), torch.randn(2, 4))
    model = engine.build_model(design)
    names = {node: design.node(node).name for node in design.nodes()}
    layers = layers_of(model, "model", names)
    assert [layer.name for layer in layers] == [
        "layer1.0.conv1", "layer1.0.conv2", "layer1.1.conv1", "layer1.1.conv2", "head"]
    assert all(len(layer.parameters) == 2 for layer in layers)
    assert all(design.has_node(layer.node) for layer in layers)


def test_each_layer_inside_a_block_node_is_its_own_row_tied_to_the_block_node():
    from engine import Design
    from engine.blocks.library import add_built_in

    design = Design("blocks")
    add_built_in(design, "BasicBlock")
    use = design.add("Block", design.add("Input", shape=(8, 4, 4)), name="stage", block="BasicBlock",
                     planes=8, repeat=2)
    design.add("Output", use)
    model = engine.build_model(design)
    names = {node: design.node(node).name for node in design.nodes()}
    layers = layers_of(model, "model", names)
    assert [layer.name for layer in layers][:3] == ["stage.0.conv1", "stage.0.conv1_bn",
                                                    "stage.0.conv2"]
    assert len(layers) == 8 and {layer.node for layer in layers} == {use}
