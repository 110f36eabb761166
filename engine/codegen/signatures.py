"""The names of the positional parameters of the torch classes the catalogue creates, so that
a value an exported block class takes as an argument is named as torch names it
(`in_channels`, `in_features`, `num_features`). Kept here as data because code generation does
not import torch; tests/test_i14_build_export.py checks it against the installed torch."""

from __future__ import annotations

_CONV = ("in_channels", "out_channels", "kernel_size")
_NORM = ("num_features",)
_RNN = ("input_size", "hidden_size")

POSITIONAL_NAMES: dict[str, tuple[str, ...]] = {
    **{f"torch.nn.{name}": _CONV for name in ("Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d",
                                              "ConvTranspose2d", "ConvTranspose3d")},
    **{f"torch.nn.{name}": _NORM for name in ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d",
                                              "InstanceNorm1d", "InstanceNorm2d",
                                              "InstanceNorm3d")},
    "torch.nn.GroupNorm": ("num_groups", "num_channels"),
    **{f"torch.nn.{name}": _RNN for name in ("RNN", "LSTM", "GRU")},
    "torch.nn.Linear": ("in_features", "out_features"),
    "torch.nn.LayerNorm": ("normalized_shape",),
    "torch.nn.Embedding": ("num_embeddings", "embedding_dim"),
    "torch.nn.MultiheadAttention": ("embed_dim", "num_heads"),
    "torch.nn.TransformerEncoderLayer": ("d_model", "nhead"),
    "torch.nn.TransformerDecoderLayer": ("d_model", "nhead"),
    "torch.nn.Unflatten": ("dim", "unflattened_size"),
    **{f"torch.nn.Adaptive{kind}Pool{n}d": ("output_size",) for kind in ("Avg", "Max")
       for n in (1, 2, 3)},
    **{f"torch.nn.{name}": ("kernel_size",) for name in (
        "MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d")},
}


def positional_name(target: str, index: int) -> str:
    """What the target calls its positional parameter `index` ("arg2" where unknown)."""
    names = POSITIONAL_NAMES.get(target, ())
    return names[index] if index < len(names) else f"arg{index}"
