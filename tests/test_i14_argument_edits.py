"""Editing a block definition's arguments in the engine (engine.blocks.arguments): rename with
its expressions and uses, change kind or range, remove, and make one from a layer's value."""

import pytest

from engine import Design, check
from engine.blocks.arguments import (
    add_argument,
    change_argument,
    make_argument,
    readers,
    remove_argument,
    rename_argument,
    with_kind,
)
from engine.blocks.definitions import Expr, argument
from engine.errors import DesignError
from engine.fields import Param


def _stage() -> Design:
    """'Stage' reads `width` twice; 'Outer' uses Stage with an expression of its own argument."""
    design = Design("stages")
    design.add_block("Stage", [argument("width", "int", 8, minimum=1),
                               argument("spare", "bool", True)])
    x = design.add("Input", shape=(3, 16, 16), name="x", network="Stage")
    conv = design.add("Conv2d", x, name="conv", out_channels={"expr": "width * 2"},
                      kernel_size=3, padding=1, network="Stage")
    mix = design.add("Conv2d", conv, name="mix", out_channels={"expr": "width * 2"},
                     kernel_size=1, network="Stage")
    gelu = design.add("GELU", mix, name="gelu", network="Stage")
    design.add("Output", gelu, name="out", network="Stage")
    design.add_block("Outer", [argument("width", "int", 2, minimum=1)])
    y = design.add("Input", shape=(3, 16, 16), name="y", network="Outer")
    inner = design.add("Block", y, block="Stage", name="inner", width={"expr": "width + 1"},
                       network="Outer")
    design.add("Output", inner, name="out", network="Outer")
    image = design.add("Input", shape=(3, 16, 16), name="image")
    first = design.add("Block", image, block="Stage", width=4, name="first")
    outer = design.add("Block", image, block="Outer", width=5, name="outer")
    design.add("Output", first, name="o1")
    design.add("Output", outer, name="o2")
    return design


def test_renaming_an_argument_renames_its_expressions_and_keeps_every_uses_value():
    design = _stage()
    shapes = check(design)
    rename_argument(design, "Stage", "width", "channels")
    assert [a.name for a in design.block_arguments("Stage")] == ["channels", "spare"]
    conv, mix = design.find("conv", "Stage"), design.find("mix", "Stage")
    assert design.node(conv).params["out_channels"] == Expr("channels * 2")
    assert design.node(mix).params["out_channels"] == Expr("channels * 2")
    first, inner = design.find("first"), design.find("inner", "Outer")
    assert design.node(first).params["channels"] == 4 and "width" not in design.node(first).params
    # a use inside another block keeps its expression, which reads Outer's own `width`
    assert design.node(inner).params["channels"] == Expr("width + 1")
    report = check(design)
    assert report.errors == []
    assert report.shape(first) == shapes.shape(first) == ("N", 8, 16, 16)
    assert report.shape(design.find("outer")) == ("N", 12, 16, 16)


@pytest.mark.parametrize(("name", "words"), [("2x", "plain name"), ("class", "keyword"),
                                             ("repeat", "block node's own"),
                                             ("spare", "already has an argument")])
def test_a_bad_new_name_is_refused_and_nothing_changes(name, words):
    design = _stage()
    before = design.to_dict()
    with pytest.raises(DesignError, match=words):
        rename_argument(design, "Stage", "width", name)
    assert design.to_dict() == before


def test_a_default_outside_the_range_or_an_upside_down_range_is_refused():
    design = _stage()
    width = design.block_arguments("Stage")[0]
    with pytest.raises(DesignError, match="'width' is 0 but must be at least 1 \\(the default\\)"):
        change_argument(design, "Stage", "width", argument("width", "int", 0, minimum=1))
    with pytest.raises(DesignError, match="minimum 9 is above its maximum 3"):
        change_argument(design, "Stage", "width", argument("width", "int", 2, minimum=9,
                                                           maximum=3))
    with pytest.raises(DesignError, match="at least one choice"):
        change_argument(design, "Stage", "spare", Param("spare", "choice", "a"))
    assert design.block_arguments("Stage")[0] == width


