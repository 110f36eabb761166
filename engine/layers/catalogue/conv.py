"""Convolutions over sequences, images and volumes, and the transposed convolution."""

from math import prod

from engine.errors import ShapeError
from engine.layers.base import (
    LayerSpec,
    Param,
    TensorInfo,
    as_tuple,
    conv_out,
    expect_spatial,
    format_shape,
)
from engine.layers.module_call import ModuleCall, module_call, same_size
from engine.layers.registry import register
from engine.limits import LARGEST_STEP


def _conv_params(n: int, transposed: bool = False) -> tuple[Param, ...]:
    common = (
        Param("out_channels", "int", 16, "number of filters, i.e. output channels", minimum=1),
        Param("kernel_size", "size", 3, "filter size", minimum=1, length=n),
        Param("stride", "size", 1 if not transposed else 2, "step between filter positions",
              minimum=1, maximum=LARGEST_STEP, length=n),
        Param("padding", "size", 0, "zeros added on each side", minimum=0, length=n),
    )
    extra = (Param("output_padding", "size", 0, "extra size added on one side of the output",
                   minimum=0, length=n),) if transposed else ()
    return common + extra + (
        Param("dilation", "size", 1, "spacing between filter taps", minimum=1,
              maximum=LARGEST_STEP, length=n),
        Param("groups", "int", 1, "split channels into independent groups", minimum=1),
        Param("bias", "bool", True, "learn an additive bias"),
    )


def _check_channels(layer: str, x: TensorInfo, p: dict, n: int) -> int:
    expect_spatial(x, (n,), layer,
                   "add an Unflatten/Reshape before it to give the tensor channels and "
                   "spatial dimensions" if x.rank < n + 2 else None)
    channels = x.shape[1]
    for what, size in (("input channels", channels), ("out_channels", p["out_channels"])):
        if size % p["groups"]:
            raise ShapeError(f"{layer}: {what} ({size}) must be divisible by groups "
                             f"({p['groups']})")
    return channels


def _conv_size(layer: str, x: TensorInfo, p: dict, size: int, k: int, s: int, pad: int,
               dil: int) -> int:
    out = conv_out(size, k, s, pad, dil)
    if out < 1:
        raise ShapeError(
            f"{layer}: input {format_shape(x.shape)} is too small for kernel "
            f"{p['kernel_size']} (output size would be {out})",
            "use a smaller kernel, add padding, or remove a pooling layer before it")
    return out


def _transposed_size(layer: str, x: TensorInfo, p: dict, size: int, k: int, s: int, pad: int,
                     opad: int, dil: int) -> int:
    if opad >= max(s, dil):
        raise ShapeError(f"{layer}: output_padding ({opad}) must be smaller than "
                         f"stride or dilation")
    out = (size - 1) * s - 2 * pad + dil * (k - 1) + opad + 1
    if out < 1:
        raise ShapeError(f"{layer}: the output would have size {out}", "reduce padding")
    return out


def _conv_shape(n: int, transposed: bool = False):
    """Both convolutions check channels alike and differ only in each spatial size's rule."""
    layer = f"ConvTranspose{n}d" if transposed else f"Conv{n}d"
    keys = ("kernel_size", "stride", "padding", *(("output_padding",) if transposed else ()),
            "dilation")
    output_size = _transposed_size if transposed else _conv_size

    def infer(inputs: list[TensorInfo], p: dict) -> TensorInfo:
        x = inputs[0]
        _check_channels(layer, x, p, n)
        settings = zip(x.shape[2:], *(as_tuple(p[key], n) for key in keys))
        sizes = [output_size(layer, x, p, *dimension) for dimension in settings]
        return TensorInfo((x.shape[0], p["out_channels"], *sizes))
    return infer


def _conv_count(n: int):
    def count(inputs: list[TensorInfo], p: dict) -> int:
        in_ch = inputs[0].shape[1]
        weights = in_ch // p["groups"] * p["out_channels"] * prod(as_tuple(p["kernel_size"], n))
        return weights + (p["out_channels"] if p["bias"] else 0)
    return count


# torch's defaults, in the order of each class's parameters
_CONV_DEFAULTS = {"stride": 1, "padding": 0, "dilation": 1, "groups": 1, "bias": True}
_TRANSPOSED_DEFAULTS = {"stride": 1, "padding": 0, "output_padding": 0, "groups": 1,
                        "bias": True, "dilation": 1}


def _conv_call(n: int, transposed: bool = False):
    """Sizes such as (3, 3) are written 3: convolutions store every size as a tuple anyway."""
    cls_name = f"ConvTranspose{n}d" if transposed else f"Conv{n}d"
    defaults = _TRANSPOSED_DEFAULTS if transposed else _CONV_DEFAULTS

    def constructor(inputs: list[TensorInfo], p: dict) -> ModuleCall:
        return module_call(f"torch.nn.{cls_name}", inputs[0].shape[1], p["out_channels"],
                           same_size(p["kernel_size"]), defaults=defaults,
                           **{key: same_size(p[key]) for key in defaults})
    return constructor


_USE = {
    1: "Use it on sequences and signals (audio, sensor data, text embeddings arranged as "
       "channels by length).",
    2: "Use it on images: stacked with pooling it learns edges, then textures, then parts.",
    3: "Use it on volumes and video (medical scans, clips of frames).",
}

for _n in (1, 2, 3):
    register(LayerSpec(
        name=f"Conv{_n}d", category="Convolution",
        explanation=(
            f"Slides small learned filters over its {_n}-D input and outputs one channel per "
            f"filter, so the same pattern is detected wherever it appears. {_USE[_n]} Typical: "
            "kernel_size 3 with padding 1 keeps the size; in_channels comes from the input."),
        params=_conv_params(_n), infer=_conv_shape(_n), count_params=_conv_count(_n),
        constructor=_conv_call(_n)))

_TRANSPOSED_USE = {
    1: "Decoders of signals and audio use it to lengthen sequences.",
    2: "Decoders, autoencoders and GAN generators use it to grow images; kernel_size 4, "
       "stride 2, padding 1 doubles exactly.",
    3: "Decoders of volumes and video (3-D U-Nets) use it to grow them back.",
}
_SIZES = {1: "the length", 2: "height and width", 3: "depth, height and width"}

for _n in (1, 2, 3):
    register(LayerSpec(
        name=f"ConvTranspose{_n}d", category="Convolution",
        explanation=(
            "The transposed ('up') convolution: it spreads each input value over a learned "
            f"filter, so with stride 2 it doubles {_SIZES[_n]}. {_TRANSPOSED_USE[_n]}"),
        params=_conv_params(_n, transposed=True), infer=_conv_shape(_n, transposed=True),
        count_params=_conv_count(_n), constructor=_conv_call(_n, transposed=True)))
