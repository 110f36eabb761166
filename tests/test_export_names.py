"""Whatever the nodes and networks are called, the export is valid, harmless and faithful."""

import ast
import keyword

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_codegen_helpers import load_exported, outputs, ruff, sample_inputs, single_thread

import engine
from engine import Design
from engine.codegen.export import export_script
from engine.codegen.naming import NN_MODULE_ATTRIBUTES

HOSTILE = ["self", "torch", "nn", "F", "forward", "__init__", "super", "class", "match", "case",
           "type", "_", "print", "exec", "__import__", "training", "state_dict", "keys", "0",
           "1.2", "a.b", ".", "layer.0", "x'); import os; os.system('echo hacked", '"""',
           "\\", "a\n\nb", "ünïcode λ", "名前", "h_n", "torchvision", "getattr", "setattr",
           "node_of_module", "Model", "main", "parse_args", "train", "in", "None", "-", "a-b",
           "DistributedSampler", "Path",
           *sorted(NN_MODULE_ATTRIBUTES)[:10]]
NAMES = st.one_of(st.sampled_from(HOSTILE),
                  st.text(min_size=1, max_size=30).filter(str.strip))  # blank names are refused
# What the generated classes may mention: their own names, torch, and a few builtins.
ALLOWED_GLOBALS = {"torch", "nn", "self", "super", "getattr", "setattr", "range", "tuple", "_"}

pytestmark = pytest.mark.usefixtures(single_thread.__name__)



def design_named(names: list[str], network: str) -> Design:
    """Input -> Linear -> ReLU -> Linear, with a skip connection and two outputs."""
    d = Design(names[0], networks=[network])
    x = d.add("Input", shape=(4,), name=names[1], network=network)
    a = d.add("Linear", x, out_features=4, name=names[2], network=network)
    b = d.add("ReLU", a, name=names[3], network=network)
    c = d.add("Linear", b, out_features=4, name=names[4], network=network)
    skip = d.add("Add", c, x, name=names[5], network=network)
    d.add("Output", c, name=names[6], network=network)
    d.add("Output", skip, name=names[7], network=network)
    d.description = names[8]
    return d


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(names=st.lists(NAMES, min_size=9, max_size=9), network=NAMES)
def test_hostile_names_give_valid_harmless_faithful_code(names, network, tmp_path):
    design = design_named(names, network)
    script = export_script(design)
    tree = ast.parse(script.code)
    classes = [node for node in tree.body if isinstance(node, ast.ClassDef)]
    assert [c.name for c in classes] == list(script.classes.values())
    for cls in classes:
        local = {n.id for n in ast.walk(cls) if isinstance(n, ast.Name)
                 and isinstance(n.ctx, ast.Store)}
        local |= {n.arg for n in ast.walk(cls) if isinstance(n, ast.arg)}
        used = {n.id for n in ast.walk(cls) if isinstance(n, ast.Name)}
        assert used - local <= ALLOWED_GLOBALS
        assert not any(isinstance(n, (ast.Import, ast.ImportFrom, ast.Lambda)) for n in
                       ast.walk(cls))
        for name in local:
            assert name.isascii() and not keyword.iskeyword(name)
    assert ruff("format", "--diff", source=script.code).returncode == 0
    assert ruff("check", source=script.code).returncode == 0
    namespace = load_exported(script.code, tmp_path)
    built = engine.build_model(design, network).eval()
    exported = namespace[script.classes[network]]().eval()
    exported.load_state_dict(built.state_dict(), strict=True)
    inputs = sample_inputs(design, network)
    for mine, theirs in zip(outputs(exported, inputs), outputs(built, inputs), strict=True):
        assert torch.equal(mine, theirs)
