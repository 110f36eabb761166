"""Which catalogue layer reproduces a torch module, found by rebuilding it.

A module of class `nn.X` maps to the layer "X" (StochasticDepth, LSTM, ...): its parameters are
read from the module's attributes, the layer builds its own module from them, and the two must
agree on every setting and every weight's shape. A setting the layer cannot express (a
MaxPool2d with ceil_mode=True, an LSTM with batch_first=False) is named in the refusal, so
nothing is approximated silently. Functional calls such as `F.relu(x)` are mapped by creating
the equivalent module first.
"""

from __future__ import annotations

from typing import Any

from engine.errors import DesignError
from engine.layers import LayerSpec, TensorInfo, get_layer

# Catalogue parameters stored under another attribute (path) by the torch module.
_ATTRIBUTE_OF = {("Unflatten", "sizes"): "unflattened_size",
                 ("MultiheadAttention", "bias"): "in_proj_bias",
                 **{(window_attention, name): path
                    for window_attention in ("ShiftedWindowAttention", "ShiftedWindowAttentionV2")
                    for name, path in (("dim", "qkv.in_features"), ("qkv_bias", "qkv.bias"),
                                       ("proj_bias", "proj.bias"))}}
# The Transformer blocks' constructor arguments, by where the module keeps them. Each is read
# into the layer's parameter of that name; one the layer has no parameter for is compared with
# the layer's own module, and a difference refused under the argument's name.
_TRANSFORMER_SETTINGS = {"nhead": "self_attn.num_heads", "dim_feedforward": "linear1.out_features",
                         "dropout": "dropout.p", "activation": "activation",
                         "layer_norm_eps": "norm1.eps", "batch_first": "self_attn.batch_first",
                         "norm_first": "norm_first", "bias": "linear1.bias"}
_SETTINGS = {"TransformerEncoderLayer": _TRANSFORMER_SETTINGS,
             "TransformerDecoderLayer": _TRANSFORMER_SETTINGS}
# Parameters that describe how the node uses the module's result, not the module itself.
_USE_PARAMS = {"LSTM": ("output",), "GRU": ("output",), "RNN": ("output",),
               "TransformerDecoderLayer": ("tgt_is_causal",), "BatchNorm1d": ("features",)}


class Unsupported(Exception):
    """A module or call that no catalogue layer reproduces; the message says why."""


