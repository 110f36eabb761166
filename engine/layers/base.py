"""What a layer declaration is made of: typed parameters, shape and size rules, code emission.

Declarations are plain data plus small functions and never import torch at module level, so
that the catalogue, checking and the GUI can start without paying torch's import time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.errors import DesignError, ShapeError
from engine.layers.module_call import ModuleCall
from engine.limits import (
    LARGEST_ELEMENT_COUNT,
    LARGEST_FLOAT32,
    LARGEST_WHOLE_NUMBER,
    LONGEST_LIST,
    LONGEST_PATH,
    finite_float,
    text_problem,
)
from engine.quoting import excerpt

BATCH = "N"
Shape = tuple  # ("N", d1, d2, ...): batch dimension first, as the string "N"


@dataclass(frozen=True)
class TensorInfo:
    """What flows along an edge: its shape (batch dimension as "N") and its dtype."""

    shape: Shape
    dtype: str = "float"

    @property
    def rank(self) -> int:
        return len(self.shape)

    @property
    def features(self) -> tuple[int, ...]:
        """The per-sample dimensions (everything after the batch dimension)."""
        return tuple(self.shape[1:])


# ---------------------------------------------------------------------------- parameters

@dataclass(frozen=True)
class Param:
    """One parameter of a layer: its kind, default and the range the check enforces.

    kinds: "int", "float", "bool", "choice", "ints" (a tuple of ints of any length),
    "size" (an int, or a tuple of `length` ints, as torch's kernel_size accepts), "text"
    (for example a weights file's path; never executed, only read as data).
    `optional` parameters also accept None (for example a pooling stride that defaults to
    the kernel size). Whole-number kinds ("int", "ints", "size") that declare no `maximum`
    get `LARGEST_WHOLE_NUMBER`, so every size a file or an edit can give is bounded.
    """

    name: str
    kind: str
    default: Any
    help: str = ""
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    length: int | None = None
    optional: bool = False

    def __post_init__(self) -> None:
        if self.kind in _WHOLE_NUMBER_KINDS and self.maximum is None:
            object.__setattr__(self, "maximum", LARGEST_WHOLE_NUMBER)

    def coerce(self, value: Any) -> Any:
        """Return `value` in its stored form, or raise TypeError saying what was expected.

        A value no layer could ever hold is refused here too: a whole number beyond what a
        tensor can count, a number beyond what a float holds. Values merely out of the
        declared range are stored, and reported by `range_problem` (the check)."""
        kind = self.kind
        if value is None and self.optional:
            return None
        if kind == "int":
            return self._whole_number(value, f"'{self.name}' must be a whole number")
        if kind == "float":
            number = finite_float(value)
            if number is None:
                raise TypeError(f"'{self.name}' must be a finite number, not {excerpt(value)}")
            return number
        if kind == "bool":
            if not isinstance(value, bool):
                raise TypeError(f"'{self.name}' must be true or false, not {excerpt(value)}")
            return value
        if kind == "text":
            if not isinstance(value, str):
                raise TypeError(f"'{self.name}' must be a text, not {excerpt(value)}")
            return value
        if kind == "choice":
            if not isinstance(value, str) or value not in self.choices:
                options = ", ".join(repr(c) for c in self.choices)
                raise TypeError(f"'{self.name}' must be one of {options}, not {excerpt(value)}")
            return value
        if kind == "ints":
            return self._int_tuple(value)
        if kind == "size":
            if isinstance(value, int) and not isinstance(value, bool):
                return self._whole_number(value, f"'{self.name}' must be a whole number")
            count = self.length or "several"
            message = (f"'{self.name}' must be a whole number or {count} of them, not "
                       f"{excerpt(value)}")
            try:
                result = self._int_tuple(value)
            except TypeError:
                raise TypeError(message) from None
            if self.length is not None and len(result) != self.length:
                raise TypeError(message)
            return result
        raise TypeError(f"unknown parameter kind {kind!r}")

    def _whole_number(self, value: Any, expected: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{expected}, not {excerpt(value)}")
        if abs(value) > LARGEST_ELEMENT_COUNT:
            raise TypeError(f"'{self.name}' is {excerpt(value)}, beyond any size a tensor can "
                            f"have (at most {LARGEST_ELEMENT_COUNT:,})")
        return value

    def _int_tuple(self, value: Any) -> tuple[int, ...]:
        expected = f"'{self.name}' must be a list of whole numbers"
        if not isinstance(value, (list, tuple)):
            raise TypeError(f"{expected}, not {excerpt(value)}")
        return tuple(self._whole_number(v, expected) for v in value)

    def range_problem(self, value: Any) -> str | None:
        """Say what is wrong when a stored value lies outside the allowed range."""
        if isinstance(value, str):
            return text_problem(value, f"'{self.name}'", LONGEST_PATH)
        values = value if isinstance(value, tuple) else (value,)
        if len(values) > LONGEST_LIST:
            return (f"'{self.name}' holds {len(values):,} numbers; at most {LONGEST_LIST} are "
                    "allowed")
        for v in values:
            if v is None or isinstance(v, bool):
                continue
            if self.minimum is not None and v < self.minimum:
                return (f"'{self.name}' is {excerpt(value)} but must be at least "
                        f"{_num(self.minimum)}")
            if self.maximum is not None and v > self.maximum:
                return (f"'{self.name}' is {excerpt(value)} but must be at most "
                        f"{_num(self.maximum)}")
            if self.kind == "float" and abs(v) > LARGEST_FLOAT32:  # torch's kernels take float32
                return (f"'{self.name}' is {excerpt(value)} but must be from "
                        f"{_num(-LARGEST_FLOAT32)} to {_num(LARGEST_FLOAT32)} (what float32 holds)")
        if self.kind == "ints" and self.length is None and not values:
            return f"'{self.name}' must not be empty"
        return None

    def to_json(self, value: Any) -> Any:
        return list(value) if isinstance(value, tuple) else value


_WHOLE_NUMBER_KINDS = ("int", "ints", "size")


def _num(x: float) -> str:
    """A bound as people read it: '2,147,483,647', '0.01', '3.4e+38'."""
    if abs(x) >= 1e15:
        return f"{x:.3g}"
    return f"{int(x):,}" if float(x).is_integer() else str(x)


# ---------------------------------------------------------------------------- code emission

@dataclass
class EmitContext:
    """What a layer needs to write its line(s) of `forward`.

    `inputs` are the variable names of the incoming tensors in port order, `out` the variable
    to assign, `module` the expression of the layer's submodule (e.g. `self.conv1`). Any other
    variable the lines need is asked of `fresh` (`fresh("h_n")`), which never hands out a name
    in use.
    """

    inputs: list[str]
    out: str
    module: str
    params: dict[str, Any]
    input_infos: list[TensorInfo]
    fresh: Callable[[str], str]


def call_module(ctx: EmitContext) -> list[str]:
    """The usual line: pass the single input through the layer's module."""
    return [f"{ctx.out} = {ctx.module}({ctx.inputs[0]})"]


# ---------------------------------------------------------------------------- declarations

@dataclass(frozen=True)
class LayerSpec:
    """One layer type: everything the editor, checker, compiler and exporter need to know.

    infer(inputs, params) -> TensorInfo raises ShapeError when the inputs do not fit.
    count_params(inputs, params) -> int counts learnable parameters without building anything.
    constructor(inputs, params) -> the ModuleCall that creates the layer's module (a torch or
        torchvision class, or a function of engine.training.portable, which an exported script
        copies in), or None for layers written inline (Add, Concat). `build` makes the call.
    emit(EmitContext) -> lines of forward code.
    warn(inputs, params) -> list of (message, fix) for things that run but are rarely meant.
    files: the parameters that name files, read against the design's folder (engine.layer_files).
    """

    name: str
    category: str
    explanation: str
    infer: Callable[[list[TensorInfo], dict], TensorInfo]
    params: tuple[Param, ...] = ()
    min_inputs: int = 1
    max_inputs: int | None = 1
    count_params: Callable[[list[TensorInfo], dict], int] = lambda inputs, p: 0
    constructor: Callable[[list[TensorInfo], dict], ModuleCall] | None = None
    emit: Callable[[EmitContext], list[str]] = call_module
    warn: Callable[[list[TensorInfo], dict], list[tuple[str, str]]] = lambda inputs, p: []
    has_output: bool = True
    files: tuple[str, ...] = ()
    param_index: dict[str, Param] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "param_index", {p.name: p for p in self.params})

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    @property
    def builds_module(self) -> bool:
        """Whether the layer has a module (else its forward code is written inline)."""
        return self.constructor is not None

    def build(self, inputs: list[TensorInfo], params: dict) -> Any:
        """The layer's module (imports torch): its constructor call, made.

        A value the call refuses (a ValueError) becomes a DesignError naming the layer."""
        if self.constructor is None:
            raise DesignError(f"{self.name} has no module: its code is written inline")
        try:
            return self.constructor(inputs, dict(params)).build()
        except ValueError as err:
            raise DesignError(f"{self.name}: {err}") from None

    @property
    def input_ports(self) -> int:
        """How many input ports to draw: the fixed count, or one more than the minimum."""
        return self.max_inputs if self.max_inputs is not None else max(self.min_inputs, 2)


# ---------------------------------------------------------------------------- shape helpers

def expect_rank(info: TensorInfo, ranks: Sequence[int], layer: str, what: str,
                fix: str | None = None) -> None:
    """Raise a plain-words ShapeError unless the input has one of the given ranks."""
    if info.rank not in ranks:
        wanted = " or ".join(_describe_rank(r) for r in ranks)
        raise ShapeError(f"{layer} expects {wanted} ({what}) but receives {format_shape(info.shape)}",
                         fix)


def _describe_rank(rank: int) -> str:
    return f"a {rank}-D tensor"


def format_shape(shape: Shape) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ")"


def as_tuple(value: Any, n: int) -> tuple[int, ...]:
    """Expand torch's int-or-tuple convention to exactly n values."""
    return tuple(value) if isinstance(value, tuple) else (value,) * n


def conv_out(size: int, kernel: int, stride: int, padding: int, dilation: int = 1) -> int:
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def normalise_dim(dim: int, rank: int, layer: str) -> int:
    """Turn a possibly negative dim into a positive index, or say it does not exist."""
    resolved = dim + rank if dim < 0 else dim
    if not 0 <= resolved < rank:
        raise ShapeError(f"{layer}: dim {dim} does not exist in a {rank}-D tensor")
    return resolved
