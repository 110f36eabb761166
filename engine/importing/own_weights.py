"""Functional calls over a module's own weights, imported as that module's layer.

Libraries often subclass a torch layer and call the function in their own forward: timm's
LayerNorm (`F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)`),
BatchNormAct2d (F.batch_norm, then an activation), Linear, GroupNorm and Conv2dSame (F.pad,
then F.conv2d); ConvNeXt's LayerNorm2d
permutes to channels-last around F.layer_norm. Such a call is that module's layer: it is
rewritten into a call of the module, and the layer node takes the module's name, so the weights
keep their state_dict keys (`stem.1.weight`, not `stem.1.layer_norm.weight`). A permute to
channels-last, the layer norm and the permute back become one LayerNorm2d.

A call is folded only when nothing is lost: its weight arguments are the module's own
parameters and buffers, read by nothing else, named as the layer names them; the layer built
from the call's settings has exactly the module's own tensors; the module's children hold none
(they stay separate nodes) and it makes no other such call. Anything else stays the function,
which the translator refuses by name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine.errors import DesignError
from engine.importing.layers import Unsupported, layer_for_module
from engine.importing.tracing import TensorMeta, scope
from engine.importing.translate import bind_arguments
from engine.layers import TensorInfo, get_layer

# ConvNeXt's LayerNorm2d: channels last, normalise, channels back.
_CHANNELS_LAST, _CHANNELS_FIRST = (0, 2, 3, 1), (0, 3, 1, 2)


@dataclass(frozen=True)
class _Function:
    """A function with weights: its arguments in order with their defaults (the weight
    arguments are named as the module attributes that hold them), and the torch module that
    computes the same from the bound arguments, the owner module and the input's shape."""

    parameters: tuple[str, ...]
    defaults: dict[str, Any]
    weights: tuple[str, ...]
    module: Callable[[dict[str, Any], Any, tuple[int, ...]], Any]


def fold_own_weights(root: Any, graph: Any, first: dict[Any, Any],
                     second: dict[Any, Any]) -> dict[Any, tuple[str, dict[str, Any]]]:
    """Rewrite every foldable call in `graph` into a call of its module; the new call nodes
    with the (layer, parameters) each stands for. `first` and `second` (the traced values'
    summaries) learn the new nodes."""
    functions = _functions()
    folded: dict[Any, tuple[str, dict[str, Any]]] = {}
    owners: set[str] = set()
    for node in list(graph.nodes):
        function = functions.get(node.target) if node.op == "call_function" else None
        if function is None:
            continue
        found = _foldable(root, graph, node, function, first)
        if found is None or found[0] in owners:
            continue
        owner, source, last, layer, params = found
        owners.add(owner)
        with graph.inserting_before(last):
            call = graph.call_module(owner, (source,))
        call.meta["nn_module_stack"] = dict(node.meta.get("nn_module_stack") or {})
        call.stack_trace = node.stack_trace
        first[call], second[call] = first[last], second[last]
        last.replace_all_uses_with(call)
        _erase_unused(graph, last)
        folded[call] = (layer, params)
    return folded


def _foldable(root: Any, graph: Any, node: Any, function: _Function,
              first: dict[Any, Any]) -> tuple[str, Any, Any, str, dict[str, Any]] | None:
    """(owner path, the input, the node whose result is the layer's, layer, parameters) for a
    call that folds, else None."""
    from torch import fx

    bound = _bind(node, function)
    if bound is None or not isinstance(bound["input"], fx.Node):
        return None
    weights = {name: bound[name] for name in function.weights if bound[name] is not None}
    if not weights or not all(isinstance(value, fx.Node) and value.op == "get_attr"
                              for value in weights.values()):
        return None
    owner = scope(node)
    if not owner or any(value.target != f"{owner}.{name}" for name, value in weights.items()):
        return None  # the network's own weights, or another module's
    module = root.get_submodule(owner)
    if not _reads_only_here(graph, owner, node) or _children_hold_tensors(module):
        return None
    source, last = bound["input"], node
    meta = first.get(source)
    if not isinstance(meta, TensorMeta):
        return None
    try:
        equivalent = function.module(bound, module, meta.shape)
        layer, params = layer_for_module(equivalent, [_info(meta)])
    except (Unsupported, TypeError, ValueError, KeyError):
        return None
    channels_first = _channels_first(node, owner) if layer == "LayerNorm" else None
    if channels_first is not None:
        (source, last), layer = channels_first, "LayerNorm2d"
        meta = first[source]
    if not _same_tensors(layer, params, _info(meta), module):
        return None
    return owner, source, last, layer, params


def _bind(node: Any, function: _Function) -> dict[str, Any] | None:
    """The call's arguments by name, or None where they are not the function's."""
    try:
        values = bind_arguments(node, function.parameters, function.defaults)
    except Unsupported:
        return None
    return dict(zip(function.parameters, values))


def _reads_only_here(graph: Any, owner: str, node: Any) -> bool:
    """Whether `node` is the only reader of the owner's own tensors in the whole graph."""
    prefix = f"{owner}."
    for value in graph.nodes:
        if value.op == "get_attr" and value.target.startswith(prefix) \
                and "." not in value.target[len(prefix):] \
                and any(user is not node for user in value.users):
            return False
    return True


def _children_hold_tensors(module: Any) -> bool:
    return any(True for child in module.children() for _ in child.state_dict())


