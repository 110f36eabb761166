"""A torchvision classification network used as a feature extractor (transfer learning).

The network is always built with `weights=None`: nothing is ever downloaded. Pretrained
weights come from a local file the user picks (`.safetensors`, or `.pth`/`.pt` read with
`torch.load(weights_only=True)`). The network's own 1000-class head (its last Linear) is
replaced by an identity, so the node gives one feature vector per image.

Shapes and parameter counts come from the table below, so checking never imports torch;
tests/test_backbone.py compares the table with the real networks.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from engine.errors import ShapeError
from engine.layers.base import LayerSpec, Param, TensorInfo, expect_rank, format_shape
from engine.layers.module_call import ModuleCall, module_call
from engine.layers.registry import register


@dataclass(frozen=True)
class Architecture:
    """What checking needs to know about one torchvision network without building it."""

    features: int     # size of the feature vector (the in_features of the removed head)
    parameters: int   # parameters without the removed head
    head: str         # attribute path of the head's last Linear, replaced by nn.Identity
    smallest: int = 1  # smallest image side the network accepts


ARCHITECTURES = {
    "resnet18": Architecture(512, 11_176_512, "fc"),
    "resnet34": Architecture(512, 21_284_672, "fc"),
    "resnet50": Architecture(2048, 23_508_032, "fc"),
    "mobilenet_v2": Architecture(1280, 2_223_872, "classifier.1"),
    "mobilenet_v3_small": Architecture(1024, 1_517_856, "classifier.3"),
    "mobilenet_v3_large": Architecture(1280, 4_202_032, "classifier.3"),
    "efficientnet_b0": Architecture(1280, 4_007_548, "classifier.1"),
    "efficientnet_b1": Architecture(1280, 6_513_184, "classifier.1"),
    "regnet_y_400mf": Architecture(440, 3_903_144, "fc"),
    "regnet_y_800mf": Architecture(784, 5_647_512, "fc"),
    "shufflenet_v2_x1_0": Architecture(1024, 1_253_604, "fc"),
    "densenet121": Architecture(1024, 6_953_856, "classifier", smallest=29),
    "convnext_tiny": Architecture(768, 27_820_128, "classifier.2", smallest=32),
}
WEIGHT_SUFFIXES = (".safetensors", ".pth", ".pt")
PRETRAINED_SIDE = 32  # below this, ImageNet features shrink to a single pixel early on


def _infer(inputs: list[TensorInfo], p: dict) -> TensorInfo:
    x = inputs[0]
    expect_rank(x, (4,), "Backbone", "(N, 3, height, width) colour images",
                "give it 3-channel images; for grey images put a Conv2d with 3 output "
                "channels (kernel_size 1) before it")
    if x.dtype != "float":
        raise ShapeError("Backbone needs float images but receives integer ids")
    if x.shape[1] != 3:
        raise ShapeError(f"Backbone expects 3 colour channels but receives {x.shape[1]} "
                         f"({format_shape(x.shape)})",
                         "put a Conv2d with out_channels 3 and kernel_size 1 before it")
    arch = ARCHITECTURES[p["arch"]]
    if min(x.shape[2:]) < arch.smallest:
        raise ShapeError(f"{p['arch']} needs images of at least {arch.smallest}x"
                         f"{arch.smallest} pixels but receives {x.shape[2]}x{x.shape[3]}",
                         "put an Upsample before it, or choose resnet18")
    problem = _file_problem(p["weights_file"])
    if problem:
        raise ShapeError(*problem)
    return TensorInfo((x.shape[0], arch.features))


def _file_problem(path: str) -> tuple[str, str] | None:
    """Why the weights file cannot be read, as (message, fix); None when it can (or is unset).

    Only the file system is asked here; whether the tensors fit is found out when building.
    """
    if not path:
        return None
    file = Path(path).expanduser()
    fix = "pick an existing .safetensors or .pth file, or clear weights_file to train from scratch"
    if file.suffix.lower() not in WEIGHT_SUFFIXES:
        return (f"the weights file {path} is not a .safetensors, .pth or .pt file", fix)
    if not file.is_file():   # missing, or a folder, a named pipe, a link loop: say which
        if not os.path.lexists(file):
            return (f"there is no weights file {path}", fix)
        from engine.training.portable.file_checks import path_problem  # numpy: only here

        return (f"the weights file {path_problem(file)}", fix)
    if not os.access(file, os.R_OK):
        return (f"the weights file {path} cannot be read (no permission)", fix)
    return None


def _warn(inputs: list[TensorInfo], p: dict) -> list[tuple[str, str]]:
    warnings = []
    if not p["weights_file"]:
        warnings.append((
            (f"no weights file: the {p['arch']} backbone starts from random weights and trains "
             "from scratch (frozen is ignored)"),
            (f"pick a .pth or .safetensors file with ImageNet weights for {p['arch']} in "
             "weights_file to reuse what it learned")))
    if min(inputs[0].shape[2:]) < PRETRAINED_SIDE:
        warnings.append((
            (f"images of {inputs[0].shape[2]}x{inputs[0].shape[3]} pixels are much smaller "
             "than the 224x224 the backbone learned on; its first layers shrink them to "
             "almost nothing"),
            "Upsample the images to at least 32x32 before the backbone"))
    return warnings


def _count(inputs: list[TensorInfo], p: dict) -> int:
    return ARCHITECTURES[p["arch"]].parameters


def _constructor(inputs: list[TensorInfo], p: dict) -> ModuleCall:
    """A portable function, copied into an exported script, so that the script loads and
    freezes the weights exactly as the app does. Settings that do nothing are left out:
    frozen and train_last without weights, train_last when nothing is frozen."""
    weights = p["weights_file"]
    return module_call(
        "engine.training.portable.backbones.pretrained_backbone", p["arch"],
        head=ARCHITECTURES[p["arch"]].head, weights_file=weights,
        frozen=p["frozen"] if weights else True,
        train_last=p["train_last"] if weights and p["frozen"] else 0,
        defaults={"weights_file": "", "frozen": True, "train_last": 0})


register(LayerSpec(
    name="Backbone", category="Pretrained",
    explanation=(
        "A proven image network from torchvision (ResNet, MobileNet, EfficientNet, ...) used "
        "as a feature extractor: it turns (N, 3, H, W) images into one feature vector each, "
        "and the layers after it learn your classes. Load ImageNet weights from a local file "
        "and keep them frozen to reuse what the network learned on a million photos: a few "
        "hundred images of your own can then be enough. Unfreeze the last block or two "
        "(train_last) to fine-tune once the new head has learned. Without a weights file it "
        "trains from scratch, which needs far more data and time."),
    params=(
        Param("arch", "choice", "resnet18", "the torchvision network",
              choices=tuple(ARCHITECTURES)),
        Param("weights_file", "text", "", "a local .safetensors or .pth file of its "
              "ImageNet weights (empty: random weights, trained from scratch)"),
        Param("frozen", "bool", True, "keep the loaded weights fixed (only layers after the "
              "backbone, and the last train_last blocks, learn)"),
        Param("train_last", "int", 0, "with frozen on, how many of the backbone's last blocks "
              "still learn (fine-tuning)", minimum=0),
    ),
    infer=_infer, count_params=_count, constructor=_constructor, warn=_warn,
    files=("weights_file",)))
