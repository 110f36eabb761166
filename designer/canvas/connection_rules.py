"""Which wires the canvas makes, what a wire would do to the layer it feeds, and which layers
fit at the loose end of a wire (no Qt).

One rule for every wire: a wire the design can hold is made, and if the receiving layer cannot
take its tensor that is an error on the node, with its fix, as `engine.check` reports it (an
editable state: change a parameter, insert a layer). A wire the design cannot hold (missing
node, other network, an Output's missing output, no such port, a duplicate, a cycle) is
refused, and the canvas keeps the reason on screen at the port until the next action.
"""

from __future__ import annotations

from engine import Design, Edge, Report
from engine.blocks.definitions import has_expressions
from engine.errors import ShapeError
from engine.layers import TensorInfo, all_layers, get_layer
from engine.layers.block_node import BLOCK_TYPE


def input_port_count(design: Design, node_id: str) -> int:
    """Ports to draw: the fixed count; for a block node, its definition's Inputs; for variadic
    layers one more than the highest used."""
    node = design.node(node_id)
    spec = get_layer(node.type)
    if spec.max_inputs is not None:
        return spec.max_inputs
    highest = max((e.port for e in design.inputs_of(node_id)), default=-1)
    if node.type == BLOCK_TYPE:
        block = node.params["block"]
        inputs = [n for n in design.nodes(block) if design.node(n).type == "Input"]
        return max(len(inputs), highest + 1)
    return max(spec.min_inputs, highest + 2)


def occupant(design: Design, dst: str, port: int) -> Edge | None:
    """The edge that feeds `port` of `dst` now (a new wire there replaces it)."""
    return next((e for e in design.inputs_of(dst) if e.port == port), None)


def connection_refusal(design: Design, src: str, dst: str, port: int,
                       out: int = 0) -> str | None:
    """Why the design cannot hold a wire from src's output `out` to dst's `port`, or None.

    Dropping onto a connected port replaces its wire, so only a wire from the same output
    counts as a duplicate there.
    """
    current = occupant(design, dst, port)
    if current is not None and (current.src, current.out) != (src, out):
        probe = design.copy()
        probe.disconnect(current.src, current.dst, current.port)
        problem = probe.connection_problem(src, dst, port, out)
    else:
        problem = design.connection_problem(src, dst, port, out)
    if problem:
        return problem[0].upper() + problem[1:]
    return None


def shape_problem(design: Design, report: Report, src: str, dst: str, port: int,
                  out: int = 0) -> str | None:
    """The shape error dst's layer would report with the tensor of src's output `out` on
    `port` (and its fix).

    Unknown tensors (an upstream problem, an unconnected port) cannot be judged, so they give
    none, just as `check` skips nodes whose inputs are unknown.
    """
    node = design.node(dst)
    spec = get_layer(node.type)
    if node.type == BLOCK_TYPE or has_expressions(node.params):
        return None  # judged with its block's arguments by the check, once connected
    if any(param.range_problem(node.params[param.name]) for param in spec.params):
        return None
    inputs: dict[int, TensorInfo | None] = {
        edge.port: report.info(edge.src, edge.out) for edge in design.inputs_of(dst)}
    inputs[port] = report.info(src, out)
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
    """Layer types that take this tensor on their first input with default parameters (a
    layer of several inputs, MatMul or Subtract, is asked with the tensor on each of them)."""
    names = []
    for spec in all_layers():
        if spec.max_inputs == 0:
            continue
        if info is not None:
            try:
                spec.infer([info] * max(1, spec.min_inputs), spec.defaults())
            except ShapeError:
                continue
        names.append(spec.name)
    return names


def layers_with_output() -> list[str]:
    """Layer types that can feed an input (everything but Output)."""
    return [spec.name for spec in all_layers() if spec.has_output]
