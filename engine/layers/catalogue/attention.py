"""Multi-head attention and the Transformer encoder block, on (N, length, embedding) sequences."""

from engine.errors import ShapeError
from engine.layers.base import (
    BATCH,
    EmitContext,
    LayerSpec,
    Param,
    TensorInfo,
    expect_rank,
    format_shape,
)
from engine.layers.module_call import ModuleCall, module_call
from engine.layers.registry import register


def _attention_shape(layer: str, heads_key: str):
    def infer(inputs: list[TensorInfo], p: dict) -> TensorInfo:
        x = inputs[0]
        expect_rank(x, (3,), layer, "(N, length, embedding), batch first",
                    "put an Embedding or a Linear before it to make a sequence of vectors")
        embed = x.shape[-1]
        if embed % p[heads_key]:
            raise ShapeError(f"{layer}: the embedding size ({embed}) must be divisible by the "
                             f"number of heads ({p[heads_key]})",
                             f"choose a number of heads that divides {embed}")
        return x
    return infer


_ROLES = ("query", "key", "value")


def _mha_shape(inputs: list[TensorInfo], p: dict) -> tuple[TensorInfo, ...]:
    """Self-attention (one input) or attention of queries over separate keys and values
    (three inputs: the key and value sequences may be longer or shorter than the query's, and
    their feature sizes may differ from its embedding). Gives the output (N, L, E) and, with
    need_weights, the weights (N, L, S) averaged over the heads or (N, heads, L, S)."""
    if len(inputs) == 2:
        raise ShapeError("MultiheadAttention takes one input (self-attention) or three (query, "
                         "key, value); two are connected",
                         "connect the value to input 2 (for keys that are the values, "
                         "connect the same tensor to inputs 1 and 2)")
    query = _attention_shape("MultiheadAttention", "num_heads")(inputs, p)
    key, value = (inputs[1], inputs[2]) if len(inputs) == 3 else (query, query)
    for role, info in zip(_ROLES[1:], (key, value)):
        expect_rank(info, (3,), "MultiheadAttention", f"(N, length, features) for the {role}")
        if info.dtype != "float":
            raise ShapeError(f"MultiheadAttention: the {role} holds integer ids; it needs "
                             "floating-point values", "put an Embedding before it")
    if key.shape[:2] != value.shape[:2]:
        raise ShapeError(f"MultiheadAttention needs one value per key, but the key is "
                         f"{format_shape(key.shape)} and the value {format_shape(value.shape)}")
    output = TensorInfo(query.shape)
    if not p["need_weights"]:
        return (output,)
    length, source = query.shape[1], key.shape[1]
    heads = () if p["average_attn_weights"] else (p["num_heads"],)
    return output, TensorInfo((BATCH, *heads, length, source))


def _kv_sizes(inputs: list[TensorInfo]) -> tuple[int, int, int]:
    """The query's embedding and the key's and value's feature sizes."""
    embed = inputs[0].shape[-1]
    return (embed, inputs[1].shape[-1], inputs[2].shape[-1]) if len(inputs) == 3 else (
        embed, embed, embed)


def _mha_count(inputs: list[TensorInfo], p: dict) -> int:
    e, k, v = _kv_sizes(inputs)
    return e * (e + k + v) + e * e + (4 * e if p["bias"] else 0)


def _mha_call(inputs: list[TensorInfo], p: dict) -> ModuleCall:
    """kdim and vdim only where keys or values differ from the embedding (torch then keeps
    three projection matrices instead of one fused one)."""
    e, k, v = _kv_sizes(inputs)
    return module_call("torch.nn.MultiheadAttention", e, p["num_heads"],
                       dropout=p["dropout"], bias=p["bias"], kdim=None if k == e else k,
                       vdim=None if v == e else v, batch_first=True,
                       defaults={"dropout": 0.0, "bias": True, "kdim": None, "vdim": None,
                                 "batch_first": False})


def _emit_mha(ctx: EmitContext) -> list[str]:
    """`out, _ = attn(x, x, x, need_weights=False)`, or with the weights
    `out, weights = attn(query, key, value, need_weights=True)`."""
    sources = ctx.inputs if len(ctx.inputs) == 3 else ctx.inputs * 3
    if not ctx.params["need_weights"]:
        return [f"{ctx.out}, _ = {ctx.module}({', '.join(sources)}, need_weights=False)"]
    average = "" if ctx.params["average_attn_weights"] else ", average_attn_weights=False"
    return [f"{ctx.targets} = {ctx.module}({', '.join(sources)}, need_weights=True{average})"]


def _encoder_count(inputs: list[TensorInfo], p: dict) -> int:
    e, f = inputs[0].shape[-1], p["dim_feedforward"]
    return (4 * e * e + 4 * e) + (e * f + f) + (f * e + e) + 4 * e


def _encoder_call(inputs: list[TensorInfo], p: dict) -> ModuleCall:
    """torch's default activation is the function F.relu, which "relu" names."""
    return module_call(
        "torch.nn.TransformerEncoderLayer", inputs[0].shape[-1], p["nhead"],
        dim_feedforward=p["dim_feedforward"], dropout=p["dropout"], activation=p["activation"],
        batch_first=True, norm_first=p["norm_first"],
        defaults={"dim_feedforward": 2048, "dropout": 0.1, "activation": "relu",
                  "batch_first": False, "norm_first": False})


register(
    LayerSpec(
        name="MultiheadAttention", category="Attention", min_inputs=1, max_inputs=3,
        explanation=(
            "Attention with several heads: every query position takes a weighted mix of the "
            "values, weighted by how well its query matches each key. With one input it is "
            "self-attention (the sequence attends to itself); with three (query, key, value) a "
            "decoder attends to an encoder's output, which may be of another length. "
            "need_weights adds the attention weights as a second output; the embedding size "
            "must divide by num_heads."),
        params=(Param("num_heads", "int", 4, "parallel attention heads", minimum=1),
                Param("dropout", "float", 0.0, "dropout on attention weights", minimum=0,
                      maximum=1),
                Param("bias", "bool", True, "learn biases in the projections"),
                Param("need_weights", "bool", False, "also give the attention weights, as "
                      "output 'weights'"),
                Param("average_attn_weights", "bool", True, "average the weights over the "
                      "heads (N, L, S); off: one map per head (N, heads, L, S)")),
        infer=_mha_shape, count_params=_mha_count, constructor=_mha_call, emit=_emit_mha,
        outputs=lambda p: ("output", "weights") if p["need_weights"] else ("output",)),
    LayerSpec(
        name="TransformerEncoderLayer", category="Attention",
        explanation=(
            "One Transformer encoder block: self-attention followed by a small feed-forward "
            "network, each with a residual connection and LayerNorm. Stack a few after an "
            "Embedding for sequence classification; d_model comes from the input and must "
            "divide by nhead. Typical: dim_feedforward 2-4 times d_model. Attention ignores "
            "the order of positions, so give the sequence a position signal first."),
        params=(Param("nhead", "int", 4, "attention heads", minimum=1),
                Param("dim_feedforward", "int", 256, "width of the feed-forward part",
                      minimum=1),
                Param("dropout", "float", 0.1, "dropout inside the block", minimum=0,
                      maximum=1),
                Param("activation", "choice", "relu", "feed-forward activation",
                      choices=("relu", "gelu")),
                Param("norm_first", "bool", False, "normalise before attention (pre-LN), "
                      "which trains more stably when deep")),
        infer=_attention_shape("TransformerEncoderLayer", "nhead"), count_params=_encoder_count,
        constructor=_encoder_call),
)
