"""Normalisations within each sample, independent of the batch size: GroupNorm, InstanceNorm,
and LayerNorm over the channels of a feature map (ConvNeXt's LayerNorm2d)."""

from math import prod

from engine.errors import ShapeError
from engine.layers.base import (
    EmitContext,
    LayerSpec,
    Param,
    TensorInfo,
    expect_rank,
    expect_spatial,
    format_shape,
)
from engine.layers.module_call import ModuleCall, module_call
from engine.layers.registry import register

_EPS = Param("eps", "float", 1e-5, "added to the variance for numerical stability", minimum=0)
_EPS_DEFAULT = 1e-5  # torch's


def _channel_count(flag: str):
    """2 per channel (scale and shift) when the layer learns them."""
    def count(inputs: list[TensorInfo], p: dict) -> int:
        return 2 * inputs[0].shape[1] if p[flag] else 0
    return count


def _group_norm_shape(inputs: list[TensorInfo], p: dict) -> TensorInfo:
    x = inputs[0]
    expect_rank(x, (2, 3, 4, 5), "GroupNorm", "(N, channels, ...)")
    if x.shape[1] % p["num_groups"]:
        raise ShapeError(f"GroupNorm: the {x.shape[1]} channels of {format_shape(x.shape)} "
                         f"cannot be split into {p['num_groups']} equal groups",
                         f"choose num_groups that divides {x.shape[1]}")
    return x


def _group_norm_call(inputs: list[TensorInfo], p: dict) -> ModuleCall:
    return module_call("torch.nn.GroupNorm", p["num_groups"], inputs[0].shape[1], eps=p["eps"],
                       affine=p["affine"], defaults={"eps": _EPS_DEFAULT, "affine": True})


def _instance_norm_shape(n: int):
    layer = f"InstanceNorm{n}d"

    def infer(inputs: list[TensorInfo], p: dict) -> TensorInfo:
        x = inputs[0]
        expect_spatial(x, (n,), layer)
        if prod(x.shape[2:]) == 1:
            raise ShapeError(f"{layer} normalises each channel over its positions, but "
                             f"{format_shape(x.shape)} has one value per channel, which "
                             "torch refuses while training",
                             "put it before the layer that shrinks the map to size 1, or use "
                             "GroupNorm")
        return x
    return infer


def _instance_norm_call(n: int):
    def constructor(inputs: list[TensorInfo], p: dict) -> ModuleCall:
        return module_call(f"torch.nn.InstanceNorm{n}d", inputs[0].shape[1], eps=p["eps"],
                           momentum=p["momentum"], affine=p["affine"],
                           track_running_stats=p["track_running_stats"],
                           defaults={"eps": _EPS_DEFAULT, "momentum": 0.1, "affine": False,
                                     "track_running_stats": False})
    return constructor


def _layer_norm_2d_shape(inputs: list[TensorInfo], p: dict) -> TensorInfo:
    expect_spatial(inputs[0], (2,), "LayerNorm2d")
    return inputs[0]


def _layer_norm_2d_call(inputs: list[TensorInfo], p: dict) -> ModuleCall:
    return module_call("torch.nn.LayerNorm", inputs[0].shape[1], eps=p["eps"],
                       elementwise_affine=p["elementwise_affine"],
                       defaults={"eps": _EPS_DEFAULT, "elementwise_affine": True})


def _emit_layer_norm_2d(ctx: EmitContext) -> list[str]:
    """Channels moved last for nn.LayerNorm and back, as torchvision's ConvNeXt does (its
    LayerNorm2d permutes); the weights keep LayerNorm's keys, weight and bias."""
    return [f"{ctx.out} = {ctx.module}({ctx.inputs[0]}.movedim(1, -1)).movedim(-1, 1)"]


register(
    LayerSpec(
        name="GroupNorm", category="Normalization",
        explanation=(
            "Splits the channels into num_groups groups and normalises each group of each "
            "sample on its own, so it works the same at any batch size, even 1. Detection and "
            "segmentation models, U-Nets and diffusion models use it where batches are small; "
            "num_groups must divide the channels."),
        params=(Param("num_groups", "int", 8, "how many groups the channels are split into",
                      minimum=1),
                _EPS,
                Param("affine", "bool", True, "learn a scale and shift per channel")),
        infer=_group_norm_shape, count_params=_channel_count("affine"),
        constructor=_group_norm_call),
    LayerSpec(
        name="LayerNorm2d", category="Normalization",
        explanation=(
            "LayerNorm over the channels of each position of an (N, C, H, W) feature map: every "
            "pixel's C values are normalised together. ConvNeXt uses it after its depthwise "
            "convolutions in place of BatchNorm."),
        params=(_EPS, Param("elementwise_affine", "bool", True, "learn a scale and shift per "
                            "channel")),
        infer=_layer_norm_2d_shape, count_params=_channel_count("elementwise_affine"),
        constructor=_layer_norm_2d_call, emit=_emit_layer_norm_2d),
)

_POSITIONS = {1: "length", 2: "height and width", 3: "depth, height and width"}

for _n in (1, 2, 3):
    register(LayerSpec(
        name=f"InstanceNorm{_n}d", category="Normalization",
        explanation=(
            f"Normalises each channel of each sample over its {_POSITIONS[_n]} on "
            "its own, so the statistics of one sample never mix with another's. Style transfer "
            "and image-to-image GANs use it to remove each image's contrast."),
        params=(_EPS,
                Param("momentum", "float", 0.1, "how fast the running statistics follow new "
                      "batches (with track_running_stats)", minimum=0, maximum=1),
                Param("affine", "bool", False, "learn a scale and shift per channel"),
                Param("track_running_stats", "bool", False, "keep running statistics for "
                      "evaluation instead of each sample's own")),
        infer=_instance_norm_shape(_n), count_params=_channel_count("affine"),
        constructor=_instance_norm_call(_n)))
