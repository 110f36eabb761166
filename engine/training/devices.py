"""Which device a run uses, and what this machine offers."""

from __future__ import annotations

from engine.errors import DesignError


def resolve_device(name: str):
    """The torch device for a setting, or a DesignError when it is not available here."""
    import torch

    from engine.training.portable.processes import pick_device

    device = pick_device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise DesignError(f"training.device is {name!r} but this machine has no CUDA GPU "
                          "that torch can use; choose 'auto' or 'cpu'")
    if device.type == "cuda" and (device.index or 0) >= torch.cuda.device_count():
        raise DesignError(f"training.device is {name!r} but there are only "
                          f"{torch.cuda.device_count()} CUDA devices")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise DesignError(f"training.device is {name!r} but Apple's MPS is not available "
                          "here; choose 'auto' or 'cpu'")
    return device


def device_name(device) -> str:
    import torch

    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return {"mps": "Apple GPU (MPS)", "cpu": "CPU"}.get(device.type, str(device))


def available_devices() -> list[str]:
    """The devices training can use here, best first (for a device menu)."""
    import torch

    devices = [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    if torch.backends.mps.is_available():
        devices.append("mps")
    return [*devices, "cpu"]
