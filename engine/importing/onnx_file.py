"""Reading an .onnx file into a checked ModelProto: every way a file can fail to be a model
(missing, not protobuf, cut short, not a valid graph) is a DesignError naming the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.errors import DesignError

ONNX_SUFFIX = ".onnx"


def is_onnx_file(path: str) -> bool:
    """Whether a path names an ONNX file (by its extension, as exporters write them)."""
    return Path(path).suffix.lower() == ONNX_SUFFIX


def read_model(path: str | Path) -> Any:
    """The model in `path`, checked by onnx's own checker."""
    import onnx
    from google.protobuf.message import DecodeError

    file = Path(path)
    if not file.is_file():
        raise DesignError(f"{path}: no such file", file=str(path))
    try:
        model = onnx.load(str(file))
    except (DecodeError, ValueError, RuntimeError, OSError) as err:
        raise DesignError(f"{path}: not an ONNX model (it cannot be read: "
                          f"{_first_line(err)})", file=str(path)) from None
    if not model.graph.node:
        raise DesignError(f"{path}: not an ONNX model (its graph has no operations; the file "
                          "may be cut short or not ONNX at all)", file=str(path))
    try:
        onnx.checker.check_model(model)
    except (onnx.checker.ValidationError, ValueError, RuntimeError) as err:
        raise DesignError(f"{path}: not a valid ONNX model: {_first_line(err)}",
                          file=str(path)) from None
    return model


def opset(model: Any) -> int:
    """The version of the standard operator set the model uses."""
    return next((entry.version for entry in model.opset_import if entry.domain in ("", "ai.onnx")),
                0)


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__
