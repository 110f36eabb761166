"""What a run will cost before it starts: parameters, FLOPs per sample, memory per batch.

FLOPs are counted by torch's FlopCounterMode on one sample of meta tensors (no memory, no real
arithmetic). Memory is an estimate: weights, their gradients and the optimizer's state, plus
every node's output kept for the backward pass at the chosen batch size, and the samples the
run holds in memory (as the data's description gives them, before anything is made). A run
whose estimate exceeds all the memory its device has is refused before it starts
(`memory_shortfall`): it could only end with the allocator failing, or the machine swapping
to a halt.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from engine.checking import Report, Walk, check
from engine.design import Design
from engine.errors import DesignError
from engine.layers.block_node import BLOCK_TYPE
from engine.limits import byte_size, physical_memory
from engine.training.data_description import held_data
from engine.training.labels import setting_place
from engine.training.plan import Plan, make_plan
from engine.wording import memory_text, si_prefixed

_OPTIMIZER_STATES = {"sgd": 1, "adam": 2, "adamw": 2, "rmsprop": 2}


@dataclass(frozen=True)
class Cost:
    """Estimates for one run; bytes assume 4-byte floats (2 under mixed precision)."""

    parameters: int
    trainable: int
    flops_per_sample: int            # forward pass; a training step costs about 3x
    activation_bytes: int            # node outputs for one batch, kept for backward
    weight_bytes: int                # weights + gradients + optimizer state
    batch_size: int
    data_bytes: int = 0              # the samples the run holds, on the device it trains on
    samples: int = 0                 # how many (training and validation)

    @property
    def total_bytes(self) -> int:
        """What one batch needs: activations, weights, gradients, optimizer state."""
        return self.activation_bytes + self.weight_bytes

    @property
    def needed_bytes(self) -> int:
        """What the whole run needs: one batch and the samples held in memory."""
        return self.total_bytes + self.data_bytes

    def as_dict(self) -> dict[str, int]:
        return {**asdict(self), "total_bytes": self.total_bytes,
                "needed_bytes": self.needed_bytes}

    def describe(self) -> str:
        data = (f", and {memory_text(self.data_bytes)} for the {self.samples:,} samples"
                if self.data_bytes else "")
        return (f"{self.parameters:,} parameters, {si_prefixed(self.flops_per_sample)}FLOPs per "
                f"sample (forward), about {memory_text(self.total_bytes)} for a batch of "
                f"{self.batch_size}{data}")


def estimate_cost(design: Design, plan: Plan | None = None, report: Report | None = None) -> Cost:
    """Count parameters and FLOPs of the networks a run trains and estimate its memory."""
    import torch

    from engine.compiler import build_model
    from engine.training.portable.processes import forward_flops

    report = report or check(design)
    plan = plan or make_plan(design, report=report)
    batch = plan.settings.batch_size
    element = 2 if plan.amp else 4
    parameters = trainable = flops = activations = 0
    for io in plan.networks:
        with torch.device("meta"):   # no memory: only counted
            model = build_model(design, io.network, report=report)
        parameters += sum(p.numel() for p in model.parameters())
        trainable += sum(p.numel() for p in model.parameters() if p.requires_grad)
        # the count the trainer and the exported script choose their CPU threads from
        flops += forward_flops([model], [(io.input_shape, getattr(torch, io.input_dtype))])
        activations += _kept_values(design, io.network, report.infos, report.uses) * batch * element
    states = _OPTIMIZER_STATES[plan.settings.optimizer.name]
    weights = 4 * (parameters + trainable * (1 + states))
    data = held_data(plan)
    return Cost(parameters, trainable, flops, activations, weights, batch, data.bytes,
                data.samples)


def _kept_values(design: Design, scope: str, infos: dict[str, Any],
                 uses: dict[str, tuple[Walk, ...]]) -> int:
    """Values per sample of every layer output the backward pass keeps, inside block uses too
    (each copy of a repeat with the tensors that reach it): a ResNet drawn with blocks keeps
    as much as one drawn flat."""
    total = 0
    for node in design.nodes(scope):
        layer_type = design.node(node).type
        if layer_type == BLOCK_TYPE:
            block = design.node(node).params["block"]
            total += sum(_kept_values(design, block, walk.infos, walk.uses)
                         for walk in uses.get(node, ()))
        elif layer_type not in ("Input", "Output") and infos.get(node) is not None:
            total += math.prod(infos[node].features)
    return total


class TooLargeForMemory(DesignError):
    """A run's estimated memory exceeds what its device has."""


def device_memory(device: Any) -> int | None:
    """All the memory a torch device has, in bytes (a GPU's own; the machine's for the CPU
    and for Apple's GPU, which shares it), or None where that cannot be told."""
    if device.type == "cuda":
        import torch

        return int(torch.cuda.get_device_properties(device).total_memory)
    return physical_memory() if device.type in ("cpu", "mps") else None


def memory_shortfall(cost: Cost, device: Any) -> str | None:
    """Why a run with `cost` cannot fit in the memory of `device` (both figures and what to
    change), or None when it may."""
    available = device_memory(device)
    if available is None or cost.needed_bytes <= available:
        return None
    where = "this machine" if device.type in ("cpu", "mps") else f"the device ({device})"
    data = (f", plus {byte_size(cost.data_bytes)} for the {cost.samples:,} samples it holds"
            if cost.data_bytes else "")
    fewer = (f"use fewer {setting_place('data.samples')} or a smaller data file, "
             if cost.data_bytes > cost.total_bytes else "")
    return (f"this run needs about {byte_size(cost.needed_bytes)} of memory (estimated for a "
            f"batch of {cost.batch_size:,}: weights, gradients, optimizer state and "
            f"activations{data}) but {where} has {byte_size(available)} in all, so it was not "
            f"started; {fewer}lower {setting_place('batch_size')} or use smaller layers (fewer "
            "features or channels)")
