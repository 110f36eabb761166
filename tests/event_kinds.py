"""The kinds of a family of event classes: its leaf classes (the bases only name families)."""

from __future__ import annotations


def leaf_classes(family: type) -> set[type]:
    below = family.__subclasses__()
    return set().union(*map(leaf_classes, below)) if below else {family}
