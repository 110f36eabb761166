"""Panels whose refresh costs time do it only while the user can see them.

A tabbed-away dock stays "visible" to Qt, so the window reports what is really on screen
through `set_shown` (from QDockWidget.visibilityChanged); a panel that missed changes while
hidden catches up the moment it is shown.

While a window starts (`hold_refreshes` until `release_refreshes`, after its first paint), a
panel shown catches up only then: the Training panel's first refresh imports pyqtgraph and
starts the helper processes, which the window's first appearance must not wait for.
"""

from __future__ import annotations

_held: list[RefreshWhenShown] | None = None   # panels shown while a window starts


def hold_refreshes() -> None:
    """From now until `release_refreshes`, a panel shown refreshes then, not at once."""
    global _held
    _held = []


def release_refreshes() -> None:
    """Refresh the panels shown since `hold_refreshes` that are still shown and stale."""
    global _held
    held, _held = _held or [], None
    for panel in dict.fromkeys(held):
        if panel._shown and panel._stale:
            panel.refresh()


class RefreshWhenShown:
    """Mixin: call `mark_stale()` on every change; implement `refresh()` (starting with
    `mark_fresh()`) and optionally `schedule_refresh()` (refresh now, or after a debounce)."""

    _stale = True
    _shown = True

    def mark_stale(self, *_args: object) -> None:
        self._stale = True
        if self._shown:
            self.schedule_refresh()

    def set_shown(self, shown: bool) -> None:
        self._shown = shown
        if shown and self._stale:
            if _held is None:
                self.refresh()
            else:
                _held.append(self)

    def mark_fresh(self) -> None:
        self._stale = False

    def is_stale(self) -> bool:
        return self._stale

    def refresh(self) -> None:
        raise NotImplementedError

    def schedule_refresh(self) -> None:
        self.refresh()
