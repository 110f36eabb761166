"""The Transformer decoder block: self-attention over the target, then attention to the memory
(the encoder's output), then a feed-forward network, as in translation models."""

from engine.errors import ShapeError
from engine.layers.base import (
    EmitContext,
    LayerSpec,
    Param,
    TensorInfo,
    expect_rank,
    format_shape,
)
from engine.layers.module_call import ModuleCall, module_call
from engine.layers.registry import register

_ROLES = ("target", "memory")


def _decoder_shape(inputs: list[TensorInfo], p: dict) -> TensorInfo:
    """target (N, T, E) and memory (N, S, E) -> (N, T, E)."""
    for role, info in zip(_ROLES, inputs):
        expect_rank(info, (3,), f"TransformerDecoderLayer's {role}",
                    "(N, length, embedding), batch first",
                    "put an Embedding or a Linear before it to make a sequence of vectors")
        if info.dtype != "float":
            raise ShapeError(f"TransformerDecoderLayer: the {role} holds {info.dtype} values; "
                             "it needs vectors of floating-point values",
                             "put an Embedding before it")
    target, memory = inputs
    embed = target.shape[-1]
    if memory.shape[-1] != embed:
        raise ShapeError(f"TransformerDecoderLayer needs target and memory of the same "
                         f"embedding size, but the target is {format_shape(target.shape)} and "
                         f"the memory {format_shape(memory.shape)}",
                         "give the encoder and the decoder the same d_model")
    if embed % p["nhead"]:
        raise ShapeError(f"TransformerDecoderLayer: the embedding size ({embed}) must be "
                         f"divisible by the number of heads ({p['nhead']})",
                         f"choose a number of heads that divides {embed}")
    return target


def _decoder_count(inputs: list[TensorInfo], p: dict) -> int:
    """Two attentions (4 E x E projections each), two linears and three LayerNorms; `bias`
    removes every bias, the LayerNorms' too."""
    e, f, bias = inputs[0].shape[-1], p["dim_feedforward"], int(p["bias"])
    attention = 4 * e * e + bias * 4 * e
    feed_forward = 2 * e * f + bias * (f + e)
    return 2 * attention + feed_forward + 3 * (e + bias * e)


def _decoder_call(inputs: list[TensorInfo], p: dict) -> ModuleCall:
    """torch's default activation is the function F.relu, which "relu" names."""
    return module_call(
        "torch.nn.TransformerDecoderLayer", inputs[0].shape[-1], p["nhead"],
        dim_feedforward=p["dim_feedforward"], dropout=p["dropout"], activation=p["activation"],
        layer_norm_eps=p["layer_norm_eps"], batch_first=True, norm_first=p["norm_first"],
        bias=p["bias"],
        defaults={"dim_feedforward": 2048, "dropout": 0.1, "activation": "relu",
                  "layer_norm_eps": 1e-5, "batch_first": False, "norm_first": False,
                  "bias": True})


def _emit_decoder(ctx: EmitContext) -> list[str]:
    """A causal decoder gets the mask torch's own nn.Transformer makes, sized to the target."""
    target, memory = ctx.inputs
    if not ctx.params["tgt_is_causal"]:
        return [f"{ctx.out} = {ctx.module}({target}, {memory})"]
    mask = ctx.fresh("tgt_mask")
    size = f"{target}.size(1), device={target}.device"
    call = f"{ctx.module}({target}, {memory}, tgt_mask={mask}, tgt_is_causal=True)"
    return [f"{mask} = nn.Transformer.generate_square_subsequent_mask({size})",
            f"{ctx.out} = {call}"]


register(LayerSpec(
    name="TransformerDecoderLayer", category="Attention", min_inputs=2, max_inputs=2,
    explanation=(
        "One Transformer decoder block: self-attention over the target sequence (input 0), "
        "attention to the memory (input 1, the encoder's output), then a small feed-forward "
        "network, each with a residual connection and LayerNorm. With tgt_is_causal each "
        "target position sees only earlier ones, as a translator generating word by word "
        "must; d_model comes from the inputs and must divide by nhead."),
    params=(Param("nhead", "int", 4, "attention heads", minimum=1),
            Param("dim_feedforward", "int", 256, "width of the feed-forward part", minimum=1),
            Param("dropout", "float", 0.1, "dropout inside the block", minimum=0, maximum=1),
            Param("activation", "choice", "relu", "feed-forward activation",
                  choices=("relu", "gelu")),
            Param("norm_first", "bool", False, "normalise before each part (pre-LN), which "
                  "trains more stably when deep"),
            Param("layer_norm_eps", "float", 1e-5, "the LayerNorms' eps, added to the "
                  "variance", above=0),
            Param("bias", "bool", True, "learn biases in the linears and LayerNorms"),
            Param("tgt_is_causal", "bool", False, "mask the target so that each position "
                  "attends only to itself and earlier positions")),
    infer=_decoder_shape, count_params=_decoder_count, constructor=_decoder_call,
    emit=_emit_decoder))
