"""Quoting what a user typed or a file held in a message: always a short excerpt.

Every message of the file loader and the check that shows user input goes through `excerpt`,
so a 20 MB name or a list of a million numbers makes a message of one line, not of megabytes.
"""

from __future__ import annotations

import reprlib
from typing import Any

LONGEST_EXCERPT = 60  # characters of a user's text a message quotes


def excerpt(value: Any, longest: int = LONGEST_EXCERPT) -> str:
    """`value` as a message quotes it: its repr, cut to about `longest` characters (a long
    text ends in '…' and says how long it was; a long number says how many digits it has)."""
    if isinstance(value, str):
        if len(value) <= longest:
            return repr(value)
        head = repr(value[:longest])
        return f"{head[:-1]}…{head[-1]} ({len(value):,} characters)"
    text = _Shortener(longest).repr(value)
    return text if len(text) <= 2 * longest else text[:2 * longest] + "…"


class _Shortener(reprlib.Repr):
    """reprlib's short repr, with whole numbers too long to read told by their digits."""

    def __init__(self, longest: int) -> None:
        super().__init__()
        self.maxstring = self.maxother = longest
        self.maxlevel = 3
        self.maxlist = self.maxtuple = self.maxdict = self.maxset = 8
        self.largest = 10**longest

    def repr_int(self, x: int, level: int) -> str:
        if abs(x) < self.largest:
            return repr(x)
        bits = abs(x).bit_length()
        if bits < 14_000:  # Python refuses str() of whole numbers beyond 4,300 digits
            return f"a {len(str(abs(x))):,}-digit number"
        return f"a number of about {int(bits * 0.30103):,} digits"


def json_kind(value: Any) -> str:
    """What kind of JSON value a message says was found: 'a text', 'a list', 'nothing (null)'."""
    if value is None:
        return "nothing (null)"
    names = {bool: "true/false", int: "a number", float: "a number", str: "a text",
             list: "a list", dict: "an object"}
    return names.get(type(value), type(value).__name__)
