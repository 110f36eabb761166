"""Swin Transformer's shifted-window attention and patch merging, as torchvision builds them.

A Swin block cuts each image into windows, attends within each window and puts the windows
back: the cut folds the batch into the windows, which nodes whose first dimension is always
the batch cannot say. Each of these layers is one torchvision module, whole, taking and giving
channels-last images (N, height, width, channels): the windows stay inside it, its weights keep
torchvision's names, and torchvision's Swin models import and export exactly.
"""

from math import prod

from engine.errors import ShapeError
from engine.layers.base import LayerSpec, Param, TensorInfo, expect_rank, format_shape
from engine.layers.module_call import ModuleCall, module_call
from engine.layers.registry import register

_MODULES = "torchvision.models.swin_transformer"
_LAYOUT = "(N, height, width, channels): channels last, as Swin keeps its images"
# The hidden width of V2's small network that turns relative positions into attention biases
# (torchvision's `cpb_mlp`: Linear(2, 512), ReLU, Linear(512, heads) without bias).
_BIAS_NETWORK_WIDTH = 512


def _channels_last(inputs: list[TensorInfo], p: dict, layer: str) -> TensorInfo:
    x = inputs[0]
    expect_rank(x, [4], layer, _LAYOUT, "put a Permute (0, 2, 3, 1) before it")
    if x.shape[-1] != p["dim"]:
        raise ShapeError(f"{layer} has dim {p['dim']} but receives {format_shape(x.shape)}, "
                         f"whose last dimension ({x.shape[-1]} channels) must equal it",
                         f"set dim to {x.shape[-1]}")
    return x


def _attention_shape(layer: str):
    def infer(inputs: list[TensorInfo], p: dict) -> TensorInfo:
        x = _channels_last(inputs, p, layer)
        if p["dim"] % p["num_heads"]:
            raise ShapeError(f"{layer}: dim {p['dim']} must divide evenly among "
                             f"{p['num_heads']} heads", "choose num_heads that divides dim")
        if len(p["window_size"]) != 2 or len(p["shift_size"]) != 2:
            raise ShapeError(f"{layer}: window_size and shift_size each take two sizes "
                             "(height, width)")
        return x
    return infer


def _attention_count(version: int):
    """qkv and proj Linears, and either a learnt bias per relative position and head (v1) or
    V2's bias network and one logit scale per head."""
    def count(inputs: list[TensorInfo], p: dict) -> int:
        dim, heads = p["dim"], p["num_heads"]
        linears = 3 * dim * dim + dim * dim + (3 * dim if p["qkv_bias"] else 0) + (
            dim if p["proj_bias"] else 0)
        if version == 1:
            return linears + prod(2 * size - 1 for size in p["window_size"]) * heads
        width = _BIAS_NETWORK_WIDTH
        return linears + (2 * width + width) + width * heads + heads
    return count


def _attention_call(cls_name: str):
    def constructor(inputs: list[TensorInfo], p: dict) -> ModuleCall:
        # torchvision keeps window_size and shift_size as the lists it was given
        return module_call(f"{_MODULES}.{cls_name}", p["dim"], list(p["window_size"]),
                           list(p["shift_size"]), p["num_heads"], qkv_bias=p["qkv_bias"],
                           proj_bias=p["proj_bias"], attention_dropout=p["attention_dropout"],
                           dropout=p["dropout"],
                           defaults={"qkv_bias": True, "proj_bias": True,
                                     "attention_dropout": 0.0, "dropout": 0.0})
    return constructor


