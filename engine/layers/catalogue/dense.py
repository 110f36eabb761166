"""Fully connected layers and token embeddings."""

from engine.errors import ShapeError
from engine.layers.base import LayerSpec, Param, TensorInfo, format_shape
from engine.layers.module_call import ModuleCall, module_call
from engine.layers.registry import register


def _linear_shape(inputs: list[TensorInfo], p: dict) -> TensorInfo:
    x = inputs[0]
    if x.rank < 2:
        raise ShapeError(f"Linear expects at least (N, features) but receives {format_shape(x.shape)}")
    if x.dtype != "float":
        raise ShapeError("Linear receives integer ids; it needs floating-point values",
                         "put an Embedding before it, or set the Input's dtype to float")
    return TensorInfo((*x.shape[:-1], p["out_features"]))


def _linear_params(inputs: list[TensorInfo], p: dict) -> int:
    n_in = inputs[0].shape[-1]
    return n_in * p["out_features"] + (p["out_features"] if p["bias"] else 0)


def _linear_warnings(inputs: list[TensorInfo], p: dict) -> list[tuple[str, str]]:
    x = inputs[0]
    if x.rank >= 4:
        return [(f"Linear receives {format_shape(x.shape)} and works on the last dimension only "
                 f"({x.shape[-1]} features), so each row is transformed separately",
                 "add a Flatten before it to use all the features")]
    return []


def _linear_call(inputs: list[TensorInfo], p: dict) -> ModuleCall:
    return module_call("torch.nn.Linear", inputs[0].shape[-1], p["out_features"], bias=p["bias"],
                       defaults={"bias": True})


def _embedding_shape(inputs: list[TensorInfo], p: dict) -> TensorInfo:
    x = inputs[0]
    if x.dtype != "long":
        raise ShapeError("Embedding needs integer token ids but receives floating-point values",
                         "set the Input's dtype to long")
    padding = p["padding_idx"]
    if padding is not None and not -p["num_embeddings"] <= padding < p["num_embeddings"]:
        raise ShapeError(f"padding_idx {padding} is not a valid id for "
                         f"{p['num_embeddings']} embeddings")
    return TensorInfo((*x.shape, p["embedding_dim"]))


def _embedding_call(inputs: list[TensorInfo], p: dict) -> ModuleCall:
    return module_call("torch.nn.Embedding", p["num_embeddings"], p["embedding_dim"],
                       padding_idx=p["padding_idx"], defaults={"padding_idx": None})


register(
    LayerSpec(
        name="Linear", category="Dense",
        explanation=(
            "A fully connected layer: every output is a weighted sum of all inputs plus a bias. "
            "It is the basic building block of MLPs and the usual last layer of a classifier, "
            "where out_features is the number of classes. It acts on the last dimension; the "
            "input size is taken from the incoming tensor."),
        params=(
            Param("out_features", "int", 64, "number of outputs", minimum=1),
            Param("bias", "bool", True, "learn an additive bias"),
        ),
        infer=_linear_shape, count_params=_linear_params, constructor=_linear_call,
        warn=_linear_warnings),
    LayerSpec(
        name="Embedding", category="Dense",
        explanation=(
            "A lookup table that turns integer ids (words, characters, categories) into learned "
            "vectors. Use it first in text and sequence models; its input must have dtype long. "
            "num_embeddings is the vocabulary size, embedding_dim the vector length (16-512)."),
        params=(
            Param("num_embeddings", "int", 100, "vocabulary size: ids run from 0 to this - 1",
                  minimum=1),
            Param("embedding_dim", "int", 32, "length of each learned vector", minimum=1),
            Param("padding_idx", "int", None, "an id whose vector stays zero (optional)",
                  optional=True),
        ),
        infer=_embedding_shape, constructor=_embedding_call,
        count_params=lambda inputs, p: p["num_embeddings"] * p["embedding_dim"]),
)
