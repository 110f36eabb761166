"""Identifiers and module paths from whatever users call their nodes."""

import keyword

import pytest

from engine.codegen.modules import module_tree
from engine.codegen.naming import (
    CONTAINER_KEY_RESERVED,
    NETWORK_KEY_RESERVED,
    ModulePaths,
    forward_scope,
    module_key,
    sanitise,
)


@pytest.mark.parametrize("text, expected", [
    ("conv 1", "conv_1"), ("2nd", "_2nd"), ("Ünïcödé", "Unicode"), ('a"b\nc', "a_b_c"),
    ("", "x"), ("___", "x"), ("x" * 100, "x" * 40),
])
def test_sanitise_gives_plain_short_identifiers(text, expected):
    assert sanitise(text) == expected


@pytest.mark.parametrize("text", ["self", "torch", "class", "match", "print", "nn", "F", "_"])
def test_variables_never_shadow_python_or_the_generated_code(text):
    name = forward_scope().name(text)
    assert name.isidentifier() and not keyword.iskeyword(name) and name != text


@pytest.mark.parametrize("text, expected", [
    ("conv1", "conv1"), ("0", "0"), ("block1-0", "block1-0"), ("Conv2d_1a_3x3", "Conv2d_1a_3x3"),
    ("my layer", "my_layer"), ("__hidden", "hidden"), ("07", "_07"), ("training", "training_"),
    ("forward", "forward_"), ("_modules", "_modules_"), ("in", "in_"), ("a'b", "a_b"),
])
def test_module_keys_keep_state_dict_names_and_sanitise_the_rest(text, expected):
    assert module_key(text, NETWORK_KEY_RESERVED) == expected
    assert module_key(text, CONTAINER_KEY_RESERVED) == expected


def test_only_a_container_key_avoids_the_container_methods():
    """A network may have a layer called `keys` (attention modules do); a ModuleDict may not."""
    assert module_key("keys", NETWORK_KEY_RESERVED) == "keys"
    assert module_key("keys", CONTAINER_KEY_RESERVED) == "keys_"
    assert module_key("node_of_module", NETWORK_KEY_RESERVED) == "node_of_module_"


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
