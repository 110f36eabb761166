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


def _pool_params(n: int) -> tuple[Param, ...]:
    return (
        Param("kernel_size", "size", 2, "window size", minimum=1, length=n),
        Param("stride", "size", None, "step between windows (empty: same as kernel_size)",
              minimum=1, length=n, optional=True),
        Param("padding", "size", 0, "padding on each side", minimum=0, length=n),
        Param("ceil_mode", "bool", False, "round the output size up, so a partial window at "
              "the edge still counts"),
    )


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
    def constructor(inputs: list[TensorInfo], p: dict) -> ModuleCall:
        stride = None if p["stride"] == p["kernel_size"] else p["stride"]
        return module_call(f"torch.nn.{cls_name}", p["kernel_size"], stride=stride,
                           padding=p["padding"], ceil_mode=p["ceil_mode"],
                           defaults={"stride": None, "padding": 0, "ceil_mode": False})
    return constructor


def _adaptive_shape(inputs: list[TensorInfo], p: dict) -> TensorInfo:
    x = inputs[0]
    expect_spatial(x, (2,), "AdaptiveAvgPool2d")
    return TensorInfo((*x.shape[:2], *as_tuple(p["output_size"], 2)))


def _adaptive_call(inputs: list[TensorInfo], p: dict) -> ModuleCall:
    return module_call("torch.nn.AdaptiveAvgPool2d", p["output_size"])


_POOLS = (
    ("MaxPool1d", 1, "Keeps the largest value in each window along a sequence, halving its "
                     "length with the default kernel_size 2. Use it after Conv1d layers."),
    ("MaxPool2d", 2, "Keeps the largest value in each window, so kernel_size 2 halves height "
                     "and width. It makes a CNN cheaper and tolerant to small shifts; use it "
                     "after a convolution block."),
    ("AvgPool1d", 1, "Averages each window along a sequence, halving its length with the "
                     "default kernel_size 2. It is a smoother alternative to MaxPool1d."),
    ("AvgPool2d", 2, "Averages each window, so kernel_size 2 halves height and width. Smoother "
                     "than max pooling; common in older CNNs and before classifier heads."),
)

for _name, _n, _text in _POOLS:
    register(LayerSpec(name=_name, category="Pooling", explanation=_text,
                       params=_pool_params(_n), infer=_pool_shape(_name, _n),
                       constructor=_pool_call(_name)))

register(LayerSpec(
    name="AdaptiveAvgPool2d", category="Pooling",
    explanation=(
        "Averages each channel down to a fixed output size, whatever the input size. With "
        "output_size 1 it is global average pooling, the usual bridge from convolutions to the "
        "classifier in modern CNNs; follow it with Flatten."),
    params=(Param("output_size", "size", 1, "output height and width", minimum=1, length=2),),
    infer=_adaptive_shape, constructor=_adaptive_call))
