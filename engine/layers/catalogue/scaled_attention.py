"""Attention as a function of separate queries, keys and values (F.scaled_dot_product_attention),
for models that make their own projections and heads, as GPT-2, nanoGPT and timm's ViT do."""

from engine.errors import ShapeError
from engine.layers.base import EmitContext, LayerSpec, Param, TensorInfo, format_shape
from engine.layers.registry import register

_ROLES = ("query", "key", "value")


def _attention_shape(inputs: list[TensorInfo], p: dict) -> TensorInfo:
    """query (..., L, E), key (..., S, E), value (..., S, Ev) -> (..., L, Ev)."""
    for role, info in zip(_ROLES, inputs):
        if info.rank < 3:
            raise ShapeError(f"ScaledDotProductAttention: the {role} is "
                             f"{format_shape(info.shape)} but must be (N, length, features) or "
                             "(N, heads, length, features)")
        if info.dtype != "float":
            raise ShapeError(f"ScaledDotProductAttention: the {role} holds integer ids; it "
                             "needs floating-point values", "put an Embedding before it")
    query, key, value = inputs
    if not query.shape[:-2] == key.shape[:-2] == value.shape[:-2]:
        raise ShapeError("ScaledDotProductAttention needs the query, key and value to agree in "
                         f"every dimension before the last two, but they are "
                         f"{', '.join(format_shape(info.shape) for info in inputs)}")
    if query.shape[-1] != key.shape[-1]:
        raise ShapeError(f"ScaledDotProductAttention needs queries and keys of the same size, "
                         f"but the query is {format_shape(query.shape)} and the key "
                         f"{format_shape(key.shape)}")
    if key.shape[-2] != value.shape[-2]:
        raise ShapeError(f"ScaledDotProductAttention needs one value per key, but the key is "
                         f"{format_shape(key.shape)} and the value {format_shape(value.shape)}")
    return TensorInfo((*query.shape[:-1], value.shape[-1]))


def _emit_attention(ctx: EmitContext) -> list[str]:
    """Dropout only while training, as torch's own attention modules do (the function itself
    would drop at evaluation too)."""
    p = ctx.params
    options = []
    if p["dropout_p"]:
        options.append(f"dropout_p={p['dropout_p']!r} if self.training else 0.0")
    if p["is_causal"]:
        options.append("is_causal=True")
    if p["scale"] is not None:
        options.append(f"scale={p['scale']!r}")
    arguments = ", ".join([*ctx.inputs, *options])
    return [f"{ctx.out} = F.scaled_dot_product_attention({arguments})"]


register(LayerSpec(
    name="ScaledDotProductAttention", category="Attention", min_inputs=3, max_inputs=3,
    explanation=(
        "Attention from separate queries (input 0), keys (input 1) and values (input 2): each "
        "query takes a mix of the values, weighted by the softmax of its dot products with the "
        "keys divided by the square root of their size. With is_causal, a position sees only "
        "itself and earlier ones, as a text generator must; it has no weights of its own. "
        "ONNX export takes the 4-D form (N, heads, length, features) only."),
    params=(Param("is_causal", "bool", False, "let each position attend only to itself and "
                  "earlier positions"),
            Param("dropout_p", "float", 0.0, "dropout on the attention weights while training",
                  minimum=0, maximum=1),
            Param("scale", "float", None, "the factor the scores are multiplied by (empty: "
                  "1 / sqrt(features))", above=0, optional=True)),
    infer=_attention_shape, emit=_emit_attention))
