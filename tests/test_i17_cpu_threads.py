"""CPU threads: one for a network whose steps are too small to share between threads (they
would wait for each other longer than they save), torch's default otherwise, or what the
setting asks for; the app and the exported script choose alike, and a run gives the process
its own number back."""

from __future__ import annotations

import pytest
import torch
from test_training_support import classifier, of_kind, train

from engine import Design
from engine.compiler import build_model
from engine.training import script
from engine.training.events import Started
from engine.training.labels import SECTIONS, setting_section
from engine.training.portable import processes
from engine.training.portable.processes import SMALL_STEP_FLOPS, cpu_threads, forward_flops
from engine.training.run_state import decide
from engine.training.settings import schema
from templates import load_template, template_names


@pytest.fixture
def three_threads():
    """The process computes with 3 threads during the test (a number no choice makes)."""
    own = torch.get_num_threads()
    torch.set_num_threads(3)
    yield
    torch.set_num_threads(own)


def wide_classifier(**training) -> Design:
    """A step of about 400 MFLOPs: worth sharing between threads."""
    d = Design("wide")
    x = d.add("Input", shape=(1024,), name="features")
    h = d.add("Linear", x, out_features=2048, name="hidden")
    d.add("Output", d.add("Linear", d.add("ReLU", h), out_features=3), name="label")
    d.set_training(task="classification", epochs=1, batch_size=32,
                   data={"source": "generated", "samples": 64}, **training)
    return d


def test_forward_flops_counts_one_sample_and_leaves_the_network_as_it_was():
    model = torch.nn.Sequential(torch.nn.Linear(10, 20), torch.nn.BatchNorm1d(20))
    assert forward_flops([model], [((10,), torch.float)]) == 2 * 10 * 20
    assert model.training and model[0].weight.device.type == "cpu"


def test_a_small_step_takes_one_thread_a_large_one_the_default(three_threads):
    per_sample = SMALL_STEP_FLOPS // 3 // 64
    assert cpu_threads(0, per_sample - 1, 64) == 1
    assert cpu_threads(0, per_sample + 1, 64) == 3
    assert cpu_threads(2, per_sample - 1, 64) == 2   # asked for: taken as it is
    assert cpu_threads(5, per_sample + 1, 64) == 5


@pytest.mark.parametrize("name", template_names())
def test_the_count_is_the_cost_estimates(name):
    """Counted on meta copies as the cost estimate counts: on real CPU tensors torch's fused
    kernels (an RNN's, attention's) would hide most of the FLOPs, and an RNN would be given
    one thread."""
    design = load_template(name)
    setup = decide(design, {})
    networks = [build_model(design, io.network) for io in setup.plan.networks]
    shapes = [(io.input_shape, getattr(torch, io.input_dtype)) for io in setup.plan.networks]
    before = [dict(network.state_dict()) for network in networks]
    assert forward_flops(networks, shapes) == setup.cost.flops_per_sample > 0
    for network, state in zip(networks, before, strict=True):   # the networks are untouched
        assert all(value.device.type == "cpu" for value in network.state_dict().values())
        assert network.state_dict().keys() == state.keys()


@pytest.mark.parametrize("name", ["mlp", "gan", "transformer"])
def test_the_app_counts_what_the_script_counts(name, monkeypatch):
    """The run's threads come from the cost estimate, which calls `forward_flops` with each
    network's input shape and type, as the script does."""
    design = load_template(name)
    program = script.render_training_program(design, {n: "Net" for n in design.networks})
    counted = []
    real_count = processes.forward_flops

    def spy(networks, shapes):
        names = {torch.float32: "torch.float", torch.int64: "torch.long"}
        counted.extend(f"({tuple(shape)!r}, {names[dtype]})" for shape, dtype in shapes)
        return real_count(networks, shapes)

    monkeypatch.setattr(processes, "forward_flops", spy)
    events, _ = train(design, overrides={"epochs": 1})
    started = of_kind(events, "started")[0]
    assert f"[{', '.join(counted[:len(design.networks)])}]" in program.body
    assert started.threads == cpu_threads(0, started.cost["flops_per_sample"],
                                          started.settings["batch_size"])


def test_a_small_network_trains_on_one_thread_and_gives_the_process_its_threads_back(
        three_threads, tmp_path):
    events, final = train(classifier(epochs=1), tmp_path)
    assert final.kind == "finished", getattr(final, "reason", "")
    assert of_kind(events, "started")[0].threads == 1
    assert torch.get_num_threads() == 3


def test_a_large_network_keeps_the_default_and_the_setting_overrides_both(three_threads):
    events, _ = train(wide_classifier())
    assert of_kind(events, "started")[0].threads == 3
    events, _ = train(classifier(epochs=1, threads=2))
    assert of_kind(events, "started")[0].threads == 2
    assert torch.get_num_threads() == 3


def test_a_failed_run_gives_the_threads_back_too(three_threads):
    design = classifier(epochs=1, data={"source": "csv", "path": "/nowhere/table.csv"})
    _, final = train(design)
    assert final.kind == "failed"
    assert torch.get_num_threads() == 3


def test_the_script_chooses_its_threads_as_the_app_does():
    design = load_template("gan")
    program = script.render_training_program(design, {n: "Net" for n in design.networks})
    assert '"--threads",' in program.body and "default=0," in program.body
    assert "flops = forward_flops(" in program.body
    assert "torch.set_num_threads(cpu_threads(args.threads, flops, args.batch_size))" \
        in program.body
    assert "[((2,), torch.float), ((2,), torch.float)]" in program.body   # noise, a sample


def test_where_a_run_computes_reads_naturally():
    assert Started(1, device="cpu", device_name="CPU", threads=1).place() == "CPU, 1 thread"
    assert Started(1, device="cpu", device_name="CPU", threads=4).place() == "CPU, 4 threads"
    assert Started(1, device="cuda:0", device_name="NVIDIA H200").place() == \
        "NVIDIA H200 (cuda:0)"


def test_every_setting_is_placed_in_a_section_by_name():
    """None reaches the Setup form's last section by falling through (as "CPU threads" first
    did, among the diagnostics)."""
    for path in schema():
        assert any(path == prefix or (prefix.endswith(".") and path.startswith(prefix))
                   for _, prefixes in SECTIONS for prefix in prefixes), path
    assert setting_section("threads") == "Device"
