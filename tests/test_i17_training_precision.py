"""Issue 17: float32 steps are plain (no autocast, no gradient scaler); mixed precision,
channels-last and pinned memory are chosen for CUDA by functions tested here on the CPU; the
exported script makes the same choices with the same functions."""

from __future__ import annotations

import re
import warnings

import pytest
import torch
from test_training_support import classifier, of_kind, train

from engine import Design
from engine.training import script
from engine.training.portable import steps
from engine.training.portable.batches import image_layout, on_device, standard_layout, to_device
from engine.training.portable.steps import mixed_precision
from engine.training.run_state import decide

CUDA = torch.device("cuda")


def _cuda_choice(precision: str) -> tuple:
    with warnings.catch_warnings():   # a GradScaler made without CUDA says it is disabled
        warnings.simplefilter("ignore")
        return mixed_precision(CUDA, precision)


@pytest.mark.parametrize("precision", ["auto", "fp32", "bf16", "fp16"])
def test_the_cpu_always_trains_in_float32(precision):
    assert mixed_precision(torch.device("cpu"), precision) == (None, None)


@pytest.mark.parametrize("bf16_native, dtype", [(True, torch.bfloat16), (False, torch.float16)])
def test_auto_takes_bfloat16_where_the_gpu_has_it_else_float16_with_a_scaler(
        monkeypatch, bf16_native, dtype):
    asked = []

    def supported(including_emulation=True):
        asked.append(including_emulation)
        return bf16_native

    monkeypatch.setattr(torch.cuda, "is_bf16_supported", supported)
    amp, scaler = _cuda_choice("auto")
    assert amp is dtype
    assert asked == [False]   # emulated bfloat16 is slower than float32: not wanted
    assert (scaler is not None) == (dtype is torch.float16)
    assert isinstance(scaler, torch.amp.GradScaler) or scaler is None


def test_named_precisions_on_cuda():
    assert _cuda_choice("fp32") == (None, None)
    assert _cuda_choice("bf16") == (torch.bfloat16, None)
    amp, scaler = _cuda_choice("fp16")
    assert amp is torch.float16 and isinstance(scaler, torch.amp.GradScaler)


def test_a_float32_run_makes_no_autocast_and_no_gradient_scaler(monkeypatch, tmp_path):
    def refused(*args, **kwargs):
        raise AssertionError("float32 training used mixed precision machinery")

    monkeypatch.setattr(torch, "autocast", refused)
    monkeypatch.setattr(torch.amp, "GradScaler", refused)
    events, final = train(classifier(epochs=1), tmp_path)   # "auto": float32 on this CPU
    assert final.kind == "finished", getattr(final, "reason", "")
    assert not [e for e in of_kind(events, "diagnostic") if e.code == "precision"]
    state = tmp_path / "checkpoints" / "epoch-0001" / "state.pt"
    assert torch.load(state, weights_only=True)["scaler"] == {}


def test_the_float32_step_is_forward_backward_step(monkeypatch):
    """`forward_precision` is a null context in float32 and the optimizer steps once."""
    model = torch.nn.Linear(3, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    stepped = []
    monkeypatch.setattr(optimizer, "step", lambda: stepped.append(True))
    batches = [(torch.randn(4, 3), torch.tensor([0, 1, 0, 1]))]
    results = list(steps.supervised_steps(model, optimizer, batches,
                                          torch.nn.functional.cross_entropy, 0.0))
    assert len(results) == 1 and stepped == [True]
    assert model.weight.grad is not None


def test_images_are_laid_out_channels_last_on_cuda_only():
    assert image_layout(CUDA) is torch.channels_last
    assert image_layout(torch.device("cpu")) is torch.preserve_format
    images, labels = torch.randn(2, 3, 4, 4), torch.tensor([0, 1])
    moved = list(on_device([(images, labels)], torch.device("cpu"), torch.channels_last))
    assert moved[0][0].is_contiguous(memory_format=torch.channels_last)
    assert moved[0][1].equal(labels)   # not an image: as it was
    assert to_device(images, torch.device("cpu")).is_contiguous()


def test_channels_last_weights_are_saved_in_the_standard_layout():
    model = torch.nn.Conv2d(3, 4, 3).to(memory_format=torch.channels_last)
    assert not model.weight.is_contiguous()
    state = standard_layout(model)
    assert state["weight"].is_contiguous() and state["weight"].equal(model.weight)


def image_classifier() -> Design:
    design = Design("images")
    x = design.add("Input", shape=(1, 8, 8))
    h = design.add("Flatten", design.add("Conv2d", x, out_channels=4, kernel_size=3))
    design.add("Output", design.add("Linear", h, out_features=10))
    design.set_training(data={"source": "digits"}, epochs=1)
    return design


def test_a_run_on_the_cpu_keeps_the_layout_its_tensors_have():
    setup = decide(image_classifier(), {"device": "cpu"})
    assert setup.plan.images
    assert setup.layout is torch.preserve_format


def training_code(design: Design) -> str:
    program = script.render_training_program(design, {n: "Net" for n in design.networks})
    return program.body[program.body.index("def train(args):"):]


def test_a_float32_script_has_no_mixed_precision_at_all():
    code = training_code(classifier(precision="fp32"))
    assert not re.search(r"\b(amp|scaler|autocast|mixed_precision)\b", code), code


def test_the_script_chooses_as_the_app_does():
    code = training_code(classifier())
    assert 'amp, scaler = mixed_precision(device, "auto")' in code
    assert "amp=amp" in code and "scaler=scaler" in code
    assert "layout" not in code   # no images: nothing to lay out
    images = training_code(image_classifier())
    assert "layout = image_layout(device)" in images
    assert "Net().to(device, memory_format=layout)" in images
    assert "to_device(t, device, layout) for t in splits" in images
    assert "save_file(standard_layout(model)" in images