def test_a_new_default_changes_the_definitions_own_shapes_and_uses_keep_values_that_fit():
    design = _stage()
    conv = design.find("conv", "Stage")
    change_argument(design, "Stage", "width", argument("width", "int", 3, minimum=1, maximum=4))
    assert check(design).shape(conv) == ("N", 6, 16, 16)
    assert design.node(design.find("first")).params["width"] == 4
    change_argument(design, "Stage", "width", argument("width", "int", 3, minimum=1, maximum=3))
    assert design.node(design.find("first")).params["width"] == 3  # 4 no longer fits


def test_removing_an_argument_that_expressions_read_is_refused_naming_them():
    design = _stage()
    assert readers(design, "Stage", "width") == ["conv.out_channels", "mix.out_channels"]
    with pytest.raises(DesignError, match="conv.out_channels, mix.out_channels read 'width'"):
        remove_argument(design, "Stage", "width")
    remove_argument(design, "Stage", "spare")
    assert [a.name for a in design.block_arguments("Stage")] == ["width"]
    assert "spare" not in design.node(design.find("first")).params


def test_an_added_argument_gets_a_free_name_and_every_use_its_default():
    design = _stage()
    added = add_argument(design, "Stage")
    assert (added.name, added.kind, added.default) == ("argument1", "int", 1)
    assert add_argument(design, "Stage").name == "argument2"
    assert design.node(design.find("first")).params["argument1"] == 1
    with pytest.raises(DesignError, match="already has an argument named 'width'"):
        add_argument(design, "Stage", argument("width", "float", 1.0))


def test_a_new_kind_carries_the_default_and_range_over_where_they_mean_something():
    width = argument("width", "int", 8, minimum=1)
    as_float = with_kind(width, "float")
    assert (as_float.default, as_float.minimum, as_float.maximum) == (8.0, 1, None)
    assert with_kind(as_float, "int").default == 8
    assert with_kind(width, "bool").default is True
    choice = with_kind(width, "choice")
    assert (choice.default, choice.choices) == ("8", ("8",))
    assert with_kind(choice, "int").default == 0
    design = _stage()
    change_argument(design, "Stage", "width", as_float)
    assert design.node(design.find("first")).params["width"] == 4.0


def test_make_argument_turns_a_layers_value_into_an_argument_the_layer_reads():
    design = _stage()
    conv = design.find("conv", "Stage")
    assert make_argument(design, conv, "kernel_size") == "kernel_size"
    declared = design.block_arguments("Stage")[-1]
    assert (declared.name, declared.kind, declared.default, declared.minimum) == (
        "kernel_size", "int", 3, 1)
    assert design.node(conv).params["kernel_size"] == Expr("kernel_size")
    assert design.node(design.find("first")).params["kernel_size"] == 3
    assert make_argument(design, conv, "bias") == "bias"
    assert design.block_arguments("Stage")[-1].kind == "bool"
    gelu = design.find("gelu", "Stage")
    assert make_argument(design, gelu, "approximate") == "approximate"
    assert design.block_arguments("Stage")[-1].choices == ("none", "tanh")
    assert make_argument(design, design.find("mix", "Stage"), "kernel_size") == "kernel_size2"
    assert make_argument(design, design.find("inner", "Outer"), "repeat") == "repeat_value"
    assert check(design).errors == []
    design.set_params(conv, padding=(1, 2))
    with pytest.raises(DesignError, match="'padding' is \\(1, 2\\); an argument holds"):
        make_argument(design, conv, "padding")
    with pytest.raises(DesignError, match="already the expression width \\* 2"):
        make_argument(design, conv, "out_channels")
    with pytest.raises(DesignError, match="only a layer inside a block definition"):
        make_argument(design, design.find("image"), "shape")
