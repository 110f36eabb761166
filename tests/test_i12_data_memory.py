"""The data's share of a run's memory (issue 12, audit of item 9): 2^31 generated samples
passed `check` and the start, then the worker made them until the machine gave out. The
estimate counts the samples the run holds (as the data's description gives them, nothing
made) and both the check and the start refuse data beyond the machine's memory."""

from __future__ import annotations

import pytest
import torch
from test_i12_data_files import GOOD, design_for

from engine import check
from engine.training import cost as cost_module
from engine.training import data_fit
from engine.training.cost import TooLargeForMemory, estimate_cost
from engine.training.data import load_data
from engine.training.data_description import held_data
from engine.training.plan import make_plan
from engine.training.run_state import decide
from templates import load_template

GIGABYTE = 2**30


def _generated(samples: int):
    design = load_template("mlp")
    design.set_training(data={"source": "generated", "samples": samples})
    return design


@pytest.fixture
def machine(monkeypatch):
    """Pretend this machine has `memory` bytes, for the check and for the start."""
    def set_memory(memory: int) -> None:
        monkeypatch.setattr(data_fit, "physical_memory", lambda: memory)
        monkeypatch.setattr(cost_module, "physical_memory", lambda: memory)
    set_memory(16 * GIGABYTE)
    return set_memory


def test_two_billion_generated_samples_are_an_error_of_the_check_with_both_figures(machine):
    errors = check(_generated(2**31 - 1)).errors
    assert len(errors) == 1, [str(p) for p in errors]
    message = errors[0].message
    assert "generated data would take about" in message
    assert "2,147,483,647 samples" in message and "this machine has 16 GB" in message
    assert "Samples (Setup > Task and data)" in errors[0].fix


def test_two_billion_generated_samples_are_refused_at_the_start_before_any_is_made(machine):
    with pytest.raises(TooLargeForMemory) as refused:
        decide(_generated(2**31 - 1))
    message = str(refused.value)
    assert "for the 2,147,483,647 samples it holds" in message
    assert "this machine has 16 GB in all" in message and "use fewer Samples" in message


def test_a_data_file_larger_than_memory_is_an_error_of_the_check_naming_the_source(
        machine, tmp_path):
    machine(100)
    errors = check(design_for(GOOD["npz"](tmp_path))).errors
    assert [(p.message.split(" would")[0], p.fix) for p in errors] == [
        ("the npz data", "use a smaller data file")]
    assert "this machine has 100 bytes of memory" in errors[0].message


@pytest.mark.parametrize("source", ["generated", "csv", "npz", "mnist_idx", "digits"])
def test_the_described_size_is_what_the_loaded_samples_take(source, tmp_path):
    """The description and the loading agree to the byte, so the estimate is no guess."""
    if source == "generated":
        design = _generated(100)
    elif source == "digits":
        design = load_template("mlp")
        design.set_training(data={"source": "digits"})
    else:
        design = design_for(GOOD[source](tmp_path))
    plan = make_plan(design, report=check(design))
    tensors = load_data(plan, design, torch.device("cpu")).tensors.values()
    held = held_data(plan)
    assert held.bytes == sum(t.nbytes for t in tensors) > 0
    assert estimate_cost(design, plan).data_bytes == held.bytes


def test_an_image_folder_read_batch_by_batch_holds_no_samples(tmp_path):
    design = design_for(GOOD["image_folder"](tmp_path))
    assert held_data(make_plan(design, report=check(design))).bytes == 0
