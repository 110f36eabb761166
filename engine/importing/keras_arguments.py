"""Reading one Keras layer call's arguments, and what the import found worth saying.

Every argument of a layer call is read once, by name (positional ones are named by the layer's
signature); whatever is left over is either known not to change the network's structure
(initializers, regularizers, names: a note) or a problem naming its line. Problems are
collected, never raised one at a time, so one refusal lists every construct at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.importing.keras_model import INPUT_KEYWORDS
from engine.importing.keras_values import CallValue, Dotted, Unreadable, readable

MISSING = object()
# Keywords that never change what the network computes, and the note each earns.
_SUFFIX_NOTES = {
    "_initializer": "initializers are not carried over: PyTorch's initial weights are used",
    "_regularizer": "regularizers are not carried over; the nearest setting is the "
                    "optimizer's weight_decay",
    "_constraint": "weight constraints are not carried over",
}
_SILENT = frozenset({"name", "dtype", "seed", "unroll", *INPUT_KEYWORDS})


@dataclass
class Findings:
    """Problems (each stops the import) and notes (what was left out or changed, with the
    lines it applies to)."""

    problems: list[str] = field(default_factory=list)
    notes: dict[str, list[int]] = field(default_factory=dict)

    def problem(self, line: int, message: str) -> None:
        self.problems.append(f"line {line}: {message}")

    def note(self, line: int, message: str) -> None:
        lines = self.notes.setdefault(message, [])
        if line not in lines:
            lines.append(line)

    def note_lines(self) -> list[str]:
        return [f"{message} (line{'s' * (len(lines) > 1)} {', '.join(map(str, lines))})"
                for message, lines in self.notes.items()]


class Args:
    """One layer call's arguments: `take` each by name; `finish` reports the rest."""

    def __init__(self, layer: CallValue, positional: Sequence[str], findings: Findings) -> None:
        self.layer = layer
        self.findings = findings
        self.values: dict[str, Any] = dict(layer.kwargs)
        for name, value in zip(positional, layer.args):
            self.values[name] = value
        self.extra = list(layer.args[len(positional):])

    @property
    def line(self) -> int:
        return self.layer.line

    def problem(self, message: str) -> None:
        self.findings.problem(self.line, f"{self.layer.name}: {message}")

    def take(self, name: str, default: Any = MISSING) -> Any:
        """The argument's value; a missing required one or one computed at run time is a
        problem (and gives `default`, or None)."""
        value = self.values.pop(name, default)
        if value is MISSING:
            self.problem(f"needs {name}")
            return None
        if not readable(value):
            self.problem(f"{name}={_shown(value)} is computed when the code runs; write the "
                         "value itself")
            return None if default is MISSING else default
        return value

    def whole(self, name: str, default: Any = MISSING, minimum: int = 1) -> int | None:
        value = self.take(name, default)
        if value is not None and not (_is_int(value) and value >= minimum):
            self.problem(f"{name}={value!r} is not a whole number of at least {minimum}")
            return None
        return value

    def number(self, name: str, default: float) -> float:
        value = self.take(name, default)
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            self.problem(f"{name}={value!r} is not a number")
            return default
        return float(value)

    def flag(self, name: str, default: bool) -> bool:
        value = self.take(name, default)
        if not isinstance(value, bool):
            self.problem(f"{name}={value!r} is not True or False")
            return default
        return value

    def size(self, name: str, n: int, default: Any = MISSING) -> int | tuple[int, ...] | None:
        """An int or n ints (Keras's kernel_size, strides, pool_size), as the design keeps
        them: one int when all are equal."""
        value = self.take(name, default)
        sizes = tuple(value) if isinstance(value, (tuple, list)) else (value,) * n
        if value is None or len(sizes) != n or not all(_is_int(s) and s >= 1 for s in sizes):
            if value is not None:
                self.problem(f"{name}={value!r} is not a size: one whole number or {n} of them")
            return None
        return sizes[0] if len(set(sizes)) == 1 else sizes

    def expect(self, name: str, accepted: tuple, why: str = "") -> Any:
        """An argument NeuralCanvas reads only at these values (the first is the default)."""
        value = self.take(name, accepted[0])
        if isinstance(value, str):
            value = value.lower()
        if value not in accepted:
            shown = " or ".join(repr(v) for v in accepted)
            self.problem(f"{name}={value!r} is not read (only {shown}){why}")
            return accepted[0]
        return value

    def drop_all(self) -> None:
        """Read nothing more of this call (a layer left out, or one not read at all)."""
        self.values.clear()
        self.extra.clear()

    def finish(self) -> None:
        """Note or refuse every argument no one took."""
        for value in self.extra:
            self.problem(f"the extra argument {_shown(value)} is not read")
        for name, value in self.values.items():
            note = next((text for suffix, text in _SUFFIX_NOTES.items()
                         if name.endswith(suffix)), None)
            if note is not None:
                self.findings.note(self.line, note)
            elif name == "trainable":
                self.findings.note(self.line, "trainable=False is not carried over: every "
                                   "layer trains")
            elif name not in _SILENT:
                self.problem(f"{name}={_shown(value)} is not read")
        self.drop_all()


def activation_name(value: Any) -> str | None | Unreadable:
    """'relu' for 'relu', tf.nn.relu or keras.activations.relu; None for none or 'linear'."""
    if value is None:
        return None
    if isinstance(value, Dotted):
        value = value.last
    if isinstance(value, str):
        value = value.lower()
        return None if value == "linear" else value
    return Unreadable(_shown(value), 0)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _shown(value: Any) -> str:
    if isinstance(value, Unreadable):
        return value.text
    if isinstance(value, CallValue):
        return value.text
    if isinstance(value, Dotted):
        return value.path
    if isinstance(value, (tuple, list)):
        return repr(type(value)(_ShownItem(item) for item in value))
    return repr(value)


class _ShownItem:
    """Shows a nested value as the source wrote it inside a tuple's repr."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return _shown(self.value)
