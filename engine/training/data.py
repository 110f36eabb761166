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
from engine.training.data_description import describe_data
from engine.training.data_fit import held_data_problem
from engine.training.data_samples import first_samples
from engine.training.datacheck import DataError, DataFacts, check_fit, unreadable
from engine.training.plan import Call, Plan, Portable, make_plan
from engine.training.settings import settings_from

# A source that has no reader of its first samples is loaded whole to show them when all
# its samples take no more than this many bytes (the small built-in sets).
WHOLE_LOAD_LIMIT = 64 * 2**20


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
        return data_summary(plan, self.facts, self.counts, self.labels)


def data_summary(plan: Plan, facts: DataFacts, counts: tuple[int, int],
                 labels: list[str] | None) -> dict[str, Any]:
    """The data facts a run reports and the Setup tab shows."""
    return {"description": plan.data.description, "train_samples": counts[0],
            "val_samples": counts[1], "input_shape": list(facts.input_shape),
            "target_shape": list(facts.target_shape), "classes": plan.classes,
            "labels": labels}


def load_data(plan: Plan, design: Design, device: Any, layout: Any = None) -> LoadedData:
    """Run the plan's data calls, then check the samples fit the design (DataError if not);
    samples held in memory go to `device`, images in `layout` (a torch memory format; by
    default as they are)."""
    import torch

    from engine.training.portable.batches import to_device

    functions = excerpt.functions()
    names: dict[str, Any] = {"seed": plan.settings.seed, **plan.data.files}
    result = run_calls(plan, plan.data.calls, functions, names)
    vocabulary = names.get("vocabulary")
    if plan.data.in_memory:
        layout = torch.preserve_format if layout is None else layout
        x_train, y_train, x_val, y_val = (to_device(t, device, layout) for t in result)
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


def run_calls(plan: Plan, calls: tuple[Call, ...], functions: dict[str, Any],
              names: dict[str, Any]) -> Any:
    """Run data calls of the plan (their outputs go into `names`); what the last returns.
    Whatever reading a file raises is a DataError naming the file."""
    try:
        for call in calls:
            result = call.run(functions, names)
    except Exception as err:  # noqa: BLE001 - whatever reading a file raises, name the file
        raise unreadable(plan.data.source, plan.data.files, err) from None
    return result


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
    """What a run would see, as far as it is known, and why it could not start (`problem`)."""

    problem: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    inputs: np.ndarray | None = None     # the first samples of the data
    targets: np.ndarray | None = None
    warnings: list[str] = field(default_factory=list)
    cost: dict[str, int] = field(default_factory=dict)


def preview(design: Design, count: int = 16) -> Preview:
    """Plan the run and describe its data, without training anything or loading all of it:
    the data facts come from the source's description, the samples shown are made or read
    alone (a small built-in set is loaded whole), so a preview takes little time and memory
    whatever the size of the data. What is found before a problem stays in the preview."""
    from engine.training.cost import estimate_cost

    shown = Preview()
    try:
        report = check(design)
        plan = make_plan(design, settings_from(design.training), report)
        shown.cost = estimate_cost(design, plan, report).as_dict()
        described = describe_data(plan)
        if described is None:
            raise DataError(f"the {plan.data.source} data cannot be described")
        facts = described.facts
        shown.data = data_summary(plan, facts, (facts.train_samples or 0,
                                                described.samples - (facts.train_samples or 0)),
                                  described.labels)
        samples = first_samples(plan, described, count)
        if samples is None and described.held.bytes <= WHOLE_LOAD_LIMIT:
            samples = _loaded_first_samples(plan, count)
        shown.inputs, shown.targets = samples or (None, None)
        shown.warnings = check_fit(plan, design, facts)
        beyond = held_data_problem(plan, described.held)
        if beyond:
            shown.problem = "; ".join(beyond)
    except DesignError as err:
        shown.problem = str(err)
    return shown


def _loaded_first_samples(plan: Plan, count: int) -> tuple[np.ndarray, np.ndarray]:
    """The first samples of a source read whole (as the run reads it): before the
    validation split where the plan splits after loading, else the first training samples
    (image folders: in the folder's order, without augmentation)."""
    calls = plan.data.calls
    split = calls[-1].function in (Portable.SPLIT_RANDOM, Portable.SPLIT_IN_ORDER)
    names: dict[str, Any] = {"seed": plan.settings.seed, **plan.data.files}
    result = run_calls(plan, calls[:-1] if split else calls, excerpt.functions(), names)
    if plan.data.in_memory:
        return result[0][:count].numpy(), result[1][:count].numpy()
    images = result[1].dataset  # every image, with the validation transforms
    pairs = [images[i] for i in range(min(count, len(images)))]
    return np.stack([image.numpy() for image, _ in pairs]), np.array([t for _, t in pairs])
