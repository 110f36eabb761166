"""Names for an ONNX model's layers, inputs, outputs and weights, made from the names the file
gives them, so the design reads like the model it came from.

Exporters name nodes by scope: torch writes `/layer1/layer1.0/conv1/Conv` (each scope
repeating its parent's path, the operation last) and tf2onnx `sequential/dense/MatMul`.
Those become `layer1_0_conv1` and `sequential_dense_MatMul`: identifiers, one level deep,
so no name is ever the parent of another.
"""

from __future__ import annotations

import keyword
import re

_NOT_IDENTIFIER = re.compile(r"[^0-9A-Za-z_]+")


def layer_name(node_name: str, op_type: str) -> str:
    """The name for the layer an ONNX node becomes ("" when the node has no usable name)."""
    parts = [part for part in node_name.split("/") if part]
    if parts and re.fullmatch(rf"{re.escape(op_type)}(_\d+)?", parts[-1]):
        parts.pop()  # torch's scoped names end with the operation: the scope names the layer
    scopes: list[str] = []
    for part in parts:
        if scopes and part.startswith(scopes[-1] + "."):
            scopes[-1] = part  # `/layer1/layer1.0/...`: the deeper scope holds the whole path
        else:
            scopes.append(part)
    return identifier(".".join(scopes))


def identifier(text: str) -> str:
    """`text` as a Python identifier ("" when nothing of it is usable)."""
    name = _NOT_IDENTIFIER.sub("_", text).strip("_")
    if name and (name[0].isdigit() or keyword.iskeyword(name)):
        name = f"v{name}" if name[0].isdigit() else f"{name}_"
    return name


class Names:
    """Hands out unique identifiers; `reserved` are never handed out (the attributes of the
    module that holds the layers, such as fx's `graph` and `code`)."""

    def __init__(self, reserved: set[str]) -> None:
        self.used = set(reserved)

    def unique(self, wanted: str, fallback: str) -> str:
        base = wanted or identifier(fallback) or "value"
        candidate, k = base, 1
        while candidate in self.used:
            k += 1
            candidate = f"{base}_{k}"
        self.used.add(candidate)
        return candidate
