"""Turning a traced fx graph into design nodes, one operation at a time.

Every fx node becomes a layer node, an alias of its input (`x.contiguous()`), a plain value
that only feeds shape arithmetic (`x.size(1) // 2`), or a problem naming the operation and the
line of source that created it. Reshapes are read from the shapes the trace produced, not from
their arguments, so a size taken from the example's batch never ends up in the design.
"""

from __future__ import annotations

import functools
import operator
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine.design import Design
from engine.errors import DesignError
from engine.importing.batch_folding import BatchFolds
from engine.importing.constants import FixedTensors, buffer_name
from engine.importing.einsum import translate_einsum
from engine.importing.fixed_buffers import remaking_init
from engine.importing.hierarchy import Hierarchy
from engine.importing.indexing import take, tensor_position
from engine.importing.layers import Functional, Unsupported, functional_table, layer_for_module
from engine.importing.masks import mask_meaning
from engine.importing.refusal import Refusal
from engine.importing.scopes import DTYPES, Placement
from engine.importing.tracing import TensorMeta, contains_tensor, location
from engine.layers import TensorInfo

_OPERATORS = {operator.add: "+", operator.iadd: "+=", operator.mul: "*", operator.imul: "*=",
              operator.sub: "-", operator.isub: "-=", operator.truediv: "/",
              operator.itruediv: "/=", operator.floordiv: "//", operator.pow: "**",
              operator.matmul: "@", operator.getitem: "[]", operator.neg: "unary -",
              operator.eq: "==", operator.ne: "!=", operator.lt: "<", operator.le: "<=",
              operator.gt: ">", operator.ge: ">="}
# Binary operations: (the layer for two tensors, the Arithmetic operation for tensor and
# constant, the one for constant and tensor, or None where the design cannot express it).
_BINARY = {"add": ("Add", "x + c", "x + c"), "mul": ("Multiply", "x * c", "x * c"),
           "sub": ("Subtract", "x - c", "c - x"), "div": ("Divide", "x / c", "c / x"),
           "pow": ("Power", "x ** c", None)}
# Element-wise functions the Elementwise layer applies, by the name torch gives them.
_FUNCTIONS = ("exp", "log", "sqrt", "rsqrt", "abs", "neg")
_BUFFER_DTYPES = {**DTYPES, "torch.bool": "bool"}
# Comparisons: (the operator, the Compare operation, the one with the operands swapped).
_COMPARISONS = {"eq": (operator.eq, "==", "=="), "ne": (operator.ne, "!=", "!="),
                "lt": (operator.lt, "<", ">"), "le": (operator.le, "<=", ">="),
                "gt": (operator.gt, ">", "<"), "ge": (operator.ge, ">=", "<=")}


@dataclass
class _Recurrent:
    """An RNN/LSTM/GRU call, waiting to see which part of its (output, state) result is used."""

    call: Any
    module: Any
    node: str | None = None
    output: str | None = None


@dataclass
class _State:
    """The (h_n, c_n) state of an LSTM."""

    recurrent: _Recurrent


@dataclass
class _Hidden:
    """h_n: the final hidden state of every layer (and direction)."""

    recurrent: _Recurrent


@dataclass
class _Outputs:
    """A result whose items are the outputs of one design node: chunk/split/unbind's pieces,
    a MultiheadAttention call's (output, weights)."""

    node: str
    count: int


