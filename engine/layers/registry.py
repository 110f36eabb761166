"""The layer registry: every layer type, keyed by name, found by importing the catalogue."""

from __future__ import annotations

import importlib
import pkgutil

from engine.errors import DesignError
from engine.layers.base import LayerSpec
from engine.layers.block_node import BLOCK_SPEC, BLOCK_TYPE
from engine.quoting import excerpt

_REGISTRY: dict[str, LayerSpec] = {}
CATEGORY_ORDER = ("Input / Output", "Dense", "Convolution", "Pooling", "Normalization",
                  "Activation", "Reshape", "Recurrent", "Attention", "Merge", "Arithmetic")
_loaded = False


def register(*specs: LayerSpec) -> None:
    """Add layer declarations; a name may be declared only once."""
    for spec in specs:
        if spec.name in _REGISTRY:
            raise ValueError(f"layer type {spec.name!r} is declared twice")
        _REGISTRY[spec.name] = spec


def _load_catalogue() -> None:
    """Import every module of engine.layers.catalogue, so adding a layer touches one file."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    from engine.layers import catalogue
    for module in pkgutil.iter_modules(catalogue.__path__):
        importlib.import_module(f"{catalogue.__name__}.{module.name}")


def get_layer(name: str) -> LayerSpec:
    """The declaration for a layer type (or the block node's), or a DesignError listing what
    exists."""
    _load_catalogue()
    if name == BLOCK_TYPE:
        return BLOCK_SPEC
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise DesignError(f"unknown layer type {excerpt(name)}; known types: {known}") from None


def all_layers() -> list[LayerSpec]:
    """Every declaration, in catalogue order (category, then declaration order)."""
    _load_catalogue()
    return list(_REGISTRY.values())


def categories() -> dict[str, list[LayerSpec]]:
    """Layers grouped by category, for the palette."""
    grouped: dict[str, list[LayerSpec]] = {name: [] for name in CATEGORY_ORDER}
    for spec in all_layers():
        grouped.setdefault(spec.category, []).append(spec)
    return {name: specs for name, specs in grouped.items() if specs}
