"""Values that remember where they came from, so exported block classes can write
`nn.Conv2d(planes, planes * 4, 1)` instead of the numbers one use happens to have.

Each use of a definition is walked again with its argument values and incoming tensor sizes
wrapped in traced numbers (an int that carries the expression it stands for). The layers' own
shape rules and constructor declarations run unchanged: a value they pass through keeps its
expression, one they compute becomes a plain number (and the exporter compares it across
uses). Every traced result is checked against the plain walk, so tracing can only add
expressions, never change a value.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from keyword import iskeyword
from typing import Any

from engine.blocks.definitions import Expr
from engine.blocks.expressions import Literal, Name, Negation, Operation, Term
from engine.checking import Walk
from engine.codegen.forward import ForwardProgram, Tensors, execution_order, forward_program
from engine.design import Design
from engine.layers import TensorInfo, get_layer
from engine.layers.base import as_outputs
from engine.layers.block_node import BLOCK_TYPE
from engine.layers.module_call import ModuleCall


class _TracedInt(int):
    term: Term


class _TracedFloat(float):
    term: Term


class _TracedStr(str):
    term: Term


_TRACED = {int: _TracedInt, float: _TracedFloat, str: _TracedStr}  # bool cannot be subclassed


def traced(value: Any, term: Term | None) -> Any:
    """`value` carrying `term`; the plain value where it cannot carry one."""
    kind = _TRACED.get(type(plain(value)))
    if term is None or kind is None:
        return plain(value)
    result = kind(plain(value))
    result.term = term
    return result


def term_of(value: Any) -> Term | None:
    return getattr(value, "term", None) if type(value) in _TRACED.values() else None


def plain(value: Any) -> Any:
    """The value without its expression."""
    for base, kind in _TRACED.items():
        if type(value) is kind:
            return base(value)
    return value


def substituted(term: Term, values: Mapping[str, Term]) -> Term:
    """`term` with each name that `values` holds replaced by its term."""
    if isinstance(term, Name):
        return values.get(term.name, term)
    if isinstance(term, Negation):
        return Negation(substituted(term.operand, values))
    if isinstance(term, Operation):
        return Operation(term.operator, substituted(term.left, values),
                         substituted(term.right, values))
    return term


def rebased(value: Any, values: Mapping[str, Any]) -> Any:
    """A traced value (or tensor) read in terms of `values` (names -> values, traced or not):
    plain once any name it reads has no expression there."""
    if isinstance(value, TensorInfo):
        return TensorInfo(tuple(rebased(d, values) for d in value.shape), value.dtype)
    term = term_of(value)
    if term is None:
        return value
    terms = {}
    for name in _names(term):
        terms[name] = term_of(values.get(name))
        if terms[name] is None:
            return plain(value)
    return traced(value, substituted(term, terms))


def _names(term: Term) -> set[str]:
    if isinstance(term, Name):
        return {term.name}
    if isinstance(term, Negation):
        return _names(term.operand)
    if isinstance(term, Operation):
        return _names(term.left) | _names(term.right)
    return set()


def placeholder(port: int, dim: int) -> str:
    """The name that stands for dimension `dim` of the tensor at a definition's Input `port`
    (not an identifier, so it never meets an argument's name)."""
    return f"{port}:{dim}"


# ---------------------------------------------------------------------------- one use

@dataclass
class Layer:
    """A layer of a use: its constructor call with traced values, and with plain ones."""

    node: str
    call: ModuleCall
    plain_call: ModuleCall


@dataclass
class Instance:
    """One copy of a block use (or a network), walked with traced values.

    A definition drawn as a sequence is written inline in its parent (nn.Sequential(...)), as is
    a chain an import made from an nn.Sequential with named items (nn.Sequential(OrderedDict(
    conv0=..., norm0=...))), so
    its values stay in the parent's terms; any other use is an instance of a class of its
    own, whose values read its arguments (their names) and its Inputs' sizes (placeholders).
    `arguments` and `inputs` are what the parent passes, in the parent's terms; `sizes` are the
    placeholders' plain values at this use."""

    scope: str
    program: ForwardProgram
    arguments: dict[str, Any]
    inputs: tuple[TensorInfo, ...]
    sizes: dict[str, Any] = field(default_factory=dict)
    layers: dict[str, Layer] = field(default_factory=dict)
    uses: dict[str, list[Instance]] = field(default_factory=dict)
    output: TensorInfo | None = None

    inline: bool = False


def trace(design: Design, scope: str, tensors: Tensors, uses: Mapping[str, tuple[Walk, ...]],
          arguments: Mapping[str, Any], inputs: tuple[TensorInfo, ...]) -> Instance:
    """Walk `scope` as one use found it (`tensors`, `uses`: the check's walk of this copy),
    with `arguments` and `inputs` as the parent passes them (traced or plain)."""
    values = {key: plain(value) for key, value in arguments.items()}
    program = forward_program(design, scope, tensors, values)
    instance = Instance(scope, program, dict(arguments), inputs,
                        inline=program.sequence or _named_sequential(design, scope, program))
    own_arguments, own_inputs = dict(arguments), inputs
    if design.is_block(scope) and not instance.inline:
        own_arguments = {key: traced(value, Name(key)) for key, value in values.items()}
        own_inputs = tuple(_placeholders(port, info, instance.sizes)
                           for port, info in enumerate(inputs))
    infos: dict[str, tuple[TensorInfo, ...]] = {}  # every output of each node
    graph = design.graph(scope)
    path_of = {node: path for path, node in program.modules.items()}
    fed = iter(own_inputs)
    for node in execution_order(design, scope):
        data = graph.nodes[node]
        if data["type"] == "Input":
            infos[node] = (next(fed, None) or tensors.infos[node],)
            continue
        incoming = [infos[edge.src][edge.out] for edge in sorted(design.inputs_of(node),
                                                                 key=lambda e: e.port)]
        if data["type"] == "Output":
            instance.output = incoming[0]
            continue
        params = {key: _value(value, own_arguments) for key, value in data["params"].items()}
        if data["type"] == BLOCK_TYPE:
            copies = _use(design, params, uses[node], tuple(incoming))
            instance.uses[path_of[node]] = copies
            infos[node] = (copies[-1].output,)
            continue
        spec = get_layer(data["type"])
        infos[node] = _checked(lambda inputs, values: as_outputs(spec.infer(inputs, values)),
                               incoming, params, tensors.output_infos[node])
        if node in path_of:
            plain_inputs = list(tensors.input_infos[node])
            plain_params = {key: plain(value) for key, value in params.items()}
            plain_call = spec.constructor(plain_inputs, plain_params)
            call = _checked(spec.constructor, incoming, params, plain_call,
                            same=lambda a, b: _filled(a) == _filled(b))
            instance.layers[path_of[node]] = Layer(node, call, plain_call)
    if design.is_block(scope) and not instance.inline and instance.output is not None:
        names = {**arguments, **{placeholder(port, dim): size
                                 for port, info in enumerate(inputs)
                                 for dim, size in enumerate(info.shape)}}
        instance.output = rebased(instance.output, names)
    return instance


def _named_sequential(design: Design, scope: str, program: ForwardProgram) -> bool:
    """An imported nn.Sequential with named items, drawn as the chain it is, whose names can be
    written as keywords: exported as nn.Sequential(OrderedDict(name=...)) as torchvision does."""
    style = design.module_class(scope) if design.is_block(scope) else None
    return (style is not None and style.sequential and program.chain
            and all(key.isidentifier() and not iskeyword(key) for key in program.modules))


def _use(design: Design, params: dict[str, Any], copies: tuple[Walk, ...],
         incoming: tuple[TensorInfo, ...]) -> list[Instance]:
    block = params["block"]
    arguments = {a.name: params[a.name] for a in design.block_arguments(block)}
    traced_copies = []
    for walk in copies:
        copy = trace(design, block, walk, walk.uses, arguments, incoming)
        traced_copies.append(copy)
        incoming = (copy.output,)
    return traced_copies


def _placeholders(port: int, info: TensorInfo, sizes: dict[str, Any]) -> TensorInfo:
    shape = []
    for dim, size in enumerate(info.shape):
        if isinstance(size, int) and dim > 0:
            sizes[placeholder(port, dim)] = plain(size)
            size = traced(size, Name(placeholder(port, dim)))
        shape.append(size)
    return TensorInfo(tuple(shape), info.dtype)


def _value(value: Any, arguments: Mapping[str, Any]) -> Any:
    """A parameter's value at this use, traced where its expression reads traced arguments
    (a name whose value has no expression there counts as its number)."""
    if not isinstance(value, Expr):
        return value
    result = value.value({key: plain(v) for key, v in arguments.items()})
    terms: dict[str, Term] = {}
    for name in value.expression.names():
        term = term_of(arguments[name])
        if term is None:
            number = plain(arguments[name])
            if isinstance(number, bool) or not isinstance(number, int):
                return result
            term = Literal(number)
        terms[name] = term
    if all(isinstance(term, Literal) for term in terms.values()):
        return result
    return traced(result, substituted(value.expression.tree, terms))


def _checked(rule: Callable[[list[TensorInfo], dict], Any], inputs: list[TensorInfo],
             params: dict[str, Any], fallback: Any,
             same: Callable[[Any, Any], bool] = operator.eq) -> Any:
    """A layer rule's result with traced values where it equals the plain one (tracing may
    only add expressions)."""
    try:
        result = rule(inputs, params)
    except Exception:  # noqa: BLE001 -- a rule that cannot take traced numbers: plain values
        return fallback
    return result if same(result, fallback) else fallback


def _filled(call: ModuleCall) -> tuple:
    """A call with the keywords it leaves at the target's defaults written out."""
    return (call.target, tuple(call.args), {**call.defaults, **call.kwargs})
