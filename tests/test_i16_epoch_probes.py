"""Probes during a run: a run asked for them sends every node's output for one fixed sample at
each epoch end, equal to probing the weights it has then; a design that cannot be probed says
why once and trains all the same."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from engine.design import Design
from engine.training.events import EpochEnd, Finished, Probed
from engine.training.trainer import RunOptions, Trainer
from templates import load_template

pytestmark = pytest.mark.slow   # each trains the cnn template for a few seconds


def run_messages(design: Design, probe: dict | None) -> list:
    messages: list = []
    Trainer(design, messages.append, RunOptions(probe=probe)).run()
    return messages


@pytest.fixture(scope="module")
def short_cnn() -> Design:
    design = load_template("cnn")
    design.set_training(epochs=2)
    return design


def test_each_epoch_end_sends_the_probe_of_the_same_sample(short_cnn):
    messages = run_messages(short_cnn, {"sample": 3})
    probes = [m for m in messages if isinstance(m, Probed)]
    assert [p.epoch for p in probes] == [1, 2]
    kinds = [type(m) for m in messages]
    assert kinds.index(Probed) > kinds.index(EpochEnd)   # after the epoch it shows
    first, second = (p.probe for p in probes)
    assert first.source == second.source and "sample 3" in first.source
    assert (first.weights, second.weights) == ("epoch 1", "epoch 2")
    conv = first.find("n2")
    assert conv.picture.kind == "maps" and conv.shape == ("N", 32, 8, 8)
    # the weights changed between the epochs, so what the conv makes of the sample did too
    assert not np.array_equal(conv.picture.pixels, second.find("n2").picture.pixels)
    assert len(pickle.dumps(probes[0])) < 32_000   # a few KB a message


def one_epoch(design: Design) -> Design:
    copy = design.copy()
    copy.set_training(epochs=1)
    return copy


def test_without_asking_a_run_sends_no_probes(short_cnn):
    assert not any(isinstance(m, Probed) for m in run_messages(one_epoch(short_cnn), None))


def test_a_design_that_cannot_be_probed_says_why_and_trains(short_cnn):
    messages = run_messages(one_epoch(short_cnn), {"sample": 10_000})
    probes = [m for m in messages if isinstance(m, Probed)]
    assert len(probes) == 1 and probes[0].probe is None
    assert "sample 10000 is out of range" in probes[0].problem
    assert isinstance(messages[-1], Finished) and messages[-1].status == "completed"
