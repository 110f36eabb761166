"""Self-attention and the Transformer encoder block, on (N, length, embedding) sequences."""

from engine.errors import ShapeError
from engine.layers.base import EmitContext, LayerSpec, Param, TensorInfo, expect_rank
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


def _mha_count(inputs: list[TensorInfo], p: dict) -> int:
    e = inputs[0].shape[-1]
    return 4 * e * e + (4 * e if p["bias"] else 0)


def _mha_call(inputs: list[TensorInfo], p: dict) -> ModuleCall:
    return module_call("torch.nn.MultiheadAttention", inputs[0].shape[-1], p["num_heads"],
                       dropout=p["dropout"], bias=p["bias"], batch_first=True,
                       defaults={"dropout": 0.0, "bias": True, "batch_first": False})


def _emit_mha(ctx: EmitContext) -> list[str]:
    x = ctx.inputs[0]
    return [f"{ctx.out}, _ = {ctx.module}({x}, {x}, {x}, need_weights=False)"]


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
        name="MultiheadAttention", category="Attention",
        explanation=(
            "Self-attention: every position of the sequence looks at every other and takes a "
            "weighted mix of them, with several heads attending to different things. It lets a "
            "model relate distant positions directly; the embedding size must divide by "
            "num_heads."),
        params=(Param("num_heads", "int", 4, "parallel attention heads", minimum=1),
                Param("dropout", "float", 0.0, "dropout on attention weights", minimum=0,
                      maximum=1),
                Param("bias", "bool", True, "learn biases in the projections")),
        infer=_attention_shape("MultiheadAttention", "num_heads"), count_params=_mha_count,
        constructor=_mha_call, emit=_emit_mha),
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
