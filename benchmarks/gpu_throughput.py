"""Training throughput on a CUDA GPU with each speed-up on and off.

For each template, samples per second of its training steps (the portable steps that the app
and exported scripts run, on the template's data held on the GPU) in these configurations:
  baseline       float32, images in the standard layout, no compilation
  amp            automatic mixed precision ("auto": bfloat16 where the GPU has it natively,
                 else float16 with a gradient scaler)
  channels_last  images and weights laid out channels-last (templates that take images)
  compile        torch.compile
  fused          a fused optimizer (one kernel for every parameter; the app's choice where
                 torch has one, see engine.training.plan.optimizer_spec)
  all            every one of them that applies
Each configuration is built and warmed up first (compilation happens there), then timed in
alternating rounds between torch.cuda.synchronize() calls. Prints the median samples per second
with its spread, and the median ratio to the baseline. Without a CUDA GPU it says so and exits 0.

    python benchmarks/gpu_throughput.py [--templates cnn resnet] [--batch-size 256]
        [--steps 100] [--warmup 30] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch
import torch.nn.functional as F

from engine.compiler import build_model
from engine.training import excerpt
from engine.training.data import load_data
from engine.training.plan import Plan, make_plan, optimizer_spec
from engine.training.portable.batches import image_layout
from engine.training.portable.steps import mixed_precision
from engine.training.run_state import settings_with
from engine.training.settings import settings_from
from templates import load_template, template_names


@dataclass(frozen=True)
class Config:
    name: str
    amp: bool = False
    channels_last: bool = False
    compile: bool = False
    fused: bool = False


CONFIGS = (Config("baseline"), Config("amp", amp=True), Config("channels_last", channels_last=True),
           Config("compile", compile=True), Config("fused", fused=True),
           Config("all", True, True, True, True))


def training_steps(name: str, config: Config, batch_size: int | None,
                   device: torch.device) -> tuple[Iterator, int]:
    """An endless generator of training steps for a template under `config` on `device`, and
    its batch size (`batch_size` None: the template's)."""
    design = load_template(name)
    overrides = {"batch_size": batch_size} if batch_size else {}
    settings = settings_from(settings_with(design.training, overrides))
    plan = make_plan(design, settings)
    layout = image_layout(device) if config.channels_last else torch.preserve_format
    tensors = load_data(plan, design, device, layout).tensors
    torch.manual_seed(settings.seed)
    models = [build_model(design, io.network).to(device, memory_format=layout)
              for io in plan.networks]
    networks = [torch.compile(m) if config.compile else m for m in models]
    optimizer, options = optimizer_spec(plan)
    if not config.fused:
        options.pop("fused", None)
    optimizers = [getattr(torch.optim, optimizer)(m.parameters(), lr=settings.optimizer.lr,
                                                  **options) for m in models]
    amp, scaler = mixed_precision(device, "auto" if config.amp else "fp32")
    steps = excerpt.portable_function(plan.steps_function)
    batches = endless_batches(plan, tensors, settings.batch_size)
    if plan.task == "gan":
        return steps(networks, optimizers, batches, plan.noise_shape, settings.gan.d_steps,
                     settings.grad_clip, amp, scaler), settings.batch_size
    return steps(networks[0], optimizers[0], batches, loss_function(plan), settings.grad_clip,
                 amp, scaler), settings.batch_size


def loss_function(plan: Plan):
    if plan.loss.torch_name:
        return getattr(F, plan.loss.torch_name)
    return excerpt.portable_function(plan.loss)


def endless_batches(plan: Plan, tensors: dict, batch_size: int) -> Iterator[tuple]:
    """Shuffled full batches of the training samples, epoch after epoch, indexed on the GPU."""
    inputs = tensors["train"]
    labelled = plan.task not in ("gan", "autoencoder")
    if len(inputs) < batch_size:
        raise SystemExit(f"{len(inputs)} training samples make no batch of {batch_size}")
    while True:
        order = torch.randperm(len(inputs), device=inputs.device)
        for start in range(0, len(order) - batch_size + 1, batch_size):
            index = order[start:start + batch_size]
            yield (inputs[index], tensors["train_targets"][index]) if labelled else (inputs[index],)


def timed(steps: Iterator, count: int, batch_size: int) -> float:
    """Samples per second over `count` steps, the GPU's queue drained before and after."""
    torch.cuda.synchronize()
    started = time.perf_counter()
    for _ in islice(steps, count):
        pass
    torch.cuda.synchronize()
    return count * batch_size / (time.perf_counter() - started)


def measure(name: str, args: argparse.Namespace) -> None:
    images = make_plan(load_template(name)).images
    configs = [c for c in CONFIGS if images or c.name != "channels_last"]
    runs = {}
    for config in configs:
        steps, batch_size = training_steps(name, config, args.batch_size, torch.device("cuda"))
        for _ in islice(steps, args.warmup):   # compilation and cuDNN's choices happen here
            pass
        runs[config.name] = (steps, batch_size)
    rates: dict[str, list[float]] = {config.name: [] for config in configs}
    for _ in range(args.rounds):
        for config in configs:
            steps, batch_size = runs[config.name]
            rates[config.name].append(timed(steps, args.steps, batch_size))
    baseline = rates["baseline"]
    print(f"{name} (batch {runs['baseline'][1]}):")
    for config in configs:
        rate = rates[config.name]
        ratios = [r / b for r, b in zip(rate, baseline, strict=True)]
        print(f"  {config.name:<14} {statistics.median(rate):>12,.0f} samples/s "
              f"(rounds {min(rate):,.0f}-{max(rate):,.0f}); "
              f"x{statistics.median(ratios):.2f} the baseline")
    del runs
    torch.cuda.empty_cache()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--templates", nargs="+", default=template_names())
    parser.add_argument("--batch-size", type=int, default=None,
                        help="samples per step (default: each template's own)")
    parser.add_argument("--steps", type=int, default=100, help="steps timed per round")
    parser.add_argument("--warmup", type=int, default=30, help="steps before timing")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("gpu_throughput: no CUDA GPU here (torch.cuda.is_available() is False); "
              "nothing to measure")
        return
    print(f"torch {torch.__version__}, {torch.cuda.get_device_name()}, bf16 native: "
          f"{torch.cuda.is_bf16_supported(including_emulation=False)}; {args.rounds} rounds "
          f"of {args.steps} steps after {args.warmup} warm-up steps")
    for name in args.templates:
        measure(name, args)


if __name__ == "__main__":
    main()
