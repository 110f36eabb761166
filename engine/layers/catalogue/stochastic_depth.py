"""Stochastic depth: dropping whole residual branches while training."""

from engine.layers.base import LayerSpec, Param, TensorInfo
from engine.layers.module_call import ModuleCall, module_call
from engine.layers.registry import register


def _same(inputs: list[TensorInfo], p: dict) -> TensorInfo:
    return inputs[0]


def _constructor(inputs: list[TensorInfo], p: dict) -> ModuleCall:
    return module_call("torchvision.ops.StochasticDepth", p["p"], p["mode"])


register(LayerSpec(
    name="StochasticDepth", category="Normalization",
    explanation=(
        "During training, zeroes the whole residual branch for a random fraction p of the "
        "samples (mode row) or of the batches (mode batch) and scales the rest up; at "
        "evaluation it passes values through. Put it on a branch just before the Add of a skip "
        "connection: EfficientNet and ConvNeXt train deep stacks this way."),
    params=(Param("p", "float", 0.1, "probability of dropping the branch", minimum=0,
                  maximum=1),
            Param("mode", "choice", "row", "drop per sample (row) or per batch (batch)",
                  choices=("row", "batch"))),
    infer=_same, constructor=_constructor))
