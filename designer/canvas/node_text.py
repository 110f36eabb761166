"""The words on a node card: key parameters, output shape and parameter count.

Plain functions of the layer declaration and the node's values (no Qt), so that a layer added
to the catalogue gets a sensible summary without touching the canvas.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from engine.blocks.definitions import BLOCK_PARAMS, Expr
from engine.layers import TensorInfo, get_layer
from engine.layers.base import LayerSpec, Param, format_shape
from engine.layers.block_node import BLOCK_TYPE

# Shorter words for parameters people know by sight; everything else shows its own name.
_SHORT_NAMES = {"padding": "pad", "dilation": "dil", "output_padding": "out pad"}
_TIMES = "\u00d7"


def kind_text(layer_type: str, params: dict[str, Any]) -> str:
    """What a node is, as its card's header and the summary say it: its layer type, or the
    block it uses, with "×N" when it repeats."""
    if layer_type != BLOCK_TYPE:
        return layer_type
    repeat = params.get("repeat", 1)
    return params["block"] + (f" {_TIMES}{repeat}" if repeat > 1 else "")


def param_summary(layer_type: str, params: dict[str, Any]) -> str:
    """A one-line summary such as "16 @ 3x3, pad 1" (Conv2d) or "out_features 10" (Linear).

    Shows the layer's headline parameter (its first size or count), then every parameter whose
    value differs from its default; kernel sizes read as 3x3. A block node shows its argument
    values ("planes 64, stride 2"); inside a definition an expression shows as written.
    """
    if layer_type == BLOCK_TYPE:
        return ", ".join(f"{key} {_spelled(value)}" for key, value in params.items()
                         if key not in BLOCK_PARAMS)
    spec = get_layer(layer_type)
    if not spec.params:
        return ""
    parts: list[str] = []
    shown: set[str] = set()
    index = spec.param_index
    if "out_channels" in index and "kernel_size" in index:
        kernel = _kernel(index["kernel_size"], params["kernel_size"])
        parts.append(f"{_spelled(params['out_channels'])} @ {kernel}")
        shown.update(("out_channels", "kernel_size"))
    elif "kernel_size" in index:
        parts.append(_kernel(index["kernel_size"], params["kernel_size"]))
        shown.add("kernel_size")
    elif _is_headline(spec.params[0]):
        first = spec.params[0]
        parts.append(_named(first, params[first.name], always=True))
        shown.add(first.name)
    for param in spec.params:
        if param.name in shown or params.get(param.name) == param.default:
            continue
        if param.name == "stride" and params[param.name] is None:
            continue
        text = _named(param, params[param.name])
        if text:
            parts.append(text)
    return ", ".join(p for p in parts if p)


def _is_headline(param: Param) -> bool:
    """Sizes and counts lead; tiny float defaults are numerical tolerances (eps), not design."""
    if param.kind in ("int", "ints", "size"):
        return True
    return param.kind == "float" and param.default is not None and abs(param.default) >= 1e-3


def _spelled(value: Any) -> str:
    """A value as the card shows it: an expression as its text ("planes * 4")."""
    if isinstance(value, Expr):
        return value.text
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _named(param: Param, value: Any, always: bool = False) -> str:
    label = _SHORT_NAMES.get(param.name, param.name)
    if isinstance(value, Expr):
        return f"{label} {value.text}"
    if param.kind == "bool":
        return label if value else f"no {label}"
    if value is None:
        return f"{label} none" if always else ""
    if isinstance(value, tuple):
        return f"{label} {_TIMES.join(str(v) for v in value)}"
    if param.kind == "float":
        return f"{label} {value:g}"
    return f"{label} {value}"


def _kernel(param: Param, value: Any) -> str:
    """A kernel as its footprint: 3 on a 2-D layer reads 3x3."""
    if isinstance(value, Expr):
        return value.text
    values = value if isinstance(value, tuple) else (value,) * (param.length or 1)
    return _TIMES.join(str(v) for v in values)


def shape_text(info: TensorInfo | None) -> str:
    """The tensor's shape as the user reads it, with its dtype when it is not float."""
    if info is None:
        return "?"
    text = format_shape(info.shape)
    return text if info.dtype == "float" else f"{text} {info.dtype}"


_COUNTS_NOTHING = next(f.default for f in dataclasses.fields(LayerSpec)
                       if f.name == "count_params")  # the declaration of a layer without weights


def counts_parameters(layer_type: str) -> bool:
    """Whether the layer type can have learnable parameters (it says how to count them; a
    block's are its layers'). Its card keeps a line for the count, blank while the count is
    unknown, so that an edit which leaves the shapes after it unknown does not resize the
    cards there and move their wires."""
    return layer_type == BLOCK_TYPE or get_layer(layer_type).count_params is not _COUNTS_NOTHING


def count_text(count: int | None) -> str:
    """A parameter count people can read at a glance: 320, 18,496, 1.25M; nothing for none."""
    if not count:
        return ""
    if count >= 10_000_000:
        return f"{count / 1_000_000:.1f}M params"
    if count >= 1_000_000:
        return f"{count / 1_000_000:.2f}M params"
    return f"{count:,} params" if count != 1 else "1 param"


def first_sentence(spec: LayerSpec) -> str:
    text = spec.explanation.strip()
    end = text.find(". ")
    return text if end < 0 else text[:end + 1]
