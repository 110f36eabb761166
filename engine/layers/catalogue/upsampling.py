"""Resizing spatial dimensions without learned weights: by a scale (Upsample) or to the size
of another tensor (Interpolate, as U-Nets, FPNs and segmentation heads write
`F.interpolate(x, size=skip.shape[-2:])`)."""

from engine.errors import ShapeError
from engine.layers.base import (
    BATCH,
    EmitContext,
    LayerSpec,
    Param,
    TensorInfo,
    expect_spatial,
    format_shape,
)
from engine.layers.module_call import ModuleCall, module_call
from engine.layers.registry import register

_MODES_BY_RANK = {3: ("nearest", "linear"), 4: ("nearest", "bilinear", "bicubic"),
                  5: ("nearest", "trilinear")}
LARGEST_SCALE = 100.0  # one step; chain Upsamples to grow further


def _expect_mode(x: TensorInfo, p: dict, layer: str) -> None:
    """The input is 1-, 2- or 3-D data and the mode (and align_corners) works on it."""
    expect_spatial(x, (1, 2, 3), layer)
    if p["mode"] not in _MODES_BY_RANK[x.rank]:
        raise ShapeError(f"{layer} mode {p['mode']!r} does not work on a {x.rank}-D tensor",
                         f"use one of {', '.join(_MODES_BY_RANK[x.rank])}")
    if p["align_corners"] and p["mode"] == "nearest":
        raise ShapeError(f"{layer}: align_corners works with the interpolating modes, not "
                         "'nearest'", "switch align_corners off, or choose an interpolating "
                         "mode")


def _upsample_shape(inputs: list[TensorInfo], p: dict) -> TensorInfo:
    x = inputs[0]
    _expect_mode(x, p, "Upsample")
    scaled = tuple(int(size * p["scale_factor"]) for size in x.shape[2:])
    return TensorInfo((*x.shape[:2], *scaled))


def _upsample_call(inputs: list[TensorInfo], p: dict) -> ModuleCall:
    """align_corners is left out (torch's None) unless it is on."""
    return module_call("torch.nn.Upsample", scale_factor=p["scale_factor"], mode=p["mode"],
                       align_corners=p["align_corners"] or None,
                       defaults={"mode": "nearest", "align_corners": None})


def _interpolate_shape(inputs: list[TensorInfo], p: dict) -> TensorInfo:
    """(N, C, *sizes) resized to the last sizes of the reference (input 1)."""
    x, reference = inputs
    _expect_mode(x, p, "Interpolate")
    count = x.rank - 2
    sizes = reference.shape[-count:]
    if reference.rank < count or BATCH in sizes:
        raise ShapeError(f"Interpolate takes its {count} output size(s) from the last "
                         f"dimensions of input 1, but input 1 is "
                         f"{format_shape(reference.shape)}",
                         "feed it the tensor whose height and width the result should have")
    return x.splice(2, x.rank, *sizes)


def _emit_interpolate(ctx: EmitContext) -> list[str]:
    """align_corners is written for the interpolating modes, as torchvision writes it ('nearest'
    takes none)."""
    x, reference = ctx.inputs
    count = ctx.input_infos[0].rank - 2
    options = [f"size={reference}.shape[-{count}:]", f"mode={ctx.params['mode']!r}"]
    if ctx.params["mode"] != "nearest":
        options.append(f"align_corners={ctx.params['align_corners']!r}")
    return [f"{ctx.out} = F.interpolate({x}, {', '.join(options)})"]


_MODE = Param("mode", "choice", "nearest", "how new values are filled in",
              choices=("nearest", "linear", "bilinear", "bicubic", "trilinear"))
_ALIGN_CORNERS = Param("align_corners", "bool", False, "interpolating modes: line up the corner "
                       "values of input and output exactly (as older segmentation models do)")

register(LayerSpec(
    name="Interpolate", category="Reshape", min_inputs=2, max_inputs=2,
    explanation=(
        "Resizes input 0 to the height and width (length, or depth too) of input 1, repeating "
        "('nearest') or interpolating ('bilinear') values; only input 1's size is read. "
        "U-Nets and feature pyramids bring a coarse map to the size of a skip connection this "
        "way, and segmentation heads bring their scores back to the image's size."),
    params=(_MODE, _ALIGN_CORNERS),
    infer=_interpolate_shape, emit=_emit_interpolate))

register(LayerSpec(
    name="Upsample", category="Reshape",
    explanation=(
        "Enlarges images (or sequences, or volumes) by a scale factor, repeating ('nearest') or "
        "interpolating ('bilinear') values; it has no weights. Followed by a Conv2d it is a "
        "checkerboard-free alternative to ConvTranspose2d in decoders and generators."),
    params=(Param("scale_factor", "float", 2.0, "how much larger each spatial size becomes",
                  minimum=0.01, maximum=LARGEST_SCALE), _MODE, _ALIGN_CORNERS),
    infer=_upsample_shape, constructor=_upsample_call))
