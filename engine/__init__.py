"""NeuralCanvas engine: designs, the layer catalogue, checking, compiling, files (no Qt here).

The names below are imported on first use (PEP 562): `import engine.fileformat` runs this
file first, and importing code generation, the compiler and the importers here made every
command and the window's start-up pay for all of them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.checking import Problem, Report, check
    from engine.codegen.export import generate_code
    from engine.compiler import build_model
    from engine.design import Design, Edge, Node
    from engine.errors import DesignError
    from engine.fileformat import load_design, save_design
    from engine.importing import import_module

__version__ = "0.1.0"

# Each public name and the module that defines it.
_HOMES = {
    "Design": "engine.design",
    "DesignError": "engine.errors",
    "Edge": "engine.design",
    "Node": "engine.design",
    "Problem": "engine.checking",
    "Report": "engine.checking",
    "build_model": "engine.compiler",
    "check": "engine.checking",
    "generate_code": "engine.codegen.export",
    "import_module": "engine.importing",
    "load_design": "engine.fileformat",
    "save_design": "engine.fileformat",
}

__all__ = [
    "Design",
    "DesignError",
    "Edge",
    "Node",
    "Problem",
    "Report",
    "__version__",
    "build_model",
    "check",
    "generate_code",
    "import_module",
    "load_design",
    "save_design",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'engine' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value   # the next look-up finds it without this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES})
