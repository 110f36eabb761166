"""Where the app's non-code files (icons, the user guide, the app icon) are.

They live in the top-level resources/ folder of a checkout; a wheel carries them inside the
designer package (pyproject maps resources/ there), since nothing outside the packages is
installed to a place the app could find."""

from __future__ import annotations

from pathlib import Path

_INSTALLED = Path(__file__).resolve().parent / "assets"   # inside an installed wheel
_CHECKOUT = Path(__file__).resolve().parents[1] / "resources"


def resource_path(*parts: str) -> Path:
    """A file under resources/, e.g. resource_path("icons", "save.svg")."""
    root = _INSTALLED if _INSTALLED.is_dir() else _CHECKOUT
    return root.joinpath(*parts)
