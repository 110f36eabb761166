"""One way to declare a value a person sets: a layer's parameter or a training setting.

A `Param` says a field's kind, default, range, choices, help and label. The same declaration
checks a design file as it loads (engine.fileformat), an edit (engine.design), builds the
inspector's and the Setup form's editors (designer.panels.param_editors) and writes the
reference (engine.reference). Messages name the field and quote the value:
"'lr' is -1 but must be greater than 0", "'kernel_size' must be a whole number or 2 of them,
not 'three'".

Plain dataclasses rather than pydantic, msgspec or attrs+cattrs: benchmarks/schema_libraries.py
measures them (import 17 ms ours, 18 msgspec, 43 attrs+cattrs, 57 pydantic; validating takes
microseconds in all). None words its messages as plainly ("Expected `float` > 0.0 - at
`$.optimizer.lr`"), msgspec stops at the first problem, none suggests a misspelt key, and
layer parameters need rules they lack (a value stored but reported out of range by the check,
torch's int-or-tuple sizes).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

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

KINDS = ("int", "float", "bool", "choice", "text", "texts", "ints", "size")
_WHOLE_NUMBER_KINDS = ("int", "ints", "size")


@dataclass(frozen=True)
class Param:
    """One field: its kind, default and the rules a value must follow.

    kinds: "int", "float", "bool", "choice", "text" (never executed, only read as data),
    "texts" (a list of texts), "ints" (a list of ints, of any length unless `length` says),
    "size" (an int, or a tuple of `length` ints, as torch's kernel_size accepts).
    `optional` fields also accept None (the engine then works the value out). `above` is an
    exclusive minimum, `pattern` a regular expression a text must match fully (`help` then
    says what it accepts), `sources` the data sources a data setting applies to, `label` the
    name a form shows (default: `name`), `longest` the most numbers a list holds (a table of
    stored values holds more than a shape). Whole-number kinds that declare no `maximum` get
    `LARGEST_WHOLE_NUMBER`, so every size a file or an edit can give is bounded.
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
    label: str = ""
    above: float | None = None
    pattern: str | None = None
    sources: tuple[str, ...] = ()
    longest: int = LONGEST_LIST

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown kind {self.kind!r} of '{self.name}'; kinds: {KINDS}")
        if self.kind in _WHOLE_NUMBER_KINDS and self.maximum is None:
            object.__setattr__(self, "maximum", LARGEST_WHOLE_NUMBER)

    @property
    def title(self) -> str:
        """What a form calls the field."""
        return self.label or self.name

    @property
    def subject(self) -> str:
        """How a message names the field."""
        return f"'{self.name}'"

    def problem(self, value: Any) -> str | None:
        """Everything wrong with `value` (its kind, then its range), or None."""
        try:
            stored = self.coerce(value)
        except TypeError as err:
            return str(err)
        return self.range_problem(stored)

    def coerce(self, value: Any) -> Any:
        """Return `value` in its stored form, or raise TypeError saying what was expected.

        A value no field could ever hold is refused here too: a whole number beyond what a
        tensor can count, a number beyond what a float holds. Values merely out of the
        declared range are stored, and reported by `range_problem` (a layer's check)."""
        kind = self.kind
        if value is None and self.optional:
            return None
        if kind == "int":
            return self._whole_number(value, "a whole number")
        if kind == "float":
            number = finite_float(value)
            if number is None:
                raise self._refusal("a finite number", value)
            return number
        if kind == "bool":
            if not isinstance(value, bool):
                raise self._refusal("true or false", value)
            return value
        if kind == "text":
            return self._text(value)
        if kind == "texts":
            if not isinstance(value, (list, tuple)):
                raise self._refusal("a list of texts", value)
            return tuple(self._text(item) for item in value)
        if kind == "choice":
            if not isinstance(value, str) or value not in self.choices:
                raise self._refusal(f"one of {', '.join(repr(c) for c in self.choices)}", value)
            return value
        if kind == "ints":
            return self._int_tuple(value)
        if isinstance(value, int) and not isinstance(value, bool):  # "size"
            return self._whole_number(value, "a whole number")
        return self._int_tuple(value, f"a whole number or {self.length or 'several'} of them")

    def _refusal(self, expected: str, value: Any) -> TypeError:
        return TypeError(f"{self.subject} must be {expected}, not {excerpt(value)}")

    def _text(self, value: Any) -> str:
        if not isinstance(value, str):
            raise self._refusal("a text", value)
        if self.pattern is not None and not re.fullmatch(self.pattern, value):
            raise self._refusal(self.help, value)
        return value

    def _whole_number(self, value: Any, expected: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._refusal(expected, value)
        if abs(value) > LARGEST_ELEMENT_COUNT:  # beyond any size a tensor can have: not stored
            bound = self._bound_problem(value) or (f"from {-LARGEST_ELEMENT_COUNT:,} to "
                                                   f"{LARGEST_ELEMENT_COUNT:,}")
            raise TypeError(f"{self.subject} is {excerpt(value)} but must be {bound}")
        return value

    def _int_tuple(self, value: Any, expected: str | None = None) -> tuple[int, ...]:
        if expected is None:
            count = f"{self.length} " if self.length is not None else ""
            expected = f"a list of {count}whole numbers"
        if (not isinstance(value, (list, tuple))
                or any(isinstance(v, bool) or not isinstance(v, int) for v in value)
                or (self.length is not None and len(value) != self.length)):
            raise self._refusal(expected, value)
        return tuple(self._whole_number(v, expected) for v in value)

    def range_problem(self, value: Any) -> str | None:
        """Say what is wrong when a stored value lies outside the allowed range."""
        if isinstance(value, str):
            return text_problem(value, self.subject, LONGEST_PATH)
        if self.kind == "texts" and value is not None:
            problems = (text_problem(v, f"{self.subject} item {i}", LONGEST_PATH)
                        for i, v in enumerate(value))
            return next((p for p in problems if p), None)
        values = value if isinstance(value, tuple) else (value,)
        if len(values) > self.longest:
            return (f"{self.subject} holds {len(values):,} numbers; at most {self.longest} are "
                    "allowed")
        for v in values:
            if v is None or isinstance(v, bool):
                continue
            bound = self._bound_problem(v)
            if bound:
                return f"{self.subject} is {excerpt(value)} but must be {bound}"
        if self.kind == "ints" and self.length is None and not values:
            return f"{self.subject} must not be empty"
        return None

    def accepts(self) -> str:
        """The values the field takes, in words ("at least 1, at most 10", the choices), for
        the reference; empty when any value of its kind does."""
        if self.choices:
            return ", ".join(f"`{choice}`" for choice in self.choices)
        words = [phrase for phrase, _ in self._bounds()]
        return ", ".join(words + (["or empty"] if self.optional else []))

    def _bounds(self, v: float | None = None) -> list[tuple[str, bool]]:
        """Each declared bound in words, and whether `v` breaks it."""
        checks = ((self.minimum, "at least", lambda bound: v < bound),
                  (self.above, "greater than", lambda bound: v <= bound),
                  (self.maximum, "at most", lambda bound: v > bound))
        return [(f"{words} {_num(bound)}", v is not None and broken(bound))
                for bound, words, broken in checks if bound is not None]

    def _bound_problem(self, v: float) -> str | None:
        broken = next((phrase for phrase, is_broken in self._bounds(v) if is_broken), None)
        if broken:
            return broken
        if self.kind == "float" and abs(v) > LARGEST_FLOAT32:  # torch's kernels take float32
            return f"from {_num(-LARGEST_FLOAT32)} to {_num(LARGEST_FLOAT32)} (what float32 holds)"
        return None

    def to_json(self, value: Any) -> Any:
        return list(value) if isinstance(value, tuple) else value


def _num(x: float) -> str:
    """A bound as people read it: '2,147,483,647', '0.01', '3.4e+38'."""
    if abs(x) >= 1e15:
        return f"{x:.3g}"
    return f"{int(x):,}" if float(x).is_integer() else str(x)


def unknown_key_problem(owner: str, what: str, key: str, known: Iterable[str]) -> str:
    """Say that `owner` has no `what` called `key`, suggesting the closest known key:
    "training has no setting 'epochz'; did you mean 'epochs'?" (or listing the known ones
    when none is close)."""
    known = list(known)
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6) if len(key) < 100 else []
    hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(known) or 'none'}"
    return f"{owner} has no {what} {excerpt(key)}; {hint}"
