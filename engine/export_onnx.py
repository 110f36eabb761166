"""Exporting one network of a design to ONNX, checked by running the file in onnxruntime.

ONNX support is an optional extra (`pip install "neuralcanvas[onnx]"`): onnx, onnxscript (used
by torch's exporter) and onnxruntime (used to check the result). The batch dimension stays
dynamic; the file is written only after onnxruntime reproduces torch's outputs at two batch
sizes.

Two of torch's exporters are tried in turn, the first whose file onnxruntime verifies wins:
the TorchScript exporter (a trace; about a second beyond importing torch) and then
`torch.export`'s (it imports torch._dynamo, sympy and onnxscript's whole operator library:
six seconds or more, but it converts some operators the first cannot, and it stays when torch
drops the first). Both write the same opset, with the weights inside the one file.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.compiler import build_model
from engine.design import Design
from engine.errors import DesignError
from engine.fileformat import temporary_beside

INSTALL_HINT = 'pip install "neuralcanvas[onnx]"'
CHECK_BATCHES = (2, 3)
TOLERANCE = {"rtol": 1e-4, "atol": 1e-5}
OPSET = 20   # the newest both exporters write (the TorchScript one stops at 20)
BATCH = "batch"


@dataclass(frozen=True)
class OnnxExport:
    """Where the file went, which network it holds and how far onnxruntime's outputs were
    from torch's (largest absolute difference over the checked batches)."""

    path: Path
    network: str
    max_difference: float


def export_onnx(design: Design, path: str | os.PathLike, network: str | None = None,
                weights: dict[str, Any] | None = None) -> OnnxExport:
    """Write `network` (default: "model", or the design's only network) as an ONNX file.

    `weights` is a state_dict to load (strict); without it the layers keep their initial
    weights. Raises DesignError when the extra is missing or the check fails.
    """
    _require_extra()
    network = network or _default_network(design)
    model = build_model(design, network).eval()
    if weights is not None:
        try:
            model.load_state_dict(weights, strict=True)
        except RuntimeError as err:
            raise DesignError(f"the weights do not fit network {network!r}: {err}") from None
    inputs = _input_specs(design, network)
    outputs = [f"output{i}" for i in range(_output_count(design, network))]
    target = Path(path)
    failures = []
    for name, exporter in EXPORTERS:
        try:
            difference = _write_checked(exporter, model, target, inputs, outputs)
        except Exception as err:  # noqa: BLE001 - any exporter's failure: try the next one
            failures.append(f"{name}: {_first_line(err)}")
            continue
        return OnnxExport(target, network, difference)
    raise DesignError(f"ONNX export of network {network!r} failed ({'; '.join(failures)})")


def _write_checked(exporter: Callable[..., None], model: Any, target: Path,
                   inputs: list[tuple[str, tuple[int, ...], str]], outputs: list[str]) -> float:
    """Export into a temporary beside `target`, check it in onnxruntime, then move it there
    (nothing is left behind when either step fails)."""
    handle, temporary = temporary_beside(target)  # the file gets the user's usual mode
    os.close(handle)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            exporter(model, _sample(inputs, CHECK_BATCHES[0]), temporary,
                     [name for name, _, _ in inputs], outputs)
        difference = _compare(model, str(temporary), inputs)
        os.replace(temporary, target)
    finally:
        Path(temporary).unlink(missing_ok=True)
    return difference


def _torchscript_export(model: Any, sample: tuple[Any, ...], file: str, inputs: list[str],
                        outputs: list[str]) -> None:
    """Trace the model once: fast, and enough for most layers."""
    import torch

    torch.onnx.export(model, sample, file, input_names=inputs, output_names=outputs,
                      opset_version=OPSET, dynamo=False,
                      dynamic_axes={name: {0: BATCH} for name in [*inputs, *outputs]})


def _torch_export(model: Any, sample: tuple[Any, ...], file: str, inputs: list[str],
                  outputs: list[str]) -> None:
    """Capture the model with torch.export: slow to start, converts more operators."""
    import torch

    torch.onnx.export(model, sample, file, input_names=inputs, output_names=outputs,
                      opset_version=OPSET, dynamo=True, external_data=False,
                      dynamic_shapes=tuple({0: torch.export.Dim(BATCH)} for _ in inputs))


# Tried in this order; each writes (model, sample inputs, file, input names, output names).
EXPORTERS: tuple[tuple[str, Callable[..., None]], ...] = (
    ("TorchScript exporter", _torchscript_export), ("torch.export exporter", _torch_export))


def _first_line(err: Exception) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def missing_packages() -> list[str]:
    """The packages of the onnx extra that are not installed (none: ONNX export works)."""
    return [name for name in ("onnx", "onnxscript", "onnxruntime")
            if importlib.util.find_spec(name) is None]


def _require_extra() -> None:
    missing = missing_packages()
    if missing:
        raise DesignError(f"ONNX export needs {', '.join(missing)}, which are not installed; "
                          f"install them with: {INSTALL_HINT}")


def _default_network(design: Design) -> str:
    network = design.default_network()
    if network is not None:
        return network
    raise DesignError(f"the design has several networks ({', '.join(design.networks)}); say "
                      "which one to export (--network NAME)")


def _input_specs(design: Design, network: str) -> list[tuple[str, tuple[int, ...], str]]:
    """(name, per-sample shape, dtype) of each Input, in creation order."""
    specs = []
    for node_id in design.nodes(network):
        node = design.node(node_id)
        if node.type == "Input":
            specs.append((f"input{len(specs)}", tuple(node.params["shape"]),
                          node.params["dtype"]))
    return specs


def _output_count(design: Design, network: str) -> int:
    return sum(design.node(n).type == "Output" for n in design.nodes(network))


def _sample(inputs: list[tuple[str, tuple[int, ...], str]], batch: int) -> tuple[Any, ...]:
    import torch

    generator = torch.Generator().manual_seed(batch)
    return tuple(torch.zeros((batch, *shape), dtype=torch.long) if dtype == "long"
                 else torch.randn((batch, *shape), generator=generator)
                 for _, shape, dtype in inputs)


def _compare(model: Any, file: str, inputs: list[tuple[str, tuple[int, ...], str]]) -> float:
    """Run the ONNX file and torch on the same inputs; the largest difference, or DesignError."""
    import numpy as np
    import onnxruntime
    import torch

    session = onnxruntime.InferenceSession(file, providers=["CPUExecutionProvider"])
    largest = 0.0
    for batch in CHECK_BATCHES:
        sample = _sample(inputs, batch)
        with torch.no_grad():
            expected = model(*sample)
        expected = expected if isinstance(expected, tuple) else (expected,)
        feed = {name: tensor.numpy() for (name, _, _), tensor in zip(inputs, sample)}
        actual = session.run(None, feed)
        for want, got in zip(expected, actual):
            want = want.detach().numpy()  # an output may be a view of a Parameter
            if want.shape != got.shape or not np.allclose(got, want, **TOLERANCE):
                raise DesignError(f"the ONNX file does not reproduce torch's output at batch "
                                  f"size {batch} (shape {got.shape} vs {want.shape})")
            largest = max(largest, float(np.abs(got - want).max(initial=0.0)))
    return largest
