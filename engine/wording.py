"""Small helpers for the words people read in messages, so counts read naturally."""

from __future__ import annotations


def count_of(count: int, noun: str, plural: str | None = None) -> str:
    """'1 epoch', '2 epochs', '0 epochs' ('plural' for nouns that do not just add an s)."""
    return f"{count} {noun if count == 1 else plural or noun + 's'}"
