"""PySide6's look at every imported module, made cheap. Imported first by designer.app.

Once PySide6 is imported, its import hook asks of each module imported after it whether its
source mentions "PySide6" (so that `from __feature__ import ...` switches apply only to
modules that use Qt), through `inspect.getsource`, which tokenizes the whole file: a fifth of
the window's start-up. The same question is answered here by searching the file's bytes;
a module without a .py file, or a PySide6 without this private detail, keeps PySide's own way.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import ModuleType

import PySide6.QtCore  # noqa: F401 - installs the hook (shibokensupport.feature)


def by_source_bytes(original: Callable[[ModuleType], bool]) -> Callable[[ModuleType], bool]:
    """`original`'s answer for a module, found by reading its .py file's bytes."""
    def uses_pyside(module: ModuleType) -> bool:
        file = getattr(module, "__file__", None)
        if isinstance(file, str) and file.endswith(".py"):
            try:
                with open(file, "rb") as source:
                    return b"PySide6" in source.read()
            except OSError:
                pass
        return original(module)

    uses_pyside.original = original
    return uses_pyside


def install() -> None:
    """Replace the hook's check (once; nothing when PySide6 does it differently)."""
    feature = sys.modules.get("shibokensupport.feature")
    check = getattr(feature, "_mod_uses_pyside", None)
    if check is not None and not hasattr(check, "original"):
        feature._mod_uses_pyside = by_source_bytes(check)


install()
