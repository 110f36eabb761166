"""One design's training: the worker service, the run going on, its store and its live state.

The worker is the app's one helper process (designer.training.jobs.worker), which runs the
background jobs too; a window closing stops its run and leaves the worker to the app.

The run trains a copy of the design made when it starts, so edits never reach it; the session
tells the panel when the design no longer matches that copy. Events are drained from the worker
every 50 ms into the LiveRun; nothing here draws.

The session belongs to the open design. When another design replaces it (File > New, Open), a
run still going is stopped: it ends in its own run folder (status, curves and last checkpoint
kept, so it can be continued when that design is open again) and nothing of it reaches the
LiveRun the panel draws, which starts empty for the new design.

Nothing that goes wrong while a run ends escapes into Qt: each step of finishing is guarded,
and a run whose files could not be kept ends as failed, saying why. A worker that stops
answering is reported (state "unresponsive"), and Stop then ends it.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QStandardPaths, Signal

from designer.document import DesignDocument
from designer.timers import make_timer
from designer.training.jobs import worker
from designer.training.live import LiveRun
from engine import Design, DesignError
from engine.events import DesignEvent, NodeMoved, Reset
from engine.runs import RunRecord, RunRecorder, RunStore, runs_folder_for, save_step_curves
from engine.training.data_paths import anchored_to_folder
from engine.training.events import Failed
from engine.training.settings import TrainingSettings
from engine.training.worker import Run, TrainingService

DRAIN_MS = 50
DRIFT_CHECK_MS = 300


def model_signature(design: Design) -> dict[str, Any]:
    """What a run depends on: the networks without node positions, and the settings."""
    data = design.to_dict()
    for network in data["networks"].values():
        for node in network["nodes"]:
            node.pop("pos", None)
    return {"networks": data["networks"], "training": data["training"]}


def checkpoint_epoch(folder: Path) -> int:
    """The epoch a checkpoint folder was written after (0 if its record cannot be read)."""
    try:
        return int(json.loads((folder / "record.json").read_text(encoding="utf-8"))["epoch"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0


def scratch_root() -> Path:
    """Where runs of designs that were never saved wait for a file to live beside."""
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base) / "unsaved-runs"


class TrainingSession(QObject):
    changed = Signal(object)        # set of LiveRun parts that changed (see LiveRun.apply)
    stateChanged = Signal(str)      # idle, starting, running, paused, stopping, finished, failed,
                                    # unresponsive (the worker stopped answering; Stop ends it)
    runsChanged = Signal()          # runs were added, changed or removed in the store
    drifted = Signal(bool)          # the design differs from the one the run started with
    message = Signal(str)

    def __init__(self, document: DesignDocument,
                 service_factory: Callable[[], TrainingService] | None = None,
                 scratch: Path | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.live = LiveRun()
        self.service: TrainingService | None = None
        # by default the app's one worker, which background jobs share (designer.training.jobs)
        self._service_factory = service_factory or partial(worker, warm=True)
        self._owns_service = service_factory is not None
        self.run: Run | None = None
        self.record: RunRecord | None = None
        self._recorder: RunRecorder | None = None
        self._leaving: tuple[Run, RunRecorder, LiveRun] | None = None  # the replaced design's
        self._scratch = (scratch or scratch_root()) / uuid.uuid4().hex[:12]
        self.store = self._store_for(document.path)
        self._snapshot: dict[str, Any] | None = None
        self._silent = False   # the run's worker has stopped answering
        # what a run probes at each epoch end (probe's options), None for nothing
        self.probe_options: Callable[[], dict[str, Any] | None] = lambda: None
        self._drain = make_timer(self, DRAIN_MS, self.drain)
        self._drift = make_timer(self, DRIFT_CHECK_MS, self._check_drift, single_shot=True)
        document.designChanged.connect(self._on_design_event)
        document.pathChanged.connect(self._on_path_changed)

    # ------------------------------------------------------------------ the worker
    def use_service(self, service: TrainingService) -> None:
        """Train in a service owned by someone else (tests share one warm worker)."""
        self.service, self._owns_service = service, False

    def warm_up(self) -> None:
        """Start the worker now, so it is ready (torch imported) when the user trains."""
        if self.service is None:
            self.service = self._service_factory()

    @property
    def running(self) -> bool:
        return self.run is not None and not self.run.done

    @property
    def busy(self) -> bool:
        """A run is going: this design's, or the previous design's while it stops."""
        return self.running or self._leaving is not None

    # ------------------------------------------------------------------ commands
    def start(self, resume_from: RunRecord | None = None) -> bool:
        """Train a copy of the design (from a stored run's last checkpoint when given)."""
        if self.busy:
            return False
        self.warm_up()
        design = anchored_to_folder(self.document.design, self.document.folder)
        options: dict[str, Any] = {}
        name = None
        if resume_from is not None:
            checkpoint = resume_from.latest_checkpoint()
            if checkpoint is None:
                self.message.emit(f"{resume_from.name} has no checkpoint to continue from")
                return False
            done = checkpoint_epoch(checkpoint)
            extra = int(design.training.get("epochs", TrainingSettings().epochs))
            options = {"resume": str(checkpoint), "overrides": {"epochs": done + extra}}
            name = f"{resume_from.name} continued"
        try:
            self.record = self.store.create(name, resumed_from=resume_from.id if resume_from
                                            else None)
        except OSError as err:
            self.message.emit(f"Cannot keep a run in {self.store.folder}: {err}")
            return False
        self._recorder = RunRecorder(self.store, self.record)
        self.live.reset()
        self.live.state = "starting"
        self._silent = False
        self._snapshot = model_signature(design)
        self.drifted.emit(False)
        try:
            self.run = self.service.start(design, out_dir=str(self.record.folder),
                                          probe=self.probe_options(), **options)
        except DesignError as err:
            self.run = None
            self._finish(Failed(0, reason=str(err), error="settings"))
            return False
        self.stateChanged.emit("starting")
        self.runsChanged.emit()
        self._drain.start()
        return True

    def pause(self) -> None:
        if self.running:
            self.run.pause()

    def resume(self) -> None:
        if self.running:
            self.run.resume()

    def stop(self) -> None:
        if self.running:
            self.run.stop()

    def checkpoint(self) -> None:
        if self.running:
            self.run.checkpoint()

    # ------------------------------------------------------------------ events
    def drain(self) -> None:
        """Fold the events that arrived into the LiveRun and tell the views what changed."""
        self._drain_leaving()
        if self.run is None:
            return
        self._watch_worker()
        events = self.run.events()
        if not events:
            return
        before = self.live.state
        changed = self.live.apply(events)
        if self._record(self._recorder, events):
            self.record = self._recorder.record
        if "started" in changed:
            self.runsChanged.emit()
        if "checkpoint" in changed:
            self.message.emit(f"Checkpoint written: {self.live.last_checkpoint}")
        if self.live.final is not None:
            self._finish(self.live.final, changed)
            return
        self.changed.emit(changed)
        if self.live.state != before:
            self.stateChanged.emit(self.live.state)

    def _watch_worker(self) -> None:
        """Say when the run's worker stops answering, and when it answers again."""
        silent = self.run.unresponsive
        if silent == self._silent:
            return
        self._silent = silent
        if silent:
            self.message.emit("The training process is not responding; Stop ends it")
        self.stateChanged.emit("unresponsive" if silent else self.live.state)

    def _finish(self, final, changed: set[str] | None = None) -> None:
        """Record how the run ended, keep its curves with it, and stop draining. Each step is
        guarded: this runs in a Qt slot, and a run must never look as if it went on."""
        if self._leaving is None:
            self._drain.stop()
        self._silent = False
        if self.live.final is None:
            self._conclude(final)
        problem = _attempt(self._keep_curves, self.record, self.live)
        if problem:
            self._fail_late(f"its curves could not be kept: {problem}")
        self.changed.emit((changed or set()) | {"final", "state"})
        self.stateChanged.emit(self.live.state)
        self.runsChanged.emit()
        problem = _attempt(self._move_scratch_runs)
        if problem:
            self.message.emit(f"Could not move the runs to {self.store.folder}: {problem}")

    def _conclude(self, final) -> None:
        """The run ends with `final`: shown, and recorded in its run.json."""
        self.live.apply([final])
        if self._record(self._recorder, [final]):
            self.record = self._recorder.record

    def _fail_late(self, problem: str) -> None:
        """Finishing the run went wrong: a run that had ended well now ends as failed (a
        failed one keeps its own reason, and the problem is told besides)."""
        ended = self.live.final
        if isinstance(ended, Failed):
            self.message.emit(f"The run failed, and then {problem}")
            return
        self._conclude(Failed(ended.run, reason=f"the run ended "
                              f"({ended.status.replace('_', ' ')}) but {problem}",
                              error="files", epoch=self.live.last_epoch,
                              checkpoint=self.live.last_checkpoint))

    def _record(self, recorder: RunRecorder | None, events: list) -> bool:
        """Keep the run's run.json up to date; True when it changed."""
        if recorder is None:
            return False
        try:
            changed = [recorder.observe(event) for event in events]   # every one, in order
            return any(changed)
        except (OSError, DesignError) as err:
            self.message.emit(f"Could not record the run: {err}")
            return False

    def _keep_curves(self, record: RunRecord | None, live: LiveRun) -> None:
        if record is not None and record.folder.is_dir() and live.steps:
            save_step_curves(record.folder, live.step_curves())

    # ------------------------------------------------------------------ a replaced design
    def _let_go(self) -> None:
        """Another design replaced the one whose run is going: stop that run and let it end
        in its own folder, out of sight; the LiveRun starts empty for the new design."""
        self.run.stop()
        self._leaving = (self.run, self._recorder, copy.copy(self.live))

    def _forget_run(self) -> None:
        """Nothing of the previous design's run stays in view."""
        self.run, self.record, self._recorder, self._snapshot = None, None, None, None
        self.live.reset()
        self.drifted.emit(False)
        self.stateChanged.emit(self.live.state)

    def _drain_leaving(self) -> None:
        if self._leaving is None:
            return
        run, recorder, live = self._leaving
        events = run.events()
        live.apply(events)
        self._record(recorder, events)
        if run.done:
            problem = _attempt(self._keep_curves, recorder.record if recorder else None, live)
            if problem:
                self.message.emit(f"The previous design's run could not keep its curves: "
                                  f"{problem}")
            self._leaving = None
            if self.run is None:
                self._drain.stop()
            self.stateChanged.emit(self.live.state)   # a new run may start now

    # ------------------------------------------------------------------ the design
    def _on_design_event(self, event: DesignEvent) -> None:
        if isinstance(event, Reset):
            # Another design was opened: runs of the previous unsaved one stay where they are.
            if self.running:
                self._let_go()
            self._forget_run()
            self._scratch = self._scratch.with_name(uuid.uuid4().hex[:12])
        if self._snapshot is not None and self.running and not isinstance(event, NodeMoved):
            self._drift.start()

    def _check_drift(self) -> None:
        if self._snapshot is not None:
            self.drifted.emit(model_signature(self.document.design) != self._snapshot)

    def _store_for(self, path: Path | None) -> RunStore:
        return RunStore(runs_folder_for(path) if path is not None else self._scratch)

    def _on_path_changed(self, path: Path | None) -> None:
        self.store = self._store_for(path)
        if not self.running:
            self._move_scratch_runs()
        self.runsChanged.emit()

    def _move_scratch_runs(self) -> None:
        """Runs made before the design had a file move beside it once it has one."""
        if self.store.folder == self._scratch or not self._scratch.is_dir():
            return
        try:
            RunStore(self._scratch).move_to(self.store.folder)
        except OSError as err:
            self.message.emit(f"Could not move the runs to {self.store.folder}: {err}")
        self.runsChanged.emit()

    # ------------------------------------------------------------------ closing
    def shutdown(self) -> None:
        self._drain.stop()
        if self.running:
            self.run.stop()
        if self._leaving is not None:
            self._leaving[0].stop()
        if self.service is not None and self._owns_service:
            self.service.shutdown()
        self.service = None


def _attempt(step: Callable[..., object], *args: object) -> str | None:
    """Run one step of finishing a run; what went wrong, in words, or None."""
    try:
        step(*args)
    except Exception as err:  # noqa: BLE001 - a Qt slot must not raise; the caller says why
        return f"{type(err).__name__}: {err}" if not isinstance(err, OSError) else str(err)
    return None
