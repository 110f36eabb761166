"""Submodules that forward calls only in training (GoogLeNet's and Inception's auxiliary
heads), kept in the design so the original's state_dict loads strictly into the built model.

The evaluation-mode trace never calls them, so the module is traced once more in training
mode, symbolically (nothing runs, no statistic changes). Each such submodule's operations are
copied from that trace into the evaluation graph, fed by the same values (matched by node
name, target and kind, which agree for the computation both modes share). They then become
layers and blocks like any others whose result is unused: the built model holds the real
modules with their weights and computes the same outputs. A submodule that training mode does
not call either, or whose inputs cannot be matched, stays left out (see importer._left_out).
"""

from __future__ import annotations

from typing import Any

from engine.errors import DesignError
from engine.importing.layers import holds_computation
from engine.importing.tracing import is_leaf, propagate


def splice_training_calls(module: Any, graph: Any,
                          inputs: tuple[Any, ...]) -> dict[str, list[Any]]:
    """Copy into `graph` (the evaluation trace) the calls of stateful submodules it lacks that
    a training-mode trace makes; return the copied nodes by module path. None are copied when
    they fail on `inputs` (an auxiliary head needs a larger image than the example)."""
    missing = _uncalled_state(module, graph)
    training = _training_graph(module) if missing else None
    if training is None:
        return {}
    by_name = {node.name: node for node in graph.nodes}
    output = next(node for node in graph.nodes if node.op == "output")
    spliced: dict[str, list[Any]] = {}
    for path in missing:
        members = [node for node in training.nodes if _belongs(node, path)]
        outside = {source for node in members for source in node.all_input_nodes
                   if source not in members}
        env = {source: by_name.get(source.name) for source in outside}
        if not members or not all(_same(source, env[source]) for source in outside):
            continue
        with graph.inserting_before(output):
            for node in members:
                env[node] = graph.node_copy(node, env.__getitem__)
                spliced.setdefault(path, []).append(env[node])
    if spliced:
        try:
            propagate(module, graph, inputs)
        except DesignError:
            for node in reversed([node for nodes in spliced.values() for node in nodes]):
                graph.erase_node(node)
            return {}
    return spliced


def _uncalled_state(module: Any, graph: Any) -> list[str]:
    """The outermost submodules holding weights or buffers that no node of `graph` calls or
    runs inside."""
    used = {_path(node) for node in graph.nodes} - {None}
    leaves = {node.target for node in graph.nodes if node.op == "call_module"}
    missing: list[str] = []
    for path, child in module.named_modules():
        if not path or any(_within(other, path) for other in used) \
                or any(_within(path, other) for other in [*leaves, *missing]):
            continue
        if holds_computation(child) and (any(True for _ in child.parameters())
                                         or any(True for _ in child.buffers())):
            missing.append(path)
    return missing


def _training_graph(module: Any) -> Any:
    from torch import fx

    class Tracer(fx.Tracer):
        def is_leaf_module(self, m, qualified_name: str) -> bool:
            return is_leaf(m, qualified_name)

    tracer = Tracer()
    tracer.record_stack_traces = True
    was_training = module.training
    module.train()
    try:
        return tracer.trace(module)
    except Exception:  # noqa: BLE001 - training mode is only a second chance: keep left out
        return None
    finally:
        module.train(was_training)


def _path(node: Any) -> str | None:
    """The innermost module a node calls or runs inside, None at the top level."""
    if node.op == "call_module":
        return node.target
    stack = node.meta.get("nn_module_stack") or {}
    return list(stack.values())[-1][0] if stack else None


def _belongs(node: Any, path: str) -> bool:
    inner = _path(node)
    return inner is not None and _within(inner, path)


def _within(inner: str, outer: str) -> bool:
    return inner == outer or inner.startswith(outer + ".")


def _same(training: Any, evaluation: Any) -> bool:
    return evaluation is not None and (evaluation.op, evaluation.target) == (training.op,
                                                                            training.target)
