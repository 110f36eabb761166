"""Room for a card that a longer name widens: the cards after it in its row move right by as
much as it grew, so a rename never leaves a card on top of its neighbour (the row keeps its
spacing, and nothing moves when the wider card still covers nothing)."""

from __future__ import annotations

from PySide6.QtCore import QRectF


def room_for_wider_card(card: QRectF, width: float,
                        others: dict[str, QRectF]) -> dict[str, float]:
    """How far right each other card must move when `card` becomes `width` wide: empty when
    the card shrinks or covers no other card; else each card that starts at or after the
    card's right edge and shares some of its height moves by the growth."""
    growth = width - card.width()
    wider = QRectF(card.left(), card.top(), width, card.height())
    if growth <= 0 or not any(wider.intersects(rect) for rect in others.values()):
        return {}
    return {node: growth for node, rect in others.items()
            if rect.left() >= card.right() and rect.top() < card.bottom()
            and rect.bottom() > card.top()}