class GraphTranslator:
    """Adds the nodes for one traced module to a design and collects the problems: the
    network's own operations to `network`, those of each block call to its scratch
    definition (engine.importing.scopes).

    `first` and `second` are the summaries of running the trace with batch sizes `batch` and
    `batch + 1`; `folded` gives the (layer, parameters) of calls engine.importing.own_weights
    made.
    """

    def __init__(self, root: Any, graph: Any, first: dict[Any, Any], second: dict[Any, Any],
                 batch: int, design: Design, network: str, kept: list[Any] | None = None,
                 folded: dict[Any, tuple[str, dict[str, Any]]] | None = None) -> None:
        self.root, self.graph = root, graph
        self.folded = folded or {}  # calls of modules that are layers (own_weights)
        self.layer_modules = {node.target for node in self.folded}
        self.first, self.second, self.batch = first, second, batch
        self.pending: dict[Any, Any] = {}
        self.constants = FixedTensors()  # tensors forward makes from numbers: their values
        self.fixed_buffers: dict[tuple[Any, Any], str] = {}  # (constant, scope) -> Buffer
        self.batch_second: set[Any] = set()  # permutes that put the batch second
        self.concatenations: dict[tuple[tuple[Any, ...], Any], Any] = {}
        self.broken: set[Any] = set()
        self.refusals: list[Refusal] = []
        self.live = _live_nodes(graph, kept or [])
        self.calls = Counter(node.target for node in self.live if node.op == "call_module")
        self.hierarchy = Hierarchy(root, graph, self.live, first, second)
        self.folds = BatchFolds(self)  # tensors that fold the batch with positions
        self.placement = Placement(design, network, self.hierarchy, first,
                                   self.folds.sample_shape)
        self.origin = self.placement.origin
        self.current = self.hierarchy.root
        self.functions = functional_table()
        self.handlers = self._handlers()

    # ------------------------------------------------------------------ driving
    def run(self) -> None:
        for node in self.graph.nodes:
            if node not in self.live:
                continue
            try:
                self.current = self.hierarchy.scope_of(node)
                self.placement.open(self.current)
                if any(source in self.broken for source in node.all_input_nodes):
                    self.broken.add(node)
                    self._diagnose(node)
                else:
                    self._translate(node)
            except Unsupported as err:
                self.refusals.append(self.refusal(node, str(err)))
                self._stand_in(node)
        self.placement.finish()

    def _stand_in(self, node: Any) -> None:
        """Let a refused operation's tensor be an Input, so that every later operation is
        translated (and refused) on its own: one import lists every problem at once."""
        meta, again = self.first.get(node), self.second.get(node)
        if isinstance(meta, TensorMeta) and isinstance(again, TensorMeta) \
                and meta.shape[1:] == again.shape[1:] and str(meta.dtype) in DTYPES:
            self._keep(node, self.placement.add(
                self.current, node, "Input", [], self._unique("refused"),
                shape=self.folds.sample_shape(node), dtype=DTYPES[str(meta.dtype)]))
        else:
            self.broken.add(node)

    def used_modules(self) -> set[str]:
        return set(self.calls)

    def refusal(self, node: Any, reason: str) -> Refusal:
        """`reason` for refusing `node`, with what it is and where its source line is."""
        if node.op == "call_module":
            module = self.root.get_submodule(node.target)
            return Refusal(type(module).__name__, reason, location(node), node.target)
        if node.op == "get_attr":
            return Refusal("attribute", reason, location(node), node.target)
        return Refusal(self.describe(node), reason, location(node))

    def describe(self, node: Any) -> str:
        """How an fx node reads in a problem listing."""
        if node.op == "call_module":
            return f"{type(self.root.get_submodule(node.target)).__name__} '{node.target}'"
        if node.op == "call_method":
            return f"Tensor.{node.target}"
        if node.op == "call_function":
            if node.target in _OPERATORS:
                return f"operator {_OPERATORS[node.target]}"
            module = getattr(node.target, "__module__", None) or "torch"
            alias = {"torch.nn.functional": "F", "torch._C._nn": "F",
                     "torch._C._VariableFunctions": "torch"}.get(module, module)
            return f"{alias}.{getattr(node.target, '__name__', node.target)}"
        if node.op == "get_attr":
            return f"parameter '{node.target}'"
        if node.op == "placeholder":
            return f"input '{node.target}'"
        return "the returned value"

    def _diagnose(self, node: Any) -> None:
        """For an operation after a failed one: report it only if it has no layer itself."""
        if node.op == "call_module":
            module = self.root.get_submodule(node.target)
            if node not in self.folded and not isinstance(module, _recurrent_types()) \
                    and node.args:
                layer_for_module(module, [self._info(node.args[0])])
        elif node.op in ("call_function", "call_method") and node.target not in self.handlers \
                and node.target not in self.functions and contains_tensor(self.first[node]):
            raise Unsupported("has no NeuralCanvas layer")

    def _translate(self, node: Any) -> None:
        self.folds.follow(node)
        if node.op == "placeholder":
            self._input(node)
        elif node.op == "output":
            self._outputs(node)
        elif node.op == "get_attr":
            self._attribute(node)
        elif node.op == "call_module":
            self._module_call(node)
        elif self._makes_constant(node):
            self.constants.add(node, self.first, self.second)
        elif node.target in self.handlers and (node.target is operator.getitem
                                               or contains_tensor(self.first[node])):
            self.handlers[node.target](node)
        elif not contains_tensor(self.first[node]):
            return  # a plain value (a size, a number) that feeds shape arithmetic
        elif node.target in self.functions:
            self._functional(node, self.functions[node.target])
        else:
            raise Unsupported("has no NeuralCanvas layer")

    # ------------------------------------------------------------------ values
    def _tensor(self, value: Any) -> str | tuple[str, int]:
        """The design node (or a node's output) that produces the tensor an fx argument
        refers to."""
        if value in self.batch_second:
            raise Unsupported(f"uses the result of {self.describe(value)}, whose batch is its "
                              "second dimension, other than by unbind(0) or [i]")
        if self.placement.has(value):
            return self.placement.place(value, self.current)
        if value in self.pending:
            raise Unsupported(f"uses the whole result of {self.describe(value)} as one tensor")
        if value in self.constants:
            return self._fixed_buffer(value)
        raise Unsupported("receives something that is not a tensor from a layer")

    def _makes_constant(self, node: Any) -> bool:
        """Whether a call makes a tensor from numbers alone (`torch.full((T, T), -inf)`, then
        `.triu(1)`): the same whatever the input's values, such as a causal mask."""
        return node.op in ("call_function", "call_method") and contains_tensor(
            self.first[node]) and all(value in self.constants or not self._is_tensor(value)
                                      for value in node.all_input_nodes)

    def _fixed_buffer(self, value: Any) -> str:
        """The non-persistent Buffer node of the current scope that holds a tensor forward
        makes from numbers alone (engine.importing.constants)."""
        key = (value, self.current)
        if key not in self.fixed_buffers:
            tensor = self.constants.held(value, self.batch)
            dtype = _BUFFER_DTYPES.get(str(tensor.dtype))
            if dtype is None or not tensor.dim():
                raise Unsupported(f"uses a tensor made from numbers alone ({tensor.dtype}, "
                                  f"shape {tuple(tensor.shape)}) that no Buffer node holds")
            init = remaking_init(tensor, dtype, "uses a tensor made from numbers alone")
            self.fixed_buffers[key] = self._add(
                value, "Buffer", [], self._unique(buffer_name(dtype)),
                shape=tuple(tensor.shape), dtype=dtype, persistent=False, **init)
        return self.fixed_buffers[key]

    def _info(self, value: Any) -> TensorInfo:
        meta = self.first[value]
        return TensorInfo(("N", *self.folds.sample_shape(value)),
                          DTYPES.get(str(meta.dtype), "float"))

    def _static(self, value: Any) -> Any:
        """A concrete argument; one that changes with the batch size is refused."""
        from torch import fx

        if isinstance(value, fx.Node):
            if contains_tensor(self.first[value]):
                raise Unsupported("uses a tensor where a number is expected")
            if self.first[value] != self.second[value]:
                raise Unsupported(f"uses a value that depends on the batch size "
                                  f"({self.describe(value)})")
            return self.first[value]
        if isinstance(value, slice):
            return slice(self._static(value.start), self._static(value.stop),
                         self._static(value.step))
        if isinstance(value, (tuple, list)):
            return type(value)(self._static(item) for item in value)
        return value

    def _from_weights_alone(self, node: Any) -> bool:
        """Whether the node's tensor inputs and result are the same whatever the batch."""
        tensors = [value for value in node.all_input_nodes if self._is_tensor(value)]
        return bool(tensors) and all(isinstance(self.first[value], TensorMeta)
                                     and self.first[value] == self.second[value]
                                     for value in [*tensors, node])

    def _check_batched(self, node: Any) -> None:
        first, second = self.first[node], self.second[node]
        if not (isinstance(first, TensorMeta) and isinstance(second, TensorMeta)):
            raise Unsupported("does not produce a single tensor")
        if self.folds.fits(node):
            return
        if first.shape[:1] != (self.batch,) or second.shape[:1] != (self.batch + 1,) \
                or first.shape[1:] != second.shape[1:]:
            raise Unsupported(f"does not keep the batch as the first dimension (it gives "
                              f"{first.shape} for a batch of {self.batch})")

    # ------------------------------------------------------------------ nodes
    def _add(self, node: Any, layer: str, inputs: list[str], name: str, **params: Any) -> str:
        try:
            return self.placement.add(self.current, node, layer, inputs, name, **params)
        except DesignError as err:
            raise Unsupported(str(err)) from None

    def _keep(self, node: Any, node_id: str) -> None:
        """`node`'s value is what design node `node_id` (in the current scope) gives."""
        self.placement.record(node, self.current, node_id)

    def _produce(self, node: Any, layer: str, inputs: list[str], **params: Any) -> None:
        """Add the layer for an operation whose result is one batched tensor, or one computed
        from parameters and buffers alone (`self.bias[:, :, :T, :T] == 0`)."""
        if not self._from_weights_alone(node):
            self._check_batched(node)
        self._keep(node, self._add(node, layer, inputs, self._name(node, layer), **params))

    def _name(self, node: Any, layer: str) -> str:
        """A module's path as seen from the current scope (`conv1`, `layer1.0.conv1` at the
        top when layer1 is no block), or the operation inside the module that performs it
        (`add`); unique, and never the path of a module called elsewhere."""
        if node.op == "call_module":
            path = self._outside_layers(node.target)
            return self._unique(self.current.relative(path), own_module=path == node.target)
        op = node.target if isinstance(node.target, str) else getattr(
            node.target, "__name__", layer.lower())
        op = layer.lower() if op in ("getitem", "iadd", "imul") else op.strip("_")
        module = self.current.relative(self._outside_layers(self.hierarchy.module_path(node)))
        return self._unique(f"{module}.{op}" if module else op)

    def _outside_layers(self, path: str) -> str:
        """A module path that runs through a module which is itself a layer (the activation
        of timm's BatchNormAct2d, `bn1.act`) joined at that module with "_" (`bn1_act`): a
        layer's module holds no others."""
        parts = path.split(".")
        for end in range(len(parts) - 1, 0, -1):
            if ".".join(parts[:end]) in self.layer_modules:
                return f"{'.'.join(parts[:end])}_{'.'.join(parts[end:])}"
        return path

    def _unique(self, base: str, own_module: bool = False) -> str:
        return self.placement.unique(self.current, base, own_module)

    def _input(self, node: Any) -> None:
        meta = self.first[node]
        if not isinstance(meta, TensorMeta):
            raise Unsupported("forward takes an input that is not a tensor")
        if str(meta.dtype) not in DTYPES:
            raise Unsupported(f"inputs of dtype {meta.dtype} are not supported (only float32 "
                              "and int64)")
        self._check_batched(node)
        self._keep(node, self._add(node, "Input", [], self._unique(node.target),
                                   shape=tuple(meta.shape[1:]), dtype=DTYPES[str(meta.dtype)]))

    def _attribute(self, node: Any) -> None:
        """A parameter or buffer read in forward (`self.cls_token`, LayerScale's `gamma`): a
        Parameter or Buffer node of its shape, named by its attribute so its weights keep
        their key."""
        meta = self.first[node]
        kinds = {"Parameter": dict(self.root.named_parameters()),
                 "Buffer": dict(self.root.named_buffers())}
        layer = next((kind for kind, tensors in kinds.items() if node.target in tensors), None)
        if layer is None or not isinstance(meta, TensorMeta):
            raise Unsupported("reads a tensor that is neither a parameter nor a buffer")
        dtype = _BUFFER_DTYPES.get(str(meta.dtype))
        if dtype is None or (layer == "Parameter" and dtype != "float"):
            raise Unsupported(f"reads a {layer.lower()} of dtype {meta.dtype}; Parameter nodes "
                              "hold float32, Buffer nodes float32, int64 or bool")
        owner, _, attribute = node.target.rpartition(".")
        settings = {"dtype": dtype} if layer == "Buffer" else {}
        if attribute in self.root.get_submodule(owner)._non_persistent_buffers_set:
            tensor = self.root.get_buffer(node.target)
            settings.update(remaking_init(tensor, dtype), persistent=False)
        if owner in self.calls:
            raise Unsupported(f"reads a tensor of '{owner}', which forward also calls as a layer "
                              "(tied weights); a layer node's weights are its own")
        name = self.current.relative(node.target)
        node_id = self._add(node, layer, [], self._unique(name, own_module=True),
                            shape=meta.shape, **settings)
        if self.placement.design.node(node_id).name != name:
            raise Unsupported(f"the {layer.lower()} cannot keep its name {name!r} in the design")
        self._keep(node, node_id)

    def _outputs(self, node: Any) -> None:
        """One Output per returned tensor; a dict's (a feature extractor's) named by its keys."""
        result = node.args[0]
        if isinstance(result, dict):
            named = [(str(key), value) for key, value in result.items()]
        else:
            values = list(result) if isinstance(result, (tuple, list)) else [result]
            named = [("output", value) for value in values]
        sources = [(name, self._tensor(value)) for name, value in named]
        for name, source in sources:
            self._add(node, "Output", [source], self._unique(name))

    def _module_call(self, node: Any) -> None:
        from torch import nn

        module = self.root.get_submodule(node.target)
        holds_weights = any(True for _ in module.parameters()) or any(
            True for _ in module.buffers())
        if self.calls[node.target] > 1 and holds_weights:
            raise Unsupported(f"is called {self.calls[node.target]} times, sharing its weights; "
                              "each layer node has weights of its own")
        if isinstance(module, nn.MultiheadAttention):
            self._attention(node, module)
            return
        if isinstance(module, nn.TransformerDecoderLayer):
            self._decoder_layer(node, module)
            return
        if node.kwargs:
            raise Unsupported(f"is given {', '.join(node.kwargs)}; the layer takes one tensor "
                              "and nothing else")
        if len(node.args) != 1:
            raise Unsupported("takes more than one input; layers take one tensor")
        self._tensor(node.args[0])   # refuses an input no layer can take (batch second)
        if node in self.folded:
            layer, params = self.folded[node]
            self.folds.produce_layer(node, layer, node.args[0], params)
            return
        if isinstance(module, _recurrent_types()):
            self.pending[node] = _Recurrent(node, module)
            return
        layer, params = layer_for_module(module, [self._info(node.args[0])],
                                         use=self.folds.settings_for(node.args[0], module))
        self.folds.produce_layer(node, layer, node.args[0], params)

    def _attention(self, node: Any, module: Any) -> None:
        """`attention(x, x, x, need_weights=False)` (self-attention: one input) or
        `attention(query, key, value)` (three): a MultiheadAttention node whose outputs are
        the result's items, the output and, with need_weights, the weights."""
        names = ("query", "key", "value", "key_padding_mask", "need_weights", "attn_mask",
                 "average_attn_weights", "is_causal")
        query, key, value, padding, weights, mask, average, causal = bind_arguments(node, names, {
            "key_padding_mask": None, "need_weights": True, "attn_mask": None,
            "average_attn_weights": True, "is_causal": False})
        if padding is not None or mask is not None or self._static(causal):
            raise Unsupported("uses an attention mask; the MultiheadAttention layer has none")
        sources = [query] if key is query and value is query else [query, key, value]
        use = {"need_weights": bool(self._static(weights)),
               "average_attn_weights": bool(self._static(average))}
        layer, params = layer_for_module(module, [self._info(s) for s in sources], use=use)
        node_id = self._add(node, layer, [self._tensor(s) for s in sources],
                            self._name(node, layer), **params)
        self.pending[node] = _Outputs(node_id, 2 if use["need_weights"] else 1)

    def _decoder_layer(self, node: Any, module: Any) -> None:
        """`decoder(tgt, memory)`, with or without the causal target mask nn.Transformer makes
        (`tgt_mask`, `tgt_is_causal`); other masks have no place in the layer."""
        import torch
        from torch import nn

        names = ("tgt", "memory", "tgt_mask", "memory_mask", "tgt_key_padding_mask",
                 "memory_key_padding_mask", "tgt_is_causal", "memory_is_causal")
        target, memory, mask, *others = bind_arguments(node, names, {
            name: None for name in names[2:6]} | {"tgt_is_causal": False,
                                                  "memory_is_causal": False})
        if any(value is not None for value in others[:3]) or self._static(others[4]):
            raise Unsupported("uses a memory or padding mask; the TransformerDecoderLayer "
                              "layer masks the target causally or not at all")
        length = self.first[target].shape[1]
        causal = nn.Transformer.generate_square_subsequent_mask(length)
        if mask is not None and not (mask in self.constants and torch.equal(
                self.constants[mask], causal)):
            raise Unsupported("masks the target with something other than the causal mask "
                              "nn.Transformer.generate_square_subsequent_mask makes")
        layer, params = layer_for_module(module, [self._info(target), self._info(memory)],
                                         use={"tgt_is_causal": mask is not None})
        self._produce(node, layer, [self._tensor(target), self._tensor(memory)], **params)

    def _functional(self, node: Any, functional: Functional) -> None:
        args = list(node.args)
        if not args and "input" in node.kwargs:
            args = [node.kwargs["input"]]
        kwargs = {k: v for k, v in node.kwargs.items() if k != "input"}
        self._tensor(args[0])
        module = functional.build(tuple(self._static(args[1:])), self._static(kwargs))
        layer, params = layer_for_module(module, [self._info(args[0])])
        self.folds.produce_layer(node, layer, args[0], params)

    # ------------------------------------------------------------------ operations
    def _handlers(self) -> dict[Any, Callable[[Any], None]]:
        import torch

        handlers: dict[Any, Callable[[Any], None]] = {}
        binary = {"add": (operator.add, operator.iadd, torch.add, "add", "add_"),
                  "mul": (operator.mul, operator.imul, torch.mul, "mul", "mul_"),
                  "sub": (operator.sub, operator.isub, torch.sub, "sub", "sub_"),
                  "div": (operator.truediv, operator.itruediv, torch.div, "div", "div_"),
                  "pow": (operator.pow, torch.pow, "pow")}
        for operation, targets in binary.items():
            for target in targets:
                handlers[target] = self._binary(*_BINARY[operation])
        for function in _FUNCTIONS:
            for target in (getattr(torch, function), function):
                handlers[target] = self._function(function)
        handlers[operator.neg] = self._function("neg")
        for target in (operator.matmul, torch.matmul, torch.bmm, "matmul", "bmm"):
            handlers[target] = self._matmul
        for target in (torch.cat, torch.concat, torch.concatenate):
            handlers[target] = self._concat
        for target in (torch.flatten, "flatten"):
            handlers[target] = self._flatten
        for target in ("view", "reshape", torch.reshape, "squeeze", "unsqueeze", torch.squeeze,
                       torch.unsqueeze, "view_as", "reshape_as"):
            handlers[target] = self._reshape
        for target in (torch.transpose, "transpose", torch.swapaxes, "swapaxes"):
            handlers[target] = self._transpose
        for target in (torch.permute, "permute"):
            handlers[target] = self._permute
        for target in (torch.mean, "mean", torch.sum, "sum"):
            handlers[target] = self._reduction
        for target in (torch.chunk, "chunk", torch.split, "split", torch.unbind, "unbind"):
            handlers[target] = self._pieces
        handlers["contiguous"] = self._alias
        for target in ("expand", "expand_as"):
            handlers[target] = self._expand
        handlers[operator.getitem] = self._getitem
        for function, (symbol, operation, swapped) in _COMPARISONS.items():
            for target in (symbol, getattr(torch, function), function):
                handlers[target] = self._compare(operation, swapped)
        for target in (torch.masked_fill, "masked_fill", "masked_fill_"):
            handlers[target] = self._masked_fill
        handlers[torch.nn.functional.scaled_dot_product_attention] = self._scaled_attention
        for target in ("to", *(getattr(torch.ops.aten.to, kind) for kind in (
                "dtype", "dtype_layout", "device"))):
            handlers[target] = self._cast
        for target in (torch.where, *(getattr(torch.ops.aten.where, kind) for kind in (
                "self", "ScalarOther"))):
            handlers[target] = self._where
        handlers[torch.nn.functional.interpolate] = self._interpolate
        handlers[torch.nn.functional.pad] = self._pad
        for target in (torch.gather, "gather"):
            handlers[target] = self._gather
        for target in (torch.roll, "roll"):
            handlers[target] = self._roll
        for target in (torch.addmm, "addmm"):
            handlers[target] = self._addmm
        handlers[torch.einsum] = functools.partial(translate_einsum, self)
        return handlers

    def _binary(self, layer: str, tensor_first: str,
                constant_first: str | None) -> Callable[[Any], None]:
        """`a + b` of two tensors (the layer, broadcasting as torch does), or of a tensor and
        a number (Arithmetic: `x * 0.5`, `1 - x`, `q / math.sqrt(d)`)."""
        def translate(node: Any) -> None:
            if len(node.args) != 2 or node.kwargs:
                raise Unsupported("takes arguments NeuralCanvas cannot express (only two "
                                  "operands)")
            left, right = node.args
            if self._is_tensor(left) and self._is_tensor(right):
                self._produce(node, layer, [self._tensor(left), self._tensor(right)])
                return
            tensor_left = self._is_tensor(left)
            operation = tensor_first if tensor_left else constant_first
            constant = self._static(right if tensor_left else left)
            if operation is None or type(constant) not in (int, float):
                raise Unsupported("combines a tensor with something other than a number in a "
                                  "way no layer expresses")
            source = self._tensor(left if tensor_left else right)
            self._produce(node, "Arithmetic", [source], operation=operation,
                          constant=float(constant))
        return translate

    def _compare(self, operation: str, swapped: str) -> Callable[[Any], None]:
        """`x == 0`, `0.5 < x`: a Compare node, its constant on the right."""
        def translate(node: Any) -> None:
            left, right = bind_arguments(node, ("input", "other"), {})
            if self._is_tensor(left) == self._is_tensor(right):
                raise Unsupported("compares two tensors (or two numbers); Compare takes a "
                                  "tensor and a number")
            tensor_left = self._is_tensor(left)
            constant = self._static(right if tensor_left else left)
            if type(constant) not in (int, float, bool):
                raise Unsupported("compares a tensor with something other than a number")
            self._produce(node, "Compare", [self._tensor(left if tensor_left else right)],
                          operation=operation if tensor_left else swapped,
                          constant=float(constant))
        return translate

    def _gather(self, node: Any) -> None:
        """`torch.gather(x, 1, index)`: a Gather node fed by the index."""
        source, dim, index = bind_arguments(node, ("input", "dim", "index"), {})
        self._produce(node, "Gather", [self._tensor(source), self._tensor(index)],
                      dim=self.folds.design_dim(source, self._static(dim)))

    def _roll(self, node: Any) -> None:
        """`torch.roll(x, shifts, dims)` (Swin's shifted windows): a Roll node."""
        source, shifts, dims = bind_arguments(node, ("input", "shifts", "dims"), {"dims": None})
        shifts, dims = self._static(shifts), self._static(dims)
        if dims is None:
            raise Unsupported("rolls the whole tensor flattened (no dims), which moves values "
                              "from one sample to another")
        shifts = tuple(shifts) if isinstance(shifts, (tuple, list)) else (shifts,)
        dims = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
        self._produce(node, "Roll", [self._tensor(source)], shifts=shifts,
                      dims=tuple(self.folds.design_dim(source, dim) for dim in dims))

    def _addmm(self, node: Any) -> None:
        """`torch.addmm(bias, x, weight)` (Hugging Face's Conv1D, over `x.view(-1, C)`): MatMul
        then Add, which compute the same sums in the same order."""
        bias, left, right, beta, alpha = bind_arguments(
            node, ("input", "mat1", "mat2", "beta", "alpha"), {"beta": 1, "alpha": 1})
        if self._static(beta) != 1 or self._static(alpha) != 1:
            raise Unsupported("scales by beta or alpha; only addmm(bias, x, w), x @ w + bias, "
                              "has layers")
        product = self._add(node, "MatMul", [self._tensor(left), self._tensor(right)],
                            self._name(node, "MatMul"))
        self._produce(node, "Add", [product, self._tensor(bias)])

    def _masked_fill(self, node: Any) -> None:
        """`x.masked_fill(mask, float("-inf"))`: a MaskedFill node fed by the mask."""
        source, mask, value = bind_arguments(node, ("input", "mask", "value"), {})
        value = self._static(value)
        if type(value) not in (int, float, bool):
            raise Unsupported("fills with a tensor; MaskedFill fills with a number")
        fill = {float("-inf"): "-inf", float("inf"): "inf"}.get(value, "value")
        options = {"value": float(value)} if fill == "value" else {}
        self._produce(node, "MaskedFill", [self._tensor(source), self._tensor(mask)],
                      fill=fill, **options)

    def _scaled_attention(self, node: Any) -> None:
        """F.scaled_dot_product_attention(q, k, v, mask): a ScaledDotProductAttention node
        (its dropout as the trace in evaluation mode passes it, usually 0). A mask made from
        numbers alone that keeps every score is left out, the causal one becomes is_causal
        (engine.importing.masks); any other is the node's input 3."""
        names = ("query", "key", "value", "attn_mask", "dropout_p", "is_causal", "scale",
                 "enable_gqa")
        *tensors, mask, dropout, causal, scale, grouped = bind_arguments(node, names, {
            "attn_mask": None, "dropout_p": 0.0, "is_causal": False, "scale": None,
            "enable_gqa": False})
        if self._static(grouped):
            raise Unsupported("uses enable_gqa; ScaledDotProductAttention takes as many key "
                              "and value heads as query heads")
        causal, scale = bool(self._static(causal)), self._static(scale)
        if mask in self.constants:
            meaning = mask_meaning(self.constants[mask], self.first[tensors[0]].shape[-2],
                                   self.first[tensors[1]].shape[-2])
            if meaning != "other":
                mask, causal = None, causal or meaning == "causal"
        sources = [*tensors, *([] if mask is None else [mask])]
        self._produce(node, "ScaledDotProductAttention", [self._tensor(t) for t in sources],
                      is_causal=causal, dropout_p=float(self._static(dropout)),
                      scale=None if scale is None else float(scale))

    def _cast(self, node: Any) -> None:
        """`x.to(torch.float32)`, `x.to(device)` that keep the dtype: the same tensor (a
        design runs on one device)."""
        source = node.args[0]
        if self.first[node].dtype != self.first[source].dtype:
            raise Unsupported(f"casts {self.first[source].dtype} to {self.first[node].dtype}; "
                              "NeuralCanvas has no layer that changes a tensor's dtype")
        self._alias(node)

    def _where(self, node: Any) -> None:
        """`torch.where(mask, x, other)` with a mask made from numbers alone that keeps every
        position (Hugging Face so merges its padding mask into T5's position bias): x."""
        condition, kept = bind_arguments(node, ("condition", "input", "other"), {})[:2]
        mask = self.constants.get(condition)
        if mask is None or not bool(mask.all()):
            raise Unsupported("chooses between two values by a mask that is not all True; "
                              "NeuralCanvas has no Where layer")
        self._keep(node, self._tensor(kept))

    def _interpolate(self, node: Any) -> None:
        """F.interpolate to the size of another tensor (`size=skip.shape[-2:]`): an
        Interpolate node fed by that tensor; by a scale factor: an Upsample node."""
        names = ("input", "size", "scale_factor", "mode", "align_corners",
                 "recompute_scale_factor", "antialias")
        source, size, scale, mode, corners, recompute, antialias = bind_arguments(node, names, {
            "size": None, "scale_factor": None, "mode": "nearest", "align_corners": None,
            "recompute_scale_factor": None, "antialias": False})
        mode, corners = self._static(mode), self._static(corners)
        if self._static(recompute) is not None or self._static(antialias):
            raise Unsupported("uses recompute_scale_factor or antialias, which NeuralCanvas's "
                              "resizing layers leave at their defaults")
        if size is None:
            scale = self._static(scale)
            scales = set(scale) if isinstance(scale, (tuple, list)) else {scale}
            if len(scales) != 1:
                raise Unsupported("scales the dimensions by different factors; Upsample "
                                  "scales every one by the same")
            self._produce(node, "Upsample", [self._tensor(source)],
                          scale_factor=float(scales.pop()), mode=mode,
                          align_corners=bool(corners))
            return
        reference = self._size_source(size, len(self.first[source].shape) - 2)
        self._produce(node, "Interpolate", [self._tensor(source), self._tensor(reference)],
                      mode=mode, align_corners=bool(corners))

    def _pad(self, node: Any) -> None:
        """`F.pad(x, (left, right, top, bottom), value=v)`: a Pad node."""
        source, amounts, mode, value = bind_arguments(node, ("input", "pad", "mode", "value"),
                                             {"mode": "constant", "value": None})
        if self._static(mode) != "constant":
            raise Unsupported(f"pads in {self._static(mode)!r} mode; the Pad layer adds a "
                              "constant border")
        self._produce(node, "Pad", [self._tensor(source)], pad=tuple(self._static(amounts)),
                      value=float(self._static(value) or 0.0))

    def _size_source(self, size: Any, count: int) -> Any:
        """The tensor whose last `count` sizes `size` is (`skip.shape[-2:]`,
        `(x.size(2), x.size(3))`), or Unsupported."""
        dims = self._dims_of(size)
        tensors = {tensor for tensor, _ in dims or ()}
        if len(tensors) == 1:
            tensor = tensors.pop()
            rank = len(self.first[tensor].shape)
            if [dim % rank for _, dim in dims] == list(range(rank - count, rank)):
                return tensor
        raise Unsupported("resizes to a size that is not the last sizes of one tensor "
                          "(write size=other.shape[-2:])")

    def _dims_of(self, value: Any) -> list[tuple[Any, int]] | None:
        """The (tensor, dimension) each entry of a size was read from, or None."""
        from torch import fx

        if isinstance(value, (tuple, list)):
            parts = [self._dims_of(item) for item in value]
            return None if None in parts else [dim for part in parts for dim in part]
        if not isinstance(value, fx.Node):
            return None
        if value.target is getattr and value.args[1] == "shape" or (
                value.target == "size" and len(value.args) == 1 and not value.kwargs):
            tensor = value.args[0]
            return [(tensor, dim) for dim in range(len(self.first[tensor].shape))]
        if value.target == "size" and len(value.args) == 2:
            return [(value.args[0], self._static(value.args[1]))]
        if value.target is operator.getitem:
            whole, index = value.args
            dims = self._dims_of(whole)
            if dims is None or not isinstance(index, (int, slice)):
                return None
            return dims[index] if isinstance(index, slice) else [dims[index]]
        return None

    def _is_tensor(self, value: Any) -> bool:
        from torch import fx

        return isinstance(value, fx.Node) and contains_tensor(self.first[value])

    def _function(self, function: str) -> Callable[[Any], None]:
        def translate(node: Any) -> None:
            if len(node.args) != 1 or node.kwargs:
                raise Unsupported("takes arguments NeuralCanvas cannot express")
            self._produce(node, "Elementwise", [self._tensor(node.args[0])], function=function)
        return translate

    def _matmul(self, node: Any) -> None:
        if len(node.args) != 2 or node.kwargs:
            raise Unsupported("takes arguments NeuralCanvas cannot express")
        self._produce(node, "MatMul", [self._tensor(value) for value in node.args])

    def _concat(self, node: Any) -> None:
        """A concatenation; one that extends an earlier one of the same scope (DenseNet joins
        every earlier feature map again) joins that result with the new tensors, so the code
        stays one short line per step. Joining is copying: the values are the same."""
        joined, dim = bind_arguments(node, ("tensors", "dim"), {"dim": 0})
        joined, dim = tuple(joined), self.folds.design_dim(joined[0], self._static(dim))
        if len(joined) == 1:
            self._keep(node, self._tensor(joined[0]))
            return
        sources = list(joined)
        for end in range(len(joined) - 1, 1, -1):
            earlier = self.concatenations.get((joined[:end], dim))
            if earlier is not None and self.hierarchy.scope_of(earlier) is self.current:
                sources = [earlier, *joined[end:]]
                break
        self.concatenations[(joined, dim)] = node
        self._produce(node, "Concat", [self._tensor(t) for t in sources], dim=dim)

    def _flatten(self, node: Any) -> None:
        source, start, end = bind_arguments(node, ("input", "start_dim", "end_dim"),
                                   {"start_dim": 0, "end_dim": -1})
        if node in self.folds.folds or source in self.folds.folds or self._static(start) == 0:
            self._reshape(node)  # it folds the batch (by k, or by 1: (B, 1, C) to (B, C)),
            return  # or flattens a folded tensor
        self._produce(node, "Flatten", [self._tensor(source)], start_dim=self._static(start),
                      end_dim=self._static(end))

    def _reshape(self, node: Any) -> None:
        """Any reshape, read from the traced shapes: `x.view(x.size(0), -1)` keeps the batch;
        a tensor of weights alone (`self.gamma.reshape(1, -1, 1, 1)`) is reshaped whole."""
        source = node.args[0]
        whole = self._from_weights_alone(node)
        if not whole:
            self._check_batched(node)
        shape = self.first[node].shape if whole else self.folds.sample_shape(node)
        if shape == (self.first[source].shape if whole else self.folds.sample_shape(source)):
            self._alias(node)
        else:
            self._produce(node, "Reshape", [self._tensor(source)], shape=tuple(shape))
        if self.folds.copies(node, source):
            self._produce(node, "Contiguous", [self._tensor(node)])

    def _expand(self, node: Any) -> None:
        """`token.expand(x.shape[0], -1, -1)`: an Expand node. A first size that is a batched
        tensor's batch (`x.shape[0]`, or `token.expand_as(x)`) is -1 for a batched source and
        otherwise connects that tensor to input 1."""
        source, *sizes = node.args
        if node.target == "expand_as":
            batch_from = sizes[0] if self._batched(sizes[0]) else None
            sizes = list(self.first[sizes[0]].shape)
        else:
            if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
                sizes = list(sizes[0])
            batch_from = self._batch_of(sizes[0])
        sizes = [-1 if batch_from is not None else self._static(sizes[0]),
                 *(self._static(size) for size in sizes[1:])]
        inputs = [self._tensor(source)]
        if batch_from is not None and not self._batched(source):
            inputs.append(self._tensor(batch_from))
        self._produce(node, "Expand", inputs, sizes=tuple(sizes))

    def _batch_of(self, size: Any) -> Any:
        """The batched tensor whose batch size `size` is (`x.shape[0]`, `x.size(0)`), or
        None."""
        dims = self._dims_of(size)
        if dims is None or len(dims) != 1 or dims[0][1] != 0 or not self._batched(dims[0][0]):
            return None
        return dims[0][0]

    def _batched(self, value: Any) -> bool:
        """Whether an fx value is a tensor whose first dimension is the batch."""
        first, second = self.first.get(value), self.second.get(value)
        return isinstance(first, TensorMeta) and isinstance(second, TensorMeta) and (
            first.shape[:1], second.shape[:1]) == ((self.batch,), (self.batch + 1,))

    def _alias(self, node: Any) -> None:
        self._keep(node, self._tensor(node.args[0]))

    def _transpose(self, node: Any) -> None:
        source, dim0, dim1 = bind_arguments(node, ("input", "dim0", "dim1"), {})
        self._produce(node, "Transpose", [self._tensor(source)],
                      dim0=self.folds.design_dim(source, self._static(dim0)),
                      dim1=self.folds.design_dim(source, self._static(dim1)))

    def _permute(self, node: Any) -> None:
        """A permute; one that puts the batch second (`qkv.permute(2, 0, 3, 1, 4)`, as ViT's
        attention does before `unbind(0)`) is stored with its first two dimensions swapped,
        and only unbind(0) and `[i]` may read it, along dimension 1 instead of 0: the same
        tensors, since neither touches the batch."""
        source, *dims = node.args
        dims = self._static(dims[0] if len(dims) == 1 and isinstance(dims[0], (tuple, list))
                            else dims or node.kwargs.get("dims", ()))
        rank = len(self.first[source].shape)
        dims = tuple(d % rank for d in dims)
        if len(dims) < 2 or dims[1] != 0 or self._from_weights_alone(node):
            self._produce(node, "Permute", [self._tensor(source)],
                          dims=self.folds.permutation(source, dims))
            return
        first, second, fold = self.first[node], self.second[node], self.folds.fold(source)
        if first.shape[1:2] != (self.batch * fold,) or \
                second.shape[1:2] != ((self.batch + 1) * fold,):
            raise Unsupported("does not keep the batch in place")
        self._keep(node, self._add(node, "Permute", [self._tensor(source)],
                                   self._name(node, "Permute"),
                                   dims=self.folds.permutation(source, (0, dims[0], *dims[2:]))))
        self.batch_second.add(node)

    def _reduction(self, node: Any) -> None:
        """`x.mean(dim)` and `x.sum(dim)`: a Mean or Sum node."""
        layer = "Sum" if getattr(node.target, "__name__", node.target) == "sum" else "Mean"
        source, dim, keepdim, dtype = bind_arguments(node, ("input", "dim", "keepdim", "dtype"),
                                                     {"dim": None, "keepdim": False,
                                                      "dtype": None})
        dim, keepdim = self._static(dim), self._static(keepdim)
        if dim is None:
            raise Unsupported(f"{'sums' if layer == 'Sum' else 'averages'} over every "
                              "dimension, the batch included")
        if dtype is not None:
            raise Unsupported(f"{layer} with a dtype is not supported")
        dims = tuple(self.folds.design_dim(source, d)
                     for d in (dim if isinstance(dim, (tuple, list)) else (dim,)))
        self._produce(node, layer, [self._tensor(source)], dims=dims, keepdim=keepdim)

    def _pieces(self, node: Any) -> None:
        """chunk, split and unbind: one Chunk, Split or Unbind node with an output per piece,
        which the items of the result read (`a, b = x.chunk(2, dim=1)`)."""
        kind = getattr(node.target, "__name__", node.target)
        if kind == "unbind":
            source, dim = bind_arguments(node, ("input", "dim"), {"dim": 0})
            asked = None
        else:
            source, asked, dim = bind_arguments(node, ("input", "sections", "dim"), {"dim": 0})
        first, second = self.first[node], self.second[node]
        dim = self._static(dim) % len(self.first[source].shape)
        if source in self.batch_second:
            if kind != "unbind" or dim != 0:
                raise Unsupported("cuts a tensor whose batch is its second dimension other "
                                  "than by unbind(0)")
            design, sources = self.folds.design_dim(source, 0), [
                self.placement.place(source, self.current)]
        elif dim == 0:
            raise Unsupported("splits the batch dimension")
        else:
            design, sources = self.folds.design_dim(source, dim), [self._tensor(source)]
        if any(m.shape[:1] != (self.batch * self.folds.fold(node),) for m in first) or (
                [m.shape[1:] for m in first] != [m.shape[1:] for m in second]):
            raise Unsupported("splits the batch dimension")
        sizes = [meta.shape[dim] for meta in first] if kind != "unbind" else []
        if kind == "unbind":
            layer, params = "Unbind", {"count": len(first)}
        elif kind == "chunk" and self._static(asked) == len(first):
            layer, params = "Chunk", {"chunks": len(first)}
        else:
            layer, params = "Split", {"sizes": tuple(sizes)}
        node_id = self._add(node, layer, sources, self._name(node, layer), dim=design,
                            **params)
        self.pending[node] = _Outputs(node_id, len(first))

    def _getitem(self, node: Any) -> None:
        container, index = node.args
        pending = self.pending.get(container)
        if pending is None:
            if container in self.batch_second:
                self._select_batch_second(node, container, self._static(index))
            elif self.placement.has(container):
                self._index(node, container, index)
            elif contains_tensor(self.first[node]):
                raise Unsupported("takes an item of a result that is not a tensor")
            return
        index = self._static(index)
        if isinstance(pending, _Outputs):
            if not contains_tensor(self.first[node]):
                return  # the weights of a call with need_weights=False: None
            self._check_batched(node)
            out = index % pending.count
            self._keep(node, (pending.node, out) if out else pending.node)
        elif isinstance(pending, _Recurrent):
            self._recurrent_part(node, pending, index)
        elif isinstance(pending, _State):
            if index != 0:
                raise Unsupported("uses the LSTM's cell state c_n; only h_n can be used")
            self.pending[node] = _Hidden(pending.recurrent)
        else:
            module = pending.recurrent.module
            last = module.num_layers * (2 if module.bidirectional else 1) - 1
            if module.bidirectional or index not in (-1, last):
                raise Unsupported("uses a hidden state other than the last layer's of a "
                                  "one-directional RNN (h_n[-1])")
            self._recurrent_node(node, pending.recurrent, "last")

    def _select_batch_second(self, node: Any, source: Any, index: Any) -> None:
        """`qkv[0]` of a tensor whose batch is second: Select along the design's dimension 1."""
        if not isinstance(index, int):
            raise Unsupported("indexes a tensor whose batch is its second dimension other "
                              "than by one position of its first")
        self._check_batched(node)
        source_id = self.placement.place(source, self.current)
        self._keep(node, self._add(node, "Select", [source_id], self._name(node, "Select"),
                                   dim=self.folds.design_dim(source, 0), index=index))

    def _recurrent_part(self, node: Any, recurrent: _Recurrent, index: int) -> None:
        """(output, state)[index]: the output sequence, or the state to be indexed further."""
        from torch import nn

        if index == 0:
            self._recurrent_node(node, recurrent, "sequence")
        elif isinstance(recurrent.module, nn.LSTM):
            self.pending[node] = _State(recurrent)
        else:
            self.pending[node] = _Hidden(recurrent)

    def _recurrent_node(self, node: Any, recurrent: _Recurrent, output: str) -> None:
        if recurrent.node is not None:
            if recurrent.output != output:
                raise Unsupported("uses both the output sequence and the final state of "
                                  f"{self.describe(recurrent.call)}; a layer gives one of them")
            self._keep(node, recurrent.node)
            return
        call = recurrent.call
        layer, params = layer_for_module(recurrent.module, [self._info(call.args[0])],
                                         use={"output": output})
        self._check_batched(node)
        recurrent.node = self._add(node, layer, [self._tensor(call.args[0])],
                                   self._name(call, layer), **params)
        recurrent.output = output
        self._keep(node, recurrent.node)

    def _index(self, node: Any, source: Any, index: Any) -> None:
        """`x[:, -1]`, `x[:, 2:5]`: Select and Slice nodes, last dimension first; `x[:, i]`
        by a tensor of positions: a Take node (engine.importing.indexing)."""
        at = tensor_position(self, index)
        if at is not None:
            take(self, node, source, index, at)
            return
        entries = list(self._static(index) if isinstance(index, tuple) else
                       (self._static(index),))
        rank = len(self.first[source].shape)
        if Ellipsis in entries:
            at = entries.index(Ellipsis)
            fill = [slice(None)] * (rank - len(entries) + 1)
            entries = entries[:at] + fill + entries[at + 1:]
        if any(entry is None or not isinstance(entry, (int, slice)) for entry in entries):
            raise Unsupported("indexes with something other than numbers and slices")
        unbatched = self.first[source] == self.second[source]  # a parameter or buffer
        if entries[0] != slice(None) and not unbatched:
            raise Unsupported("indexes the batch dimension")
        if not unbatched:
            self._check_batched(node)
        current = self._tensor(source)
        steps = [(dim, entry) for dim, entry in enumerate(entries) if entry != slice(None)]
        for dim, entry in ((self.folds.design_dim(source, d), e) for d, e in reversed(steps)):
            if isinstance(entry, int):
                layer, params = "Select", {"dim": dim, "index": entry}
            else:
                layer = "Slice"
                params = {"dim": dim, "start": entry.start or 0, "end": entry.stop,
                          "step": entry.step or 1}
            current = self._add(node, layer, [current], self._name(node, layer), **params)
        self._keep(node, current)


