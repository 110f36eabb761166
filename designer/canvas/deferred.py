"""What a new report changes where the view does not show it, applied a moment later.

An edit early in a large design can change the tensors of hundreds of cards and wires. The
cards and labels on screen change in the frame that draws the edit; those off screen, or whose
text is not drawn at the view's zoom (edge_item.LABEL_LOD; node_item.texts_drawn), change in
slices of a few milliseconds between the window's events, long before anyone can scroll or
zoom to them. Zooming redraws every card's cache, so a card shows what it has by then.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from PySide6.QtCore import QObject, QRectF, Qt
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene

from designer.canvas.turn_slices import TurnSlices

Key = TypeVar("Key")
Value = TypeVar("Value")


class Shown:
    """The items a view draws within an area of the scene, found once through the scene's
    index: asking of each of hundreds of changed items where it lies costs more than the whole
    lookup. `area` None: everywhere; a null rectangle: nowhere (the view's zoom draws none of
    what would change)."""

    def __init__(self, scene: QGraphicsScene, area: QRectF | None) -> None:
        self._everywhere = area is None
        self._items: set[QGraphicsItem] = set() if area is None or area.isNull() else set(
            scene.items(area, Qt.ItemSelectionMode.IntersectsItemBoundingRect))

    def __contains__(self, item: QGraphicsItem) -> bool:
        return self._everywhere or item in self._items


class Deferred(QObject, Generic[Key, Value]):
    """The latest value waiting for each key, handed to `apply` a slice per event-loop turn;
    a newer value for a key replaces the one waiting."""

    def __init__(self, parent: QObject, apply: Callable[[Key, Value], None]) -> None:
        super().__init__(parent)
        self._apply = apply
        self._due: dict[Key, Value] = {}
        self._slices = TurnSlices(self, self._apply_one, lambda: self.pending)

    @property
    def pending(self) -> bool:
        return bool(self._due)

    def put(self, key: Key, value: Value) -> None:
        if not self._due:   # while any wait, the slices run (hundreds come in one report)
            self._slices.start()
        self._due[key] = value

    def drop(self, key: Key) -> None:
        self._due.pop(key, None)

    def clear(self) -> None:
        self._due.clear()

    def _apply_one(self) -> None:
        key = next(iter(self._due))
        self._apply(key, self._due.pop(key))
