"""Upsampling: grow spatial dimensions without learned weights."""

from engine.errors import ShapeError
from engine.layers.base import LayerSpec, Param, TensorInfo, expect_spatial
from engine.layers.module_call import ModuleCall, module_call
from engine.layers.registry import register

_MODES_BY_RANK = {3: ("nearest", "linear"), 4: ("nearest", "bilinear", "bicubic")}
LARGEST_SCALE = 100.0  # one step; chain Upsamples to grow further


def _upsample_shape(inputs: list[TensorInfo], p: dict) -> TensorInfo:
    x = inputs[0]
    expect_spatial(x, (1, 2), "Upsample")
    if p["mode"] not in _MODES_BY_RANK[x.rank]:
        raise ShapeError(f"Upsample mode {p['mode']!r} does not work on a {x.rank}-D tensor",
                         f"use one of {', '.join(_MODES_BY_RANK[x.rank])}")
    scaled = tuple(int(size * p["scale_factor"]) for size in x.shape[2:])
    return TensorInfo((*x.shape[:2], *scaled))


def _upsample_call(inputs: list[TensorInfo], p: dict) -> ModuleCall:
    return module_call("torch.nn.Upsample", scale_factor=p["scale_factor"], mode=p["mode"],
                       defaults={"mode": "nearest"})


register(LayerSpec(
    name="Upsample", category="Reshape",
    explanation=(
        "Enlarges images (or sequences) by a scale factor, repeating ('nearest') or "
        "interpolating ('bilinear') values; it has no weights. Followed by a Conv2d it is a "
        "checkerboard-free alternative to ConvTranspose2d in decoders and generators."),
    params=(Param("scale_factor", "float", 2.0, "how much larger each spatial size becomes",
                  minimum=0.01, maximum=LARGEST_SCALE),
            Param("mode", "choice", "nearest", "how new values are filled in",
                  choices=("nearest", "linear", "bilinear", "bicubic"))),
    infer=_upsample_shape, constructor=_upsample_call))
