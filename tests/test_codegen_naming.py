"""Identifiers and module paths from whatever users call their nodes."""

import keyword

import pytest
from torch import nn

from engine.codegen.modules import module_tree
from engine.codegen.naming import NN_MODULE_ATTRIBUTES, ModulePaths, Namespace, module_key, sanitise


def test_reserved_attributes_cover_every_public_nn_module_attribute():
    public = {name for name in dir(nn.Module) if not name.startswith("_")}
    assert public <= NN_MODULE_ATTRIBUTES


@pytest.mark.parametrize("text, expected", [
    ("conv 1", "conv_1"), ("2nd", "_2nd"), ("Ünïcödé", "Unicode"), ('a"b\nc', "a_b_c"),
    ("", "x"), ("___", "x"), ("x" * 100, "x" * 40),
])
def test_sanitise_gives_plain_short_identifiers(text, expected):
    assert sanitise(text) == expected


@pytest.mark.parametrize("text", ["self", "torch", "forward", "class", "match", "print", "nn",
                                  "F", "h_n", "_"])
def test_variables_never_shadow_python_or_the_generated_code(text):
    name = Namespace().name(text)
    assert name.isidentifier() and not keyword.iskeyword(name) and name != text


@pytest.mark.parametrize("text, expected", [
    ("conv1", "conv1"), ("0", "0"), ("block1-0", "block1-0"), ("Conv2d_1a_3x3", "Conv2d_1a_3x3"),
    ("my layer", "my_layer"), ("__hidden", "hidden"), ("07", "_07"), ("training", "training_"),
    ("keys", "keys_"), ("forward", "forward_"), ("in", "in_"), ("a'b", "a_b"),
])
def test_module_keys_keep_state_dict_names_and_sanitise_the_rest(text, expected):
    assert module_key(text) == expected


def test_module_paths_nest_on_dots_and_never_collide():
    paths = ModulePaths()
    assert paths.path("layer1.0.conv1") == "layer1.0.conv1"
    assert paths.path("layer1.0.conv1") == "layer1.0.conv1_2"
    assert paths.path("head") == "head"
    assert paths.path("head.fc") == "head_2.fc"  # "head" is a leaf, so its children move
    assert paths.path("head.out") == "head_2.out"
    assert paths.path("..") == "layer"


def test_module_tree_uses_lists_for_indices_and_reaches_every_module():
    tree = module_tree(["layer1.0.conv", "layer1.1.conv", "stem", "blocks.a-1.fc", "0"])
    assert tree.children["layer1"].is_list and not tree.children["blocks"].is_list
    assert tree.expression("layer1.1.conv") == "self.layer1[1].conv"
    assert tree.expression("blocks.a-1.fc") == 'self.blocks["a-1"].fc'
    assert tree.expression("0") == 'getattr(self, "0")'
