"""An ONNX model as onnx2torch's fx graph, or one refusal listing every node it cannot convert.

onnx2torch knows each operation at certain operator-set versions; a model written at a newer
opset (torch writes 18 and later) is first converted down to the newest opset at which every
node has a converter, which onnx's version converter does without changing the computation.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from engine.errors import DesignError
from engine.importing.onnx_file import opset
from engine.importing.refusal import Refusal, refusal_message

# The oldest opset tried when converting a model down (onnx2torch reads little older).
_OLDEST_OPSET = 9


def to_fx(model: Any, label: str) -> tuple[Any, Any]:
    """(onnx2torch's GraphModule, with each module's `onnx_mapping`; the model it converted,
    with shapes inferred). `label` (the file) heads the refusal."""
    from onnx2torch import convert
    from onnx2torch.utils.safe_shape_inference import safe_shape_inference

    model = _convertible(model, label)
    model = safe_shape_inference(model)
    try:
        return convert(model, attach_onnx_mapping=True).eval(), model
    except Exception:  # noqa: BLE001 - a converter's own failure is listed per node below
        refusals = list(_failing_nodes(model))
    if not refusals:
        raise DesignError(f"{label}: onnx2torch cannot convert the model") from None
    raise DesignError(*refusal_message(label, refusals)) from None


def refusal_for(node: Any, reason: str) -> Refusal:
    """The refusal of one ONNX node (an onnx2torch OnnxNode), named by its type and name."""
    domain = f"{node.domain}." if node.domain not in ("", "ai.onnx") else ""
    return Refusal(f"ONNX {domain}{node.operation_type}", reason, module=node.name or "")


def _convertible(model: Any, label: str) -> Any:
    """`model`, or the same model at an older opset where that makes every node convertible."""
    from onnx import version_converter

    current = opset(model)
    missing = _unconvertible(model, current)
    if not missing:
        return model
    for target in range(current - 1, _OLDEST_OPSET - 1, -1):
        if not _unconvertible(model, target):
            try:
                return version_converter.convert_version(model, target)
            except Exception:  # noqa: BLE001 - onnx cannot convert it: refuse as it is
                break
    reason = f"onnx2torch has no converter for it at opset {current}"
    raise DesignError(*refusal_message(label, [refusal_for(node, reason) for node in missing]))


def _unconvertible(model: Any, version: int) -> list[Any]:
    """The nodes onnx2torch has no converter for at opset `version` (standard operations) or
    at all (other domains)."""
    from onnx2torch.node_converters import get_converter
    from onnx2torch.onnx_graph import OnnxGraph

    versions = {entry.domain: entry.version for entry in model.opset_import}
    missing = []
    for node in OnnxGraph(model.graph).nodes.values():
        standard = node.domain in ("", "ai.onnx")
        try:
            get_converter(operation_type=node.operation_type, domain=node.domain,
                          version=version if standard else versions.get(node.domain, 1))
        except NotImplementedError:
            missing.append(node)
    return missing


def _failing_nodes(model: Any) -> Iterator[Refusal]:
    """Run every node's converter on its own, to name each one that fails and why."""
    from onnx2torch.node_converters import get_converter
    from onnx2torch.onnx_graph import OnnxGraph

    graph = OnnxGraph(model.graph)
    version = opset(model)
    for node in graph.nodes.values():
        try:
            get_converter(operation_type=node.operation_type, domain=node.domain,
                          version=version)(node, graph)
        except Exception as err:  # noqa: BLE001 - onnx2torch's reason, whatever it raised
            reason = str(err).strip().splitlines()[0] if str(err).strip() else repr(err)
            yield refusal_for(node, f"onnx2torch cannot convert it: {reason}")
