"""Tracing a module with torch.fx, and running the trace to learn every value's shape.

The trace is run twice, with batch sizes B and B + 1: a tensor whose first dimension follows
the batch in both runs is per-sample data; anything else (a reshape that folds the batch into
another dimension, a size read from the input) is caught instead of being baked into the design.
"""

from __future__ import annotations

import os
import re
import traceback
from dataclasses import dataclass, field
from typing import Any

from engine.errors import DesignError
from engine.importing.stacks import is_stack

# Modules outside torch.nn that the catalogue has a layer for, so tracing stops at them.
EXTRA_LEAF_MODULES = frozenset({
    "torchvision.ops.stochastic_depth.StochasticDepth",
    *(f"torchvision.models.swin_transformer.{name}" for name in (
        "ShiftedWindowAttention", "ShiftedWindowAttentionV2", "PatchMerging", "PatchMergingV2")),
})
_FRAME = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+), in \S+\n'
                    r'(?:[ \t]+(?P<code>(?![ \t]|File ")[^\n]*))?')


@dataclass(frozen=True)
class TensorMeta:
    """A tensor seen while running the trace: its full shape (batch first) and dtype, and
    whether its memory was contiguous (a reshape that copies makes it so, and kernels round
    differently over strided memory)."""

    shape: tuple[int, ...]
    dtype: Any
    contiguous: bool = field(default=True, compare=False)


def trace(module: Any, inputs: tuple[Any, ...]) -> Any:
    """The module's fx Graph, with stack traces. Symbolic tracing, exact and independent of the
    example, comes first; forward it cannot run (sizes used as numbers, item assignment) is
    traced with torch.export on `inputs` instead (engine.importing.export_tracing).
    Arguments forward takes after the example's inputs keep their defaults.
    DesignError (with the source location) when neither can. No GraphModule is made: its own
    attributes (`code`, `graph`, `meta`, ...) would hide submodules of those names."""
    from torch import fx

    from engine.importing.export_tracing import export_graph

    class Tracer(fx.Tracer):
        def is_leaf_module(self, m, qualified_name: str) -> bool:
            return is_leaf(m, qualified_name)

    tracer = Tracer()
    tracer.record_stack_traces = True
    # A buffer read in forward stays a read of it (`self.index.view(-1)` is a reshape of the
    # buffer), not a nameless constant tensor computed while tracing.
    tracer.proxy_buffer_attributes = True
    try:
        return tracer.trace(module, concrete_args=_defaults_after(module, len(inputs)) or None)
    except Exception as err:  # noqa: BLE001 - user code fails under tracing in many ways
        where = user_frame(traceback.extract_tb(err.__traceback__))
        symbolic = f"cannot trace {type(module).__name__}.forward{where}: {err}"
    try:
        return export_graph(module, inputs, is_leaf)
    except DesignError as err:
        raise DesignError(f"{symbolic}; {err}", [symbolic, str(err)]) from None


def _defaults_after(module: Any, count: int) -> dict[str, Any]:
    """forward's parameters after the `count` example inputs that have defaults, fixed to
    them, as calling forward with the example does (timm's `forward(x, attn_mask=None)`):
    code such as `if attn_mask is not None` then traces, and no input is left that is not a
    tensor."""
    import inspect

    try:
        parameters = list(inspect.signature(module.forward).parameters.values())[count:]
    except (TypeError, ValueError):  # a forward without a Python signature
        return {}
    return {parameter.name: parameter.default for parameter in parameters
            if parameter.default is not inspect.Parameter.empty
            and parameter.kind in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY)}


def is_leaf(module: Any, path: str) -> bool:
    """Whether a module's calls stay calls: torch.nn's layers, and EXTRA_LEAF_MODULES."""
    from torch import fx

    if is_stack(module):
        return False  # traced through: one node per layer (engine.importing.stacks)
    name = f"{type(module).__module__}.{type(module).__qualname__}"
    return name in EXTRA_LEAF_MODULES or fx.Tracer().is_leaf_module(module, path)


def propagate(module: Any, graph: Any, inputs: tuple[Any, ...]) -> dict[Any, Any]:
    """Run the traced graph on `module` itself; every node's value summarised (tensors become
    TensorMeta)."""
    import torch
    from torch import fx

    summaries: dict[Any, Any] = {}

    class Recorder(fx.Interpreter):
        def run_node(self, node):
            try:
                value = super().run_node(node)
            except Exception as err:  # noqa: BLE001 - the example does not fit the module
                reason = str(err).strip().splitlines()[0] if str(err).strip() else repr(err)
                raise DesignError(f"the module fails on the example input{location(node)}: "
                                  f"{reason}") from None
            summaries[node] = summarise(value)
            return value

    recorder = Recorder(module, graph=graph)
    recorder.extra_traceback = False  # the DesignError already names the source line
    with torch.no_grad():
        recorder.run(*inputs)
    return summaries


def summarise(value: Any) -> Any:
    import torch

    if isinstance(value, torch.Tensor):
        return TensorMeta(tuple(value.shape), value.dtype, value.is_contiguous())
    if isinstance(value, (tuple, list)):
        return tuple(summarise(item) for item in value)
    return value


def contains_tensor(summary: Any) -> bool:
    if isinstance(summary, TensorMeta):
        return True
    return isinstance(summary, tuple) and any(contains_tensor(item) for item in summary)


def location(node: Any) -> str:
    """' at file:line (code)' for the user code that created an fx node, or ''."""
    frames = [match.groupdict() for match in _FRAME.finditer(node.stack_trace or "")]
    for frame in reversed(frames):
        if not _inside_torch(frame["file"]):
            code = f" ({frame['code'].strip()})" if frame.get("code") else ""
            return f" at {frame['file']}:{frame['line']}{code}"
    return ""


def scope(node: Any) -> str:
    """The module path whose forward created the node ("" for the top level)."""
    stack = node.meta.get("nn_module_stack") or {}
    if not stack:
        return ""
    path = list(stack.values())[-1][0]
    return path if isinstance(path, str) else ""


def user_frame(frames: traceback.StackSummary) -> str:
    for frame in reversed(frames):
        if not _inside_torch(frame.filename):
            code = f" ({frame.line.strip()})" if frame.line else ""
            return f" at {frame.filename}:{frame.lineno}{code}"
    return ""


def _inside_torch(filename: str) -> bool:
    import torch

    torch_dir = os.path.dirname(torch.__file__)
    here = os.path.dirname(os.path.dirname(__file__))
    return filename.startswith((torch_dir + os.sep, here + os.sep))
