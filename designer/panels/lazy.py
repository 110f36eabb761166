"""Panels whose refresh costs time do it only while the user can see them.

A tabbed-away dock stays "visible" to Qt, so the window reports what is really on screen
through `set_shown` (from QDockWidget.visibilityChanged); a panel that missed changes while
hidden catches up the moment it is shown.
"""

from __future__ import annotations


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
            self.refresh()

    def mark_fresh(self) -> None:
        self._stale = False

    def is_stale(self) -> bool:
        return self._stale

    def refresh(self) -> None:
        raise NotImplementedError

    def schedule_refresh(self) -> None:
        self.refresh()
