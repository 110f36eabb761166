"""Tracing with torch.export when torch.fx's symbolic tracing cannot run forward.

Symbolic tracing fails on code that treats sizes as numbers (`B, T, C = x.size()`, then
`self.bias[:, :, :T, :T]`) and on most Hugging Face models ("'Proxy' object does not support
item assignment"). `torch.export` in non-strict mode runs forward on real values and records
ATen operations, each with the stack of module calls it ran in (`nn_module_stack`). This
module turns that program back into the kind of graph symbolic tracing gives, over the user's
own module, so the same translator reads it:

- the operations of one call of a leaf module (nn.Linear, nn.LayerNorm, ...) become one
  `call_module` node again, so the layer keeps its module and weights;
- parameters and buffers read directly become `get_attr` nodes with their module paths;
- every other ATen operation becomes the torch call a person writes (`aten.matmul` ->
  `operator.matmul`, `aten.slice` -> `x[:, :, 0:6]`); one without an equivalent stays the ATen
  operation, which the translator names in its refusal with the line of source.

The batch dimension is exported as dynamic, so the graph also runs with another batch size
(engine.importing.tracing.propagate runs it twice).
"""

from __future__ import annotations

import operator
import sys
import traceback
from typing import Any

from engine.errors import DesignError
from engine.importing.tracing import user_frame

_ROOT_KEY = "L__self__"
_FULL_SLICE_END = sys.maxsize


def export_graph(module: Any, inputs: tuple[Any, ...], is_leaf: Any) -> Any:
    """An fx Graph over `module` equivalent to its exported program on `inputs`; `is_leaf`
    (module, path) -> bool says which module calls stay calls. DesignError naming the
    source line when torch.export cannot run forward either."""
    import torch
    from torch.export import Dim

    try:
        program = torch.export.export(module, inputs, strict=False,
                                      dynamic_shapes=tuple({0: Dim.AUTO} for _ in inputs))
    except Exception as err:  # noqa: BLE001 - user code fails under export in many ways
        reason = str(err).strip().splitlines()[0] if str(err).strip() else repr(err)
        where = user_frame(traceback.extract_tb(err.__traceback__))
        raise DesignError(f"cannot export {type(module).__name__}.forward{where}: {reason}",
                          [f"cannot export{where}: {reason}"]) from None
    return _Rebuilder(module, program, is_leaf).graph


