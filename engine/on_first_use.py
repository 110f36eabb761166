"""A module imported when one of its names is first read, not when a module naming it is.

The run store and the Training panel's drawing code use numpy throughout, and both are loaded
with the window (its Runs list, its empty panels); importing numpy there held the window's
first paint up by about 0.1 s, though nothing reads an array until a run, a data preview or a
prediction brings one. Such a module writes

    if TYPE_CHECKING:
        import numpy as np
    else:
        np = ModuleOnFirstUse("numpy")

and uses `np` as always: the first `np.<name>` imports numpy, and each name read is kept on
the stand-in, so later reads cost what reading a module's name costs.
"""

from __future__ import annotations

import importlib
from typing import Any


class ModuleOnFirstUse:
    """Stands in for the module `name` until a name of it is read."""

    def __init__(self, name: str) -> None:
        self._module_name = name

    def __getattr__(self, attribute: str) -> Any:
        value = getattr(importlib.import_module(self._module_name), attribute)
        setattr(self, attribute, value)
        return value

    def __repr__(self) -> str:
        return f"<{self._module_name}, imported on first use>"
