"""The constructor call that creates a layer's module, as Python source (`nn.Linear(1568, 10)`).

The catalogue's `build` functions are the one description of how a layer becomes a module, so
the exporter does not restate them: it builds the module (on the meta device, without weights)
and reads the constructor's arguments back from the module's attributes, which torch modules
keep under the constructor's parameter names. The few modules that store their settings
elsewhere have a reader here. Every call is checked by running it again and comparing the
result with the built module, so the exported file cannot drift from the app.
"""

from __future__ import annotations

import importlib
import inspect
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine.codegen.formatting import string_literal
from engine.errors import DesignError
from engine.layers import LayerSpec, TensorInfo
from engine.training import excerpt

_NOT_SETTINGS = frozenset({"device", "dtype"})


@dataclass(frozen=True)
class Construction:
    """`expression` creates the module; `imports` are the import lines it needs, `definitions`
    the source of the portable functions it calls."""

    expression: str
    imports: frozenset[str]
    definitions: tuple[str, ...] = ()


def construction(spec: LayerSpec, inputs: list[TensorInfo], params: dict[str, Any]
                 ) -> Construction:
    """The source that builds the same module as `spec.build(inputs, params)`."""
    import torch

    if spec.construct is not None:
        expression = spec.construct(inputs, dict(params))
        definitions, imports = excerpt.needed(expression)
        return Construction(expression, frozenset(imports), tuple(definitions))
    with torch.device("meta"):  # the structure is all that is needed
        module = spec.build(inputs, dict(params))
        positional, keywords = _shortest(module, *constructor_arguments(module))
    if positional is None:
        raise DesignError(f"cannot write the {type(module).__name__} this layer builds as a "
                          "constructor call")
    imports: set[str] = set()
    texts = [_literal(value) for value in positional]
    texts += [f"{key}={_literal(value)}" for key, value in keywords.items()]
    reference = _class_reference(type(module), imports)
    return Construction(f"{reference}({', '.join(texts)})", frozenset(imports))


def module_settings(module: Any) -> dict[str, Any]:
    """Everything that configures a module: its public attributes and its children's (tensors
    by shape), without `training` and `inplace`, which never change what it computes."""
    import torch

    settings = {}
    for key, value in vars(module).items():
        if key.startswith("_") or key in ("training", "inplace"):
            continue
        settings[key] = (tuple(value.shape), value.dtype) if isinstance(
            value, torch.Tensor) else value
    for name, child in module.named_children():
        settings.update({f"{name}.{key}": value for key, value in module_settings(child).items()})
    return settings


def _fingerprint(module: Any) -> tuple[Any, ...]:
    sizes = [(key, tuple(value.shape), value.dtype) for key, value in module.state_dict().items()]
    return repr(module), sizes, module_settings(module)


def _shortest(module: Any, positional: list[Any], keywords: dict[str, Any]
              ) -> tuple[list[Any] | None, dict[str, Any]]:
    """The shortest arguments that still rebuild `module` exactly: (3, 3) written as 3 where
    the class takes either, settings the class derives anyway (an attention's kdim) left out.
    (None, {}) when even the full arguments do not rebuild it."""
    target = _fingerprint(module)

    def rebuilds(args: list[Any], kwargs: dict[str, Any]) -> bool:
        with warnings.catch_warnings():  # a candidate may be one torch warns about
            warnings.simplefilter("ignore")
            try:
                return _fingerprint(type(module)(*args, **kwargs)) == target
            except (TypeError, ValueError):
                return False

    if not rebuilds(positional, keywords):
        return None, {}
    short_args = [_scalar(value) for value in positional]
    short_kwargs = {key: _scalar(value) for key, value in keywords.items()}
    if rebuilds(short_args, short_kwargs):
        positional, keywords = short_args, short_kwargs
    defaults = {p.name: p.default for p in _parameters(_concrete_init(type(module)))}
    keywords = {key: value for key, value in keywords.items()
                if not _same(value, defaults.get(key, inspect.Parameter.empty))}
    for key in list(keywords):
        fewer = {k: v for k, v in keywords.items() if k != key}
        if rebuilds(positional, fewer):
            keywords = fewer
    return positional, keywords


def _scalar(value: Any) -> Any:
    if isinstance(value, tuple) and value and len(set(value)) == 1 and isinstance(value[0], int):
        return value[0]
    return value


