"""Activation probes: every node's output for one sample equals what the built model computes
(forward hooks on its modules, its returned outputs), for every template; the statistics and
pictures say what they claim; the payload stays small and plain; the sheet and the command
line work, and bad input is named."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from layer_samples import one_layer_design
from PIL import Image
from safetensors.torch import save_file

from engine import build_model, check, save_design
from engine.cli import main
from engine.codegen.forward import forward_program
from engine.design import Design
from engine.errors import DesignError
from engine.layers import all_layers
from engine.layers.block_node import BLOCK_TYPE
from engine.probes import PictureLimits, probe, probe_for_worker
from engine.probes.capture import NodeKey, capture_outputs
from engine.probes.pictures import picture_of
from engine.probes.samples import probe_batch
from engine.probes.sheet import draw_sheet
from engine.probes.statistics import statistics_of
from engine.runs import RunStore
from engine.training.plan import make_plan
from templates import load_template, template_names

ROOT = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------------------- equal to the model

def _hooked(model: torch.nn.Module) -> dict[str, object]:
    """Module path -> the output its forward hook saw (the last call's)."""
    seen: dict[str, object] = {}
    for path, module in model.named_modules():
        module.register_forward_hook(lambda _m, _i, out, path=path: seen.__setitem__(path, out))
    return seen


def _module_paths(design: Design, scope: str, walk, arguments: dict, prefix: str,
                  uses: tuple) -> dict[NodeKey, str]:
    """Each node with a module -> its path in the built model, inside block uses too."""
    paths: dict[NodeKey, str] = {}
    for path, node in forward_program(design, scope, walk, arguments).modules.items():
        here = f"{prefix}{path}"
        paths[NodeKey(uses, node)] = here
        data = design.node(node)
        if data.type != BLOCK_TYPE:
            continue
        block = data.params["block"]
        inner_arguments = {a.name: data.params[a.name] for a in design.block_arguments(block)}
        for copy, inner in enumerate(walk.uses[node]):
            inside = f"{here}." if data.params["repeat"] == 1 else f"{here}.{copy}."
            paths |= _module_paths(design, block, inner, inner_arguments, inside,
                                   (*uses, (node, copy)))
    return paths


def _tensors_in(output) -> list[torch.Tensor]:
    """The tensors a module gave, and for state tensors (an RNN's h_n) the last layer's,
    which a recurrent node giving its last step reads."""
    if isinstance(output, torch.Tensor):
        return [output, output[-1]] if output.dim() == 3 else [output]
    return [t for item in output if item is not None for t in _tensors_in(item)]


def _probed_networks():
    for name in template_names():
        design = load_template(name)
        for io in make_plan(design).networks:
            yield pytest.param(name, io.network, id=f"{name}-{io.network}")


@pytest.mark.parametrize("template, network", list(_probed_networks()))
def test_probe_outputs_equal_forward_hooks_and_the_model_outputs(template, network):
    design = load_template(template)
    report = check(design)
    model = build_model(design, network, report=report).eval()
    inputs = probe_batch(design, network, 0, 1, report).inputs
    captured = capture_outputs(design, network, model, [inputs], report)
    seen = _hooked(model)
    with torch.no_grad():
        returned = model(inputs)
    returned = returned if isinstance(returned, tuple) else (returned,)

    outputs = [captured[NodeKey((), n)].outputs[0] for n in design.nodes(network)
               if design.node(n).type == "Output"]
    assert all(torch.equal(a, b) for a, b in zip(outputs, returned, strict=True))
    paths = _module_paths(design, network, report, {}, "", ())
    compared = 0
    for key, path in paths.items():
        hook_output = seen[path]
        for value in captured[key].outputs:
            if isinstance(hook_output, torch.Tensor) and len(captured[key].outputs) == 1:
                assert torch.equal(value, hook_output), path
            else:
                assert any(t.shape == value.shape and torch.equal(t, value)
                           for t in _tensors_in(hook_output)), path
            compared += 1
    assert compared >= len(paths)
    inside = [key for key in captured if key.uses]
    assert bool(inside) == any(design.node(n).type == BLOCK_TYPE
                               for n in design.nodes(network))


# ---------------------------------------------------------------------------- statistics

def test_a_relu_after_a_negative_bias_is_dead_on_the_sample_and_the_batch(tmp_path):
    design = load_template("mlp")
    torch.manual_seed(0)
    model = build_model(design)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    state["hidden1.weight"].zero_()
    state["hidden1.bias"].fill_(-1.0)
    save_file(state, tmp_path / "dead.safetensors")

    found = probe(design, sample=2, weights=tmp_path / "dead.safetensors", batch=16)
    relu = found.find(_node(design, "relu1")).statistics
    assert (relu.zeros, relu.dead, relu.batch) == (1.0, 1.0, 16)
    assert relu.flags == ("dead",) and relu.max == 0.0
    assert found.find(_node(design, "hidden1")).statistics.dead is None   # not a ReLU
    assert found.weights.endswith("dead.safetensors")


def test_statistics_of_a_hand_made_output():
    values = torch.tensor([-2.0, 0.0, 0.0, 2.0])
    stats = statistics_of(values, None, None, relu_family=False)
    assert (stats.mean, stats.std, stats.min, stats.max, stats.zeros) == (0.0, 2 ** 0.5, -2.0,
                                                                          2.0, 0.5)
    assert stats.saturated is None and stats.dead is None and stats.flags == ()


def test_saturated_sigmoid_and_tanh_units_are_counted_and_flagged():
    sigmoid = torch.sigmoid(torch.tensor([-9.0, 9.0, 8.0, 0.0]))
    assert statistics_of(sigmoid, None, (0.0, 1.0), False).saturated == 0.75
    tanh = torch.tanh(torch.tensor([[4.0, -4.0, 0.1]]))
    stats = statistics_of(tanh[0], tanh, (-1.0, 1.0), False)
    assert stats.saturated == pytest.approx(2 / 3) and stats.flags == ("saturated",)


def test_a_unit_that_fires_for_one_sample_of_the_batch_is_not_dead():
    batch = torch.tensor([[0.0, 0.0, 1.0, 0.0], [0.0, 3.0, 0.0, 0.0]])
    stats = statistics_of(batch[0], batch, None, relu_family=True)
    assert stats.zeros == 0.75 and stats.dead == 0.5 and stats.batch == 2
    assert stats.flags == ()   # dead only when more than half are


# ---------------------------------------------------------------------------- pictures

def test_maps_show_the_first_channels_shrunk_and_a_symmetric_scale():
    value = torch.randn(32, 40, 40, generator=torch.Generator().manual_seed(0))
    picture = picture_of(value, PictureLimits(maps=8, side=20))
    assert picture.kind == "maps" and picture.pixels.shape == (8, 20, 20)
    assert picture.pixels.dtype == np.uint8 and (picture.shown, picture.total) == (8, 32)
    assert picture.diverging and picture.low == -picture.high


def test_sequences_run_along_columns_and_vectors_wrap_into_rows():
    sequence = picture_of(torch.arange(100 * 3, dtype=torch.float).reshape(100, 3),
                          PictureLimits(rows=32, columns=64))
    assert sequence.kind == "sequence" and sequence.pixels.shape == (1, 3, 64)
    assert sequence.pixels[0, 0, 0] < sequence.pixels[0, 0, -1]   # along the steps
    wide = picture_of(torch.ones(10, 100), PictureLimits(rows=32))
    assert wide.pixels.shape == (1, 32, 10) and (wide.shown, wide.total) == (32, 100)
    vector = picture_of(torch.arange(150, dtype=torch.float), PictureLimits(columns=64))
    assert vector.kind == "vector" and vector.pixels.shape == (1, 3, 64)
    assert (vector.shown, vector.low, vector.high, vector.diverging) == (150, 0.0, 149.0, False)
    assert vector.pixels[0, 0, 0] == 0 and vector.pixels[0, 2, 149 - 128] == 255


def test_the_payload_is_plain_small_and_json_for_the_cnn():
    found = probe(load_template("cnn"), sample=3)
    assert len(found.nodes) == 12 and found.source.startswith("training sample 3 of")
    assert "torch" not in repr(pickle.loads(pickle.dumps(found)).nodes[0].picture)
    assert len(pickle.dumps(found)) < 20_000
    document = json.loads(json.dumps(found.as_dict()))
    conv = next(node for node in document["nodes"] if node["label"] == "conv1")
    assert conv["shape"] == ["N", 32, 8, 8] and len(conv["picture"]["pixels"]) == 8


def test_probe_results_unpickle_in_a_process_without_torch(tmp_path):
    options = pickle.loads(pickle.dumps({"sample": 5, "limits": PictureLimits(maps=2)}))
    found = probe_for_worker(load_template("mlp").to_dict(), options)
    assert found.source.startswith("training sample 5 of")
    (tmp_path / "probe.pickle").write_bytes(pickle.dumps(found))
    code = ("import pickle, sys; p = pickle.load(open(sys.argv[1], 'rb')); "
            "assert 'torch' not in sys.modules and p.nodes")
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "probe.pickle")], check=True,
                   cwd=ROOT)


