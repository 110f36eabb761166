"""Which wires the canvas accepts, and which layers fit at the loose end of a wire (no Qt).

A connection is refused when the engine would refuse or flag it (missing node, other network,
an Output's missing output, no such port, a duplicate, a cycle) or when the receiving layer's
shape rule raises for the tensor it would receive: the same error `engine.check` would report
for that node with this input.
"""

from __future__ import annotations

from engine import Design, Edge, Report
from engine.errors import ShapeError
from engine.layers import TensorInfo, all_layers, get_layer


def input_port_count(design: Design, node_id: str) -> int:
    """Ports to draw: the fixed count, or for variadic layers one more than the highest used."""
    spec = get_layer(design.node(node_id).type)
    if spec.max_inputs is not None:
        return spec.max_inputs
    highest = max((e.port for e in design.inputs_of(node_id)), default=-1)
    return max(spec.min_inputs, highest + 2)


def occupant(design: Design, dst: str, port: int) -> Edge | None:
    """The edge that feeds `port` of `dst` now (a new wire there replaces it)."""
    return next((e for e in design.inputs_of(dst) if e.port == port), None)


def connection_refusal(design: Design, report: Report, src: str, dst: str,
                       port: int) -> str | None:
    """Why a wire from src's output to dst's `port` is refused, or None when it is accepted.

    Dropping onto a connected port replaces its wire, so only a wire from the same source
    counts as a duplicate there.
    """
    current = occupant(design, dst, port)
    if current is not None and current.src != src:
        probe = design.copy()
        probe.disconnect(current.src, current.dst, current.port)
        problem = probe.connection_problem(src, dst, port)
    else:
        problem = design.connection_problem(src, dst, port)
    if problem:
        return problem[0].upper() + problem[1:]
    return shape_refusal(design, report, src, dst, port)


def shape_refusal(design: Design, report: Report, src: str, dst: str, port: int) -> str | None:
    """The shape error dst's layer raises with src's tensor on `port`, if it can be judged.

    Unknown tensors (an upstream problem, an unconnected port) cannot be judged, so they pass,
    just as `check` skips nodes whose inputs are unknown.
    """
    node = design.node(dst)
    spec = get_layer(node.type)
    if any(param.range_problem(node.params[param.name]) for param in spec.params):
        return None
    inputs: dict[int, TensorInfo | None] = {
        edge.port: report.info(edge.src) for edge in design.inputs_of(dst)}
    inputs[port] = report.info(src)
    listed = [inputs.get(p) for p in range(max(inputs) + 1)]
    if any(info is None for info in listed):
        return None
    try:
        spec.infer(listed, node.params)
    except ShapeError as err:
        text = f"{node.name} ({node.type}): {err}"
        return f"{text}\nFix: {err.fix}" if err.fix else text
    return None


def layers_accepting(info: TensorInfo | None) -> list[str]:
    """Layer types that take this tensor on their first input with default parameters."""
    names = []
    for spec in all_layers():
        if spec.max_inputs == 0:
            continue
        if info is not None:
            try:
                spec.infer([info], spec.defaults())
            except ShapeError:
                continue
        names.append(spec.name)
    return names


def layers_with_output() -> list[str]:
    """Layer types that can feed an input (everything but Output)."""
    return [spec.name for spec in all_layers() if spec.has_output]
