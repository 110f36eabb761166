"""Issue 12, item 5: whatever a node is called, its module never collides with anything
nn.Module (or a container, or the compiled network) defines, in the app and in exported code."""

from __future__ import annotations

import builtins
import keyword
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from test_codegen_helpers import load_exported, outputs, sample_inputs, single_thread
from torch import nn

import engine
from engine import Design, check
from engine.codegen.export import export_script
from engine.codegen.naming import (
    COMPILED_NETWORK_ATTRIBUTES,
    MODULE_DICT_ATTRIBUTES,
    NN_MODULE_ATTRIBUTES,
)
from engine.importing import import_network
from engine.training.plan import weights_file

pytestmark = pytest.mark.usefixtures(single_thread.__name__)

ATTRIBUTE_NAMES = sorted(NN_MODULE_ATTRIBUTES | MODULE_DICT_ATTRIBUTES
                         | COMPILED_NETWORK_ATTRIBUTES)
# The names the issue found breaking training and the exported file.
REPORTED = ["_modules", "_parameters", "_buffers", "_apply", "_version", "_call_impl", "_get_name"]


def _public_and_private(names: set[str]) -> set[str]:
    """Attribute names a module key could be (it never starts with two underscores)."""
    return {name for name in names if not name.startswith("__")}


# ---------------------------------------------------------------------------- the static lists

def test_static_list_holds_every_nn_module_attribute_of_the_installed_torch():
    live = _public_and_private(set(dir(nn.Module)) | set(vars(nn.Module())))
    assert live - NN_MODULE_ATTRIBUTES == set(), "add these to naming.NN_MODULE_ATTRIBUTES"


def test_static_list_holds_what_module_dict_adds_to_nn_module():
    added = _public_and_private(set(dir(nn.ModuleDict)) - set(dir(nn.Module)))
    assert added - MODULE_DICT_ATTRIBUTES == set(), "add these to naming.MODULE_DICT_ATTRIBUTES"


def test_static_list_holds_what_the_compiled_network_adds_to_nn_module():
    model = engine.build_model(_design(["x", "fc", "bn", "fc2", "add", "y", "z"]))
    added = (set(vars(model)) - set(vars(nn.Module()))) | (set(dir(type(model)))
                                                           - set(dir(nn.Module)))
    assert _public_and_private(added) - COMPILED_NETWORK_ATTRIBUTES == set()


