"""Code generation without torch: constructor calls declared as data, laid out by ruff."""

import inspect
import subprocess
import sys
from pathlib import Path

import pytest

from engine import Design, DesignError
from engine.codegen import layout
from engine.codegen.constructors import construction
from engine.layers import TensorInfo, all_layers
from engine.layers.module_call import ModuleCall, module_call

# An input each layer with a module accepts, with its default parameters.
_INPUTS = {"Conv1d": (4, 16), "MaxPool1d": (4, 16), "AvgPool1d": (4, 16), "Conv3d": (2, 6, 6, 6),
           "Embedding": (5,), "RNN": (6, 8), "LSTM": (6, 8), "GRU": (6, 8),
           "MultiheadAttention": (6, 8), "TransformerEncoderLayer": (6, 8), "Linear": (8,),
           "BatchNorm1d": (8,), "LayerNorm": (8,), "Unflatten": (64,)}


def _calls() -> dict[str, ModuleCall]:
    calls = {}
    for spec in all_layers():
        if spec.builds_module:
            shape = _INPUTS.get(spec.name, (3, 32, 32))
            info = TensorInfo(("N", *shape), "long" if spec.name == "Embedding" else "float")
            calls[spec.name] = spec.constructor([info], spec.defaults())
    return calls


@pytest.mark.parametrize("layer", sorted(_calls()))
def test_declared_defaults_are_the_targets_own(layer):
    """A keyword left out of the code because it equals a default must equal torch's
    default, or the exported module would differ from the app's."""
    call = _calls()[layer]
    module_name, _, name = call.target.rpartition(".")
    target = getattr(__import__(module_name, fromlist=[name]), name)
    signature = inspect.signature(target)
    if layer in ("RNN", "LSTM", "GRU"):  # they pass *args, **kwargs on to RNNBase
        from torch import nn
        signature = inspect.signature(nn.RNNBase.__init__)
        signature = signature.replace(parameters=[
            *signature.parameters.values(),
            inspect.Parameter("nonlinearity", inspect.Parameter.KEYWORD_ONLY, default="tanh")])
    for key, default in call.defaults.items():
        declared = signature.parameters[key].default
        if key == "activation":  # torch's default is the function "relu" names
            import torch.nn.functional as F
            assert declared is F.relu and default == "relu"
        else:
            assert declared == default and type(declared) is type(default), key


def test_a_call_leaves_out_only_arguments_equal_to_the_defaults():
    call = module_call("torch.nn.Linear", 4, 2, bias=True, defaults={"bias": True})
    assert call.kwargs == {} and call.build().bias is not None
    call = module_call("torch.nn.Linear", 4, 2, bias=False, defaults={"bias": True})
    assert call.kwargs == {"bias": False} and call.build().bias is None
    assert module_call("torch.nn.Dropout", p=1, defaults={"p": 1.0}).kwargs == {"p": 1}


def test_the_code_of_a_call_is_the_repr_of_its_arguments():
    spec = next(s for s in all_layers() if s.name == "Conv2d")
    params = {**spec.defaults(), "kernel_size": (3, 5), "padding": (1, 1), "bias": False}
    code = construction(spec, [TensorInfo(("N", 3, 8, 8))], params)
    assert code.expression == "nn.Conv2d(3, 16, (3, 5), padding=1, bias=False)"
    assert code.imports == {"from torch import nn"}


def test_a_backbone_is_built_by_a_portable_function_copied_into_the_script():
    spec = next(s for s in all_layers() if s.name == "Backbone")
    params = {**spec.defaults(), "weights_file": "w.pth", "frozen": True, "train_last": 2}
    code = construction(spec, [TensorInfo(("N", 3, 64, 64))], params)
    assert code.expression == ("pretrained_backbone('resnet18', head='fc', "
                               "weights_file='w.pth', train_last=2)")
    assert any("def pretrained_backbone(" in d for d in code.definitions)


def test_exporting_every_template_never_imports_torch():
    """The editor shows the code; torch lives only in worker processes."""
    probe = ("import sys\n"
             "from engine.codegen.export import generate_code\n"
             "from templates import load_template, template_names\n"
             "for name in template_names():\n"
             "    generate_code(load_template(name))\n"
             "print(sorted(m for m in sys.modules if m.split('.')[0] in "
             "('torch', 'torchvision')))\n")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            timeout=300, check=True)
    assert result.stdout.strip() == "[]"


def test_the_file_is_laid_out_by_ruff_with_imports_sorted_and_merged():
    code = ("import torch\nfrom torch import nn\nimport argparse\nfrom torch import nn\n"
            "x = {'a':1}\nprint(argparse, torch, nn, x)\n")
    assert layout.format_source(code) == (
        "import argparse\n\nimport torch\nfrom torch import nn\n\nx = {\"a\": 1}\n"
        "print(argparse, torch, nn, x)\n")


def test_a_formatter_that_cannot_run_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(layout, "find_ruff_bin", lambda: "/nonexistent/ruff")
    with pytest.raises(DesignError, match="ruff could not run"):
        layout.format_source("x = 1\n")


def test_a_layer_whose_call_refuses_its_values_names_the_layer():
    spec = next(s for s in all_layers() if s.name == "Dropout")
    with pytest.raises(DesignError, match="^Dropout: "):
        spec.build([TensorInfo(("N", 4))], {"p": 2.0})


@pytest.mark.slow
def test_opening_the_code_tab_and_exporting_leave_torch_out_of_the_editor():
    """In a process of its own, so that other tests' imports of torch cannot hide one."""
    probe = Path(__file__).with_name("i13_editor_probe.py")
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:xdist",
                             "-p", "no:randomly", str(probe)], capture_output=True, text=True,
                            timeout=600, check=False, cwd=probe.parents[1])
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "1 passed" in result.stdout


def test_layer_temporaries_come_from_the_scope_and_never_clash_with_node_names():
    """The h_n of a recurrent layer is asked of the forward's namespace: a node called h_n
    and a second LSTM each get a name of their own."""
    import engine
    from engine.codegen.export import export_script

    d = Design("temporaries")
    x = d.add("Input", shape=(5, 4), name="x")
    first = d.add("LSTM", x, hidden_size=3, name="h_n")
    second = d.add("LSTM", x, hidden_size=3, bidirectional=True, name="second")
    d.add("Output", d.add("Concat", first, second, name="both"))
    code = export_script(d).code
    assert "_, (h_n_2, _) = self.h_n(x)" in code and "h_n = h_n_2[-1]" in code
    assert "_, (h_n_3, _) = self.second(x)" in code
    assert "second = torch.cat([h_n_3[-2], h_n_3[-1]], dim=1)" in code
    assert engine.build_model(d) is not None


@pytest.mark.parametrize("network, expected", [
    ("model", "Model"), ("Path", "PathNet"), ("DistributedSampler", "DistributedSamplerNet"),
    ("pretrained_backbone", "PretrainedBackbone"), ("Exception", "ExceptionNet"),
])
def test_class_names_avoid_every_module_level_name_in_one_pass(network, expected):
    from engine.codegen.export import export_script

    d = Design("classes", networks=[network])
    x = d.add("Input", shape=(4,), network=network)
    d.add("Output", d.add("Linear", x, out_features=2, network=network), network=network)
    script = export_script(d)
    assert script.classes == {network: expected}
    assert f"class {expected}(nn.Module):" in script.code
