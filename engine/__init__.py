"""NeuralCanvas engine: designs, the layer catalogue, checking, compiling, files (no Qt here)."""

from engine.checking import Problem, Report, check
from engine.codegen.export import generate_code
from engine.compiler import build_model
from engine.design import Design, Edge, Node
from engine.errors import DesignError
from engine.fileformat import load_design, save_design
from engine.importing import import_module

__version__ = "0.1.0"

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
