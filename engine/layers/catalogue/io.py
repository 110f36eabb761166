"""Where tensors enter and leave a network, and the layer that passes them through unchanged."""

from engine.errors import ShapeError
from engine.layers.base import BATCH, LayerSpec, Param, TensorInfo
from engine.layers.module_call import ModuleCall, module_call
from engine.layers.registry import register


def _input_shape(inputs: list[TensorInfo], p: dict) -> TensorInfo:
    if any(d < 1 for d in p["shape"]):
        raise ShapeError(f"every size in the Input's shape must be at least 1, got {p['shape']}")
    return TensorInfo((BATCH, *p["shape"]), p["dtype"])


def _passthrough(inputs: list[TensorInfo], p: dict) -> TensorInfo:
    return inputs[0]


def _no_code(ctx) -> list[str]:
    return []


def _identity_call(inputs: list[TensorInfo], p: dict) -> ModuleCall:
    return module_call("torch.nn.Identity")


register(
    LayerSpec(
        name="Input", category="Input / Output", min_inputs=0, max_inputs=0,
        explanation=(
            "Where data enters the network. Its shape is one sample's shape, without the batch "
            "dimension: (1, 28, 28) for a grey 28x28 image, (20,) for 20 features, (32,) with "
            "dtype long for 32 token ids that feed an Embedding."),
        params=(
            Param("shape", "ints", (10,), "one sample's shape, without the batch dimension",
                  minimum=1),
            Param("dtype", "choice", "float", "float for measurements and pixels, long for "
                  "token or class ids", choices=("float", "long")),
        ),
        infer=_input_shape, emit=_no_code),
    LayerSpec(
        name="Output", category="Input / Output",
        explanation=(
            "Marks a tensor the network returns. A network with one Output returns that tensor; "
            "with several it returns a tuple in the order the Outputs were added. For "
            "classification, leave the Output's input as raw scores (logits): the loss applies "
            "softmax itself."),
        infer=_passthrough, emit=_no_code, has_output=False),
    LayerSpec(
        name="Identity", category="Input / Output",
        explanation=(
            "Passes its input through unchanged. Useful as a named junction in a graph, or as a "
            "placeholder while you decide what goes there."),
        infer=_passthrough, constructor=_identity_call),
)