class _Rebuilder:
    """Copies an exported program's graph node by node into a new fx Graph (see module doc)."""

    def __init__(self, module: Any, program: Any, is_leaf: Any) -> None:
        from torch import fx

        self.module, self.is_leaf = module, is_leaf
        self.graph = fx.Graph()
        self.values: dict[Any, Any] = {}
        self.weights: dict[Any, str] = {}  # parameter placeholders not yet made get_attr
        self.attributes = _attribute_inputs(program.graph_signature)
        self.constants = program.constants
        nodes = list(program.graph.nodes)
        self.leaf_calls = self._leaf_calls(nodes)
        members: dict[str, list[Any]] = {}
        for node in nodes:
            if node in self.leaf_calls:
                members.setdefault(self.leaf_calls[node][0], []).append(node)
        self.lifted = {key: _border(group) for key, group in members.items()}
        for node in nodes:
            self._copy(node)

    # ------------------------------------------------------------------ leaf calls
    def _leaf_calls(self, nodes: list[Any]) -> dict[Any, tuple[str, str, dict]]:
        """node -> (call key, module path, fx-style stack up to that call) for every operation
        inside a call of a leaf module."""
        found = {}
        for node in nodes:
            stack = _fx_stack(node)
            for depth, (key, (path, _)) in enumerate(stack.items()):
                if self.is_leaf(self.module.get_submodule(path), path):
                    found[node] = (key, path, dict(list(stack.items())[:depth + 1]))
                    break
        return found

    # ------------------------------------------------------------------ copying
    def _copy(self, node: Any) -> None:
        if node.op == "placeholder":
            self._placeholder(node)
        elif node.op == "output":
            self.graph.output(self._arg(node.args[0]))
        elif node in self.leaf_calls:
            self._leaf_member(node)
        else:
            target, args, kwargs = torch_call(node.target, node.args, node.kwargs)
            kind = "call_method" if isinstance(target, str) else "call_function"
            self._emit(node, kind, target, self._arg(args), self._arg(kwargs), _fx_stack(node))

    def _placeholder(self, node: Any) -> None:
        if node.name in self.attributes:
            kind, name = self.attributes[node.name]
            if kind == "constant":
                value = self.graph.call_function(constant_tensor, (self.constants[name],))
                value.stack_trace = next(  # where forward makes it: where it is first used
                    (user.meta.get("stack_trace") for user in node.users), None)
                value.meta["nn_module_stack"] = {}
                self.values[node] = value
            else:  # made where first used, inside the call of the module that owns it
                self.weights[node] = name
        else:
            self.values[node] = self.graph.placeholder(node.name)

    def _leaf_member(self, node: Any) -> None:
        """The leaf call is made where its result is produced; its other operations vanish.
        A call with several results stays as its ATen operations (the translator names
        them)."""
        key, path, stack = self.leaf_calls[node]
        inputs, outputs = self.lifted[key]
        if len(outputs) != 1:
            target, args, kwargs = torch_call(node.target, node.args, node.kwargs)
            kind = "call_method" if isinstance(target, str) else "call_function"
            self._emit(node, kind, target, self._arg(args), self._arg(kwargs), _fx_stack(node))
        elif node is outputs[0]:
            args = tuple(self._value(value) for value in inputs
                         if not self._owned_attribute(value, path))
            self._emit(node, "call_module", path, args, {}, stack)

    def _owned_attribute(self, value: Any, path: str) -> bool:
        kind_name = self.attributes.get(value.name) if value.op == "placeholder" else None
        return kind_name is not None and kind_name[1].startswith(f"{path}.")

    def _emit(self, source: Any, kind: str, target: Any, args: Any, kwargs: Any,
              stack: dict) -> None:
        made = self.graph.create_node(kind, target, args, kwargs, name=source.name)
        made.meta["nn_module_stack"] = stack
        made.stack_trace = source.meta.get("stack_trace")
        self.values[source] = made

    def _arg(self, value: Any) -> Any:
        from torch import fx

        return fx.node.map_arg(value, self._value)

    def _value(self, node: Any) -> Any:
        if node in self.weights:
            name = self.weights.pop(node)
            self.values[node] = self.graph.get_attr(name)
            self.values[node].meta["nn_module_stack"] = _owner_stack(node, name)
        return self.values[node]


def torch_call(target: Any, args: tuple, kwargs: dict) -> tuple[Any, tuple, dict]:
    """The torch-level call (function, or method name) that an ATen operation stands for, as
    a person writes it; the operation itself when there is none."""
    table = _torch_calls()
    name = getattr(getattr(target, "overloadpacket", None), "__name__", None)
    if name == "slice" and len(args) >= 2:
        return operator.getitem, (args[0], _slices(*args[1:])), {}
    if name == "select" and len(args) == 3:
        return operator.getitem, (args[0], (*[slice(None)] * args[1], args[2])), {}
    if name in ("softmax", "log_softmax") and len(args) == 3 and not args[2]:
        args = args[:2]  # half_to_float is False: the call F.softmax(x, dim) makes
    if name == "embedding" and len(args) == 2:
        args = (args[1], args[0])  # aten.embedding(weight, ids) is F.embedding(ids, weight)
    if name == "batch_norm" and len(args) == 9:  # weights first, then running statistics
        source, weight, bias, mean, variance, *settings, _ = args
        args = (source, mean, variance, weight, bias, *settings)
    if name in ("layer_norm", "group_norm") and len(args) == 6:
        args = args[:5]  # without cudnn_enable, which F.layer_norm and F.group_norm lack
    if name in table and not (name in ("add", "sub") and kwargs.get("alpha", 1) != 1):
        return table[name], args, kwargs
    return target, args, kwargs


def constant_tensor(value: Any) -> Any:
    """A tensor forward creates from constants (`torch.tensor([...])`), lifted by export."""
    return value


