"""Issue 17: the text a character model writes after each epoch costs little beside training.

It is 160 forward passes of one window each, one after another: operations too small to share
between threads, each of which waited at a barrier for every thread; on a busy 2-core machine
that took 5-16 s an epoch against 0.35 s on one thread (the gru template). So the sampling
runs on one CPU thread and gives the run its thread count back."""

import pytest
import torch
from torch import nn

from engine.training.samples import TEXT_LENGTH, text_samples


def test_text_samples_run_on_one_thread_and_give_the_threads_back():
    model = nn.Sequential(nn.Embedding(5, 4), nn.Linear(4, 5))
    seen = []
    model.register_forward_hook(lambda *_: seen.append(torch.get_num_threads()))
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        samples = text_samples(0, 1, None, model, torch.tensor([0, 1, 2]), list("abcde"), 0)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
    assert seen == [1] * TEXT_LENGTH
    assert samples.text.startswith("abc") and len(samples.text) == 3 + TEXT_LENGTH


def test_the_thread_count_comes_back_when_sampling_fails():
    def broken(*_):
        raise RuntimeError("broken model")

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        model = nn.Linear(1, 1)
        model.register_forward_hook(broken)
        with pytest.raises(RuntimeError, match="broken model"):
            text_samples(0, 1, None, model, torch.zeros(3, 1), list("ab"), 0)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
