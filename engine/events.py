"""A tiny observer: the design announces changes, views listen (no Qt in the engine)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DesignEvent:
    """One change to a design.

    kind: "node_added", "node_removed", "edge_added", "edge_removed", "params_changed",
    "node_renamed", "node_moved", "network_added", "network_removed", "training_changed",
    "name_changed" or "reset" (everything replaced, as after load).
    """

    kind: str
    network: str | None = None
    node: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


class Event:
    """A list of callbacks called in order with each emitted value.

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
            raise ExceptionGroup(f"{len(failures)} design listeners failed on {event.kind!r}",
                                 failures)
