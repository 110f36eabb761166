"""Forward + backward time of engine.build_model against a hand-written nn.Module.

Both are built from the same nn layers with the same weights and timed in alternating order,
round after round; the printed figure is the median over rounds of (compiled / hand-written).
A control row times the hand-written module against itself: it should read 1.00 +/- 0.02.

    python benchmarks/compile_overhead.py [--rounds 40]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn

import engine
from engine import Design


def cnn_design() -> Design:
    d = Design()
    x = d.add("Input", shape=(1, 28, 28))
    h = d.add("Conv2d", x, out_channels=16, kernel_size=3, padding=1, name="conv1")
    h = d.add("ReLU", h, name="relu1")
    h = d.add("MaxPool2d", h, kernel_size=2, name="pool1")
    h = d.add("Conv2d", h, out_channels=32, kernel_size=3, padding=1, name="conv2")
    h = d.add("ReLU", h, name="relu2")
    h = d.add("MaxPool2d", h, kernel_size=2, name="pool2")
    h = d.add("Flatten", h, name="flatten")
    h = d.add("Linear", h, out_features=64, name="fc1")
    h = d.add("ReLU", h, name="relu3")
    d.add("Output", d.add("Linear", h, out_features=10, name="fc2"))
    return d


class HandCNN(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.relu2 = nn.ReLU()
        self.pool2 = nn.MaxPool2d(2)
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(32 * 7 * 7, 64)
        self.relu3 = nn.ReLU()
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = self.pool1(self.relu1(self.conv1(x)))
        x = self.pool2(self.relu2(self.conv2(x)))
        return self.fc2(self.relu3(self.fc1(self.flatten(x))))


def residual_mlp_design() -> Design:
    d = Design()
    x = d.add("Input", shape=(64,))
    h = d.add("Linear", x, out_features=128, name="inp")
    for i in range(4):
        a = d.add("Linear", h, out_features=128, name=f"fc{i}")
        a = d.add("ReLU", a, name=f"act{i}")
        h = d.add("Add", a, h, name=f"add{i}")
    d.add("Output", d.add("Linear", h, out_features=10, name="head"))
    return d


class HandResidualMLP(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.inp = nn.Linear(64, 128)
        for i in range(4):
            setattr(self, f"fc{i}", nn.Linear(128, 128))
            setattr(self, f"act{i}", nn.ReLU())
        self.head = nn.Linear(128, 10)

    def forward(self, x):
        h = self.inp(x)
        for i in range(4):
            h = getattr(self, f"act{i}")(getattr(self, f"fc{i}")(h)) + h
        return self.head(h)


def step_time(model: nn.Module, x: torch.Tensor, iterations: int) -> float:
    start = time.perf_counter()
    for _ in range(iterations):
        model.zero_grad(set_to_none=True)
        model(x).sum().backward()
    return time.perf_counter() - start


def compare(a: nn.Module, b: nn.Module, x: torch.Tensor, rounds: int, iterations: int) -> float:
    """Median over rounds of time(a) / time(b), alternating which goes first."""
    for model in (a, b):
        step_time(model, x, iterations)  # warm-up
    ratios = []
    for r in range(rounds):
        if r % 2:
            tb, ta = step_time(b, x, iterations), step_time(a, x, iterations)
        else:
            ta, tb = step_time(a, x, iterations), step_time(b, x, iterations)
        ratios.append(ta / tb)
    return statistics.median(ratios)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    torch.manual_seed(0)
    cases = [("cnn", cnn_design(), HandCNN(), (1, 28, 28)),
             ("residual mlp", residual_mlp_design(), HandResidualMLP(), (64,))]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{args.rounds} alternating rounds; ratio = compiled / hand-written (median)")
    print(f"{'model':<14}{'batch':>6}{'control':>10}{'ratio':>9}")
    for name, design, hand, shape in cases:
        compiled = engine.build_model(design)
        compiled.load_state_dict(hand.state_dict())
        for batch in (1, 64):
            x = torch.randn(batch, *shape)
            assert torch.equal(compiled(x), hand(x))
            iterations = 200 if batch == 1 else 20
            control = compare(hand, hand, x, args.rounds, iterations)
            ratio = compare(compiled, hand, x, args.rounds, iterations)
            print(f"{name:<14}{batch:>6}{control:>10.3f}{ratio:>9.3f}")


if __name__ == "__main__":
    main()
