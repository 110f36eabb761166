"""Loading a run's data (the plan's portable calls) and checking it fits the design.

`preview(design)` does the same without training, for a settings panel: the detected shapes
and classes, a few samples, the cost estimate, and any mismatch as a readable message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.checking import check
from engine.design import Design
from engine.errors import DesignError
from engine.training import excerpt
from engine.training.datacheck import DataError, DataFacts, check_fit, unreadable
from engine.training.plan import Plan, make_plan
from engine.training.settings import settings_from


@dataclass
class LoadedData:
    """The samples of a run. In memory: `train`, `train_targets`, `val`, `val_targets`
    tensors on the device; otherwise `train` and `val` datasets."""

    tensors: dict[str, Any]
    in_memory: bool
    facts: DataFacts
    counts: tuple[int, int]   # training and validation samples
    labels: list[str] | None
    vocabulary: list[str] | None
    warnings: list[str]

    def summary(self, plan: Plan) -> dict[str, Any]:
        return {"description": plan.data.description, "train_samples": self.counts[0],
                "val_samples": self.counts[1],
                "input_shape": list(self.facts.input_shape),
                "target_shape": list(self.facts.target_shape), "classes": plan.classes,
                "labels": self.labels}


def load_data(plan: Plan, design: Design, device: Any) -> LoadedData:
    """Run the plan's data calls, then check the samples fit the design (DataError if not)."""
    import torch

    functions = excerpt.functions()
    names: dict[str, Any] = {"seed": plan.settings.seed, **plan.data.files}
    try:
        for call in plan.data.calls:
            result = call.run(functions, names)
    except Exception as err:  # noqa: BLE001 - whatever reading a file raises, name the file
        raise unreadable(plan.data.source, plan.data.files, err) from None
    vocabulary = names.get("vocabulary")
    if plan.data.in_memory:
        x_train, y_train, x_val, y_val = (t.to(device) for t in result)
        tensors = {"train": x_train, "train_targets": y_train, "val": x_val,
                   "val_targets": y_val}
        sample_in, sample_target = x_train[:1], y_train[:1]
        counts = len(x_train), len(x_val)
        ids = not y_train.dtype.is_floating_point
        largest_target = int(y_train.max()) if ids and len(y_train) else 0
        largest_input = int(x_train.max()) if not x_train.dtype.is_floating_point else 0
        labels = _labels(plan, functions, names, vocabulary)
    else:
        train_set, val_set = result
        if len(train_set) == 0:
            raise DataError(f"{plan.data.files['path']} holds no images to train on; put "
                            "them in one subfolder per class")
        tensors = {"train": train_set, "val": val_set}
        try:
            image, target = train_set[0]
        except Exception as err:  # noqa: BLE001 - as above
            raise unreadable(plan.data.source, plan.data.files, err) from None
        sample_in, sample_target = image.unsqueeze(0), torch.tensor([target])
        counts = len(train_set), len(val_set)
        labels = list(train_set.dataset.classes)
        largest_target, largest_input = len(labels) - 1, 0
    facts = DataFacts(tuple(sample_in.shape[1:]), not sample_in.dtype.is_floating_point,
                      tuple(sample_target.shape[1:]), not sample_target.dtype.is_floating_point,
                      train_samples=counts[0], largest_target=largest_target,
                      largest_input=largest_input)
    warnings = check_fit(plan, design, facts)
    return LoadedData(tensors, plan.data.in_memory, facts, counts, labels, vocabulary, warnings)


def _labels(plan: Plan, functions: dict[str, Any], names: dict[str, Any],
            vocabulary: list[str] | None) -> list[str] | None:
    """Names of the classes, for confusion matrices and predictions."""
    if not plan.classes:
        return None
    if vocabulary is not None:
        return list(vocabulary)
    if plan.data.source == "csv":
        return functions["csv_classes"](names["path"], plan.settings.data.target)
    return [str(i) for i in range(plan.classes)]


@dataclass
class Preview:
    """What a run would see, or why it could not start (`problem`)."""

    problem: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    inputs: np.ndarray | None = None     # a few training samples
    targets: np.ndarray | None = None
    warnings: list[str] = field(default_factory=list)
    cost: dict[str, int] = field(default_factory=dict)


def preview(design: Design, count: int = 16) -> Preview:
    """Plan the run and load its data on the CPU, without training anything."""
    import torch

    from engine.training.cost import estimate_cost

    try:
        report = check(design)
        plan = make_plan(design, settings_from(design.training), report)
        cost = estimate_cost(design, plan, report).as_dict()
        loaded = load_data(plan, design, torch.device("cpu"))
    except DesignError as err:
        return Preview(problem=str(err))
    if loaded.in_memory:
        inputs = loaded.tensors["train"][:count].numpy()
        targets = loaded.tensors["train_targets"][:count].numpy()
    else:
        pairs = [loaded.tensors["train"][i] for i in range(min(count, len(loaded.tensors["train"])))]
        inputs = np.stack([image.numpy() for image, _ in pairs])
        targets = np.array([target for _, target in pairs])
    return Preview(None, loaded.summary(plan), inputs, targets, loaded.warnings, cost)

