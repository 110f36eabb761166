"""A cache of the values most recently used, for results too costly to compute again whose keys
cannot go through functools.lru_cache (the value is made from more than the key says)."""

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

Value = TypeVar("Value")


class RecentCache(Generic[Value]):
    """At most `size` values; the one used longest ago goes first when a new one comes. Safe
    to share between threads (the editor checks on its GUI thread and while writing code on
    another); `make` runs outside the lock, so one thread never waits for the other's."""

    def __init__(self, size: int) -> None:
        self._values: OrderedDict[Hashable, Value] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: Hashable, make: Callable[[], Value],
            keep: Callable[[Value], bool] | None = None) -> Value:
        """The value kept for `key`, or the one `make` returns, kept from now on unless
        `keep` says not to."""
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
        value = make()
        if keep is not None and not keep(value):
            return value
        with self._lock:
            self._values[key] = value
            if len(self._values) > self._size:
                self._values.popitem(last=False)
        return value
