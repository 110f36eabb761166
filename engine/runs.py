"""The run store: every training run of a design, kept in a folder beside the design file.

    mynet.ncnet
    mynet.runs/
        0001/               one run: the training engine's `out_dir`
            run.json        name, creation time, status, the id of the process that
                            records the run, and facts for listings (this module)
            design.ncnet    the design as the run started          (the trainer)
            metrics.csv     one row per epoch                       (the trainer)
            steps.npz       per-step curves, kept when a run ends   (this module)
            summary.json    status, last metrics, weight files      (the trainer, at the end)
            diagnostics.json  the problems the run raised           (the trainer)
            last/ best/     <network>.safetensors                   (the trainer)
            checkpoints/    epoch-NNNN/ folders                     (the trainer)

The app and `neuralcanvas train` both keep runs here, and both record a run's progress in
run.json with a `RunRecorder`, so a run made on the command line shows in the app's Runs tab.
A design that was never saved keeps its runs in a scratch folder until it is (`move_to`).
Every file is written whole or not at all, or appended a line at a time
(engine.run_files); what a killed writer leaves behind is removed when a store is opened.
Weights come back as models built from the run's own design (`load_models`; engine.prediction
runs them on data). Torch is imported only by the functions that need it.
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.design import Design
from engine.errors import DesignError
from engine.fileformat import load_design, write_atomically
from engine.on_first_use import ModuleOnFirstUse
from engine.run_files import (
    METRICS_FILE,
    SUMMARY_FILE,
    open_run_file,
    process_gone,
    read_run_text,
    remove_leftovers,
    stored_weight_path,
    writing_failed,
)
from engine.run_paths import path_inside
from engine.training.events import EpochEnd, Failed, Finished, RunMessage, Started

if TYPE_CHECKING:
    import numpy as np
else:   # the window lists runs at start-up; its first paint does not wait for numpy
    np = ModuleOnFirstUse("numpy")

RUN_FILE = "run.json"
STEPS_FILE = "steps.npz"
DESIGN_FILE = "design.ncnet"
RUNS_SUFFIX = ".runs"
FINAL_STATUSES = frozenset({"completed", "stopped", "early_stopped", "failed"})
_RECORD_KEYS = ("name", "created", "status", "owner")   # run.json's own; the rest is `info`
_UNBORN = re.compile(r"^\.\d+\.(\d+)\.partial$")   # a run folder being made by process N


def runs_folder_for(design_path: str | Path) -> Path:
    """Where the runs of a saved design live: `name.runs` beside `name.ncnet`."""
    path = Path(design_path)
    return path.with_name(path.stem + RUNS_SUFFIX)


@dataclass(frozen=True)
class RunRecord:
    """One stored run as listed: `info` holds the rest of run.json (task, device, epochs,
    batches_per_epoch, metrics, reason, ...); `owner` is the id of the process that made and
    records the run (the app or `neuralcanvas train`), whose end means nobody writes it."""

    id: str
    folder: Path
    name: str
    created: str
    status: str
    info: dict[str, Any] = field(default_factory=dict)
    owner: int | None = None

    @property
    def finished(self) -> bool:
        return self.status in FINAL_STATUSES

    def weight_files(self, which: str = "auto") -> dict[str, Path]:
        """network -> .safetensors file. `which`: "best", "last", or "auto" (the weights the
        run ended with: best when early stopping kept them, else last).
        Paths read from summary.json or a checkpoint's record.json must lie inside the run's
        folder (a DesignError otherwise)."""
        if which == "auto":
            summary_file = self.folder / SUMMARY_FILE
            summary = _read_json(summary_file) or {}
            if isinstance(summary, dict) and isinstance(summary.get("weights"), dict):
                files = {n: path_inside(self.folder, stored_weight_path(p), summary_file)
                         for n, p in summary["weights"].items()}
                if files and all(p.is_file() for p in files.values()):
                    return files
            which = "last"
        found = {p.stem: p for p in sorted((self.folder / which).glob("*.safetensors"))}
        if not found:
            latest = self.latest_checkpoint()
            if latest is not None:
                record_file = latest / "record.json"
                record = _read_json(record_file) or {}
                weights = record.get("weights", {}) if isinstance(record, dict) else {}
                found = {n: path_inside(latest, f, record_file) for n, f in weights.items()}
        return found

    @property
    def has_weights(self) -> bool:
        """Whether the run offers weights (a run whose files point outside its folder does,
        so that loading them says why it refuses)."""
        try:
            return bool(self.weight_files())
        except DesignError:
            return True

    def latest_checkpoint(self) -> Path | None:
        folder = self.folder / "checkpoints"
        done = sorted(p for p in folder.glob("*") if p.is_dir() and not p.name.startswith("."))
        return done[-1] if done else None


class RunStore:
    """The runs in one folder, oldest first. Every change is written at once (atomically).
    Opening a store removes what killed writers left in runs that nobody writes any more
    (ended, or whose owner process is gone)."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        for record in self.runs():
            if record.finished or process_gone(record.owner):
                remove_leftovers(record.folder)
        for unborn in self.folder.glob(".*.partial") if self.folder.is_dir() else ():
            made_by = _UNBORN.match(unborn.name)
            if made_by and process_gone(int(made_by.group(1))):
                shutil.rmtree(unborn, ignore_errors=True)

    def create(self, name: str | None = None, **info: Any) -> RunRecord:
        """A new run folder numbered after the highest existing one, holding its run.json:
        it is made under a temporary name (`.NNNN.<pid>.partial`) and renamed, so a run
        folder is never without its record, and two processes never take the same number."""
        while True:
            run_id = self._next_id()
            record = RunRecord(run_id, self.folder / run_id, name or f"Run {int(run_id)}",
                               datetime.now().isoformat(timespec="seconds"), "starting",
                               dict(info), os.getpid())
            unborn = self.folder / f".{run_id}.{os.getpid()}.partial"
            shutil.rmtree(unborn, ignore_errors=True)
            unborn.mkdir()
            write_atomically(unborn / RUN_FILE, _run_json(record), durable=False)
            try:
                os.rename(unborn, record.folder)
                return record
            except OSError:
                shutil.rmtree(unborn, ignore_errors=True)
                if not record.folder.exists():
                    raise

    def _next_id(self) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        number = max((int(p.name) for p in self.folder.iterdir() if p.name.isdigit()),
                     default=0) + 1
        while (self.folder / f"{number:04d}").exists():
            number += 1
        return f"{number:04d}"

    def runs(self) -> list[RunRecord]:
        """Every run with a readable run.json, oldest first."""
        if not self.folder.is_dir():
            return []
        found = [self._read(p) for p in sorted(self.folder.iterdir()) if p.is_dir()]
        return [record for record in found if record is not None]

    def get(self, run_id: str) -> RunRecord:
        record = self._read(self.folder / run_id)
        if record is None:
            raise DesignError(f"there is no run {run_id!r} in {self.folder}")
        return record

    def update(self, run_id: str, status: str | None = None, **info: Any) -> RunRecord:
        """Change the status and merge `info` into the run's facts."""
        record = self.get(run_id)
        updated = RunRecord(record.id, record.folder, record.name, record.created,
                            status or record.status, {**record.info, **info}, record.owner)
        self._write(updated)
        return updated

    def rename(self, run_id: str, name: str) -> RunRecord:
        name = name.strip()
        if not name:
            raise DesignError("a run's name cannot be empty")
        record = self.get(run_id)
        renamed = RunRecord(record.id, record.folder, name, record.created, record.status,
                            record.info, record.owner)
        self._write(renamed)
        return renamed

    def delete(self, run_id: str) -> None:
        folder = self.get(run_id).folder
        shutil.rmtree(folder)

    def move_to(self, folder: str | Path) -> RunStore:
        """Move every run into `folder` (numbered after the runs already there); return the
        store of the new folder. Used when an unsaved design is saved."""
        target = RunStore(folder)
        for record in self.runs():
            run_id = target._next_id()
            destination = target.folder / run_id
            shutil.move(str(record.folder), str(destination))
            target._write(RunRecord(run_id, destination, record.name, record.created,
                                    record.status, _moved_paths(record.info, record.folder,
                                                                destination), record.owner))
        if self.folder.is_dir() and not any(self.folder.iterdir()):
            self.folder.rmdir()
        return target

    def _read(self, folder: Path) -> RunRecord | None:
        data = _read_json(folder / RUN_FILE)
        if not isinstance(data, dict):
            return None
        info = {k: v for k, v in data.items() if k not in _RECORD_KEYS}
        owner = data.get("owner")
        return RunRecord(folder.name, folder, str(data.get("name", folder.name)),
                         str(data.get("created", "")), str(data.get("status", "unknown")), info,
                         owner if isinstance(owner, int) else None)

    def _write(self, record: RunRecord) -> None:
        write_atomically(record.folder / RUN_FILE, _run_json(record), durable=False)


