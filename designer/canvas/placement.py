"""Where new cards go: the free spot nearest to where the user put them, so a new, pasted or
duplicated node never lands on (or hides) another one."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QPointF, QRectF

CARD_GAP = 20.0  # the least free space left between a new card and its neighbours


def free_offset(wanted: QRectF, taken: Iterable[QRectF], gap: float = CARD_GAP) -> QPointF:
    """The shortest shift that leaves `wanted` (one card, or the box around a group) at least
    `gap` clear of every `taken` rectangle; (0, 0) when it is clear where it is.

    Each taken rectangle forbids an open area of top-left corners. The nearest allowed corner
    is the wanted one or lies on the edges of those areas (where a coordinate equals one of
    their sides), so testing those candidates, nearest first, finds it exactly.
    """
    x0, y0 = wanted.left(), wanted.top()
    forbidden = [QRectF(t.left() - gap - wanted.width(), t.top() - gap - wanted.height(),
                        t.width() + 2 * gap + wanted.width(),
                        t.height() + 2 * gap + wanted.height()) for t in taken]
    forbidden.sort(key=lambda r: (r.center() - wanted.topLeft()).manhattanLength())
    xs = {x0, *(r.left() for r in forbidden), *(r.right() for r in forbidden)}
    ys = {y0, *(r.top() for r in forbidden), *(r.bottom() for r in forbidden)}
    # nearest first; of equally near spots, below and right of the wanted one
    candidates = sorted(((x - x0) ** 2 + (y - y0) ** 2, y < y0, x < x0, x, y)
                        for x in xs for y in ys)
    x, y = next((x, y) for *_, x, y in candidates if not any(
        r.left() < x < r.right() and r.top() < y < r.bottom() for r in forbidden))
    return QPointF(x - x0, y - y0)
