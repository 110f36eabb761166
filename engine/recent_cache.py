"""A cache of the values most recently used, for results too costly to compute again whose keys
cannot go through functools.lru_cache (the value is made from more than the key says)."""

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

Value = TypeVar("Value")


class RecentCache(Generic[Value]):
    """At most `size` values; the one used longest ago goes first when a new one comes."""

    def __init__(self, size: int) -> None:
        self._values: OrderedDict[Hashable, Value] = OrderedDict()
        self._size = size

    def get(self, key: Hashable, make: Callable[[], Value]) -> Value:
        """The value kept for `key`, or the one `make` returns, kept from now on."""
        if key in self._values:
            self._values.move_to_end(key)
            return self._values[key]
        value = self._values[key] = make()
        if len(self._values) > self._size:
            self._values.popitem(last=False)
        return value
