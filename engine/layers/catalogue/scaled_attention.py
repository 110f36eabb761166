"""Attention as a function of separate queries, keys and values (F.scaled_dot_product_attention),
for models that make their own projections and heads, as GPT-2, nanoGPT and timm's ViT do."""

from engine.errors import ShapeError
from engine.layers.base import EmitContext, LayerSpec, Param, TensorInfo, broadcast, format_shape
from engine.layers.registry import register

_ROLES = ("query", "key", "value")


def _attention_shape(inputs: list[TensorInfo], p: dict) -> TensorInfo:
    """query (..., L, E), key (..., S, E), value (..., S, Ev) -> (..., L, Ev); a mask (input
    3) broadcasts to the scores (..., L, S)."""
    for role, info in zip(_ROLES, inputs):
        if info.rank < 3:
            raise ShapeError(f"ScaledDotProductAttention: the {role} is "
                             f"{format_shape(info.shape)} but must be (N, length, features) or "
                             "(N, heads, length, features)")
        if info.dtype != "float":
            raise ShapeError(f"ScaledDotProductAttention: the {role} holds integer ids; it "
                             "needs floating-point values", "put an Embedding before it")
    query, key, value = inputs[:3]
    if not query.shape[:-2] == key.shape[:-2] == value.shape[:-2]:
        raise ShapeError("ScaledDotProductAttention needs the query, key and value to agree in "
                         f"every dimension before the last two, but they are "
                         f"{', '.join(format_shape(info.shape) for info in inputs[:3])}")
    if query.shape[-1] != key.shape[-1]:
        raise ShapeError(f"ScaledDotProductAttention needs queries and keys of the same size, "
                         f"but the query is {format_shape(query.shape)} and the key "
                         f"{format_shape(key.shape)}")
    if key.shape[-2] != value.shape[-2]:
        raise ShapeError(f"ScaledDotProductAttention needs one value per key, but the key is "
                         f"{format_shape(key.shape)} and the value {format_shape(value.shape)}")
    if len(inputs) == 4:
        _check_mask(inputs[3], TensorInfo((*query.shape[:-1], key.shape[-2])), p)
    return TensorInfo((*query.shape[:-1], value.shape[-1]))


def _check_mask(mask: TensorInfo, scores: TensorInfo, p: dict) -> None:
    """The mask (True: may attend; or a number added to each score) must broadcast to the
    scores without changing their shape, and cannot be combined with is_causal."""
    if mask.dtype == "long":
        raise ShapeError("ScaledDotProductAttention: the mask (input 3) holds whole numbers; it "
                         "must hold booleans (True: may attend) or floats (added to the scores)")
    if p["is_causal"]:
        raise ShapeError("ScaledDotProductAttention takes a mask (input 3) or is_causal, not "
                         "both", "put the causal mask into the mask, or remove input 3")
    if broadcast([scores, mask], "ScaledDotProductAttention's mask") != scores.shape:
        raise ShapeError(f"ScaledDotProductAttention: the mask {format_shape(mask.shape)} must "
                         f"broadcast to the scores {format_shape(scores.shape)}")


def _emit_attention(ctx: EmitContext) -> list[str]:
    """Dropout only while training, as torch's own attention modules do (the function itself
    would drop at evaluation too). Inputs with more than two dimensions before (length,
    features) run with those folded into one: torch's fused kernels and ONNX take 4-D inputs
    only, and a model that folded windows into its batch (Swin, MobileViT) computes exactly
    that."""
    p = ctx.params
    options = []
    if p["dropout_p"]:
        options.append(f"dropout_p={p['dropout_p']!r} if self.training else 0.0")
    if p["is_causal"]:
        options.append("is_causal=True")
    if p["scale"] is not None:
        options.append(f"scale={p['scale']!r}")
    query, key, value, *mask = ctx.inputs
    if ctx.input_infos[0].rank <= 4:
        masking = [f"attn_mask={mask[0]}"] if mask else []
        arguments = ", ".join([query, key, value, *masking, *options])
        return [f"{ctx.out} = F.scaled_dot_product_attention({arguments})"]
    scores = f"(*{query}.shape[:-1], {key}.shape[-2])"
    masking = [f"attn_mask={mask[0]}.expand{scores}.flatten(0, -4)"] if mask else []
    arguments = ", ".join([*(f"{x}.flatten(0, -4)" for x in (query, key, value)), *masking,
                           *options])
    return [f"{ctx.out} = F.scaled_dot_product_attention({arguments})",
            f"{ctx.out} = {ctx.out}.unflatten(0, {ctx.inputs[0]}.shape[:-3])"]


register(LayerSpec(
    name="ScaledDotProductAttention", category="Attention", min_inputs=3, max_inputs=4,
    explanation=(
        "Attention from separate queries (input 0), keys (input 1) and values (input 2): each "
        "query takes a mix of the values, weighted by the softmax of its dot products with the "
        "keys divided by the square root of their size. With is_causal, a position sees only "
        "itself and earlier ones, as a text generator must. An optional mask (input 3) says "
        "which keys each query may attend to (True) or adds its numbers to the scores (a "
        "position bias). It has no weights of its own."),
    params=(Param("is_causal", "bool", False, "let each position attend only to itself and "
                  "earlier positions"),
            Param("dropout_p", "float", 0.0, "dropout on the attention weights while training",
                  minimum=0, maximum=1),
            Param("scale", "float", None, "the factor the scores are multiplied by (empty: "
                  "1 / sqrt(features))", above=0, optional=True)),
    infer=_attention_shape, emit=_emit_attention))