def _merging_shape(layer: str):
    def infer(inputs: list[TensorInfo], p: dict) -> TensorInfo:
        x = _channels_last(inputs, p, layer)
        height, width = x.shape[1:3]
        return x.splice(1, 4, -(-height // 2), -(-width // 2), 2 * p["dim"])
    return infer


def _merging_count(version: int):
    """The Linear from 4 * dim to 2 * dim (no bias), and the LayerNorm before it (v1, over
    4 * dim) or after it (v2, over 2 * dim)."""
    def count(inputs: list[TensorInfo], p: dict) -> int:
        dim = p["dim"]
        return 4 * dim * 2 * dim + 2 * (4 * dim if version == 1 else 2 * dim)
    return count


def _merging_call(cls_name: str):
    def constructor(inputs: list[TensorInfo], p: dict) -> ModuleCall:
        return module_call(f"{_MODULES}.{cls_name}", p["dim"])
    return constructor


_DIM = Param("dim", "int", 96, "the channels of the image (its last dimension)", minimum=1)
_ATTENTION_PARAMS = (
    _DIM,
    Param("window_size", "ints", (7, 7), "the window's height and width: each position "
          "attends to the others in its window", minimum=1, length=2),
    Param("shift_size", "ints", (0, 0), "how far the windows move (half a window in every "
          "second block, so information crosses window borders; 0 for none)", minimum=0,
          length=2),
    Param("num_heads", "int", 3, "attention heads (dim must divide evenly among them)",
          minimum=1),
    Param("qkv_bias", "bool", True, "the query, key and value projection has a bias"),
    Param("proj_bias", "bool", True, "the output projection has a bias"),
    Param("attention_dropout", "float", 0.0, "dropout on the attention weights while "
          "training", minimum=0, maximum=1),
    Param("dropout", "float", 0.0, "dropout on the output while training", minimum=0,
          maximum=1),
)
_ATTENTION_TEXT = (
    "Self-attention within windows of an image laid out (N, height, width, channels), as in "
    "the Swin Transformer: the image is cut into windows of window_size (padded to whole "
    "windows), optionally shifted by shift_size (cyclically, with a mask so positions that "
    "were not neighbours do not attend to each other), and each position attends to the others "
    "in its window with num_heads heads. The output has the input's shape. ")
_MERGING_TEXT = (
    "Halves an image's height and width and doubles its channels, as Swin Transformer does "
    "between stages: each 2x2 group of positions (after padding an odd size) is concatenated "
    "into 4 * dim channels and projected by a Linear to 2 * dim. Takes (N, height, width, dim) "
    "and gives (N, height / 2, width / 2, 2 * dim). ")

register(
    LayerSpec(
        name="ShiftedWindowAttention", category="Attention",
        explanation=_ATTENTION_TEXT + (
            "A learnt bias per relative position and head is added to the scores "
            "(torchvision's Swin v1 block, swin_t/s/b)."),
        params=_ATTENTION_PARAMS, infer=_attention_shape("ShiftedWindowAttention"),
        count_params=_attention_count(1), constructor=_attention_call("ShiftedWindowAttention")),
    LayerSpec(
        name="ShiftedWindowAttentionV2", category="Attention",
        explanation=_ATTENTION_TEXT + (
            "Swin v2's variant (swin_v2_t/s/b): cosine similarity scaled by a learnt "
            "temperature per head, and the position biases made by a small network from "
            "log-spaced relative coordinates, so a model moves to other window sizes."),
        params=_ATTENTION_PARAMS, infer=_attention_shape("ShiftedWindowAttentionV2"),
        count_params=_attention_count(2),
        constructor=_attention_call("ShiftedWindowAttentionV2")),
    LayerSpec(
        name="PatchMerging", category="Reshape",
        explanation=_MERGING_TEXT + "A LayerNorm over the 4 * dim channels comes first "
                                    "(Swin v1).",
        params=(_DIM,), infer=_merging_shape("PatchMerging"), count_params=_merging_count(1),
        constructor=_merging_call("PatchMerging")),
    LayerSpec(
        name="PatchMergingV2", category="Reshape",
        explanation=_MERGING_TEXT + "A LayerNorm over the 2 * dim channels comes after the "
                                    "Linear (Swin v2).",
        params=(_DIM,), infer=_merging_shape("PatchMergingV2"), count_params=_merging_count(2),
        constructor=_merging_call("PatchMergingV2")),
)
