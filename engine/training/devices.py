"""Which device a run uses, and what this machine offers."""

from __future__ import annotations

from engine.training.labels import SettingError, setting_place
from engine.wording import count_of

_ALLOCATOR_FAILURES = ("can't allocate memory", "not enough memory", "out of memory")


def out_of_memory(err: BaseException) -> bool:
    """Whether `err` is memory running out: Python's MemoryError (NumPy's too), torch's
    device error or the CPU allocator's RuntimeError ("DefaultCPUAllocator: can't allocate
    memory: ..."), which only their messages tell apart. No torch import: data checks use it."""
    if isinstance(err, MemoryError):
        return True
    return isinstance(err, RuntimeError) and any(text in str(err).lower()
                                                 for text in _ALLOCATOR_FAILURES)


def resolve_device(name: str):
    """The torch device for a setting, or a SettingError when it is not available here."""
    import torch

    from engine.training.portable.processes import pick_device

    device, setting = pick_device(name), setting_place("device")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SettingError("device", f"{setting} is {name!r} but this machine has no CUDA GPU "
                           "that torch can use; choose 'auto' or 'cpu'")
    if device.type == "cuda" and (device.index or 0) >= torch.cuda.device_count():
        raise SettingError("device", f"{setting} is {name!r} but there are only "
                           f"{count_of(torch.cuda.device_count(), 'CUDA device')}")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise SettingError("device", f"{setting} is {name!r} but Apple's MPS is not available "
                           "here; choose 'auto' or 'cpu'")
    return device


def device_name(device) -> str:
    import torch

    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return {"mps": "Apple GPU (MPS)", "cpu": "CPU"}.get(device.type, str(device))