def test_code_generation_does_not_import_torch():
    """The editor writes code on every edit; importing torch there would cost seconds."""
    probe = ("import sys, engine.codegen.export, engine.codegen.naming; "
             "sys.exit('torch' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            timeout=120, check=False, cwd=Path(__file__).parent.parent)
    assert result.returncode == 0, result.stderr


# ---------------------------------------------------------------------------- the design

def _design(names: list[str]) -> Design:
    """Input -> Linear -> BatchNorm1d -> Linear, a skip connection and two outputs: modules with
    parameters and buffers, under seven names the caller chooses."""
    d = Design("names")
    x = d.add("Input", shape=(4,), name=names[0])
    a = d.add("Linear", x, out_features=4, name=names[1])
    b = d.add("BatchNorm1d", a, name=names[2])
    c = d.add("Linear", b, out_features=4, name=names[3])
    skip = d.add("Add", c, x, name=names[4])
    d.add("Output", c, name=names[5])
    d.add("Output", skip, name=names[6])
    return d


def _chain(names: list[str]) -> Design:
    """Input -> one Linear per name -> Output."""
    d = Design("chain")
    node = d.add("Input", shape=(3,), name="x")
    for name in names:
        node = d.add("Linear", node, out_features=3, name=name)
    d.add("Output", node, name="y")
    return d


def _flat(result: torch.Tensor | tuple[torch.Tensor, ...]) -> list[torch.Tensor]:
    return list(result) if isinstance(result, tuple) else [result]


def _assert_builds_and_exports_faithfully(design: Design) -> None:
    """The check passes, the app's model takes a training step, and the exported class loads
    the app's state_dict strictly and computes the same outputs bit for bit."""
    assert check(design).errors == []
    inputs = sample_inputs(design, batch=5)
    built = engine.build_model(design)
    sum(out.sum() for out in _flat(built.train()(*inputs))).backward()
    script = export_script(design)
    with tempfile.TemporaryDirectory() as folder:
        exported = load_exported(script.code, Path(folder))[script.classes["model"]]()
    exported.load_state_dict(built.state_dict(), strict=True)
    for mine, theirs in zip(outputs(exported, inputs), outputs(built, inputs), strict=True):
        assert torch.equal(mine, theirs)


# ---------------------------------------------------------------------------- examples

@pytest.mark.parametrize("name", REPORTED)
def test_a_layer_named_after_a_private_nn_module_attribute_builds_and_exports(name):
    _assert_builds_and_exports_faithfully(_design(["x", name, "bn", "fc2", "add", "y", "z"]))


def test_every_attribute_name_at_every_level_builds_and_exports():
    """Each name as a top-level layer, as a container and as a leaf inside one."""
    names = [*ATTRIBUTE_NAMES, *(f"{name}.fc" for name in ATTRIBUTE_NAMES),
             *(f"blocks.{name}" for name in ATTRIBUTE_NAMES),
             *(f"layer1.0.{name}" for name in ATTRIBUTE_NAMES)]
    _assert_builds_and_exports_faithfully(_chain(names))


def test_names_that_differ_by_case_or_by_sanitising_get_their_own_modules():
    names = ["conv", "Conv", "CONV", "my layer", "my_layer", "my-layer", "my.layer", "my..layer",
             "_modules", "_modules_", "modules", "!!!", "???", "λ", "0", "00", "0.0", "0.00"]
    design = _chain(names)
    _assert_builds_and_exports_faithfully(design)
    model = engine.build_model(design)
    assert len(set(model.node_of_module)) == len(names)


def test_an_imported_model_with_layers_named_keys_and_values_keeps_its_state_dict_keys():
    class Attention(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.keys = nn.Linear(4, 4)
            self.values = nn.Linear(4, 4)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.values(self.keys(x))

    module = Attention()
    result = import_network(module, torch.randn(2, 4))
    assert list(result.state_dict) == list(module.state_dict())


def test_networks_whose_names_differ_by_case_or_sanitising_save_to_different_files():
    """Two networks saved to one file lose one network's weights (on a disk that ignores
    case too); plain names keep their file names."""
    names = ["my net", "my_net", "My_Net", "MY NET", "my-net", "Generator", "generator", "λ",
             "!!!", "a" * 41, "a" * 40, "_model", "model_"]
    files = [weights_file(name).casefold() for name in names]
    assert len(set(files)) == len(names), files
    assert [weights_file(name) for name in ["model", "generator", "discriminator"]] == [
        "model.safetensors", "generator.safetensors", "discriminator.safetensors"]


# ---------------------------------------------------------------------------- property

_HOSTILE = [*ATTRIBUTE_NAMES, *keyword.kwlist, *keyword.softkwlist,
            *(name for name in dir(builtins) if not name.startswith("__")), "__init__",
            "__class__", "__dict__", "self", "torch", "nn", "F", "0", "1", "07", "00", "a-b",
            "!!!", "λ", "名前", "ünïcode", "-", "_", "__", "x'y", "a b"]
_PART = st.one_of(st.sampled_from(_HOSTILE), st.sampled_from(_HOSTILE).map(str.upper),
                  st.sampled_from(_HOSTILE).map(str.title),
                  st.text(min_size=1, max_size=12), st.from_regex(r"[0-9]{1,3}", fullmatch=True))
NAMES = st.lists(_PART, min_size=1, max_size=3).map(".".join).filter(str.strip)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(names=st.lists(NAMES, min_size=7, max_size=7))
@example(names=REPORTED)
@example(names=["_call_impl", "_modules.training", "forward.0", "Forward", "forward",
                "keys.keys", "node_of_module.items"])
@example(names=["x", "_", "_.", "._", "add", "y", "z"])
def test_any_node_names_check_build_run_and_export_faithfully(names):
    _assert_builds_and_exports_faithfully(_design(names))
