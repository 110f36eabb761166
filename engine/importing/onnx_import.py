"""`import_onnx_file`: an .onnx file (from torch, Keras, TensorFlow, MATLAB, ...) as a design.

The file is read and checked (onnx_file), its constant nodes made initializers
(onnx_constants), converted by onnx2torch (onnx_conversion) and rewritten into torch layers and
calls (onnx_rewrite); from there it is the same import as any nn.Module (importer): traced,
translated, built and checked to compute exactly what the rewritten module computes. Last,
that result is compared with onnxruntime running the file itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.design import DEFAULT_NETWORK
from engine.errors import DesignError
from engine.importing.importer import ImportResult, import_network
from engine.importing.onnx_constants import inline_constants
from engine.importing.onnx_conversion import to_fx
from engine.importing.onnx_file import opset, read_model
from engine.importing.onnx_inputs import example_inputs
from engine.importing.onnx_rewrite import rewrite
from engine.importing.onnx_runtime import TOLERANCE, relative_difference, runtime_outputs


@dataclass
class OnnxImport:
    """The import (design, weights under its keys) and how far the design's outputs are from
    onnxruntime's on the example, relative to the outputs' size."""

    result: ImportResult
    file: str
    difference: float


def import_onnx_file(path: str | Path, shapes: list[tuple[int, ...]] | None = None,
                     network: str = DEFAULT_NETWORK) -> OnnxImport:
    """The design computing what the ONNX model in `path` computes. `shapes` (one sample per
    input, without the batch) size what the file leaves open. DesignError names the file, and
    lists every operation that has no layer."""
    import torch

    _require_packages()
    label = Path(path).name
    model = read_model(path)
    inputs = example_inputs(model, label, shapes)
    converted, inferred = to_fx(inline_constants(model), label)
    module = rewrite(converted, inferred, inputs, label)
    result = import_network(module, inputs, name=Path(path).stem, network=network)
    with torch.no_grad():
        outputs = [value.numpy() for value in module(*inputs).values()]
    difference = relative_difference(runtime_outputs(model, inputs), outputs)
    if difference > TOLERANCE:
        raise DesignError(f"internal error: the design imported from {label} differs from "
                          f"onnxruntime by {difference:.2g} of its outputs' size", file=str(path))
    result.design.description = _description(model, label, inputs, difference)
    return OnnxImport(result, str(path), difference)


def _require_packages() -> None:
    """ONNX import needs the optional `onnx` extra; say so instead of an ImportError."""
    import importlib.util

    missing = [name for name in ("onnx", "onnx2torch", "onnxruntime")
               if importlib.util.find_spec(name) is None]
    if missing:
        raise DesignError(f"importing ONNX files needs {', '.join(missing)}: install them with "
                          "pip install 'neuralcanvas[onnx]'")


def summary(imported: OnnxImport) -> str:
    """What the command line prints after an import."""
    nodes = len(imported.result.design.nodes())
    return (f"imported {Path(imported.file).name}: {nodes} nodes; onnxruntime gives the same "
            f"outputs within {imported.difference:.1g} of their size")


def _description(model, label: str, inputs: tuple, difference: float) -> str:
    producer = " ".join(part for part in (model.producer_name, model.producer_version) if part)
    shapes = ", ".join(str(tuple(x.shape[1:])) for x in inputs)
    made = f", written by {producer}" if producer else ""
    return (f"Imported from the ONNX file {label} (opset {opset(model)}{made}; input "
            f"{shapes}). It computes what onnxruntime computes for the file, to rounding "
            f"({difference:.1g} of the outputs' size on a random example).")
