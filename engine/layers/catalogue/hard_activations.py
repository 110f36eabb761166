"""Piecewise-linear activations of mobile networks: cheap to compute, easy to quantise."""

from engine.layers.base import LayerSpec, TensorInfo
from engine.layers.module_call import ModuleCall, module_call
from engine.layers.registry import register


def _same(inputs: list[TensorInfo], p: dict) -> TensorInfo:
    return inputs[0]


def _constructor(cls_name: str):
    def constructor(inputs: list[TensorInfo], p: dict) -> ModuleCall:
        return module_call(f"torch.nn.{cls_name}")
    return constructor


_LAYERS = (
    ("ReLU6", ("ReLU capped at 6: min(max(x, 0), 6). MobileNetV2 uses it because the bounded "
               "range survives low-precision arithmetic on phones.")),
    ("Hardswish", ("A cheap stand-in for SiLU: x times a clipped linear ramp (0 below -3, 1 "
                   "above 3). MobileNetV3 uses it in its deeper layers, where it costs far "
                   "less than SiLU.")),
    ("Hardsigmoid", ("A piecewise-linear sigmoid: a ramp from 0 to 1 between -3 and 3. "
                     "Squeeze-and-excitation blocks of MobileNetV3 use it to gate channels.")),
)

for _name, _text in _LAYERS:
    register(LayerSpec(name=_name, category="Activation", explanation=_text, infer=_same,
                       constructor=_constructor(_name)))
