"""Small helpers for the words people read in messages, so counts read naturally."""

from __future__ import annotations


def count_of(count: int, noun: str, plural: str | None = None) -> str:
    """'1 epoch', '2 epochs', '0 epochs' ('plural' for nouns that do not just add an s)."""
    return f"{count} {noun if count == 1 else plural or noun + 's'}"


def si_prefixed(value: float) -> str:
    """1234567 -> '1.23 M', 512 -> '512 ': three figures and a prefix, so a unit can follow
    ('1.23 MFLOPs')."""
    for prefix, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if value >= size:
            return f"{value / size:.3g} {prefix}"
    return f"{value:.0f} "


def memory_text(count: float) -> str:
    """A memory estimate in three figures: '1.23 MB', '512 bytes' (powers of 1024)."""
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)):
        if count >= size:
            return f"{count / size:.3g} {unit}"
    return f"{count:.0f} bytes"
