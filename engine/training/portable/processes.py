"""Choosing the device, and joining the other processes when started by torchrun."""

import os
from copy import deepcopy

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.flop_counter import FlopCounterMode

SMALL_STEP_FLOPS = 20_000_000  # a step this small is faster on one thread


def pick_device(name):
    """The named device, or for "auto" CUDA, then Apple's MPS, then the CPU."""
    if name != "auto":
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def forward_flops(networks, shapes):
    """FLOPs of one forward pass of each network on one sample of its input shape, as torch
    counts them on a copy on the meta device: no memory and no arithmetic, and the CPU's
    fused kernels (an LSTM's, attention's), which the count would miss, are not used there.
    The copy is in eval mode, where BatchNorm takes a single sample."""
    counter = FlopCounterMode(display=False)
    with counter:
        for network, (shape, dtype) in zip(networks, shapes):
            ghost = deepcopy(network).to("meta").eval()
            ghost(torch.zeros(1, *shape, dtype=dtype, device="meta"))
    return counter.get_total_flops()


def cpu_threads(requested, flops_per_sample, batch_size):
    """How many CPU threads to train with: `requested`, or when it is 0, one for a step (about
    three forward passes of a batch) under SMALL_STEP_FLOPS, whose operations are too small to
    share (the threads wait for each other longer than they save), else torch's default."""
    if requested:
        return requested
    small = 3 * flops_per_sample * batch_size < SMALL_STEP_FLOPS
    return 1 if small else torch.get_num_threads()


def start_processes(device_name):
    """Return (rank, world size, device); under torchrun, join its process group first.

    torchrun sets LOCAL_RANK; each process then drives one GPU (NCCL) or shares the CPU (Gloo).
    """
    device = pick_device(device_name)
    if "LOCAL_RANK" not in os.environ:
        return 0, 1, device
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ["LOCAL_RANK"]))
        torch.cuda.set_device(device)
    dist.init_process_group(process_backend(device))
    return dist.get_rank(), dist.get_world_size(), device


def process_backend(device):
    """How the processes exchange gradients: NCCL between GPUs, Gloo on the CPU."""
    return "nccl" if device.type == "cuda" else "gloo"


def process_share():
    """Return (rank, world size): which share of each epoch this process trains on."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def wrap_for_processes(model, world_size):
    """Under torchrun, wrap the model so that gradients are averaged across processes."""
    return DistributedDataParallel(model) if world_size > 1 else model


def average_across_processes(value):
    """The mean of a tensor over every torchrun process (the tensor itself without torchrun)."""
    if dist.is_available() and dist.is_initialized():
        dist.all_reduce(value)
        value = value / dist.get_world_size()
    return value
