"""What onnxruntime computes for a model, and how far another result is from it.

ONNX runtimes and torch compute float32 convolutions and sums in different orders, so the
results agree to rounding, not bit for bit: the difference is measured relative to the size
of the outputs, and anything beyond TOLERANCE is a translation error, not rounding.
"""

from __future__ import annotations

from typing import Any

from engine.errors import DesignError

# The largest difference accepted, as a fraction of the largest output value.
TOLERANCE = 1e-4


def runtime_outputs(model: Any, inputs: tuple[Any, ...]) -> list[Any]:
    """onnxruntime's outputs for `inputs` (torch tensors), as numpy arrays."""
    import onnxruntime

    session = onnxruntime.InferenceSession(model.SerializeToString(),
                                           providers=["CPUExecutionProvider"])
    feed = {value.name: tensor.numpy() for value, tensor in zip(session.get_inputs(), inputs)}
    return session.run(None, feed)


def relative_difference(expected: list[Any], actual: list[Any]) -> float:
    """max |expected - actual| over every output, divided by max |expected| (1 where every
    output is 0)."""
    import numpy as np

    if len(expected) != len(actual):
        raise DesignError(f"internal error: {len(actual)} outputs where onnxruntime gives "
                          f"{len(expected)}")
    largest, scale = 0.0, 0.0
    for want, got in zip(expected, actual):
        want, got = np.asarray(want, dtype=np.float64), np.asarray(got, dtype=np.float64)
        if want.shape != got.shape:
            raise DesignError(f"internal error: an output of shape {got.shape} where "
                              f"onnxruntime gives {want.shape}")
        if want.size:
            largest = max(largest, float(np.max(np.abs(want - got))))
            scale = max(scale, float(np.max(np.abs(want))))
    return largest / (scale or 1.0)
