"""Finding the Keras model a snippet defines, from its syntax tree (nothing is run).

Tutorials define models in three ways, all read here into one graph of tensors:
`Sequential([...])`, `Sequential()` followed by `model.add(...)`, and the functional API
(`x = Input(shape=...)`, `y = Dense(10)(x)`, `Model(x, y)`). Each tensor is an `InputDecl`
or a `Step` (a layer applied to earlier tensors); `compile` and `fit` calls are kept for the
training settings. What cannot be read becomes a problem naming its line.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from engine.importing.keras_values import CallValue, Unreadable, ValueReader, dotted_path

SEQUENTIAL = ("Sequential",)
FUNCTIONAL = ("Model", "Functional")
INPUTS = ("Input", "InputLayer")
# Functions that merge a list of tensors, and the layer each one stands for.
MERGE_FUNCTIONS = {"concatenate": "Concatenate", "add": "Add", "multiply": "Multiply",
                   "average": "Average", "subtract": "Subtract", "maximum": "Maximum",
                   "minimum": "Minimum", "dot": "Dot"}
_TENSOR_OPERATORS = {ast.Add: "Add", ast.Mult: "Multiply", ast.Sub: "Subtract"}
# Keywords of a model's first layer that declare the input rather than the layer.
INPUT_KEYWORDS = ("input_shape", "batch_input_shape", "input_dim", "input_length", "batch_size")


@dataclass
class InputDecl:
    """Where data enters: its Keras shape (channels last, without the batch), as written."""

    shape: Any
    dtype: Any
    line: int
    text: str


@dataclass
class Step:
    """A layer applied to earlier tensors (indices into the model's tensor list)."""

    layer: CallValue
    sources: list[int]


@dataclass
class Broken:
    """A tensor the source computes in a way that is not read (a problem says so), and the
    tensors it is computed from, so their layers are still read and reported."""

    sources: list[int]


@dataclass
class KerasModel:
    """One model: its tensors in the order they are made, which are inputs and outputs,
    and the `compile` and `fit` calls made on it."""

    variable: str
    line: int
    tensors: list[InputDecl | Step | Broken]
    inputs: list[int]
    outputs: list[int]
    compile: CallValue | None = None
    fit: CallValue | None = None


@dataclass
class _Sequential:
    variable: str
    line: int
    layers: list[CallValue] = field(default_factory=list)


class ModelFinder:
    """Walks the statements in source order, binding names to values, tensors and models."""

    def __init__(self, source: str, tree: ast.Module) -> None:
        self.values = ValueReader(source)
        self.problems: list[str] = []
        self.tensors: list[InputDecl | Step | Broken] = []   # None: a tensor we cannot read
        self.symbols: dict[str, int] = {}                   # name -> tensor index
        self.models: list[KerasModel | _Sequential] = []
        self.compiles: dict[str, CallValue] = {}
        self.fits: dict[str, CallValue] = {}
        self._applied_layers: dict[str, int] = {}           # layer variable -> line first used
        self.subclassed: list[tuple[str, int]] = []
        for statement in _statements(tree.body):
            self._statement(statement)

    # ------------------------------------------------------------------ results
    def found(self) -> list[KerasModel]:
        """Every model defined, in the order defined, with its compile and fit calls."""
        models = [self._sequential(m) if isinstance(m, _Sequential) else m for m in self.models]
        for model in models:
            model.compile = self.compiles.get(model.variable)
            model.fit = self.fits.get(model.variable)
        return models

    def unclaimed_training_calls(self) -> tuple[CallValue | None, CallValue | None]:
        """The last compile and fit made on a name that is no model (a model a function
        returned, say): they apply to the model imported when it has none of its own."""
        names = {m.variable for m in self.models}
        compiles = [c for name, c in self.compiles.items() if name not in names]
        fits = [f for name, f in self.fits.items() if name not in names]
        return (compiles[-1] if compiles else None), (fits[-1] if fits else None)

    # ------------------------------------------------------------------ statements
    def _statement(self, statement: ast.stmt) -> None:
        if isinstance(statement, ast.ClassDef):
            if any((dotted_path(base) or "").rpartition(".")[2] in FUNCTIONAL
                   for base in statement.bases):
                self.subclassed.append((statement.name, statement.lineno))
        elif isinstance(statement, ast.Assign):
            if len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name):
                self._assign(statement.targets[0].id, statement.value)
        elif isinstance(statement, ast.Return) and statement.value is not None:
            self._model(statement.value, "model")
        elif isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
            self._method_call(statement.value)

    def _assign(self, name: str, value: ast.expr) -> None:
        if isinstance(value, ast.Call):   # history = model.fit(...)
            self._method_call(value)
        is_model = self._model(value, name)
        tensor = None if is_model else self._tensor(value)   # x = Dense(8)(x) reads x first
        self.symbols.pop(name, None)
        self.values.names.pop(name, None)
        if tensor is not None:
            self.symbols[name] = tensor
        elif not is_model:
            self.values.names[name] = self.values.value(value)

    def _method_call(self, call: ast.Call) -> None:
        if not isinstance(call.func, ast.Attribute) or not isinstance(call.func.value, ast.Name):
            return
        owner, method = call.func.value.id, call.func.attr
        if method == "add" and self._sequential_named(owner) is not None:
            for argument in call.args:
                layer = self._layer(argument)
                if layer is not None:
                    self._sequential_named(owner).layers.append(layer)
        elif method in ("compile", "fit"):
            calls = self.compiles if method == "compile" else self.fits
            calls[owner] = self.values.value(call)

    def _sequential_named(self, name: str) -> _Sequential | None:
        for model in reversed(self.models):
            if model.variable == name:
                return model if isinstance(model, _Sequential) else None
        return None

    # ------------------------------------------------------------------ models
    def _model(self, value: ast.expr, name: str) -> bool:
        """Record a Sequential or Model(...) call; False when `value` is neither."""
        if not isinstance(value, ast.Call):
            return False
        kind = (dotted_path(value.func) or "").rpartition(".")[2]
        if kind in SEQUENTIAL:
            model = _Sequential(name, value.lineno)
            listing = value.args[0] if value.args else _keyword(value, "layers")
            if isinstance(listing, (ast.List, ast.Tuple)):
                model.layers = [layer for item in listing.elts
                                if (layer := self._layer(item)) is not None]
            elif listing is not None:
                self._problem(value.lineno, f"the layers of Sequential are given as "
                              f"{self.values.text(listing)}; write them as a list")
            self.models.append(model)
            return True
        if kind in FUNCTIONAL:
            inputs = value.args[0] if value.args else _keyword(value, "inputs")
            outputs = value.args[1] if len(value.args) > 1 else _keyword(value, "outputs")
            if inputs is None or outputs is None:
                self._problem(value.lineno, f"{self.values.text(value)} names no inputs and "
                              "outputs")
                return True
            self.models.append(KerasModel(name, value.lineno, self.tensors,
                                          self._tensor_list(inputs), self._tensor_list(outputs)))
            return True
        return False

    def _sequential(self, model: _Sequential) -> KerasModel:
        """A Sequential model as a chain of tensors behind one input."""
        layers = list(model.layers)
        if layers and layers[0].name in INPUTS:
            first = layers.pop(0)
            declared = _input_decl(first)
        else:
            declared = self._declared_input(layers[0] if layers else None, model.line)
        tensors: list[InputDecl | Step | Broken] = [declared]
        for layer in layers:
            if layer.name in INPUTS:
                self._problem(layer.line, f"{layer.text} comes after other layers; an input "
                              "must come first")
                continue
            tensors.append(Step(layer, [len(tensors) - 1]))
        return KerasModel(model.variable, model.line, tensors, [0], [len(tensors) - 1])

    def _declared_input(self, first: CallValue | None, line: int) -> InputDecl:
        """The input a Sequential model's first layer declares (input_shape=, input_dim=,
        or an Embedding's input_length=); a wrapper's own layer may declare it instead."""
        shape: Any = None
        dtype: Any = None
        for layer in _with_wrapped(first):
            kwargs = layer.kwargs
            if "batch_input_shape" in kwargs and isinstance(kwargs["batch_input_shape"], tuple):
                shape = kwargs["batch_input_shape"][1:]
            shape = kwargs.get("input_shape", shape)
            if "input_dim" in kwargs and layer.name != "Embedding":
                shape = (kwargs["input_dim"],)
            if layer.name == "Embedding":
                dtype = "int32"
                shape = (kwargs["input_length"],) if "input_length" in kwargs else shape
            if shape is not None:
                return InputDecl(shape, dtype, layer.line, layer.text)
        return InputDecl(None, dtype, first.line if first else line,
                         first.text if first else "Sequential()")

    # ------------------------------------------------------------------ tensors
    def _tensor(self, node: ast.expr) -> int | None:
        """The tensor `node` computes (appended to the list), or None when it is no tensor."""
        if isinstance(node, ast.Name):
            return self.symbols.get(node.id)
        if isinstance(node, ast.BinOp) and type(node.op) in _TENSOR_OPERATORS:
            left, right = self._tensor(node.left), self._tensor(node.right)
            if left is not None and right is not None:
                layer = CallValue(_TENSOR_OPERATORS[type(node.op)], [], {}, node.lineno,
                                  self.values.text(node), None)
                return self._append(Step(layer, [left, right]))
        if isinstance(node, ast.Call):
            applied = self._applied(node)
            if applied is not None:
                return applied
        if self._mentions_tensor(node):
            self._problem(node.lineno, f"{self.values.text(node)} is not a Keras layer applied "
                          "to tensors; write the operation as a layer (e.g. "
                          "layers.Activation('relu')(x))")
            return self._append(Broken([self.symbols[n.id] for n in ast.walk(node)
                                        if isinstance(n, ast.Name) and n.id in self.symbols]))
        return None

    def _applied(self, call: ast.Call) -> int | None:
        """An Input, a layer applied to tensors, or a merge function, as a tensor."""
        name = (dotted_path(call.func) or "").rpartition(".")[2]
        if name == "Input":
            return self._append(_input_decl(self.values.value(call)))
        if name in MERGE_FUNCTIONS and call.args and self._mentions_tensor(call.args[0]):
            layer = self.values.value(call)
            layer.path = MERGE_FUNCTIONS[name]
            layer.args = layer.args[1:]
            return self._append(Step(layer, self._tensor_list(call.args[0])))
        layer = self._called_layer(call.func)
        if layer is None:
            return None
        if not call.args:
            self._problem(call.lineno, f"{self.values.text(call)} applies a layer to nothing")
            return self._append(Broken([]))
        extra = [kw.arg for kw in call.keywords if kw.arg != "training"] + (
            ["more than one argument"] if len(call.args) > 1 else [])
        if extra:
            self._problem(call.lineno, f"{self.values.text(call)}: {', '.join(map(str, extra))} "
                          "of a layer call are not read")
        return self._append(Step(layer, self._tensor_list(call.args[0])))

    def _called_layer(self, func: ast.expr) -> CallValue | None:
        """The layer a call applies: `Dense(10)` in `Dense(10)(x)`, or a layer variable."""
        if isinstance(func, ast.Call):
            value = self.values.value(func)
            if isinstance(value, CallValue) and value.name in SEQUENTIAL + FUNCTIONAL:
                self._problem(value.line, f"{value.text} is applied as a layer; a model inside "
                              "a model is not read (write its layers in place)")
                return None
            return value if isinstance(value, CallValue) else None
        if isinstance(func, ast.Name) and isinstance(self.values.names.get(func.id), CallValue):
            first = self._applied_layers.setdefault(func.id, func.lineno)
            if first != func.lineno:
                self._problem(func.lineno, f"the layer {func.id} is applied again (first at line "
                              f"{first}): shared weights are not read; make a second layer")
            return self.values.names[func.id]
        return None

    def _tensor_list(self, node: ast.expr) -> list[int]:
        items = node.elts if isinstance(node, (ast.List, ast.Tuple)) else [node]
        found = []
        for item in items:
            tensor = self._tensor(item)
            if tensor is None:
                self._problem(getattr(item, "lineno", 0), f"{self.values.text(item)} is not a "
                              "tensor the snippet defines")
                tensor = self._append(Broken([]))
            found.append(tensor)
        return found

    def _mentions_tensor(self, node: ast.expr) -> bool:
        return any(isinstance(n, ast.Name) and n.id in self.symbols for n in ast.walk(node))

    def _append(self, tensor: InputDecl | Step | Broken) -> int:
        self.tensors.append(tensor)
        return len(self.tensors) - 1

    # ------------------------------------------------------------------ layers
    def _layer(self, node: ast.expr) -> CallValue | None:
        """A layer of a Sequential model: a layer call, or a variable holding one."""
        value = self.values.value(node)
        if isinstance(value, CallValue):
            if value.name in SEQUENTIAL + FUNCTIONAL:
                self._problem(value.line, f"{value.text} is a model inside a model; write its "
                              "layers in place")
                return None
            return value
        self._problem(getattr(node, "lineno", 0), f"{self.values.text(node)} is not a layer "
                      "written in the source")
        return None

    def _problem(self, line: int, message: str) -> None:
        self.problems.append(f"line {line}: {message}")


