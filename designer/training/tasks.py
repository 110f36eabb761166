"""Work that needs torch, done in a helper process so the editor itself never imports torch
(importing it takes seconds and would freeze the window). No Qt here: the helper process
imports this module. The editor imports it too, only to name the work: each function imports
what it runs on (data loading, prediction, numpy, torch) when the helper calls it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.prediction import Prediction
    from engine.runs import RunRecord
    from engine.training.data import Preview


def preview_design(design: dict[str, Any]) -> Preview:
    """The data a run of this design would see, its cost and any mismatch."""
    from engine import Design
    from engine.training.data import preview

    return preview(Design.from_dict(design))


def devices() -> list[tuple[str, str]]:
    """(setting, description) for each device training can use here, best first."""
    import torch

    found = [(f"cuda:{i}", torch.cuda.get_device_name(i))
             for i in range(torch.cuda.device_count())]
    if torch.backends.mps.is_available():
        found.append(("mps", "Apple GPU (MPS)"))
    found.append(("cpu", f"CPU ({torch.get_num_threads()} threads)"))
    return found


def predict_on_samples(record: RunRecord, count: int) -> Prediction:
    from engine.prediction import predict_samples

    return predict_samples(record, count)


def predict_on_file(record: RunRecord, path: str) -> Prediction:
    from engine.prediction import predict_file

    return predict_file(record, path)
