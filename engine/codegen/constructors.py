"""The constructor call that creates a layer's module, as Python source (`nn.Linear(1568, 10)`).

The catalogue's `build` functions are the one description of how a layer becomes a module, so
the exporter does not restate them: it runs `build` while watching which constructor it calls
with which arguments, and prints that call. The printed call is checked by running it again and
comparing the result with the built module, so the exported file cannot drift from the app.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from dataclasses import dataclass
from typing import Any

from engine.codegen.formatting import string_literal
from engine.errors import DesignError
from engine.layers import LayerSpec, TensorInfo


@dataclass(frozen=True)
class Construction:
    """`expression` creates the module; `imports` are the import lines it needs."""

    expression: str
    imports: frozenset[str]


@dataclass
class _Call:
    cls: type
    function: Any
    arguments: dict[str, Any]


def construction(spec: LayerSpec, inputs: list[TensorInfo], params: dict[str, Any],
                 where: str) -> Construction:
    """The source that builds the same module as `spec.build(inputs, params)`."""
    module, calls = _recorded_build(spec, inputs, params)
    imports: set[str] = set()
    expression = _render_module(module, calls, imports, where)
    _verify(module, calls, where)
    return Construction(expression, frozenset(imports))


def _recorded_build(spec: LayerSpec, inputs: list[TensorInfo],
                    params: dict[str, Any]) -> tuple[Any, dict[int, _Call]]:
    """Build the module and note the arguments each new nn.Module's `__init__` received.

    A profile hook (this thread only) sees every call; the first `__init__` call on a module
    instance holds the arguments it was created with, defaults filled in.
    """
    from torch import nn

    calls: dict[int, _Call] = {}
    keep_alive: list[Any] = []

    def watch(frame, event, arg):
        if event != "call" or frame.f_code.co_name != "__init__" or not frame.f_code.co_argcount:
            return
        instance = frame.f_locals.get(frame.f_code.co_varnames[0])
        if isinstance(instance, nn.Module) and id(instance) not in calls:
            keep_alive.append(instance)
            function = _init_function(type(instance), frame.f_code)
            calls[id(instance)] = _Call(type(instance), function, dict(frame.f_locals))

    previous = sys.getprofile()
    sys.setprofile(watch)
    try:
        module = spec.build(inputs, dict(params))
    finally:
        sys.setprofile(previous)
    return module, calls


def _init_function(cls: type, code: Any) -> Any:
    for klass in cls.__mro__:
        function = klass.__dict__.get("__init__")
        if getattr(function, "__code__", None) is code:
            return function
    raise AssertionError(f"no __init__ of {cls.__name__} runs {code.co_name}")


def _arguments(call: _Call, where: str) -> tuple[list[Any], dict[str, Any]]:
    """Positional and keyword arguments that reproduce the call, leaving out default values."""
    positional: list[Any] = []
    keywords: dict[str, Any] = {}
    parameters = list(inspect.signature(call.function).parameters.values())[1:]
    for parameter in parameters:
        value = call.arguments[parameter.name]
        if parameter.kind is parameter.VAR_POSITIONAL:
            if value and keywords:
                raise DesignError(f"{where}: cannot write the arguments of {call.cls.__name__}")
            positional.extend(value)
        elif parameter.kind is parameter.VAR_KEYWORD:
            defaults = _forwarded_defaults(call)
            keywords.update({key: item for key, item in value.items()
                             if key not in defaults or not _same(item, defaults[key])})
        elif parameter.default is parameter.empty:
            if parameter.kind is parameter.KEYWORD_ONLY:
                keywords[parameter.name] = value
            else:
                positional.append(value)
        elif not _same(value, parameter.default):
            keywords[parameter.name] = value
    return positional, keywords


def _forwarded_defaults(call: _Call) -> dict[str, Any]:
    """Defaults of the base-class `__init__` that a `(*args, **kwargs)` constructor forwards to
    (nn.LSTM passes everything on to nn.RNNBase); the rebuild check confirms the result."""
    defaults: dict[str, Any] = {}
    for klass in reversed(call.cls.__mro__):
        function = klass.__dict__.get("__init__")
        if function is None or function is call.function or not inspect.isfunction(function):
            continue
        for parameter in inspect.signature(function).parameters.values():
            if parameter.default is not parameter.empty:
                defaults[parameter.name] = parameter.default
    return defaults


def _same(value: Any, default: Any) -> bool:
    if type(value) is not type(default):
        return False
    if isinstance(value, (tuple, list)):
        return len(value) == len(default) and all(map(_same, value, default))
    return value is default or (isinstance(value, (bool, int, float, str)) and value == default)


def _render_module(module: Any, calls: dict[int, _Call], imports: set[str], where: str) -> str:
    call = calls.get(id(module))
    if call is None:
        raise DesignError(f"{where}: the layer's module was not created by a constructor call")
    positional, keywords = _arguments(call, where)
    texts = [_render_value(v, calls, imports, where) for v in positional]
    texts += [f"{k}={_render_value(v, calls, imports, where)}" for k, v in keywords.items()]
    return f"{_class_reference(call.cls, imports, where)}({', '.join(texts)})"


def _render_value(value: Any, calls: dict[int, _Call], imports: set[str], where: str) -> str:
    from torch import nn

    if value is None or isinstance(value, (bool, int, float)):
        return repr(value)
    if isinstance(value, str):
        return string_literal(value)
    if isinstance(value, tuple):
        items = [_render_value(v, calls, imports, where) for v in value]
        return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
    if isinstance(value, list):
        return f"[{', '.join(_render_value(v, calls, imports, where) for v in value)}]"
    if isinstance(value, nn.Module):
        return _render_module(value, calls, imports, where)
    raise DesignError(f"{where}: cannot write the argument {type(value).__name__} as code")


def _class_reference(cls: type, imports: set[str], where: str) -> str:
    """`nn.Conv2d` for torch.nn classes, `torchvision.ops.StochasticDepth` for torchvision's."""
    from torch import nn

    if getattr(nn, cls.__name__, None) is cls:
        imports.add("from torch import nn")
        return f"nn.{cls.__name__}"
    parts = cls.__module__.split(".")
    if parts[0] in ("torch", "torchvision"):
        for end in range(1, len(parts) + 1):
            path = ".".join(parts[:end])
            if getattr(importlib.import_module(path), cls.__name__, None) is cls:
                imports.add(f"import {path}")
                return f"{path}.{cls.__name__}"
    raise DesignError(f"{where}: {cls.__module__}.{cls.__name__} is not part of torch or "
                      "torchvision, so the exported file could not create it")


def _verify(module: Any, calls: dict[int, _Call], where: str) -> None:
    """Create the module again from the recorded arguments: same structure, same sizes."""
    rebuilt = _rebuilt(module, calls)
    if repr(rebuilt) != repr(module) or _sizes(rebuilt) != _sizes(module):
        raise DesignError(f"{where}: the layer changes its module after creating it, so the "
                          "exported code could not reproduce it")


def _rebuilt(value: Any, calls: dict[int, _Call]) -> Any:
    from torch import nn

    if not isinstance(value, nn.Module):
        return value
    positional, keywords = _arguments(calls[id(value)], "")
    return calls[id(value)].cls(*[_rebuilt(v, calls) for v in positional],
                                **{k: _rebuilt(v, calls) for k, v in keywords.items()})


def _sizes(module: Any) -> list[tuple[str, tuple[int, ...], Any]]:
    return [(key, tuple(value.shape), value.dtype) for key, value in module.state_dict().items()]
