"""Objects that live as long as the window or its design, kept out of the garbage collector's
full passes.

A full collection scans every object the collector tracks. Start-up leaves about 100,000 that
live as long as the app (modules, classes, the window's wrappers) and a large design adds as
many again (cards, wires, check results); with these among them one full pass held the GUI
thread 50-160 ms on a busy machine, whenever it fell (the Code tab's first show, an edit, the
wires being routed after an open). Freezing them moves them out of later passes; objects freed
by their last reference go as ever.
"""

from __future__ import annotations

import gc

from engine import Design

LARGE_DESIGN_NODES = 200   # below this a design adds too few objects to slow a full pass


def settle_long_lived_objects() -> None:
    """Collect the garbage and freeze what remains: once the window has first painted, and
    after a large design is opened. Unfreezing first lets this collection free the cycles of
    a design that was replaced (frozen objects are never collected)."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def settle_after_opening(design: Design) -> None:
    """Settle the objects of a design just opened, when it is large: the collection costs
    about 0.1 s on a thousand cards, inside an open that takes a second or more."""
    scopes = (*design.networks, *design.blocks)
    if sum(len(design.nodes(scope)) for scope in scopes) >= LARGE_DESIGN_NODES:
        settle_long_lived_objects()
