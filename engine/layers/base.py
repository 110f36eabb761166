"""What a layer declaration is made of: parameters (engine.fields), shape and size rules, code emission.

Declarations are plain data plus small functions and never import torch at module level, so
that the catalogue, checking and the GUI can start without paying torch's import time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.errors import DesignError, ShapeError
from engine.fields import Param
from engine.layers.module_call import ModuleCall

BATCH = "N"
SINGLE_OUTPUT = ("",)  # the one unnamed output of most layers
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

    def splice(self, start: int, stop: int, *sizes: Any) -> TensorInfo:
        """This tensor with dimensions `start` to `stop` (exclusive) replaced by `sizes`, as
        slicing, selecting, joining, stacking and reshaping along a dimension do; same dtype."""
        return TensorInfo((*self.shape[:start], *sizes, *self.shape[stop:]), self.dtype)


def as_outputs(result: TensorInfo | tuple[TensorInfo, ...]) -> tuple[TensorInfo, ...]:
    """A shape rule's result as one TensorInfo per output (most rules return just one)."""
    return result if isinstance(result, tuple) else (result,)


# ---------------------------------------------------------------------------- code emission

@dataclass
class EmitContext:
    """What a layer needs to write its line(s) of `forward`.

    `inputs` are the variable names of the incoming tensors in port order, `out` the variable
    to assign, `module` the expression of the layer's submodule (e.g. `self.conv1`). Any other
    variable the lines need is asked of `fresh` (`fresh("h_n")`), which never hands out a name
    in use. A layer with several outputs assigns `outs`, one variable per output ("_" for an
    output nothing reads), e.g. `ctx.targets = x.unbind(1)`.
    """

    inputs: list[str]
    out: str
    module: str
    params: dict[str, Any]
    input_infos: list[TensorInfo]
    fresh: Callable[[str], str]
    outs: list[str] = field(default_factory=list)

    @property
    def targets(self) -> str:
        """The assignment's left side for every output: `q, k, v`, `out, _`."""
        return ", ".join(self.outs or [self.out])


def call_module(ctx: EmitContext) -> list[str]:
    """The usual line: pass the single input through the layer's module."""
    return [f"{ctx.out} = {ctx.module}({ctx.inputs[0]})"]


# ---------------------------------------------------------------------------- declarations

@dataclass(frozen=True)
class LayerSpec:
    """One layer type: everything the editor, checker, compiler and exporter need to know.

    infer(inputs, params) -> TensorInfo (a tuple of them for several outputs) raises ShapeError
        when the inputs do not fit.
    count_params(inputs, params) -> int counts learnable parameters without building anything.
    constructor(inputs, params) -> the ModuleCall that creates the layer's module (a torch or
        torchvision class, or a function of engine.training.portable, which an exported script
        copies in), or None for layers written inline (Add, Concat). `build` makes the call.
    emit(EmitContext) -> lines of forward code.
    warn(inputs, params) -> list of (message, fix) for things that run but are rarely meant.
    files: the parameters that name files, read against the design's folder (engine.layer_files).
    is_attribute: the constructor makes a tensor (Parameter, Buffer), not a module; forward
        reads it where it is used (`self.cls_token`) instead of writing a line for it.
    outputs(params) -> the names of the layer's outputs, in order: one unnamed output for most
        layers. A layer with several (Chunk's pieces, attention's output and weights) returns
        a tuple of one TensorInfo per output from `infer`, and its `emit` assigns `ctx.outs`.
    """

    name: str
    category: str
    explanation: str
    infer: Callable[[list[TensorInfo], dict], TensorInfo | tuple[TensorInfo, ...]]
    params: tuple[Param, ...] = ()
    min_inputs: int = 1
    max_inputs: int | None = 1
    count_params: Callable[[list[TensorInfo], dict], int] = lambda inputs, p: 0
    constructor: Callable[[list[TensorInfo], dict], ModuleCall] | None = None
    emit: Callable[[EmitContext], list[str]] = call_module
    warn: Callable[[list[TensorInfo], dict], list[tuple[str, str]]] = lambda inputs, p: []
    has_output: bool = True
    files: tuple[str, ...] = ()
    is_attribute: bool = False
    outputs: Callable[[dict], tuple[str, ...]] = lambda p: SINGLE_OUTPUT
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


SPATIAL_LAYOUTS = {1: "(N, channels, length)", 2: "(N, channels, height, width)",
                   3: "(N, channels, depth, height, width)"}


def expect_spatial(info: TensorInfo, spatial_dims: Sequence[int], layer: str,
                   fix: str | None = None) -> None:
    """expect_rank for layers that slide over 1-, 2- or 3-D data laid out channels first."""
    expect_rank(info, [n + 2 for n in spatial_dims], layer,
                " or ".join(SPATIAL_LAYOUTS[n] for n in spatial_dims), fix)


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


def sample_dim(dim: int, rank: int, layer: str, action: str, fix: str) -> int:
    """normalise_dim for a layer that works within each sample, so the batch (dim 0) is refused.

    `action` completes "<layer> must not ... the batch dimension"."""
    resolved = normalise_dim(dim, rank, layer)
    if resolved == 0:
        raise ShapeError(f"{layer} must not {action} the batch dimension (dim 0)", fix)
    return resolved


def broadcast(inputs: Sequence[TensorInfo], layer: str) -> Shape:
    """The shape torch's broadcasting gives `inputs` (sizes lined up from the right, each equal
    or 1), refusing what torch refuses and what would move the batch away from the front: an
    input with a batch (N) and fewer dimensions than the result. Inputs without a batch (a
    Parameter node's tensor) may have fewer dimensions, as a bias of shape (C, 1, 1) does."""
    rank = max(info.rank for info in inputs)
    result: list[Any] = []
    for position in range(1, rank + 1):
        sized = [(port, info.shape[-position]) for port, info in enumerate(inputs)
                 if info.rank >= position]
        kept = [(port, size) for port, size in sized if size != 1]
        for port, size in kept[1:]:
            if size != kept[0][1]:
                first = kept[0][0]
                raise ShapeError(
                    f"{layer} needs inputs of the same shape (or sizes of 1 that broadcast), "
                    f"but input {first} is {format_shape(inputs[first].shape)} and input "
                    f"{port} is {format_shape(inputs[port].shape)}",
                    "make the branches produce the same shape (for a skip connection, a 1x1 "
                    "Conv2d or a Linear on the shortcut can match the channels)")
        result.insert(0, kept[0][1] if kept else 1)
    longest = max(range(len(inputs)), key=lambda port: inputs[port].rank)
    for port, info in enumerate(inputs):
        if info.rank < rank and info.shape[:1] == (BATCH,):
            raise ShapeError(
                f"{layer}: input {port} is {format_shape(info.shape)}, with fewer dimensions "
                f"than input {longest}, {format_shape(inputs[longest].shape)}; lined up from "
                "the right, as torch broadcasts, its batch (N) would not stay the first "
                "dimension", "give the inputs the same number of dimensions (Unflatten or "
                "Reshape)")
    return tuple(result)