def _run_json(record: RunRecord) -> str:
    document = {"name": record.name, "created": record.created, "status": record.status,
                "owner": record.owner, **record.info}
    return json.dumps(document, indent=1, default=_plain)


RECORDED_FACTS = ("task", "device", "device_name", "epochs", "batches_per_epoch",
                  "first_epoch")


class RunRecorder:
    """Keeps one stored run's run.json up to date from the run's messages, as they arrive."""

    def __init__(self, store: RunStore, record: RunRecord) -> None:
        self.store, self.record = store, record
        self.last_epoch = 0

    def observe(self, event: RunMessage) -> bool:
        """Record what `event` says about the run; True when run.json changed. An OSError or
        DesignError means the run folder can no longer be written."""
        if isinstance(event, EpochEnd):
            self.last_epoch = event.epoch
        elif isinstance(event, Started):
            facts = {key: getattr(event, key) for key in RECORDED_FACTS}
            self._update("running", data=event.data.get("description"),
                         parameters=sum(event.networks.values()), **facts)
        elif isinstance(event, Finished):
            self._update(event.status, epochs_done=event.epochs_done,
                         best_epoch=event.best_epoch, metrics=event.metrics,
                         seconds=round(event.seconds, 2))
        elif isinstance(event, Failed):
            self._update("failed", reason=event.reason, error=event.error,
                         epochs_done=self.last_epoch)
        else:
            return False
        return True

    def _update(self, status: str, **info: Any) -> None:
        self.record = self.store.update(self.record.id, status, **info)


