"""Torchvision networks as feature extractors, with weights read from a local file.

The Backbone layer builds its module with `pretrained_backbone`, and an exported script that
contains a Backbone calls the same function, so both load and freeze weights alike. Nothing is
ever downloaded: the network is created with `weights=None`.
"""

from pathlib import Path

import torch
from torch import nn


def pretrained_backbone(arch, head, weights_file="", frozen=True, train_last=0):
    """torchvision's `arch` with its classification head (the Linear at `head`) replaced by
    an identity, so it returns one feature vector per image. With a `weights_file` the
    weights are loaded and, if `frozen`, fixed except in the last `train_last` blocks."""
    import torchvision  # slow to import, and only a backbone needs it

    model = torchvision.models.get_model(arch, weights=None)
    parent, _, name = head.rpartition(".")
    setattr(model.get_submodule(parent), name, nn.Identity())
    if weights_file:
        load_backbone_weights(model, weights_file, head, arch)
        if frozen:
            model.requires_grad_(False)
            stages = backbone_blocks(model)
            for block in stages[len(stages) - min(train_last, len(stages)) :]:
                block.requires_grad_(True)
    return model


def backbone_blocks(model):
    """The network's stages in order, the unit `train_last` counts: its top-level children
    with parameters, where a child that is a plain nn.Sequential contributes its children."""
    found = []
    for child in model.children():
        parts = list(child.children()) if type(child) is nn.Sequential else [child]
        found += [part for part in parts if any(True for _ in part.parameters())]
    return found


def load_backbone_weights(model, path, head, arch):
    """Load a weights file saved from a torchvision `arch` (its head's weights are skipped);
    raise ValueError naming the keys that do not fit."""
    weights = read_weights(path)
    state = {k: v for k, v in weights.items() if not k.startswith(head + ".")}
    expected = model.state_dict()
    common = set(expected) & set(state)
    reshaped = [k for k in common if expected[k].shape != state[k].shape]
    problems = {
        "missing": sorted(set(expected) - set(state)),
        f"not in {arch}": sorted(set(state) - set(expected)),
        "other shapes": sorted(reshaped),
    }
    details = [
        f"{label}: {', '.join(keys[:3])}{' ...' if len(keys) > 3 else ''}"
        for label, keys in problems.items()
        if keys
    ]
    if details:
        raise ValueError(
            f"the weights in {path} do not fit {arch} ({'; '.join(details)}); use weights "
            f"saved from a torchvision {arch}, or the arch they belong to"
        )
    model.load_state_dict(state)


def read_weights(path):
    """The tensors in a .safetensors or .pth/.pt file by name; a checkpoint's nested
    "state_dict" or "model" entry and DataParallel's "module." prefixes are unwrapped."""
    file = Path(path).expanduser()
    try:
        if file.suffix.lower() == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(file, device="cpu")
        else:
            state = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - an unreadable file of any kind, one message
        raise ValueError(
            f"the weights file {path} cannot be read: {type(err).__name__}: {err}"
        ) from None
    for wrapper in ("state_dict", "model"):
        if isinstance(state, dict) and isinstance(state.get(wrapper), dict):
            state = state[wrapper]
    if not isinstance(state, dict) or not all(
        isinstance(value, torch.Tensor) for value in state.values()
    ):
        raise ValueError(f"the weights file {path} holds no state_dict of tensors")
    return {key.removeprefix("module."): value for key, value in state.items()}