def _channels_first(node: Any, owner: str) -> tuple[Any, Any] | None:
    """(the channels-first input, the permute back) when the layer norm sits between a permute
    to channels-last and one back, all three in the owner's forward, else None."""
    before = node.args[0] if node.args else node.kwargs.get("input")
    users = list(node.users)
    if len(users) != 1 or len(before.users) != 1:
        return None
    after = users[0]
    if _permutation(before) != _CHANNELS_LAST or _permutation(after) != _CHANNELS_FIRST \
            or scope(before) != owner or scope(after) != owner:
        return None
    return before.args[0], after


def _permutation(node: Any) -> tuple[int, ...] | None:
    if node.target not in ("permute",) and getattr(node.target, "__name__", "") != "permute":
        return None
    dims = node.args[1:] if len(node.args) > 2 else node.args[1:2]
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = dims[0]
    return tuple(dims) if all(isinstance(dim, int) for dim in dims) else None


def _same_tensors(layer: str, params: dict[str, Any], info: TensorInfo, module: Any) -> bool:
    """Whether the layer built from `params` holds exactly the module's own tensors."""
    import torch

    try:
        with torch.device("meta"):
            built = get_layer(layer).build([info], params)
    except DesignError:
        return False
    return _tensors(built) == _tensors(module)


def _tensors(module: Any) -> dict[str, tuple[tuple[int, ...], Any]]:
    return {key: (tuple(value.shape), value.dtype)
            for key, value in module.state_dict().items()}


def _info(meta: TensorMeta) -> TensorInfo:
    return TensorInfo(("N", *meta.shape[1:]))


def _erase_unused(graph: Any, node: Any) -> None:
    """Erase `node` and, recursively, what it read that nothing else reads any more."""
    sources = node.all_input_nodes
    graph.erase_node(node)
    for source in sources:
        if not source.users and source.op != "placeholder":
            _erase_unused(graph, source)


# ---------------------------------------------------------------------------- the functions

def _layer_norm(bound: dict[str, Any], module: Any, shape: tuple[int, ...]) -> Any:
    from torch import nn

    return nn.LayerNorm(bound["normalized_shape"], eps=bound["eps"],
                        elementwise_affine=bound["weight"] is not None,
                        bias=bound["bias"] is not None)


def _group_norm(bound: dict[str, Any], module: Any, shape: tuple[int, ...]) -> Any:
    from torch import nn

    return nn.GroupNorm(bound["num_groups"], shape[1], eps=bound["eps"],
                        affine=bound["weight"] is not None)


def _batch_norm(bound: dict[str, Any], module: Any, shape: tuple[int, ...]) -> Any:
    """The BatchNorm of the input's rank; its momentum, which only training uses, is the
    module's own where it has one (timm passes it as the call's argument only in training)."""
    from torch import nn

    cls = {2: nn.BatchNorm1d, 3: nn.BatchNorm1d, 4: nn.BatchNorm2d, 5: nn.BatchNorm3d}
    tracked = bound["running_mean"] is not None
    if bound["training"] and tracked:
        raise ValueError("a batch norm that uses the batch's statistics in evaluation")
    return cls[len(shape)](shape[1], eps=bound["eps"],
                           momentum=getattr(module, "momentum", bound["momentum"]),
                           affine=bound["weight"] is not None, track_running_stats=tracked)


def _linear(bound: dict[str, Any], module: Any, shape: tuple[int, ...]) -> Any:
    from torch import nn

    out_features, in_features = module.weight.shape
    return nn.Linear(in_features, out_features, bias=bound["bias"] is not None)


def _convolution(bound: dict[str, Any], module: Any, shape: tuple[int, ...]) -> Any:
    """The Conv1d/2d/3d of the input's rank (timm's Conv2dSame pads, then calls F.conv2d)."""
    from torch import nn

    cls = {3: nn.Conv1d, 4: nn.Conv2d, 5: nn.Conv3d}[len(shape)]
    weight = module.weight
    return cls(shape[1], weight.shape[0], tuple(weight.shape[2:]), stride=bound["stride"],
               padding=bound["padding"], dilation=bound["dilation"], groups=bound["groups"],
               bias=bound["bias"] is not None)


def _functions() -> dict[Any, _Function]:
    import torch.nn.functional as F

    convolution = _Function(("input", "weight", "bias", "stride", "padding", "dilation",
                             "groups"),
                            {"bias": None, "stride": 1, "padding": 0, "dilation": 1,
                             "groups": 1}, ("weight", "bias"), _convolution)
    return {
        F.conv1d: convolution, F.conv2d: convolution, F.conv3d: convolution,
        F.layer_norm: _Function(("input", "normalized_shape", "weight", "bias", "eps"),
                                {"weight": None, "bias": None, "eps": 1e-5},
                                ("weight", "bias"), _layer_norm),
        F.group_norm: _Function(("input", "num_groups", "weight", "bias", "eps"),
                                {"weight": None, "bias": None, "eps": 1e-5},
                                ("weight", "bias"), _group_norm),
        F.batch_norm: _Function(("input", "running_mean", "running_var", "weight", "bias",
                                 "training", "momentum", "eps"),
                                {"weight": None, "bias": None, "training": False,
                                 "momentum": 0.1, "eps": 1e-5},
                                ("running_mean", "running_var", "weight", "bias"), _batch_norm),
        F.linear: _Function(("input", "weight", "bias"), {"bias": None}, ("weight", "bias"),
                            _linear),
    }
