"""Normalisation and regularisation layers."""

from engine.layers.base import SPATIAL_LAYOUTS, LayerSpec, Param, TensorInfo, expect_rank
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

for _name, _ranks, _layout, _text in _BATCHNORMS:
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
