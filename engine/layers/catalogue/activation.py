"""Element-wise non-linearities and the softmax family."""

from engine.errors import ShapeError
from engine.layers.base import (
    LayerSpec,
    Param,
    TensorInfo,
    expect_rank,
    format_shape,
    normalise_dim,
)
from engine.layers.module_call import ModuleCall, module_call
from engine.layers.registry import register


def _same(inputs: list[TensorInfo], p: dict) -> TensorInfo:
    return inputs[0]


def _check_dim(layer: str):
    def infer(inputs: list[TensorInfo], p: dict) -> TensorInfo:
        normalise_dim(p["dim"], inputs[0].rank, layer)
        return inputs[0]
    return infer


def _constructor(cls_name: str, **defaults):
    """`nn.<cls_name>` called with the parameters named in `defaults` (torch's defaults)."""
    def constructor(inputs: list[TensorInfo], p: dict) -> ModuleCall:
        return module_call(f"torch.nn.{cls_name}", defaults=defaults,
                           **{key: p[key] for key in defaults})
    return constructor


_SIMPLE = (
    ("ReLU", (), "Keeps positive values and sets negatives to zero. The default activation "
                 "for hidden layers: cheap, and gradients do not shrink for positive inputs."),
    ("GELU", (Param("approximate", "choice", "none", "exact or tanh approximation",
                    choices=("none", "tanh")),),
     "A smooth ReLU: each value x is multiplied by the probability that a standard normal "
     "variable lies below x, so small negative values pass slightly. The usual activation "
     "inside Transformers; approximate 'tanh' is a little faster."),
    ("LeakyReLU", (Param("negative_slope", "float", 0.01, "slope for negative inputs",
                         minimum=0),),
     "Like ReLU but lets a small slope through for negative inputs, so units cannot 'die'. "
     "Common in GAN discriminators with negative_slope 0.2."),
    ("ELU", (Param("alpha", "float", 1.0, "value approached for very negative inputs",
                   minimum=0),),
     "Like ReLU for positive inputs, smooth and saturating at -alpha for negative ones. This "
     "keeps mean activations near zero, which can speed up learning in deep MLPs."),
    ("SiLU", (), "Multiplies each value by its sigmoid (also called Swish), a smooth ReLU that "
                 "lets small negative values through. EfficientNet and many modern CNNs use it."),
    ("Sigmoid", (), "Squashes each value into (0, 1). Use it as the last layer for yes/no "
                    "outputs or pixel intensities; avoid it in deep hidden stacks, where its "
                    "gradients vanish."),
    ("Tanh", (), "Squashes each value into (-1, 1). The classic RNN activation and the usual "
                 "last layer of a GAN generator whose images are scaled to [-1, 1]."),
    ("Softplus", (Param("beta", "float", 1.0, "sharpness of the bend: larger is closer to ReLU",
                        above=0),
                  Param("threshold", "float", 20.0, "above this (times beta) values pass "
                        "unchanged, for numerical stability", above=0)),
     "A smooth ReLU, log(1 + exp(x)), that is always positive. Use it where a value must be "
     "positive, such as a standard deviation or a rate."),
    ("Mish", (), "x times tanh(softplus(x)): a smooth, slightly non-monotonic ReLU like SiLU. "
                 "YOLOv4 and some image classifiers use it."),
)

for _name, _params, _text in _SIMPLE:
    register(LayerSpec(name=_name, category="Activation", explanation=_text, params=_params,
                       infer=_same,
                       constructor=_constructor(_name, **{p.name: p.default for p in _params})))

_DIM = Param("dim", "int", 1, "dimension that sums to one (1 = classes of an (N, C) tensor)")

_SOFTMAXES = (
    ("Softmax", (
        "Turns scores into probabilities that sum to 1 along dim. Use it to read predictions, "
        "but not before a cross-entropy loss, which applies softmax itself.")),
    ("LogSoftmax", (
        "The logarithm of softmax, computed stably. Pair it with a negative log-likelihood "
        "loss; with cross-entropy it is redundant but harmless.")),
)

for _name, _text in _SOFTMAXES:
    register(LayerSpec(name=_name, category="Activation", explanation=_text, params=(_DIM,),
                       infer=_check_dim(_name), constructor=_constructor(_name, dim=None)))


def _prelu_shape(inputs: list[TensorInfo], p: dict) -> TensorInfo:
    x, count = inputs[0], p["num_parameters"]
    if count != 1:
        expect_rank(x, (2, 3, 4, 5), "PReLU", "(N, channels, ...) for one slope per channel")
        if count != x.shape[1]:
            raise ShapeError(f"PReLU: num_parameters is {count}, but {format_shape(x.shape)} "
                             f"has {x.shape[1]} channels",
                             f"use 1 (one slope for all) or {x.shape[1]} (one per channel)")
    return x


def _prelu_call(inputs: list[TensorInfo], p: dict) -> ModuleCall:
    return module_call("torch.nn.PReLU", num_parameters=p["num_parameters"], init=p["init"],
                       defaults={"num_parameters": 1, "init": 0.25})


register(LayerSpec(
    name="PReLU", category="Activation",
    explanation=(
        "Like LeakyReLU, but the slope for negative inputs is learned: one slope for the "
        "whole layer, or one per channel (dim 1). ResNet-style image models and MobileFaceNet "
        "use it."),
    params=(Param("num_parameters", "int", 1, "how many slopes: 1 for all values, or the "
                  "number of channels for one each", minimum=1),
            Param("init", "float", 0.25, "the starting slope")),
    infer=_prelu_shape, count_params=lambda inputs, p: p["num_parameters"],
    constructor=_prelu_call))
