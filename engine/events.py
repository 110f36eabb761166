"""A tiny observer: the design announces changes, views listen (no Qt in the engine)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


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
    """A list of callbacks called in order with each emitted value."""

    def __init__(self) -> None:
        self._callbacks: list[Callable[[DesignEvent], None]] = []

    def connect(self, callback: Callable[[DesignEvent], None]) -> None:
        self._callbacks.append(callback)

    def disconnect(self, callback: Callable[[DesignEvent], None]) -> None:
        self._callbacks.remove(callback)

    def emit(self, event: DesignEvent) -> None:
        for callback in list(self._callbacks):
            callback(event)
