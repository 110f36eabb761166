"""Issue 17: training.compile runs end to end: the steps call the compiled network, and the
weights, checkpoints and resuming see the plain one (no `_orig_mod.` keys).

torch.compile's graph capture (Dynamo) runs as it would anywhere; its code generator is
swapped for the "eager" backend, because Inductor compiling C++ takes over a minute on a
small CPU and is torch's own business."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import load_file
from test_training_support import classifier, of_kind, train

WEIGHTS = {"hidden.weight", "hidden.bias", "scores.weight", "scores.bias"}


@pytest.mark.slow
def test_a_compiled_run_trains_checkpoints_and_resumes(monkeypatch, tmp_path):
    compiled = []
    compile_for_real = torch.compile

    def eager_compile(model, **options):
        compiled.append(model)
        return compile_for_real(model, backend="eager", **options)

    monkeypatch.setattr(torch, "compile", eager_compile)
    events, final = train(classifier(epochs=1, compile=True), tmp_path / "first")
    assert final.kind == "finished", getattr(final, "reason", "")
    assert len(compiled) == 1
    assert set(load_file(tmp_path / "first" / "last" / "model.safetensors")) == WEIGHTS
    checkpoint = tmp_path / "first" / "checkpoints" / "epoch-0001"
    assert set(load_file(checkpoint / "model.safetensors")) == WEIGHTS
    resumed, final = train(classifier(epochs=2, compile=True), tmp_path / "again",
                           resume=str(checkpoint))
    assert final.kind == "finished", getattr(final, "reason", "")
    assert [e.epoch for e in of_kind(resumed, "epoch")] == [2]
    assert of_kind(events, "epoch")[0].metrics["loss"] > of_kind(resumed, "epoch")[0].metrics["loss"]
