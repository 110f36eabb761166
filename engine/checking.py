"""Checking a design: output shapes, parameter counts and problems, in one walk per network.

Shape rules are plain arithmetic in each layer declaration (no torch, no meta tensors). Each
node's findings are kept with what they were made from (engine.check_memo) and a rule's result
on (type, parameters, incoming tensors), so re-checking after an edit works out again only the
edited node and those whose incoming tensors it changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from engine.blocks.definitions import evaluated
from engine.blocks.expressions import ExpressionError
from engine.check_memo import Layout, WalkMemo, Wire, layout_of, memo_for
from engine.design import Design
from engine.errors import ShapeError
from engine.graph import MultiDiGraph
from engine.layer_files import anchored, files_state
from engine.layers import TensorInfo, get_layer
from engine.layers.base import as_outputs, format_shape
from engine.layers.block_node import BLOCK_TYPE
from engine.model_size import network_problem, output_problem, parameter_problem
from engine.recent_cache import RecentCache
from engine.shape_working import with_working


@dataclass(frozen=True)
class Problem:
    """Something wrong (error: cannot run) or suspicious (warning: runs, rarely meant)."""

    node: str | None
    severity: str
    message: str
    fix: str | None = None
    network: str | None = None

    @property
    def scope(self) -> str:
        """Where a problem without a node lies: its network, or the design as a whole (its
        training data, say)."""
        return f"network {self.network}" if self.network else "design"

    def __str__(self) -> str:
        text = f"{self.severity}: {self.message}"
        return f"{text} (fix: {self.fix})" if self.fix else text


@dataclass
class Walk:
    """What one walk over a scope found: per-node outputs (`infos`: each node's first output,
    for most its only one; `output_infos`: all of them, in order), parameter counts and
    incoming tensors, problems as (node, severity, message, fix), the Outputs' tensors in
    creation order, the walks of the block nodes it met, problems found inside their
    definitions, and whether it read files (what they hold is not part of the design)."""

    infos: dict[str, TensorInfo] = field(default_factory=dict)
    output_infos: dict[str, tuple[TensorInfo, ...]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    input_infos: dict[str, list[TensorInfo | None]] = field(default_factory=dict)
    problems: list[tuple[str | None, str, str, str | None]] = field(default_factory=list)
    outputs: tuple[TensorInfo | None, ...] = ()
    uses: dict[str, tuple[Walk, ...]] = field(default_factory=dict)
    inner: list[Problem] = field(default_factory=list)
    reads_files: bool = False
    nodes: tuple[str, ...] = ()   # the scope's nodes in creation order

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def add_problem(self, node: str | None, message: str, fix: str | None = None,
                    severity: str = "error") -> None:
        self.problems.append((node, severity, message, fix))


@dataclass
class Report:
    """What `check` found: per-node tensors and parameter counts, and the problems.

    `infos` holds each node's first output (for most nodes their only one), `output_infos`
    every output of each node in order (Chunk's pieces, attention's output and weights)."""

    problems: list[Problem] = field(default_factory=list)
    infos: dict[str, TensorInfo] = field(default_factory=dict)
    output_infos: dict[str, tuple[TensorInfo, ...]] = field(default_factory=dict)
    param_counts: dict[str, int] = field(default_factory=dict)
    input_infos: dict[str, list[TensorInfo | None]] = field(default_factory=dict)
    networks: dict[str, list[str]] = field(default_factory=dict)
    # Each block node's walks through its definition, one per copy (repeat), in order.
    uses: dict[str, tuple[Walk, ...]] = field(default_factory=dict)

    def shape(self, node_id: str, out: int = 0) -> tuple | None:
        """The shape of the node's output `out` (its only one for most nodes) with the batch
        dimension as "N", or None if unknown."""
        info = self.info(node_id, out)
        return info.shape if info else None

    def info(self, node_id: str, out: int = 0) -> TensorInfo | None:
        """The tensor the node's output `out` gives, or None if unknown (or it has no such
        output)."""
        outputs = self.output_infos.get(node_id, ())
        return outputs[out] if out < len(outputs) else None

    def params(self, node_id: str) -> int | None:
        return self.param_counts.get(node_id)

    def total_params(self, network: str = "model") -> int:
        return sum(self.param_counts.get(n, 0) for n in self.networks.get(network, []))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def problems_for(self, node_id: str) -> list[Problem]:
        return [p for p in self.problems if p.node == node_id]

    def errors_in(self, network: str) -> list[Problem]:
        return [p for p in self.errors if p.network == network]


def check(design: Design, folder: Path | None = None) -> Report:
    """Infer every node's output and collect every problem, the data's misfits included
    (relative data paths read against `folder`, the design file's folder); never raises for a
    bad design. Block definitions are checked on their own (with their arguments' defaults and
    their Inputs' shapes), and again at each use, with its arguments and incoming tensors."""
    from engine.training.data_fit import data_problems  # it plans runs, which use check

    report = Report()
    reported: set[Problem] = set()
    checking = _Checking(design, folder)
    for scope in [*design.blocks, *design.networks]:
        _check_scope(checking, scope, report, reported)
    report.problems += data_problems(design, report, folder)
    return report


@dataclass
class _Checking:
    """What the walks of one check share: the design, the folder its relative file paths are
    read against, and each block's revision key (worked out once a check, not once a use)."""

    design: Design
    folder: Path | None
    revision_keys: dict[str, tuple] = field(default_factory=dict)


def _check_scope(checking: _Checking, scope: str, report: Report,
                 reported: set[Problem]) -> None:
    """One scope's findings into `report`; a problem already in `reported` (a definition's,
    found again at one of its uses) is listed once."""
    design = checking.design
    if design.is_block(scope):   # unchanged since the last check, most of the time
        arguments = {a.name: a.default for a in design.block_arguments(scope)}
        walk = _kept_walk(checking, scope, None, arguments, (scope,))
    else:
        walk = walk_scope(checking, scope, None, {}, (scope,))
    report.networks[scope] = list(walk.nodes)
    report.infos.update(walk.infos)
    report.output_infos.update(walk.output_infos)
    report.param_counts.update(walk.counts)
    report.input_infos.update(walk.input_infos)
    report.uses.update(walk.uses)
    for found in [*(Problem(node, severity, message, fix, scope)
                    for node, severity, message, fix in walk.problems), *walk.inner]:
        if found not in reported:
            reported.add(found)
            report.problems.append(found)
    if not design.is_block(scope):
        whole = network_problem(scope, report.total_params(scope))
        if whole:
            report.problems.append(Problem(None, "error", *whole, network=scope))
        _softmax_before_loss(design, scope, design.graph(scope), report)


def walk_scope(checking: _Checking, scope: str, inputs: tuple[TensorInfo, ...] | None,
               arguments: dict[str, Any], stack: tuple[str, ...]) -> Walk:
    """One walk over a network or a block definition: every node's output, parameter count and
    problems. `inputs` feed the Inputs in creation order (None: each Input's own shape);
    `arguments` give the values of expressions; `stack` is the chain of blocks being used.
    Each node's findings are kept (check_memo) and reused while the node, its wires and its
    incoming tensors stay the same, so after an edit only the edited node and those whose
    inputs it changes are worked out again."""
    design = checking.design
    graph = design.graph(scope)
    layout = layout_of(graph)
    walk = Walk(nodes=layout.nodes)
    data = dict(graph.nodes(data=True))
    memo = memo_for(design, (scope, stack, inputs, _freeze(arguments), checking.folder))
    structures, broken = _structure(design, scope, arguments, walk, layout, data, memo)
    fed = dict(zip([n for n in layout.nodes if data[n]["type"] == "Input"], inputs or (),
                   strict=False))
    for node in layout.order:
        incoming = _incoming(layout.wires_in[node], walk.output_infos)
        walk.input_infos[node] = incoming
        if node in broken or not all(info is not None for info in incoming):
            continue
        attributes, found, tensors = data[node], structures[node], tuple(incoming)
        if attributes["type"] == BLOCK_TYPE and node not in fed:
            inferred = _judged(node, _name(attributes), _use(checking, node, tensors,
                                                             found.values, stack, walk))
        else:
            files = _files(attributes["type"], found.values, checking.folder) if (
                found.reads_files) else ()
            walk.reads_files = walk.reads_files or found.reads_files
            inferred = memo.get(("infer", node), (
                attributes["type"], attributes["name"], found, tensors, fed.get(node), files),
                _inferred, node, attributes, fed, tensors, found.values, checking.folder)
        _record(walk, node, inferred)
    walk.outputs = tuple((_incoming(layout.wires_in[node], walk.output_infos) or [None])[0]
                         for node in layout.nodes if data[node]["type"] == "Output")
    return walk


Finding = tuple[str | None, str, str, str | None]  # (node, severity, message, fix)


@dataclass(frozen=True)
class _NodeStructure:
    """What one node's own values and wires say before any shape: its values (None when an
    expression cannot be worked out), its problems, whether its output cannot be worked out,
    how many outputs it has and whether it reads files."""

    values: dict[str, Any] | None
    problems: tuple[Finding, ...]
    broken: bool
    outputs: int = 0
    reads_files: bool = False


@dataclass(frozen=True)
class _Inferred:
    """One node's outputs and parameter count (outputs None when it has none: its problems
    say why), and its problems."""

    outputs: tuple[TensorInfo, ...] | None
    count: int
    problems: tuple[Finding, ...]


def _structure(design: Design, scope: str, arguments: dict[str, Any], walk: Walk,
               layout: Layout, data: dict[str, dict[str, Any]],
               memo: WalkMemo) -> tuple[dict[str, _NodeStructure], set[str]]:
    """What does not need shapes: Inputs and Outputs present, cycles, each node's values (its
    expressions worked out) against their ranges, its ports, its unused output, the outputs
    its wires read. Returns each node's structure and the nodes that cannot be inferred."""
    problem = walk.add_problem
    kind = "block" if design.is_block(scope) else "network"
    types = {attributes["type"] for attributes in data.values()}
    if "Input" not in types:
        problem(None, f"{kind} {scope!r} has no Input", "add an Input layer")
    if "Output" not in types:
        problem(None, f"{kind} {scope!r} has no Output", "add an Output after the last layer")
    for node in layout.nodes:
        if node in layout.cycle:
            problem(node, f"{_name(data[node])} is part of a cycle; data must flow one way",
                    "remove one of the connections that loop back")
    broken = set(layout.cycle)
    structures: dict[str, _NodeStructure] = {}
    for node in layout.nodes:
        attributes = data[node]
        found = structures[node] = memo.get(("structure", node), (
            attributes["type"], attributes["name"], dict(attributes["params"]),
            layout.wires_in[node], node in layout.used, node in layout.cycle),
            _node_structure, node, attributes, arguments, layout)
        walk.problems += found.problems
        if found.broken:
            broken.add(node)
    for src, dst, port, out in layout.edges:  # a source with bad values is reported on its own
        if src not in broken and out >= structures[src].outputs:
            count = structures[src].outputs
            problem(dst, f"{_name(data[dst])}: input {port} reads output {out} of "
                    f"{_name(data[src])}, which has {count} output{'s' * (count != 1)}",
                    f"connect input {port} to one of its outputs, or change the parameters "
                    f"of {data[src]['name']} back")
            broken.add(dst)
    return structures, broken


def _node_structure(node: str, attributes: dict[str, Any], arguments: dict[str, Any],
                    layout: Layout) -> _NodeStructure:
    spec = get_layer(attributes["type"])
    label = _name(attributes)
    try:
        values = evaluated(attributes["params"], arguments)
    except ExpressionError as err:
        fix = "use the block's argument names, whole numbers, + - * // and parentheses"
        return _NodeStructure(None, ((node, "error", f"{label}: {err}", fix),), True)
    problems: list[Finding] = []
    for param in spec.params:
        message = param.range_problem(values[param.name])
        if message:
            problems.append((node, "error", f"{label}: {message}", None))
    problems += [(node, "error", message, "connect a layer's output to it")
                 for message in _port_problems(label, layout.wires_in[node], spec)]
    broken = bool(problems)
    if spec.has_output and node not in layout.used and node not in layout.cycle:
        problems.append((node, "warning", f"the output of {label} is not used",
                         "connect it to another layer or an Output, or delete it"))
    return _NodeStructure(values, tuple(problems), broken, len(spec.outputs(values)),
                          bool(spec.files))


def _files(layer_type: str, values: dict[str, Any], folder: Path | None) -> tuple:
    """The state of the files a node's values name."""
    spec = get_layer(layer_type)
    return files_state(spec, anchored(spec, values, folder))


def _inferred(node: str, attributes: dict[str, Any], fed: dict[str, TensorInfo],
              incoming: tuple[TensorInfo, ...], values: dict[str, Any],
              folder: Path | None) -> _Inferred:
    """One node's outputs and parameter count, or its problems: an Input fed by a use takes
    the tensor it is given, a layer its rule."""
    layer_type = attributes["type"]
    if node in fed:
        result: Any = (fed[node], 0, ())
    else:
        spec = get_layer(layer_type)
        params = anchored(spec, values, folder)
        result = _infer(layer_type, _freeze(params), incoming, files_state(spec, params))
    return _judged(node, _name(attributes), result)


def _judged(node: str, label: str, result: Any) -> _Inferred:
    """A shape rule's result as outputs and problems: a ShapeError, a parameter count or an
    output too big to build, or the rule's warnings."""
    if isinstance(result, ShapeError):
        return _Inferred(None, 0, ((node, "error", f"{label}: {result}", result.fix),))
    info, count, warnings = result
    outputs = as_outputs(info)
    too_big = tuple((node, "error", message, fix) for message, fix in (
        found for found in (parameter_problem(label, count),
                            *(output_problem(label, output) for output in outputs)) if found))
    if too_big:
        return _Inferred(None, 0, too_big)
    return _Inferred(outputs, count, tuple((node, "warning", f"{label}: {message}", fix)
                                           for message, fix in warnings))


def _record(walk: Walk, node: str, inferred: _Inferred) -> None:
    walk.problems += inferred.problems
    if inferred.outputs is not None:
        walk.infos[node] = inferred.outputs[0]
        walk.output_infos[node] = inferred.outputs
        walk.counts[node] = inferred.count


def _use(checking: _Checking, node: str, incoming: tuple[TensorInfo, ...],
         params: dict[str, Any], stack: tuple[str, ...], walk: Walk) -> Any:
    """A block node's (output, parameter count, warnings), walking its definition once per copy
    with the use's arguments; or a ShapeError that says where inside the block it failed (the
    inner node's own problem goes to `walk.inner` too, so the definition shows it)."""
    design = checking.design
    block = params["block"]
    if block in stack:
        return ShapeError(f"block {block!r} uses itself: {' > '.join([*stack, block])}",
                          "remove the block node that leads back")
    types = [layer_type for _, layer_type in design.graph(block).nodes(data="type")]
    wanted = types.count("Input")
    if len(incoming) != wanted:
        return ShapeError(f"block {block!r} takes {wanted} input{'s' * (wanted != 1)} (its "
                          f"Inputs, in the order they were made); {len(incoming)} "
                          f"{'is' if len(incoming) == 1 else 'are'} connected",
                          f"connect {wanted}, or add or remove an Input in {block!r}")
    if types.count("Output") != 1:
        return ShapeError(f"block {block!r} has {types.count('Output')} Outputs; a block node "
                          "passes on exactly one", f"keep one Output in {block!r}")
    if params["repeat"] > 1 and wanted != 1:
        return ShapeError(f"block {block!r} has {wanted} Inputs; only a block with one Input "
                          "can repeat, each copy feeding the next", "set repeat to 1")
    arguments = {a.name: params[a.name] for a in design.block_arguments(block)}
    copies: list[Walk] = []
    tensors, total = incoming, 0
    for index in range(params["repeat"]):
        copy = _kept_walk(checking, block, tensors, arguments, (*stack, block))
        copies.append(copy)
        walk.reads_files = walk.reads_files or copy.reads_files
        errors = [found for found in copy.problems if found[1] == "error"]
        if errors or copy.outputs[0] is None:
            walk.inner += [Problem(n, severity, message, fix, block)
                           for n, severity, message, fix in errors if n is not None]
            walk.inner += copy.inner
            inner, _, message, fix = errors[0] if errors else (
                None, "error", "its Output receives nothing", None)
            where = (f"[{index}]" if params["repeat"] > 1 else "") + (
                f".{design.node(inner).name}" if inner else "")
            return ShapeError(f"inside {block!r} at {where.lstrip('.') or 'its Output'}: "
                              f"{message}", fix)
        total += copy.total
        tensors = (copy.outputs[0],)
    walk.uses[node] = tuple(copies)
    return tensors[0], total, ()


_WALKS: RecentCache[Walk] = RecentCache(4096)
_NESTED: RecentCache[tuple[str, ...]] = RecentCache(4096)  # bounded: every edit makes a key


def _kept_walk(checking: _Checking, block: str, inputs: tuple[TensorInfo, ...] | None,
               arguments: dict[str, Any], stack: tuple[str, ...]) -> Walk:
    """walk_scope for a definition on its own or one copy of a use, kept until the definition
    (or one it uses) changes: a design of many uses of a few blocks is checked once per
    distinct use, and an edit elsewhere walks no definition again. A walk that read files is
    not kept: the files may change while the design does not (its nodes' memos notice)."""
    key = (_revision_key(checking, block), inputs, _freeze(arguments), checking.folder, stack)
    return _WALKS.get(key, lambda: walk_scope(checking, block, inputs, arguments, stack),
                      keep=lambda walk: not walk.reads_files)


def _revision_key(checking: _Checking, block: str) -> tuple:
    """The revisions of `block` and of every block it reaches, which no other content has."""
    key = checking.revision_keys.get(block)
    if key is None:
        design, reached, waiting = checking.design, {}, [block]
        while waiting:
            scope = waiting.pop()
            if scope not in reached:
                reached[scope] = design.revision(scope)
                waiting += _blocks_used(design, scope, reached[scope])
        key = checking.revision_keys[block] = tuple(sorted(reached.items()))
    return key


def _blocks_used(design: Design, scope: str, revision: int) -> tuple[str, ...]:
    """The blocks that `scope`'s block nodes use, kept for its revision."""
    return _NESTED.get((scope, revision), lambda: tuple(sorted(
        {attributes["params"]["block"] for _, attributes in design.graph(scope).nodes(data=True)
         if attributes["type"] == BLOCK_TYPE})))


@lru_cache(maxsize=65536)
def _infer(layer_type: str, params: tuple, inputs: tuple[TensorInfo, ...], files: tuple) -> Any:
    """One node's (output, parameter count, warnings), or the ShapeError it raised; `files`
    (the state of the files the parameters name) is only part of what the result is kept by."""
    spec = get_layer(layer_type)
    values = dict(params)
    listed = list(inputs)
    try:
        info = as_outputs(spec.infer(listed, values))
    except ShapeError as err:
        return with_working(err, layer_type, values, listed)
    if len(info) != len(spec.outputs(values)):
        return ShapeError(f"{layer_type} gave {len(info)} tensors for its "
                          f"{len(spec.outputs(values))} outputs (a fault in its shape rule)")
    return info, spec.count_params(listed, values), tuple(spec.warn(listed, values))


def _freeze(params: dict[str, Any]) -> tuple:
    return tuple(sorted(params.items()))


def _incoming(wires: tuple[Wire, ...],
              output_infos: dict[str, tuple[TensorInfo, ...]]) -> list[TensorInfo | None]:
    """The tensor each input port receives (None: unconnected or not known), each from the
    output its wire leaves."""
    inputs: list[TensorInfo | None] = [None] * (wires[-1][0] + 1 if wires else 0)
    for port, src, out in wires:
        outputs = output_infos.get(src, ())
        inputs[port] = outputs[out] if out < len(outputs) else None
    return inputs


def _port_problems(label: str, wires: tuple[Wire, ...], spec) -> list[str]:
    ports: dict[int, int] = {}
    for port, _, _ in wires:
        ports[port] = ports.get(port, 0) + 1
    messages = [f"{label}: input {port} has {n} connections; an input takes exactly one"
                for port, n in sorted(ports.items()) if n > 1]
    needed = max(spec.min_inputs, max(ports, default=-1) + 1)
    missing = [port for port in range(needed) if port not in ports]
    if missing:
        which = ", ".join(str(p) for p in missing)
        plural = "s" if len(missing) > 1 else ""
        messages.append(f"{label}: input{plural} {which} not connected")
    return messages


def _softmax_before_loss(design: Design, network: str, graph: MultiDiGraph,
                         report: Report) -> None:
    if design.training.get("task", "classification") != "classification" or network != "model":
        return
    for node, layer_type in graph.nodes(data="type"):
        if layer_type != "Output":
            continue
        for edge in design.inputs_of(node):
            if graph.nodes[edge.src]["type"] == "Softmax":
                report.problems.append(Problem(
                    edge.src, "warning", f"{_name(graph.nodes[edge.src])} comes right before "
                    "the Output, but the cross-entropy loss applies softmax itself, so training "
                    "sees it twice and learns slowly", "remove the Softmax; apply it only when "
                    "reading predictions", network))


def _name(attributes: dict[str, Any]) -> str:
    """A node as messages name it: its name and its layer type."""
    return f"{attributes['name']} ({attributes['type']})"


def describe(info: TensorInfo | None) -> str:
    """A shape as the user reads it, e.g. (N, 16, 14, 14)."""
    return format_shape(info.shape) if info else "?"