def layer_for_module(module: Any, inputs: list[TensorInfo],
                     use: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
    """The (layer type, parameters) that build an equivalent module, or raise Unsupported.

    Sizes such as (3, 3) are stored as 3 where the layer then builds the same module, so the
    design and its exported code read as a person would write them.
    """
    cls_name = type(module).__name__
    try:
        spec = get_layer(cls_name)
    except DesignError:
        raise Unsupported(f"{cls_name} has no NeuralCanvas layer") from None
    if not spec.builds_module:
        raise Unsupported(f"{cls_name} has no NeuralCanvas layer")
    params = dict(use or {})
    for param in spec.params:
        if param.name not in params:
            params[param.name] = _read(module, spec, param)
    short = {key: _shortened(value) if spec.param_index[key].kind == "size" else value
             for key, value in params.items()}
    if short != params and not _difference(spec, module, inputs, short):
        return spec.name, short
    problem = _difference(spec, module, inputs, params)
    if problem:
        raise Unsupported(problem)
    return spec.name, params


def _difference(spec: LayerSpec, module: Any, inputs: list[TensorInfo],
                params: dict[str, Any]) -> str | None:
    """What differs between `module` and the layer's module for `params`, or None."""
    import torch

    cls_name = type(module).__name__
    with torch.device("meta"):  # only the structure is compared: skip initialising weights
        built = spec.build(inputs, params)
    if type(built) is not type(module):
        return f"{cls_name} has no NeuralCanvas layer"
    named = _SETTINGS.get(spec.name, {})
    differences = [f"{name}={_setting(module, path)!r} (the {spec.name} layer uses "
                   f"{_setting(built, path)!r})" for name, path in named.items()
                   if _setting(module, path) != _setting(built, path)]
    if differences:
        return f"{cls_name} with {', '.join(differences)}"
    theirs, ours = module_settings(module), module_settings(built)
    # Attributes the layer's own module lacks were added by the model's code (torchvision
    # marks Inception's layers with `stddev` for its initialisation): forward never reads them.
    # Named settings were compared above, as the constructor argument.
    differences = [f"{key}={value!r} (the {spec.name} layer uses {ours[key]!r})"
                   for key, value in theirs.items()
                   if key in ours and ours[key] != value and key not in named.values()]
    if differences:
        return f"{cls_name} with {', '.join(differences)}"
    if _sizes(built) != _sizes(module):
        return (f"{cls_name} whose weights differ from the {spec.name} layer's: "
                f"{_describe_sizes(module)} instead of {_describe_sizes(built)}")
    return None


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


def _setting(module: Any, path: str) -> Any:
    """A named setting as its constructor argument reads: `bias` True or False, an
    activation as the name of the function it computes."""
    import torch

    value = module
    for part in path.split("."):
        value = getattr(value, part)
    if path.endswith("bias") and (value is None or isinstance(value, torch.Tensor)):
        return value is not None
    return _activation_name(value) if path == "activation" else value


def _activation_name(activation: Any) -> Any:
    """"relu" or "gelu" for the function or the module (nn.GELU() computes F.gelu); any other
    activation as it is, which no layer reproduces."""
    import torch.nn.functional as F
    from torch import nn

    if activation is F.relu or type(activation) is nn.ReLU:
        return "relu"
    if activation is F.gelu or (type(activation) is nn.GELU and activation.approximate == "none"):
        return "gelu"
    return activation


def _shortened(value: Any) -> Any:
    if isinstance(value, tuple) and value and len(set(value)) == 1:
        return value[0]
    return value


def _read(module: Any, spec: LayerSpec, param: Any) -> Any:
    import torch

    if param.name in _USE_PARAMS.get(spec.name, ()):
        return param.default
    attribute = _SETTINGS.get(spec.name, {}).get(param.name) or _ATTRIBUTE_OF.get(
        (spec.name, param.name), param.name)
    try:
        value = _setting(module, attribute)
    except AttributeError:
        raise Unsupported(f"{type(module).__name__}: cannot read its setting "
                          f"{param.name!r}") from None
    if param.kind == "bool" and (value is None or isinstance(value, torch.Tensor)):
        value = value is not None  # e.g. `bias`: a parameter, or None
    if isinstance(value, list):
        value = tuple(value)
    try:
        return param.coerce(value)
    except TypeError as err:
        raise Unsupported(f"{type(module).__name__}: {err}") from None


def _sizes(module: Any) -> list[tuple[str, tuple[int, ...], Any]]:
    return [(key, tuple(value.shape), value.dtype) for key, value in module.state_dict().items()]


def holds_computation(module: Any) -> bool:
    """Whether leaving a module out loses anything: weights, or a layer (not an empty
    container such as torchvision's placeholder `nn.Sequential()`)."""
    from torch import nn

    if any(True for _ in module.parameters()) or any(True for _ in module.buffers()):
        return True
    containers = (nn.Sequential, nn.ModuleList, nn.ModuleDict)
    return any(not isinstance(m, containers) for m in module.modules())


def _describe_sizes(module: Any) -> str:
    return ", ".join(f"{key} {tuple(shape)} {str(dtype).replace('torch.', '')}"
                     for key, shape, dtype in _sizes(module)) or "none"


# ---------------------------------------------------------------------------- functional calls

class Functional:
    """A function or tensor method that is a module's forward in disguise (`F.relu(x)`).

    `parameters` name the call's arguments in order (the tensor first); `settings` are those
    passed to the module's constructor. `fixed` maps other arguments to (the only value the
    module can reproduce, the function's default).
    """

    def __init__(self, module: str, parameters: tuple[str, ...], settings: tuple[str, ...] = (),
                 fixed: dict[str, tuple[Any, Any]] | None = None) -> None:
        self.module = module
        self.parameters = parameters
        self.settings = settings
        self.fixed = fixed or {}

    def build(self, args: tuple, kwargs: dict[str, Any]) -> Any:
        """The equivalent module for the arguments after the tensor, or Unsupported naming an
        argument it cannot take."""
        from torch import nn

        bound = dict(zip(self.parameters[1:], args))
        bound.update(kwargs)
        unknown = set(bound) - set(self.parameters)
        if unknown:
            raise Unsupported(f"unexpected argument(s) {', '.join(sorted(unknown))}")
        for name, (required, default) in self.fixed.items():
            value = bound.get(name, default)
            if value != required:
                raise Unsupported(f"{name}={value!r} (only {required!r} is supported)")
        options = {name: bound[name] for name in self.settings if name in bound}
        return getattr(nn, self.module)(**options)


def functional_table() -> dict[Any, Functional]:
    """Functions (torch.relu, F.max_pool2d, ...) and method names ("relu") with their module."""
    import torch
    import torch.nn.functional as F

    relu = Functional("ReLU", ("input", "inplace"))
    table: dict[Any, Functional] = {
        F.relu: relu, torch.relu: relu, "relu": relu,
        F.relu6: Functional("ReLU6", ("input", "inplace")),
        F.hardswish: Functional("Hardswish", ("input", "inplace")),
        F.hardsigmoid: Functional("Hardsigmoid", ("input", "inplace")),
        F.silu: Functional("SiLU", ("input", "inplace")),
        F.gelu: Functional("GELU", ("input", "approximate"), ("approximate",)),
        F.leaky_relu: Functional("LeakyReLU", ("input", "negative_slope", "inplace"),
                                 ("negative_slope",)),
        F.elu: Functional("ELU", ("input", "alpha", "inplace"), ("alpha",)),
        F.adaptive_avg_pool2d: Functional("AdaptiveAvgPool2d", ("input", "output_size"),
                                          ("output_size",)),
        F.dropout: Functional("Dropout", ("input", "p", "training", "inplace"), ("p",),
                              {"training": (False, True)}),
    }
    for function in (torch.sigmoid, F.sigmoid, "sigmoid"):
        table[function] = Functional("Sigmoid", ("input",))
    for function in (torch.tanh, F.tanh, "tanh"):
        table[function] = Functional("Tanh", ("input",))
    softmax = ("input", "dim", "_stacklevel", "dtype")
    for function in (F.softmax, torch.softmax, "softmax"):
        table[function] = Functional("Softmax", softmax, ("dim",), {"dtype": (None, None)})
    for function in (F.log_softmax, torch.log_softmax, "log_softmax"):
        table[function] = Functional("LogSoftmax", softmax, ("dim",), {"dtype": (None, None)})
    pools = {"max": ("dilation", "ceil_mode", "return_indices"),
             "avg": ("ceil_mode", "count_include_pad", "divisor_override")}
    for kind, extra in pools.items():
        for n in (1, 2):
            parameters = ("input", "kernel_size", "stride", "padding", *extra)
            table[getattr(F, f"{kind}_pool{n}d")] = Functional(
                f"{kind.capitalize()}Pool{n}d", parameters, parameters[1:])
    return table
