"""The figures the Setup tab and a run's cost line print: one way of writing them for both."""

import pytest

from engine.training.cost import Cost
from engine.wording import memory_text, si_prefixed


@pytest.mark.parametrize(("value", "text"), [
    (0, "0 "), (999, "999 "), (1000, "1 k"), (1_234_567, "1.23 M"), (2.5e9, "2.5 G")])
def test_si_prefixed_keeps_three_figures_and_leaves_room_for_the_unit(value, text):
    assert si_prefixed(value) == text


@pytest.mark.parametrize(("count", "text"), [
    (512, "512 bytes"), (1024, "1 kB"), (1_500_000, "1.43 MB"), (3 << 30, "3 GB")])
def test_memory_text_counts_in_powers_of_1024(count, text):
    assert memory_text(count) == text


def test_a_cost_describes_itself_with_the_same_figures():
    cost = Cost(parameters=1_000, trainable=1_000, flops_per_sample=1_234_567, activation_bytes=1 << 20,
                weight_bytes=1 << 20, batch_size=32)
    assert cost.describe() == ("1,000 parameters, 1.23 MFLOPs per sample (forward), about "
                               "2 MB for a batch of 32")
