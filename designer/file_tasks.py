"""File > Import and File > Export work, and the code view's text, run in the helper process
(designer.training.jobs): importing and ONNX need torch, which the editor itself never imports,
and all background work goes through that one mechanism. No Qt here: the helper imports this
module. Every failure is a DesignError naming the file (and the line, for a Python file that
does not run).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine import Design, DesignError


@dataclass(frozen=True)
class Imported:
    """An imported design (as `Design.to_dict()`) and the submodules forward never calls."""

    design: dict[str, Any]
    left_out: list[str]


# What the class list shows for an ONNX file, which holds one model and no classes.
ONNX_MODEL = "the ONNX model"


def list_module_classes(file: str) -> list[str]:
    """The nn.Module classes a Python file defines (running the file, as an import does)."""
    from engine.importing.loading import module_class_names
    from engine.importing.onnx_file import is_onnx_file, read_model

    if is_onnx_file(file):
        read_model(file)  # a file that is no model fails here, as a Python file would
        return [ONNX_MODEL]
    return module_class_names(file)


def import_design(file: str, class_name: str, shapes: list[tuple[int, ...]],
                  dtype: str) -> Imported:
    """Build `class_name()` from `file` and trace it on inputs of `shapes` into a design (an
    ONNX file: its model, `shapes` sizing what the file leaves open)."""
    from engine.importing import import_network
    from engine.importing.loading import example_input, instantiate, load_module_class
    from engine.importing.onnx_file import is_onnx_file

    if is_onnx_file(file):
        from engine.importing.onnx_import import import_onnx_file

        result = import_onnx_file(file, shapes or None).result
        return Imported(result.design.to_dict(), result.left_out)
    cls = load_module_class(f"{file}:{class_name}")
    result = import_network(instantiate(cls), example_input(shapes, dtype))
    return Imported(result.design.to_dict(), result.left_out)


def script_text(design: dict[str, Any]) -> tuple[str, bool]:
    """(text, exportable) for the code view: the exported file, or the reason there is none
    as comment lines."""
    from engine.codegen.export import export_script

    try:
        return export_script(Design.from_dict(design)).code, True
    except DesignError as err:
        return "# " + "\n# ".join(str(err).splitlines()) + "\n", False


def export_python(design: dict[str, Any], path: str) -> list[str]:
    """Write the design's standalone script (and the data files it reads beside it); the
    paths written."""
    from engine.codegen.export import export_script
    from engine.fileformat import write_atomically

    target = Path(path)
    script = export_script(Design.from_dict(design))
    write_atomically(target, script.code)
    written = [str(target)]
    for name, text in script.assets.items():
        write_atomically(target.parent / name, text)
        written.append(str(target.parent / name))
    return written


def export_onnx_file(design: dict[str, Any], path: str, network: str) -> str:
    """Write one network as ONNX, checked in onnxruntime; says how close it came to torch."""
    from engine.export_onnx import export_onnx

    result = export_onnx(Design.from_dict(design), path, network)
    return (f"network {result.network!r}; onnxruntime matches torch within "
            f"{result.max_difference:.2g}")
