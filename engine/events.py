"""A tiny observer: the design announces changes, views listen (no Qt in the engine).

Each kind of change is a class, so a listener dispatches on the type (a table from class to
handler, or isinstance) and a misspelt kind is a NameError when the module loads, not a branch
that silently never runs. Only the leaf classes are events; the bases name families that
listeners test for (`NetworkChange`: something inside one network's graph changed).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DesignEvent:
    """One change to a design; only the leaf classes below are ever made."""

    def __post_init__(self) -> None:
        if type(self).__subclasses__():
            raise TypeError(f"{type(self).__name__} is a family of design events, not one: "
                            "make one of its kinds")


@dataclass(frozen=True)
class NetworkChange(DesignEvent):
    """Something inside one network's graph changed (what its canvas draws)."""

    network: str


@dataclass(frozen=True)
class NodeChange(NetworkChange):
    node: str


@dataclass(frozen=True)
class NodeAdded(NodeChange):
    """A node was added; the edges into it follow, each as EdgeAdded."""


@dataclass(frozen=True)
class NodeRemoved(NodeChange):
    """A node was removed, after an EdgeRemoved for every edge that touched it."""


@dataclass(frozen=True)
class NodeMoved(NodeChange):
    """A node's place on the canvas changed: nothing a check or a run depends on."""


@dataclass(frozen=True)
class ParamsChanged(NodeChange):
    old: dict[str, Any] = field(default_factory=dict)
    new: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class NodeRenamed(NodeChange):
    old: str = ""
    new: str = ""


@dataclass(frozen=True)
class EdgeChange(NetworkChange):
    """The edge from output `out` of `src` into input `port` of `dst`."""

    src: str
    dst: str
    port: int
    out: int = 0


@dataclass(frozen=True)
class EdgeAdded(EdgeChange):
    """Stored even when it closes a cycle or doubles a port: the check reports those."""


@dataclass(frozen=True)
class EdgeRemoved(EdgeChange):
    """Removed on its own, or as part of removing one of its nodes."""


@dataclass(frozen=True)
class NetworkListChange(DesignEvent):
    """Network `network` joined or left the design's networks (each has a canvas tab)."""

    network: str


@dataclass(frozen=True)
class NetworkAdded(NetworkListChange):
    """A network was added, empty."""


@dataclass(frozen=True)
class NetworkRemoved(NetworkListChange):
    """A network was removed, after its nodes."""


@dataclass(frozen=True)
class BlockChange(DesignEvent):
    """Block definition `block` itself changed (its nodes' changes are NetworkChanges)."""

    block: str


@dataclass(frozen=True)
class BlockAdded(BlockChange):
    """A block definition was made (empty; its nodes follow as NodeAdded in its scope)."""


@dataclass(frozen=True)
class BlockRemoved(BlockChange):
    """A block definition was removed, after its nodes."""


@dataclass(frozen=True)
class BlockArgumentsChanged(BlockChange):
    """A definition's arguments changed; each use's parameters follow as ParamsChanged."""


@dataclass(frozen=True)
class TrainingChanged(DesignEvent):
    """Training settings set to `values`, or `removed` (their defaults apply again)."""

    values: dict[str, Any] = field(default_factory=dict)
    removed: tuple[str, ...] = ()


@dataclass(frozen=True)
class NameChanged(DesignEvent):
    """The design's own name (the window title shows it)."""


@dataclass(frozen=True)
class Reset(DesignEvent):
    """Everything was replaced, as after load."""


class DesignEvents:
    """The design's emitter: callbacks called in order with each `DesignEvent`.

    One failing listener must not stop the others (napari's rule): otherwise a bug in one view
    leaves every later view showing a design that is no longer there. Every callback is called;
    each failure is logged, and after the last callback the failure is raised again (several
    together as an ExceptionGroup), so a bug still surfaces where the change was made.
    """

    def __init__(self) -> None:
        self._callbacks: list[Callable[[DesignEvent], None]] = []

    def connect(self, callback: Callable[[DesignEvent], None]) -> None:
        self._callbacks.append(callback)

    def disconnect(self, callback: Callable[[DesignEvent], None]) -> None:
        self._callbacks.remove(callback)

    def emit(self, event: DesignEvent) -> None:
        if not isinstance(event, DesignEvent):
            raise TypeError(f"a design emits DesignEvent objects, not {event!r}")
        failures: list[Exception] = []
        for callback in list(self._callbacks):
            try:
                callback(event)
            except Exception as error:  # reported below, once the others have run
                logger.exception("design listener %r failed on %r", callback, event)
                failures.append(error)
        if len(failures) == 1:
            raise failures[0]
        if failures:
            raise ExceptionGroup(f"{len(failures)} design listeners failed on {event!r}",
                                 failures)
