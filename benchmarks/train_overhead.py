"""Training speed of the engine (worker process included) against a plain PyTorch loop.

For each template, the same model, data, split, optimizer, schedule, batch size, epochs and
per-epoch validation run two ways, alternately, several rounds:
  plain   a hand-written loop in this process (index tensors, forward, loss, backward, step;
          validation and a torch.save checkpoint each epoch, as the settings ask)
  engine  engine.training's worker process, from its `started` event to its `finished` event,
          with everything it does on the way (events, gradient norms, checkpoints, metrics)
Prints samples per second and the median ratio engine / plain (the target is >= 0.95).

    python benchmarks/train_overhead.py [--rounds 3] [--templates mlp cnn]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch
import torch.nn.functional as F

import engine
from engine.training.plan import make_plan
from engine.training.portable.batches import split_random
from engine.training.portable.builtin_data import digits_data
from engine.training.run_state import settings_with
from engine.training.settings import settings_from
from engine.training.worker import TrainingService
from templates import load_template

EPOCHS = {"mlp": 10, "cnn": 4}


def plain_loop(design, epochs: int, out: Path) -> float:
    """The loop a person would write for this template; returns samples per second."""
    settings = settings_from(settings_with(design.training, {"epochs": epochs}))
    plan = make_plan(design, settings)
    x, y = digits_data(as_images=plan.data.description.endswith("images)"))
    x_train, y_train, x_val, y_val = split_random(x, y, settings.data.validation_split,
                                                  settings.seed)
    torch.manual_seed(settings.seed)
    model = engine.build_model(design)
    optimizer = torch.optim.Adam(model.parameters(), lr=settings.optimizer.lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    batch = settings.batch_size
    steps = len(x_train) // batch
    started = time.perf_counter()
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(x_train), generator=torch.Generator().manual_seed(epoch))
        for start in range(0, steps * batch, batch):
            index = order[start:start + batch]
            loss = F.cross_entropy(model(x_train[index]), y_train[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            correct = sum((model(x_val[i:i + batch]).argmax(1) == y_val[i:i + batch]).sum()
                          for i in range(0, len(x_val), batch))
        scheduler.step()
        torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                    "epoch": epoch, "accuracy": float(correct) / len(x_val)},
                   out / "checkpoint.pt")
    float(correct)
    return steps * batch * epochs / (time.perf_counter() - started)


def engine_run(service: TrainingService, design, epochs: int, out: Path) -> float:
    """The engine's run in its worker; samples per second from `started` to `finished`."""
    run = service.start(design, out_dir=str(out), overrides={"epochs": epochs})
    started = batches = None
    while not run.done:
        for event in run.events(timeout=0.05):
            if event.kind == "started":
                started = time.perf_counter()
                batches = event.batches_per_epoch
    finished = time.perf_counter()
    if run.final.kind != "finished":
        raise SystemExit(f"the engine's run failed: {run.final.reason}")
    return batches * design.training["batch_size"] * epochs / (finished - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--templates", nargs="+", default=["mlp", "cnn"])
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{args.rounds} rounds, plain and engine alternating")
    with TrainingService() as service, tempfile.TemporaryDirectory() as folder:
        for name in args.templates:
            design = load_template(name)
            epochs = EPOCHS.get(name, 3)
            engine_run(service, design, 1, Path(folder) / "warm-up")
            plain, ours = [], []
            for round_ in range(args.rounds):
                plain.append(plain_loop(design, epochs, Path(folder)))
                ours.append(engine_run(service, design, epochs, Path(folder) / f"{name}{round_}"))
            ratios = [o / p for o, p in zip(ours, plain, strict=True)]
            print(f"{name}: {epochs} epochs; plain {statistics.median(plain):,.0f} samples/s, "
                  f"engine {statistics.median(ours):,.0f} samples/s; ratio engine/plain "
                  f"median {statistics.median(ratios):.3f} (rounds: "
                  f"{', '.join(f'{r:.3f}' for r in ratios)})")


if __name__ == "__main__":
    main()