def _torch_calls() -> dict[str, Any]:
    import torch
    import torch.nn.functional as F

    return {
        "add": operator.add, "sub": operator.sub, "mul": operator.mul,
        "div": operator.truediv, "matmul": operator.matmul, "bmm": operator.matmul,
        "neg": operator.neg, "pow": operator.pow, "eq": operator.eq,
        "view": "view", "_unsafe_view": "view", "reshape": torch.reshape,
        "unsqueeze": torch.unsqueeze, "squeeze": torch.squeeze, "flatten": torch.flatten,
        "transpose": torch.transpose, "permute": torch.permute, "contiguous": "contiguous",
        "alias": "contiguous",  # the same values (a slice that keeps everything)
        "expand": "expand", "expand_as": "expand_as", "sym_size": "size",
        "masked_fill": "masked_fill", "gather": torch.gather, "roll": torch.roll,
        "addmm": torch.addmm,
        "cat": torch.cat, "split": torch.split, "split_with_sizes": torch.split,
        "chunk": torch.chunk, "unbind": torch.unbind, "mean": torch.mean, "sum": torch.sum,
        "exp": torch.exp, "log": torch.log, "sqrt": torch.sqrt, "rsqrt": torch.rsqrt,
        "abs": torch.abs, "relu": F.relu, "gelu": F.gelu, "silu": F.silu,
        "sigmoid": torch.sigmoid, "tanh": torch.tanh, "softmax": F.softmax,
        "log_softmax": F.log_softmax, "dropout": F.dropout, "layer_norm": F.layer_norm,
        "group_norm": F.group_norm, "batch_norm": F.batch_norm,
        "embedding": F.embedding, "linear": F.linear, "pad": F.pad,
        "conv1d": F.conv1d, "conv2d": F.conv2d, "conv3d": F.conv3d,
        "scaled_dot_product_attention": F.scaled_dot_product_attention,
    }


def _slices(dim: int, start: Any = None, end: Any = None, step: Any = 1) -> tuple:
    """aten.slice's (dim, start, end, step) as the index `x[:, :, start:end]`."""
    end = None if end == _FULL_SLICE_END else end
    start = None if start == 0 else start
    return (*[slice(None)] * dim, slice(start, end, None if step == 1 else step))


def _attribute_inputs(signature: Any) -> dict[str, tuple[str, str]]:
    """Placeholder name -> ("attribute", module path) for parameters and buffers, or
    ("constant", name) for tensors export lifted out of forward."""
    from torch.export.graph_signature import InputKind

    found = {}
    for spec in signature.input_specs:
        if spec.kind in (InputKind.PARAMETER, InputKind.BUFFER):
            found[spec.arg.name] = ("attribute", spec.target)
        elif spec.kind == InputKind.CONSTANT_TENSOR:
            found[spec.arg.name] = ("constant", spec.target)
    return found


def _fx_stack(node: Any) -> dict[str, tuple[str, str]]:
    """The node's module calls as symbolic tracing records them: the root left out, a call
    keyed by its path (`block@1` for its second call)."""
    stack = node.meta.get("nn_module_stack") or {}
    return {key[len(_ROOT_KEY):]: (path, kind) for key, (path, kind) in stack.items()
            if key.startswith(_ROOT_KEY) and path}


def _owner_stack(node: Any, name: str) -> dict[str, tuple[str, str]]:
    """The module calls down to the one whose module owns the weight `name`, taken from the
    first use of it (a class token read in `embeddings.forward` belongs to that call, as
    symbolic tracing records it); {} when no use runs inside its owner."""
    owner = name.rpartition(".")[0]
    stack = _fx_stack(next(iter(node.users))) if node.users else {}
    calls = list(stack.items())
    for depth, (_, (path, _)) in enumerate(calls):
        if path == owner:
            return dict(calls[:depth + 1])
    return {}


def _border(members: list[Any]) -> tuple[list[Any], list[Any]]:
    """The values a group of nodes takes from outside (in order of use) and the members
    used outside it."""
    inside = set(members)
    inputs: list[Any] = []
    for node in members:
        inputs.extend(source for source in node.all_input_nodes
                      if source not in inside and source not in inputs)
    outputs = [node for node in members if any(user not in inside for user in node.users)]
    return inputs, outputs