def test_inner_nodes_of_repeated_blocks_are_labelled_by_copy():
    found = probe(load_template("resnet"), batch=2)
    labels = [node.label for node in found.nodes]
    assert labels.index("layer1") < labels.index("layer1[0].conv1") < labels.index(
        "layer1[1].conv1")
    assert "layer2.conv1" in labels


def test_a_gan_generator_is_probed_on_seeded_noise():
    first, again = (probe(load_template("gan"), sample=7) for _ in range(2))
    assert first.network == "generator" and first.source == "noise drawn with seed 7"
    assert first.nodes[0].statistics == again.nodes[0].statistics


def test_an_array_sample_is_probed_and_a_wrong_shape_is_named():
    design = load_template("mlp")
    found = probe(design, sample=np.ones(64, dtype=np.float32))
    assert found.source == "the given array" and found.nodes[0].statistics.mean == 1.0
    with pytest.raises(DesignError, match=r"shape \[10\] .* takes \[64\]"):
        probe(design, sample=np.ones((2, 10), dtype=np.float32))


# ---------------------------------------------------------------------------- sheet and CLI

@pytest.mark.parametrize("template", ["cnn", "rnn"])
def test_the_sheet_draws_a_card_per_output(template):
    found = probe(load_template(template), sample=1)
    sheet = draw_sheet(found, template)
    rows = -(-len(found.nodes) // 4)
    assert sheet.width > 1000 and sheet.height > rows * 250
    pixels = np.asarray(sheet)
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50   # pictures, not blank cards


@pytest.fixture()
def cnn_file(tmp_path) -> Path:
    path = tmp_path / "cnn.ncnet"
    save_design(load_template("cnn"), path)
    return path


def test_the_probe_command_writes_the_sheet(cnn_file, capsys):
    out = cnn_file.with_name("sheet.png")
    assert main(["probe", str(cnn_file), "--sample", "4", "-o", str(out)]) == 0
    assert "12 outputs of network 'model' for training sample 4" in capsys.readouterr().out
    assert Image.open(out).size[0] > 1000


@pytest.mark.parametrize("arguments, message", [
    (["--sample", "99999"], "sample 99999 is out of range: the training data holds 1438"),
    (["--network", "critic"], "there is no network 'critic'"),
    (["--weights", "missing.safetensors"], "there is no weights file"),
    (["--file", "nothing.png"], "there is no file"),
])
def test_the_probe_command_names_bad_input(cnn_file, capsys, arguments, message):
    out = cnn_file.with_name("sheet.png")
    assert main(["probe", str(cnn_file), *arguments, "-o", str(out)]) == 2
    assert message in capsys.readouterr().err and not out.exists()


def test_weights_of_another_design_are_refused_naming_the_keys(cnn_file, capsys):
    torch.manual_seed(0)
    mlp = build_model(load_template("mlp"))
    save_file(mlp.state_dict(), cnn_file.with_name("mlp.safetensors"))
    cnn_file.with_name("broken.safetensors").write_bytes(b"not weights at all")
    out = str(cnn_file.with_name("sheet.png"))
    assert main(["probe", str(cnn_file), "--weights",
                 str(cnn_file.with_name("mlp.safetensors")), "-o", out]) == 2
    error = capsys.readouterr().err
    assert "missing from the file: conv1.weight, conv1.bias" in error
    assert "not in the network: hidden1.bias, hidden1.weight" in error
    assert "of another shape: scores.weight [10, 64] (the network's is [10, 1024])" in error
    assert main(["probe", str(cnn_file), "--weights",
                 str(cnn_file.with_name("broken.safetensors")), "-o", out]) == 2
    assert "cannot be read as weights" in capsys.readouterr().err


def test_a_runs_folder_gives_its_weights(tmp_path):
    design = load_template("mlp")
    record = RunStore(tmp_path / "net.runs").create()
    torch.manual_seed(5)
    model = build_model(design)
    (record.folder / "last").mkdir()
    save_file(model.state_dict(), record.folder / "last" / "model.safetensors")
    found = probe(design, weights=record.folder)
    with torch.no_grad():
        expected = model.eval()(probe_batch(design, "model", 0, 1, check(design)).inputs)
    assert found.nodes[-1].statistics.mean == pytest.approx(float(expected.mean()), abs=1e-6)
    with pytest.raises(DesignError, match="not a run"):
        probe(design, weights=tmp_path)


def _node(design: Design, name: str) -> str:
    return next(n for n in design.nodes("model") if design.node(n).name == name)


# Backbone builds a whole torchvision model: the `transfer` template above covers it.
@pytest.mark.parametrize("spec", [s for s in all_layers()
                                  if s.name not in ("Input", "Output", "Backbone")],
                         ids=lambda spec: spec.name)
def test_every_layer_is_captured_as_the_model_computes_it(spec):
    design, node = one_layer_design(spec)
    report = check(design)
    torch.manual_seed(0)
    model = build_model(design, report=report).eval()
    info = report.info(next(n for n in design.nodes("model") if design.node(n).type == "Input"))
    x = (torch.randint(0, 6, (2, *info.shape[1:])) if info.dtype == "long"
         else torch.rand(2, *info.shape[1:]) + 0.5)   # positive: log, sqrt and powers are finite
    captured = capture_outputs(design, "model", model, [x], report)
    with torch.no_grad():
        expected = model(x)
    assert torch.equal(captured[NodeKey((), node)].outputs[0], expected)
