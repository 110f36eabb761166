"""Training settings from a Keras snippet's `compile(...)` and `fit(...)` calls.

Only what the snippet says is set (task, loss, optimizer and its rate, epochs, batch size,
validation split); Keras's own defaults are kept where they differ from ours (SGD's rate
0.01 and no momentum). What has no setting here becomes a note, never a silent change.
"""

from __future__ import annotations

from typing import Any

from engine.importing.keras_arguments import Findings
from engine.importing.keras_values import CallValue, Dotted
from engine.training.settings import problems_in

# Keras loss -> (task, our loss)
_LOSSES = {
    "sparse_categorical_crossentropy": ("classification", "cross_entropy"),
    "categorical_crossentropy": ("classification", "cross_entropy"),
    "mean_squared_error": ("regression", "mse"), "mse": ("regression", "mse"),
    "mean_absolute_error": ("regression", "mae"), "mae": ("regression", "mae"),
}
_LOSS_CLASSES = {"SparseCategoricalCrossentropy": "sparse_categorical_crossentropy",
                 "CategoricalCrossentropy": "categorical_crossentropy",
                 "MeanSquaredError": "mse", "MeanAbsoluteError": "mae",
                 "BinaryCrossentropy": "binary_crossentropy"}
BINARY = "binary_crossentropy"
# Keras optimizer -> (our name, Keras's defaults where ours differ)
_OPTIMIZERS = {"adam": ("adam", {}), "sgd": ("sgd", {"lr": 0.01, "momentum": 0.0}),
               "rmsprop": ("rmsprop", {"momentum": 0.0}),
               "adamw": ("adamw", {"weight_decay": 0.004})}
_OPTIMIZER_ARGUMENTS = {"learning_rate": "lr", "lr": "lr", "momentum": "momentum",
                        "nesterov": "nesterov", "weight_decay": "weight_decay",
                        "beta_1": "beta1", "beta_2": "beta2"}
_COMPILE = ("optimizer", "loss", "loss_weights", "metrics")
_FIT = ("x", "y", "batch_size", "epochs")


def training_settings(compile_call: CallValue | None, fit_call: CallValue | None,
                      findings: Findings) -> dict[str, Any]:
    """The `design.training` values compile and fit give."""
    training: dict[str, Any] = {}
    if compile_call is not None:
        args = _Call(compile_call, _COMPILE)
        loss = _loss_name(args.get("loss"))
        if loss in _LOSSES:
            training["task"], training["loss"] = _LOSSES[loss]
        elif loss == BINARY:
            training["task"], training["loss"] = "regression", "mse"
            findings.note(compile_call.line, "binary_crossentropy has no loss here: the 0-1 "
                          "score is trained as a regression with MSE (for classification, "
                          "give the last Dense 2 units and no sigmoid)")
        elif loss is not None:
            findings.note(compile_call.line, f"the loss {loss!r} has no setting here; the "
                          "task's usual loss is used")
        optimizer = _optimizer(args.get("optimizer", "rmsprop"), compile_call.line, findings)
        if optimizer:
            training["optimizer"] = optimizer
    if fit_call is not None:
        args = _Call(fit_call, _FIT)
        for key in ("epochs", "batch_size"):
            if isinstance(args.get(key), int):
                training[key] = args.get(key)
        split = args.get("validation_split")
        if isinstance(split, float) and split > 0:
            training["data"] = {"validation_split": split}
    for path, message in problems_in(training):
        findings.note(getattr(fit_call or compile_call, "line", 0),
                      f"training{path} is left at its default ({message})")
        _drop(training, path)
    return training


class _Call:
    """A compile or fit call's arguments by name (they are read leniently: a value this
    import does not use is no problem)."""

    def __init__(self, call: CallValue, positional: tuple[str, ...]) -> None:
        self.values = {**dict(zip(positional, call.args)), **call.kwargs}

    def get(self, name: str, default: Any = None) -> Any:
        return self.values.get(name, default)


def _loss_name(value: Any) -> str | None:
    if isinstance(value, Dotted):
        value = value.last
    if isinstance(value, CallValue):
        value = _LOSS_CLASSES.get(value.name, value.name)
    return value.lower() if isinstance(value, str) else None


def _optimizer(value: Any, line: int, findings: Findings) -> dict[str, Any]:
    """The optimizer settings for 'adam', Adam(...) or keras.optimizers.Adam(learning_rate=..)."""
    name = value.name if isinstance(value, CallValue) else value
    name = name.last if isinstance(name, Dotted) else name
    key = name.lower() if isinstance(name, str) else None
    if key not in _OPTIMIZERS:
        findings.note(line, f"the optimizer {getattr(value, 'text', value)!r} has no setting "
                      "here; Adam is used")
        return {}
    ours, keras_defaults = _OPTIMIZERS[key]
    settings = {"name": ours, **keras_defaults}
    if isinstance(value, CallValue):
        args = _Call(value, ("learning_rate",))
        for keras_name, our_name in _OPTIMIZER_ARGUMENTS.items():
            if isinstance(args.get(keras_name), (int, float)):
                settings[our_name] = args.get(keras_name)
    return settings


def _drop(training: dict[str, Any], path: str) -> None:
    """Remove the setting at '.optimizer.lr' (a path problems_in gives)."""
    *parents, last = path.strip(".").split(".")
    section = training
    for parent in parents:
        section = section.get(parent, {})
    section.pop(last, None)
