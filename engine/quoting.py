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
    text ends in '…' and says how long it was)."""
    if isinstance(value, str):
        if len(value) <= longest:
            return repr(value)
        head = repr(value[:longest])
        return f"{head[:-1]}…{head[-1]} ({len(value):,} characters)"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**longest:
        return f"a {_digits(value)}-digit number"
    shortener = reprlib.Repr()
    shortener.maxstring = shortener.maxother = shortener.maxlong = longest
    shortener.maxlevel = 3
    shortener.maxlist = shortener.maxtuple = shortener.maxdict = shortener.maxset = 8
    try:
        text = shortener.repr(value)
    except ValueError:  # a whole number too long for Python to write out, deep inside
        return f"a {type(value).__name__} too large to show"
    return text if len(text) <= 2 * longest else text[:2 * longest] + "…"


def _digits(value: int) -> str:
    bits = abs(value).bit_length()
    if bits < 14_000:  # str() of longer whole numbers is refused by Python (4,300 digits)
        return f"{len(str(abs(value))):,}"
    return f"about {int(bits * 0.30103):,}"
