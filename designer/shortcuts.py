"""Keyboard shortcuts for a window's actions, assigned all at once so no key is bound twice.

An action asks for keys in two ways: keys it names itself ("Ctrl+D") and the platform's
standard keys (QKeySequence.StandardKey.Delete). A standard key expands to whatever the
platform's theme binds, and some themes bind more than the name says: under GNOME and KDE
"Delete" also means Ctrl+D, and "Redo" is only Ctrl+Shift+Z. Two actions holding one key make
Qt refuse both ("Ambiguous shortcut overload"), so the key does nothing at all.

`assign_shortcuts` settles every key of the window in one pass: a key an action names itself
wins over a key another action only receives from a platform expansion, and two actions
naming the same key themselves is a programming error raised at start-up.

Each command is declared once, as an `ActionSpec` in a table (the canvas's in
designer.canvas.tabs, the window's in designer.main_window); its keys reach Qt only through
its QAction, so no key handler binds them a second time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence

StandardKey = QKeySequence.StandardKey
Keys = Iterable[QKeySequence | StandardKey | str]


@dataclass(frozen=True)
class ActionSpec:
    """One command: its name (the key in `actions_by_name`), menu text, what it calls, the
    keys it asks for and the sentence the status bar shows."""

    name: str
    text: str
    slot: Callable[[], object]
    keys: tuple[QKeySequence | StandardKey | str, ...] = ()
    tip: str = ""

    def make(self, parent: QObject) -> QAction:
        """The QAction for this command (its keys are given by `assign_shortcuts`)."""
        action = QAction(self.text, parent)
        slot = self.slot
        action.triggered.connect(lambda _checked=False: slot())
        if self.tip:
            action.setStatusTip(self.tip)
        return action


class ShortcutClash(ValueError):
    """Two actions name the same key themselves."""


@dataclass(frozen=True)
class _Claim:
    action: QAction
    key: QKeySequence
    named: bool   # named by the action itself (not only implied by a platform's standard key)


def _claims(action: QAction, keys: Keys) -> list[_Claim]:
    claims: list[_Claim] = []
    for key in keys:
        if isinstance(key, StandardKey):
            found, named = QKeySequence.keyBindings(key), False
        else:
            found, named = [QKeySequence(key)], True
        claims += [_Claim(action, k, named) for k in found if not k.isEmpty()]
    return claims


def assign_shortcuts(plan: Sequence[tuple[QAction, Keys]]) -> None:
    """Give each action its keys, in the order asked for, without any key on two actions.

    Raises ShortcutClash when two actions name the same key themselves.
    """
    plan = [(action, list(keys)) for action, keys in plan]
    claims = [claim for action, keys in plan for claim in _claims(action, keys)]
    owner: dict[str, _Claim] = {}
    for claim in sorted(claims, key=lambda c: not c.named):   # named keys first, stable
        text = claim.key.toString()
        held = owner.get(text)
        if held is None:
            owner[text] = claim
        elif held.named and claim.named and held.action is not claim.action:
            raise ShortcutClash(f"{text} is asked for by both {held.action.text()!r} and "
                                f"{claim.action.text()!r}")
    for action, keys in plan:
        mine: list[QKeySequence] = []
        for claim in _claims(action, keys):
            if owner[claim.key.toString()].action is action and claim.key not in mine:
                mine.append(claim.key)
        action.setShortcuts(mine)

