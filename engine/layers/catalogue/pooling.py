"""Pooling layers: shrink spatial dimensions by taking maxima or averages."""

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
from engine.layers.module_call import ModuleCall, module_call
from engine.layers.registry import register

_COUNT_INCLUDE_PAD = Param("count_include_pad", "bool", True, "count the padding's zeros in "
                           "each average (off: average only the values inside the input)")


def _pool_params(n: int, averaging: bool) -> tuple[Param, ...]:
    return (
        Param("kernel_size", "size", 2, "window size", minimum=1, length=n),
        Param("stride", "size", None, "step between windows (empty: same as kernel_size)",
              minimum=1, length=n, optional=True),
        Param("padding", "size", 0, "padding on each side", minimum=0, length=n),
        Param("ceil_mode", "bool", False, "round the output size up, so a partial window at "
              "the edge still counts"),
    ) + ((_COUNT_INCLUDE_PAD,) if averaging else ())


def _pool_shape(layer: str, n: int):
    def infer(inputs: list[TensorInfo], p: dict) -> TensorInfo:
        x = inputs[0]
        expect_spatial(x, (n,), layer)
        kernel = as_tuple(p["kernel_size"], n)
        stride = as_tuple(p["stride"] if p["stride"] is not None else p["kernel_size"], n)
        padding = as_tuple(p["padding"], n)
        sizes = []
        for size, k, s, pad in zip(x.shape[2:], kernel, stride, padding):
            if pad * 2 > k:
                raise ShapeError(f"{layer}: padding ({pad}) must be at most half the kernel ({k})")
            out = _pooled_size(size, k, s, pad, p["ceil_mode"])
            if out < 1:
                raise ShapeError(f"{layer}: input {format_shape(x.shape)} is smaller than the "
                                 f"pooling window {p['kernel_size']}",
                                 "use a smaller kernel_size or remove an earlier pooling layer")
            sizes.append(out)
        return TensorInfo((*x.shape[:2], *sizes))
    return infer


def _pooled_size(size: int, kernel: int, stride: int, padding: int, ceil_mode: bool) -> int:
    """torch's pooling arithmetic; in ceil mode the last window must start inside the input."""
    if not ceil_mode:
        return conv_out(size, kernel, stride, padding)
    out = -(-(size + 2 * padding - kernel) // stride) + 1
    if (out - 1) * stride >= size + padding:
        out -= 1
    return out


def _pool_call(cls_name: str):
    """A stride equal to the kernel is what torch picks for none, so it is left out."""
    defaults = {"stride": None, "padding": 0, "ceil_mode": False}
    if cls_name.startswith("Avg"):
        defaults["count_include_pad"] = True

    def constructor(inputs: list[TensorInfo], p: dict) -> ModuleCall:
        values = {**p, "stride": None if p["stride"] == p["kernel_size"] else p["stride"]}
        return module_call(f"torch.nn.{cls_name}", p["kernel_size"], defaults=defaults,
                           **{key: values[key] for key in defaults})
    return constructor


def _adaptive_shape(layer: str, n: int):
    def infer(inputs: list[TensorInfo], p: dict) -> TensorInfo:
        x = inputs[0]
        expect_spatial(x, (n,), layer)
        return TensorInfo((*x.shape[:2], *as_tuple(p["output_size"], n)))
    return infer


def _adaptive_call(cls_name: str):
    def constructor(inputs: list[TensorInfo], p: dict) -> ModuleCall:
        return module_call(f"torch.nn.{cls_name}", p["output_size"])
    return constructor


_POOLS = (
    ("MaxPool1d", 1, "Keeps the largest value in each window along a sequence, halving its "
                     "length with the default kernel_size 2. Use it after Conv1d layers."),
    ("MaxPool2d", 2, "Keeps the largest value in each window, so kernel_size 2 halves height "
                     "and width. It makes a CNN cheaper and tolerant to small shifts; use it "
                     "after a convolution block."),
    ("MaxPool3d", 3, "Keeps the largest value in each window of a volume, so kernel_size 2 "
                     "halves depth, height and width. Use it after Conv3d blocks on video or "
                     "scans."),
    ("AvgPool1d", 1, "Averages each window along a sequence, halving its length with the "
                     "default kernel_size 2. It is a smoother alternative to MaxPool1d."),
    ("AvgPool2d", 2, "Averages each window, so kernel_size 2 halves height and width. Smoother "
                     "than max pooling; common in older CNNs and before classifier heads."),
    ("AvgPool3d", 3, "Averages each window of a volume, so kernel_size 2 halves depth, height "
                     "and width. It is a smoother alternative to MaxPool3d."),
)

for _name, _n, _text in _POOLS:
    register(LayerSpec(name=_name, category="Pooling", explanation=_text,
                       params=_pool_params(_n, averaging=_name.startswith("Avg")),
                       infer=_pool_shape(_name, _n), constructor=_pool_call(_name)))

_SIZES = {1: "output length", 2: "output height and width", 3: "output depth, height and width"}
_ADAPTIVE = (
    ("AdaptiveAvgPool2d", 2, (
        "Averages each channel down to a fixed output size, whatever the input size. With "
        "output_size 1 it is global average pooling, the usual bridge from convolutions to the "
        "classifier in modern CNNs; follow it with Flatten.")),
    ("AdaptiveAvgPool1d", 1, (
        "Averages each channel of a sequence down to a fixed length, whatever the input "
        "length. With output_size 1 it is global average pooling over time.")),
    ("AdaptiveAvgPool3d", 3, (
        "Averages each channel of a volume down to a fixed size, whatever the input size. "
        "With output_size 1 it is global average pooling for 3-D CNNs; follow it with "
        "Flatten.")),
    ("AdaptiveMaxPool1d", 1, (
        "Keeps the largest values of each channel of a sequence, down to a fixed length. With "
        "output_size 1 it is global max pooling, common in text CNNs: did a filter fire "
        "anywhere?")),
    ("AdaptiveMaxPool2d", 2, (
        "Keeps the largest values of each channel, down to a fixed output size whatever the "
        "input size. With output_size 1 it is global max pooling; follow it with Flatten.")),
    ("AdaptiveMaxPool3d", 3, (
        "Keeps the largest values of each channel of a volume, down to a fixed size. With "
        "output_size 1 it is global max pooling for 3-D CNNs.")),
)

for _name, _n, _text in _ADAPTIVE:
    register(LayerSpec(
        name=_name, category="Pooling", explanation=_text,
        params=(Param("output_size", "size", 1, _SIZES[_n], minimum=1, length=_n),),
        infer=_adaptive_shape(_name, _n), constructor=_adaptive_call(_name)))
