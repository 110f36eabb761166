"""Normalisation and regularisation layers."""

from engine.errors import ShapeError
from engine.layers.base import (
    SPATIAL_LAYOUTS,
    EmitContext,
    LayerSpec,
    Param,
    TensorInfo,
    call_module,
    expect_rank,
    format_shape,
)
from engine.layers.module_call import ModuleCall, module_call
from engine.layers.registry import register

_EPS = Param("eps", "float", 1e-5, "added to the variance for numerical stability", above=0)


def _same_with_rank(layer: str, ranks: tuple[int, ...], what: str):
    def infer(inputs: list[TensorInfo], p: dict) -> TensorInfo:
        expect_rank(inputs[0], ranks, layer, what)
        return inputs[0]
    return infer


_EPS_DEFAULT = 1e-5  # torch's


def _batchnorm_call(cls_name: str):
    def constructor(inputs: list[TensorInfo], p: dict) -> ModuleCall:
        return module_call(f"torch.nn.{cls_name}", inputs[0].shape[1], eps=p["eps"],
                           momentum=p["momentum"], affine=p["affine"],
                           defaults={"eps": _EPS_DEFAULT, "momentum": 0.1, "affine": True})
    return constructor


def _affine_count(dim_of):
    def count(inputs: list[TensorInfo], p: dict) -> int:
        flag = p.get("affine", p.get("elementwise_affine"))
        return 2 * dim_of(inputs[0]) if flag else 0
    return count


_BN_PARAMS = (
    _EPS,
    Param("momentum", "float", 0.1, "how fast the running statistics follow new batches",
          minimum=0, maximum=1),
    Param("affine", "bool", True, "learn a scale and shift per channel"),
)


def _layernorm_call(inputs: list[TensorInfo], p: dict) -> ModuleCall:
    return module_call("torch.nn.LayerNorm", inputs[0].shape[-1], eps=p["eps"],
                       elementwise_affine=p["elementwise_affine"],
                       defaults={"eps": _EPS_DEFAULT, "elementwise_affine": True})


def _dropout_call(cls_name: str):
    def constructor(inputs: list[TensorInfo], p: dict) -> ModuleCall:
        return module_call(f"torch.nn.{cls_name}", p=p["p"], defaults={"p": 0.5})
    return constructor


_DROP_P = (Param("p", "float", 0.5, "probability of zeroing a value", minimum=0, maximum=1),)
_CHANNEL_DROP_P = (Param("p", "float", 0.5, "probability of zeroing a channel", minimum=0,
                         maximum=1),)


def _same(inputs: list[TensorInfo], p: dict) -> TensorInfo:
    return inputs[0]


_BATCHNORMS = (
    ("BatchNorm1d", (2, 3), "(N, features) or (N, channels, length)",
     ("Normalises each feature over the batch to zero mean and unit variance, then rescales "
      "it. It speeds up and stabilises training of MLPs and 1-D CNNs; put it after a Linear "
      "or Conv1d and before the activation. Needs batches larger than 1.")),
    ("BatchNorm2d", (4,), SPATIAL_LAYOUTS[2],
     ("Normalises each channel of an image batch to zero mean and unit variance, then "
      "rescales it. Put it between a Conv2d and its activation: deep CNNs train faster and "
      "tolerate higher learning rates with it.")),
    ("BatchNorm3d", (5,), SPATIAL_LAYOUTS[3],
     ("Normalises each channel of a batch of volumes or clips to zero mean and unit variance, "
      "then rescales it. Put it between a Conv3d and its activation, as 3-D CNNs for video "
      "and medical scans do.")),
)


def _features_last(p: dict) -> bool:
    return p.get("features") == "last"


_batchnorm1d_second = _same_with_rank("BatchNorm1d", *_BATCHNORMS[0][1:3])


def _batchnorm1d_shape(inputs: list[TensorInfo], p: dict) -> TensorInfo:
    if not _features_last(p):
        return _batchnorm1d_second(inputs, p)
    if inputs[0].rank < 2:
        raise ShapeError("BatchNorm1d with its features last expects (N, ..., features) but "
                         f"receives {format_shape(inputs[0].shape)}")
    return inputs[0]


def _batchnorm1d_features(x: TensorInfo, p: dict) -> int:
    return x.shape[-1] if _features_last(p) else x.shape[1]


def _batchnorm1d_call(inputs: list[TensorInfo], p: dict) -> ModuleCall:
    features = inputs[0].splice(1, len(inputs[0].shape), _batchnorm1d_features(inputs[0], p))
    return _batchnorm_call("BatchNorm1d")([features], p)


def _emit_batchnorm1d(ctx: EmitContext) -> list[str]:
    """With the features last, every position of each sample is one more row for the
    statistics: the rows are flattened for the module and put back (LeViT's BatchNorm over
    tokens)."""
    if not _features_last(ctx.params) or len(ctx.input_infos[0].shape) == 2:
        return call_module(ctx)
    x = ctx.inputs[0]
    return [f"{ctx.out} = {ctx.module}({x}.flatten(0, -2)).reshape_as({x})"]


register(LayerSpec(
    name="BatchNorm1d", category="Normalization", explanation=_BATCHNORMS[0][3],
    params=(*_BN_PARAMS, Param(
        "features", "choice", "second", "where the features are: the second dimension, "
        "(N, features) or (N, features, length); or the last, with every position before it "
        "normalised as one more sample (a Transformer's tokens)", choices=("second", "last"))),
    infer=_batchnorm1d_shape,
    count_params=lambda inputs, p: 2 * _batchnorm1d_features(inputs[0], p) if p["affine"]
    else 0,
    constructor=_batchnorm1d_call, emit=_emit_batchnorm1d))

for _name, _ranks, _layout, _text in _BATCHNORMS[1:]:
    register(LayerSpec(name=_name, category="Normalization", explanation=_text,
                       params=_BN_PARAMS, infer=_same_with_rank(_name, _ranks, _layout),
                       count_params=_affine_count(lambda x: x.shape[1]),
                       constructor=_batchnorm_call(_name)))

register(
    LayerSpec(
        name="LayerNorm", category="Normalization",
        explanation=(
            "Normalises each sample over its last dimension, independently of the batch. It is "
            "the normalisation of Transformers and RNNs, and works with any batch size, "
            "including 1."),
        params=(_EPS, Param("elementwise_affine", "bool", True, "learn a scale and shift")),
        infer=_same, count_params=_affine_count(lambda x: x.shape[-1]),
        constructor=_layernorm_call),
    LayerSpec(
        name="Dropout", category="Normalization",
        explanation=(
            "During training, zeroes each value with probability p and scales the rest up; at "
            "evaluation it does nothing. It fights overfitting: try p between 0.1 and 0.5 "
            "before large Linear layers."),
        params=_DROP_P, infer=_same, constructor=_dropout_call("Dropout")),
)

for _n in (1, 2, 3):
    register(LayerSpec(
        name=f"Dropout{_n}d", category="Normalization",
        explanation=(
            "During training, zeroes whole channels with probability p and scales the rest up; "
            "at evaluation it does nothing. Neighbouring values of a feature map are alike, so "
            f"dropping single values barely regularises convolutions: after a Conv{_n}d, drop "
            "channels instead."),
        params=_CHANNEL_DROP_P,
        infer=_same_with_rank(f"Dropout{_n}d", (_n + 2,), SPATIAL_LAYOUTS[_n]),
        constructor=_dropout_call(f"Dropout{_n}d")))
