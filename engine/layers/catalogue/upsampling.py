"""Upsampling: grow spatial dimensions without learned weights."""

from engine.errors import ShapeError
from engine.layers.base import LayerSpec, Param, TensorInfo, expect_spatial
from engine.layers.module_call import ModuleCall, module_call
from engine.layers.registry import register

_MODES_BY_RANK = {3: ("nearest", "linear"), 4: ("nearest", "bilinear", "bicubic"),
                  5: ("nearest", "trilinear")}
LARGEST_SCALE = 100.0  # one step; chain Upsamples to grow further


def _upsample_shape(inputs: list[TensorInfo], p: dict) -> TensorInfo:
    x = inputs[0]
    expect_spatial(x, (1, 2, 3), "Upsample")
    if p["mode"] not in _MODES_BY_RANK[x.rank]:
        raise ShapeError(f"Upsample mode {p['mode']!r} does not work on a {x.rank}-D tensor",
                         f"use one of {', '.join(_MODES_BY_RANK[x.rank])}")
    if p["align_corners"] and p["mode"] == "nearest":
        raise ShapeError("Upsample: align_corners works with the interpolating modes, not "
                         "'nearest'", "switch align_corners off, or choose an interpolating "
                         "mode")
    scaled = tuple(int(size * p["scale_factor"]) for size in x.shape[2:])
    return TensorInfo((*x.shape[:2], *scaled))


def _upsample_call(inputs: list[TensorInfo], p: dict) -> ModuleCall:
    """align_corners is left out (torch's None) unless it is on."""
    return module_call("torch.nn.Upsample", scale_factor=p["scale_factor"], mode=p["mode"],
                       align_corners=p["align_corners"] or None,
                       defaults={"mode": "nearest", "align_corners": None})


register(LayerSpec(
    name="Upsample", category="Reshape",
    explanation=(
        "Enlarges images (or sequences, or volumes) by a scale factor, repeating ('nearest') or "
        "interpolating ('bilinear') values; it has no weights. Followed by a Conv2d it is a "
        "checkerboard-free alternative to ConvTranspose2d in decoders and generators."),
    params=(Param("scale_factor", "float", 2.0, "how much larger each spatial size becomes",
                  minimum=0.01, maximum=LARGEST_SCALE),
            Param("mode", "choice", "nearest", "how new values are filled in",
                  choices=("nearest", "linear", "bilinear", "bicubic", "trilinear")),
            Param("align_corners", "bool", False, "interpolating modes: line up the corner "
                  "values of input and output exactly (as older segmentation models do)")),
    infer=_upsample_shape, constructor=_upsample_call))