def _plain(value: Any) -> Any:
    """JSON for numpy scalars and arrays found in event payloads."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} cannot be written to {RUN_FILE}")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(read_run_text(path))
    except (OSError, ValueError):
        return None


def _moved_paths(info: dict[str, Any], old: Path, new: Path) -> dict[str, Any]:
    return {k: (str(new / Path(v).relative_to(old)) if isinstance(v, str)
                and Path(v).is_relative_to(old) else v) for k, v in info.items()}


# ---------------------------------------------------------------------------- curves

def read_metrics(folder: str | Path) -> dict[str, np.ndarray]:
    """metrics.csv as float columns (NaN where an epoch did not report a value). A last line
    without its end was being appended when the run was killed, and is left out."""
    path = Path(folder) / METRICS_FILE
    try:
        text = read_run_text(path)
    except (OSError, UnicodeError):
        return {}
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines.pop()
    rows = list(csv.DictReader(lines))
    columns: dict[str, np.ndarray] = {}
    for name in (rows[0].keys() if rows else ()):
        columns[name] = np.array([_number(row.get(name)) for row in rows], dtype=np.float64)
    return columns


def _number(text: str | None) -> float:
    try:
        return float(text) if text not in (None, "") else math.nan
    except ValueError:
        return math.nan


def export_metrics_csv(record: RunRecord, destination: str | Path) -> None:
    """Copy a run's per-epoch metrics to `destination` (written whole or not at all)."""
    source = record.folder / METRICS_FILE
    try:
        text = read_run_text(source)
    except FileNotFoundError:
        raise DesignError(f"run {record.name!r} has no metrics yet (no epoch finished)") from None
    except (OSError, UnicodeError) as err:
        raise DesignError(f"{source} cannot be read: {err}") from None
    write_atomically(Path(destination), text)


def save_step_curves(folder: str | Path, curves: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    """Per-step curves (name -> (steps, values)) as steps.npz, for overlays later."""
    arrays = {}
    for name, (x, y) in curves.items():
        arrays[f"{name}.x"] = np.asarray(x, dtype=np.float64)
        arrays[f"{name}.y"] = np.asarray(y, dtype=np.float64)
    path = Path(folder) / STEPS_FILE
    partial = path.with_name(f".{path.name}.partial.npz")
    try:
        np.savez_compressed(partial, **arrays)
    except Exception as err:   # a full disk: say which file, leave no partial one
        failure = writing_failed(path, err)
        partial.unlink(missing_ok=True)
        raise failure from err
    partial.replace(path)


def read_step_curves(folder: str | Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    path = Path(folder) / STEPS_FILE
    if not path.is_file():
        return {}
    try:
        with open_run_file(path) as stream, np.load(stream, allow_pickle=False) as stored:
            names = sorted({key.rsplit(".", 1)[0] for key in stored.files})
            return {n: (stored[f"{n}.x"], stored[f"{n}.y"]) for n in names
                    if f"{n}.x" in stored.files and f"{n}.y" in stored.files}
    except (OSError, ValueError):
        return {}


# ---------------------------------------------------------------------------- weights

def run_design(record: RunRecord) -> Design:
    """The design exactly as the run trained it."""
    path = record.folder / DESIGN_FILE
    if not path.is_file():
        raise DesignError(f"run {record.name!r} did not get far enough to save its design "
                          f"({path} is missing)")
    return load_design(path)


def load_models(record: RunRecord, design: Design | None = None,
                which: str = "auto") -> dict[str, Any]:
    """network -> torch module (eval mode) with the run's weights, built from `design` (by
    default the run's own design). A DesignError says which network does not fit."""
    from safetensors.torch import load_file

    from engine.compiler import build_model

    design = design or run_design(record)
    files = record.weight_files(which)
    if not files:
        raise DesignError(f"run {record.name!r} has no saved weights (it ended before the "
                          "first checkpoint)")
    models = {}
    for network, path in files.items():
        if network not in design.networks:
            raise DesignError(f"the weights {path} are for network {network!r}, which the "
                              f"design does not have (it has {', '.join(design.networks)})")
        model = build_model(design, network)
        try:
            model.load_state_dict(load_file(path), strict=True)
        except RuntimeError as err:
            raise DesignError(f"the weights {path} do not fit network {network!r}: the design "
                              f"changed since the run. {str(err).splitlines()[0]}") from None
        models[network] = model.eval()
    return models