def _recurrent_types() -> tuple[type, ...]:
    from torch import nn

    return (nn.RNNBase,)


def bind_arguments(node: Any, names: tuple[str, ...], defaults: dict[str, Any]) -> list[Any]:
    """The call's arguments by name (positional first, then keywords, then defaults)."""
    bound = dict(defaults)
    bound.update(zip(names, node.args))
    aliases = {"self": "input", "tensor": "input", "x": "input", "split_size": "sections",
               "split_size_or_sections": "sections", "chunks": "sections"}
    bound.update({aliases.get(key, key): value for key, value in node.kwargs.items()})
    unknown = set(bound) - set(names)
    if unknown or len(node.args) > len(names):
        raise Unsupported(f"takes arguments NeuralCanvas cannot express "
                          f"({', '.join(sorted(unknown)) or 'too many'})")
    missing = [name for name in names if name not in bound]
    if missing:
        raise Unsupported(f"misses {', '.join(missing)}")
    return [bound[name] for name in names]


def _live_nodes(graph: Any, kept: list[Any]) -> set[Any]:
    """Nodes the returned values and the `kept` nodes depend on (dead code is left out)."""
    live: set[Any] = set()
    stack = [node for node in graph.nodes if node.op == "output"] + kept
    while stack:
        node = stack.pop()
        if node not in live:
            live.add(node)
            stack.extend(node.all_input_nodes)
    return live