def _input_decl(call: Any) -> InputDecl:
    """Input(shape=..., dtype=...) / InputLayer(input_shape=...) / Input(batch_shape=...)."""
    kwargs = call.kwargs
    shape = call.args[0] if call.args else kwargs.get("shape", kwargs.get("input_shape"))
    batch_shape = kwargs.get("batch_shape", kwargs.get("batch_input_shape"))
    if shape is None and isinstance(batch_shape, tuple):
        shape = batch_shape[1:]
    return InputDecl(shape, kwargs.get("dtype"), call.line, call.text)


def _with_wrapped(layer: CallValue | None) -> list[CallValue]:
    """A layer, then the layer it wraps (Bidirectional(LSTM(...)), TimeDistributed(...))."""
    if layer is None:
        return []
    inner = layer.args[0] if layer.args else layer.kwargs.get("layer")
    return [layer, inner] if isinstance(inner, CallValue) else [layer]


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((kw.value for kw in call.keywords if kw.arg == name), None)


def _statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Every statement in source order, those inside functions and blocks included."""
    for statement in body:
        yield statement
        for name in ("body", "orelse", "handlers", "finalbody"):
            nested = getattr(statement, name, None)
            if isinstance(nested, list) and not isinstance(statement, ast.ClassDef):
                yield from _statements(nested)


def readable_shape(shape: Any) -> bool:
    """A shape tuple of whole numbers or None (an open size)."""
    return isinstance(shape, (tuple, list)) and not isinstance(shape, Unreadable) and all(
        size is None or (isinstance(size, int) and not isinstance(size, bool)) for size in shape)