def constructor_arguments(module: Any) -> tuple[list[Any], dict[str, Any]]:
    """Arguments that create an equal module: required ones positionally, the others by
    keyword when they differ from the default."""
    for cls in type(module).__mro__:
        reader = _READERS.get(cls.__name__)
        if reader is not None and cls.__module__.startswith("torch.nn"):
            parameters, values = reader(module)
            break
    else:
        parameters = _parameters(_concrete_init(type(module)))
        values = {p.name: getattr(module, p.name) for p in parameters if hasattr(module, p.name)}
    positional: list[Any] = []
    keywords: dict[str, Any] = {}
    for parameter in parameters:
        if parameter.name not in values or parameter.name in _NOT_SETTINGS:
            continue
        value = _plain(values[parameter.name], parameter.default)
        if parameter.default is parameter.empty:
            positional.append(value)
        elif not _same(value, parameter.default):
            keywords[parameter.name] = value
    return positional, keywords


def _concrete_init(cls: type) -> Callable[..., Any]:
    """The `__init__` that names its parameters (not a `(*args, **kwargs)` pass-through)."""
    for klass in cls.__mro__:
        function = klass.__dict__.get("__init__")
        if inspect.isfunction(function) and all(
                p.kind is not p.VAR_POSITIONAL for p in _parameters(function)):
            return function
    return cls.__init__


def _parameters(function: Callable[..., Any]) -> list[inspect.Parameter]:
    """The parameters after `self`."""
    return list(inspect.signature(function).parameters.values())[1:]


def _plain(value: Any, default: Any) -> Any:
    """Attributes as the constructor takes them: a bias parameter becomes True, None False."""
    import torch

    if isinstance(default, bool) and (value is None or isinstance(value, torch.Tensor)):
        return value is not None
    return value


def _same(value: Any, default: Any) -> bool:
    if type(value) is not type(default):
        return False
    if isinstance(value, (tuple, list)):
        return len(value) == len(default) and all(map(_same, value, default))
    return value is default or (isinstance(value, (bool, int, float, str)) and value == default)


# ---------------------------------------------------------------------------- special readers

def _recurrent(module: Any) -> tuple[list[inspect.Parameter], dict[str, Any]]:
    """nn.RNN/LSTM/GRU pass `(*args, **kwargs)` on to nn.RNNBase, whose names they keep
    (after `mode`, which each class fills in itself)."""
    from torch import nn

    parameters = [p for p in _parameters(nn.RNNBase.__init__) if p.name != "mode"]
    if isinstance(module, nn.RNN):
        parameters.append(inspect.Parameter("nonlinearity", inspect.Parameter.KEYWORD_ONLY,
                                            default="tanh"))
    return parameters, {p.name: getattr(module, p.name) for p in parameters
                        if hasattr(module, p.name)}


def _attention(module: Any) -> tuple[list[inspect.Parameter], dict[str, Any]]:
    from torch import nn

    values = {name: getattr(module, name) for name in
              ("embed_dim", "num_heads", "dropout", "add_zero_attn", "kdim", "vdim",
               "batch_first")}
    values.update(bias=module.in_proj_bias is not None, add_bias_kv=module.bias_k is not None)
    return _parameters(nn.MultiheadAttention.__init__), values


def _encoder_layer(module: Any) -> tuple[list[inspect.Parameter], dict[str, Any]]:
    from torch import nn

    attention = module.self_attn
    values = {"d_model": attention.embed_dim, "nhead": attention.num_heads,
              "dim_feedforward": module.linear1.out_features, "dropout": module.dropout.p,
              "activation": "gelu" if module.activation_relu_or_gelu == 2 else "relu",
              "layer_norm_eps": module.norm1.eps, "batch_first": attention.batch_first,
              "norm_first": module.norm_first, "bias": module.linear1.bias is not None}
    return _parameters(nn.TransformerEncoderLayer.__init__), values


_READERS = {"RNNBase": _recurrent, "MultiheadAttention": _attention,
            "TransformerEncoderLayer": _encoder_layer}


# ---------------------------------------------------------------------------- source text

def _literal(value: Any) -> str:
    if value is None or isinstance(value, (bool, int, float)):
        return repr(value)
    if isinstance(value, str):
        return string_literal(value)
    if isinstance(value, (tuple, list)):
        items = [_literal(item) for item in value]
        if isinstance(value, list):
            return f"[{', '.join(items)}]"
        return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
    raise DesignError(f"cannot write an argument of type {type(value).__name__} as code")


def _class_reference(cls: type, imports: set[str]) -> str:
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
    raise DesignError(f"{cls.__module__}.{cls.__name__} is not part of torch or "
                      "torchvision, so the exported file could not create it")


