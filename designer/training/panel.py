"""The Training panel: run controls and progress over four tabs (Setup, Curves, Runs, Predict).

The panel drives a TrainingSession (worker process, events, run store) and draws what it
reports. Events are drained every 50 ms; plots redraw twice a second (REDRAW_MS) and only
while they are on screen. pyqtgraph is imported when the curves are first needed, and torch
never in this process: estimates and predictions run in a helper process.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QAction, QColor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from designer.document import DesignDocument
from designer.panels.lazy import RefreshWhenShown
from designer.theme import SEVERITY_COLOURS, SEVERITY_TINTS
from designer.timers import make_timer
from designer.training import tasks
from designer.training.banner import Banner
from designer.training.jobs import Jobs
from designer.training.predict_view import PredictView
from designer.training.probe_controller import ProbeController, Weights
from designer.training.probe_sample_dialog import ProbeSampleDialog
from designer.training.runs_view import RunsView
from designer.training.session import TrainingSession
from designer.training.setup_view import SetupView
from designer.undo_commands import macro
from engine.events import DesignEvent, NodeMoved, Reset, TrainingChanged
from engine.runs import RunRecord, read_metrics, read_step_curves
from engine.training.data_paths import anchored_description
from engine.training.diagnostics import headline
from engine.training.events import Failed
from engine.training.settings import TrainingSettings
from engine.training.worker import TrainingService
from engine.wording import count_of

if TYPE_CHECKING:
    from designer.training.curves_area import CurvesArea
    from designer.training.lr_finder_dialog import LrFinderDialog

REDRAW_MS = 500          # plots redraw twice a second (see EPOCH_VIEW_MS)
PREVIEW_DELAY_MS = 600   # wait for a pause in editing before estimating again
EXPORT_SIZE = QSize(1200, 640)
EPOCH_GROUPS = ({"epochs", "final"}, {"gradients"}, {"confusion", "samples"})  # one a redraw
EPOCH_VIEWS = set().union(*EPOCH_GROUPS)
EPOCH_VIEW_MS = 1000     # an epoch-end view redraws at most this often
HIGHLIGHT = {severity: QColor(tint) for severity, tint in SEVERITY_TINTS.items()}
STATE_TEXT = {"idle": "Ready", "starting": "Starting\u2026", "running": "Training",
              "paused": "Paused", "stopping": "Stopping\u2026", "finished": "Finished",
              "failed": "Failed",
              "unresponsive": "Not responding \u00b7 Stop ends the training process"}


def clock(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


class TrainingPanel(QWidget, RefreshWhenShown):
    deviceChanged = Signal(str)         # the device the run actually uses, for the status bar
    highlightRequested = Signal(list, object)  # node ids (empty: clear), QColor
    revealRequested = Signal()          # the panel wants to be on screen (a run started)
    message = Signal(str)

    def __init__(self, document: DesignDocument, parent: QWidget | None = None,
                 service_factory: Callable[[], TrainingService] | None = None,
                 scratch: Path | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.session = TrainingSession(document, service_factory, scratch, self)
        self.jobs = Jobs(self)
        self.probes = ProbeController(document, self.session, self.jobs, self)
        self.session.probe_options = self.probes.run_options
        self._train_samples: int | None = None   # from the latest preview
        self._dirty: set[str] = set()
        self._epoch_drawn = 0.0   # when an epoch-end view was last redrawn (monotonic s)
        self._epoch_turn = 0      # the EPOCH_GROUPS index whose turn it is to be redrawn
        self._devices_known = False
        self._available = ""      # the status bar's device text while nothing trains
        self._build_actions()
        self._build_views()
        self._build_layout()
        self._build_timers()
        self._connect_signals()
        self._on_state("idle")
        self._show_planned_epochs()
        self._refresh_runs()

    def _build_views(self) -> None:
        """The status line, the notes above the tabs, and the Setup/Curves/Runs/Predict tabs."""
        self.progress = QProgressBar(self)
        self.progress.setMinimumWidth(160)
        self.progress.setTextVisible(True)
        self.status = QLabel(STATE_TEXT["idle"], self)
        self.drift = QLabel("\u26a0 The design changed since this run started; the run keeps "
                            "the design it started with.", self)
        self.drift.setStyleSheet(f"color: {SEVERITY_COLOURS['warning']};")
        self.drift.hide()
        self.banner = Banner(self)
        self.setup = SetupView(self.document, self)
        self.curves: CurvesArea | None = None   # built on first need (imports pyqtgraph)
        self.curves_page = QWidget(self)
        QVBoxLayout(self.curves_page).setContentsMargins(0, 0, 0, 0)
        self.runs = RunsView(self)
        self.predict = PredictView(self.jobs, self)
        self.tabs = QTabWidget(self)
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.setup, "Setup")
        self.tabs.addTab(self.curves_page, "Curves")
        self.tabs.addTab(self.runs, "Runs")
        self.tabs.addTab(self.predict, "Predict")

    def _build_layout(self) -> None:
        """The run buttons, progress and state on one line; the notes; the tabs below."""
        bar = QHBoxLayout()
        bar.setContentsMargins(2, 2, 2, 2)
        for action in (self.train_action, self.pause_action, self.stop_action,
                       self.checkpoint_action):
            button = QToolButton(self)
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            button.setMinimumSize(QSize(64, 0))
            bar.addWidget(button)
        bar.addWidget(self.progress)
        bar.addWidget(self.status, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(3)
        layout.addLayout(bar)
        layout.addWidget(self.drift)
        layout.addWidget(self.banner)
        layout.addWidget(self.tabs, 1)

    def _build_timers(self) -> None:
        """Plots redraw at most every REDRAW_MS; the preview waits for edits to pause."""
        self._redraw = make_timer(self, REDRAW_MS, self._flush)
        self._preview = make_timer(self, PREVIEW_DELAY_MS, self.refresh, single_shot=True)

    def _connect_signals(self) -> None:
        document, s = self.document, self.session
        s.changed.connect(self._on_changed)
        s.stateChanged.connect(self._on_state)
        s.runsChanged.connect(self._refresh_runs)
        s.drifted.connect(self.drift.setVisible)
        s.message.connect(self.message)
        self.banner.showLayer.connect(document.reveal)
        self.banner.dismissed.connect(lambda: self.highlightRequested.emit([], None))
        self.runs.selectionChanged.connect(self._overlay)
        self.runs.predictRequested.connect(self._predict_with)
        self.runs.continueRequested.connect(self.train)
        self.runs.probeRequested.connect(self._probe_with)
        self.setup.form.findLearningRate.connect(self.find_learning_rate)
        self.probes.message.connect(self.message)
        self.probes.busyChanged.connect(lambda busy: busy and self.message.emit(
            "Computing the activations of the sample\u2026"))
        self.runs.exportPicture.connect(self.export_picture)
        self.runs.message.connect(self.message)
        self.tabs.currentChanged.connect(self._on_tab)
        document.designChanged.connect(self._on_design_event)

    def _build_actions(self) -> None:
        def action(text: str, short: str, tip: str, slot: Callable[[], object]) -> QAction:
            made = QAction(text, self)
            made.setIconText(short)   # what the panel's buttons show; menus show `text`
            made.setToolTip(tip)
            made.setStatusTip(tip)
            made.triggered.connect(lambda _checked=False: slot())
            return made

        self.train_action = action("Start &Training", "Train", "Train the design (a copy of "
                                   "it, so you can keep editing)", self.train)
        self.pause_action = action("&Pause Training", "Pause", "Pause or resume the run",
                                   self.toggle_pause)
        self.stop_action = action("St&op Training", "Stop", "Stop the run; the last "
                                  "checkpoint is kept", self.stop)
        self.checkpoint_action = action("Save &Checkpoint Now", "Checkpoint",
                                        "Save a checkpoint of the run now", self.save_checkpoint)
        self.find_lr_action = action("Find &Learning Rate\u2026", "Find LR", "Run a short "
                                     "range test and apply the learning rate it suggests",
                                     self.find_learning_rate)
        self.probe_sample_action = action("Activation &Sample\u2026", "Sample", "Choose the "
                                          "sample (and weights) whose activations the canvas "
                                          "shows", self.choose_probe_sample)
        self.show_activations_action = action(
            "Show &Activations", "Activations", "Show under each layer what it makes of one "
            "sample, with zero, saturated and dead units", lambda: None)
        self.show_flow_action = action(
            "Show &Gradient Flow", "Gradient flow", "Colour the wires by the order of magnitude "
            "of the gradient flowing back through them (at each epoch end of a run)",
            lambda: None)
        for toggle, slot in ((self.show_activations_action, self.probes.set_showing),
                             (self.show_flow_action, self.probes.set_showing_flow)):
            toggle.setCheckable(True)
            toggle.toggled.connect(slot)

    def actions_for_menu(self) -> list[QAction]:
        return [self.train_action, self.pause_action, self.stop_action, self.checkpoint_action]

    def insight_actions(self) -> dict[str, list[tuple[str, QAction, tuple[str, ...]]]]:
        """The commands that show inside the network, by menu: (name, action, keys)."""
        return {"view": [("show_activations", self.show_activations_action, ("F7",)),
                         ("show_gradient_flow", self.show_flow_action, ("F8",)),
                         ("activation_sample", self.probe_sample_action, ())],
                "run": [("find_learning_rate", self.find_lr_action, ("Ctrl+Shift+L",))]}

    # ------------------------------------------------------------------ showing
    def refresh(self) -> None:
        """Bring the pre-run estimate up to date (in the helper process). While a run goes
        the estimate waits: it would compete with training for the cores."""
        self.session.warm_up()
        self.ensure_curves()   # now, not when a run starts (building them imports pyqtgraph)
        if not self._devices_known:
            self.jobs.submit("devices", tasks.devices, done=self._show_devices,
                             failed=lambda reason: self.message.emit(
                                 f"Could not list this machine's devices: {reason}"))
        if self.session.running:
            return
        self.mark_fresh()
        self.setup.preflight.show_pending()
        self.jobs.submit("preview", tasks.preview_design,
                         anchored_description(self.document.design, self.document.folder),
                         done=self._show_preview, failed=self.setup.preflight.show_failure)

    def _show_preview(self, preview) -> None:
        self._train_samples = (preview.data or {}).get("train_samples")
        self.setup.preflight.show_preview(preview)

    def schedule_refresh(self) -> None:
        if not self.session.running:
            self._preview.start()

    def _show_devices(self, devices: list[tuple[str, str]]) -> None:
        self._devices_known = True
        self.setup.form.set_devices(devices)
        self._available = f"Device: {devices[0][1]} available" if devices else ""
        if not self.session.running:
            self.deviceChanged.emit(self._available)

    def _on_design_event(self, event: DesignEvent) -> None:
        if isinstance(event, Reset):
            self._show_no_run()
        elif isinstance(event, TrainingChanged) and self.session.live.started is None \
                and not self.session.running:
            self._show_planned_epochs()
            if self.curves is not None:
                self.curves.set_planned_task(self._planned_task())
        if not isinstance(event, NodeMoved):
            self.mark_stale()

    def _show_no_run(self) -> None:
        """Another design is open: nothing of the previous design's runs stays in view (the
        session has emptied the LiveRun; the Runs tab follows the design's run store)."""
        self._redraw.stop()
        self._dirty.clear()
        self.banner.dismiss()
        self.status.setText(STATE_TEXT["idle"])
        self._show_planned_epochs()
        self.predict.clear()
        self.setup.preflight.forget()
        self.deviceChanged.emit(self._available)
        if self.curves is not None:
            self.curves.set_flagged_layers(set())
            self.curves.set_planned_task(self._planned_task())
            self.curves.redraw_all()

    def _show_planned_epochs(self) -> None:
        epochs = self.document.design.training.get("epochs", TrainingSettings().epochs)
        epochs = epochs if isinstance(epochs, int) and epochs > 0 else TrainingSettings().epochs
        self._set_progress(0, epochs, f"{count_of(epochs, 'epoch')} planned")

    def _planned_task(self) -> str:
        return str(self.document.design.training.get("task", TrainingSettings().task))

    def _on_tab(self, _index: int) -> None:
        if self.tabs.currentWidget() is self.curves_page:
            self.ensure_curves()
            if self._dirty:
                self._redraw.start()

    def ensure_curves(self) -> CurvesArea:
        """The curves area, built on first use (this is when pyqtgraph is imported)."""
        if self.curves is None:
            from designer.training.curves_area import CurvesArea

            self.curves = CurvesArea(self.curves_page)
            self.curves_page.layout().addWidget(self.curves)
            self.curves.set_planned_task(self._planned_task())
            self.curves.set_live(self.session.live)
            self._overlay(self.runs.selected())
        return self.curves

    # ------------------------------------------------------------------ commands
    def train(self, resume_from: RunRecord | None = None) -> bool:
        """Train a copy of the design, or continue a stored run from its last checkpoint."""
        if self.session.running:
            return False
        self.banner.dismiss()
        self.highlightRequested.emit([], None)
        self.revealRequested.emit()
        self.ensure_curves()
        self.tabs.setCurrentWidget(self.curves_page)
        started = self.session.start(resume_from)
        if started:
            self.curves.redraw_all()
            self._redraw.start()
        return started

    def find_learning_rate(self) -> LrFinderDialog:
        """The range test in the training worker, in a dialog whose Apply sets the rate."""
        from designer.training.lr_finder_dialog import LrFinderDialog

        self.session.warm_up()
        design = anchored_description(self.document.design, self.document.folder)
        dialog = LrFinderDialog(design, self.session.service.call, self.apply_learning_rate,
                                self.window())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def apply_learning_rate(self, rate: float) -> bool:
        """Set the learning rate as one undo step of its own (never merged into typing)."""
        if rate == self.setup.form.value("optimizer.lr"):
            return True
        with macro(self.document.undo_stack, f"Apply the suggested learning rate {rate:g}"):
            return self.setup.form.apply("optimizer.lr", rate)

    def choose_probe_sample(self) -> ProbeSampleDialog:
        dialog = ProbeSampleDialog(self.probes.sample, self.probes.weights,
                                   list(self.runs.records.values()), self._probe_chosen,
                                   self._train_samples, self.window())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def _probe_chosen(self, sample: int | str, weights: Weights) -> None:
        self.probes.choose(sample, weights)
        self.show_activations_action.setChecked(True)

    def _probe_with(self, record: RunRecord) -> None:
        """Show activations with a finished run's weights (from the Runs tab)."""
        self._probe_chosen(self.probes.sample, Weights(str(record.folder), record.name))
        self.message.emit(f"Activations with the weights of {record.name}")

    def toggle_pause(self) -> None:
        if self.session.live.state == "paused":
            self.session.resume()
        else:
            self.session.pause()

    def stop(self) -> None:
        self.session.stop()

    def save_checkpoint(self) -> None:
        self.session.checkpoint()

    def shutdown(self) -> None:
        """Stop the run and the helper processes (the window is closing)."""
        self._redraw.stop()
        self._preview.stop()
        self.session.shutdown()
        self.jobs.shutdown()

    # ------------------------------------------------------------------ run events
    def _on_changed(self, changed: set[str]) -> None:
        live = self.session.live
        self._dirty |= changed
        if "started" in changed and live.started is not None:
            started = live.started
            self.deviceChanged.emit(f"Training on {started.place()}")
        if "diagnostics" in changed:
            self._show_diagnostic()
        if "final" in changed:
            self._show_progress()          # now, so the summary below stays the last word
            self._dirty.discard("progress")
            self._show_final()

    def _show_progress(self) -> None:
        p = self.session.live.progress
        if p.epochs < 1:   # the run has not said how long it is yet
            return
        epoch = min(p.epoch, p.epochs)
        self._set_progress(epoch, p.epochs, f"epoch {epoch} of {p.epochs}")
        if p.batches and self.session.running:   # after the end, the status tells the end
            self.status.setText(f"{STATE_TEXT[self.session.live.state]} \u00b7 epoch "
                                f"{p.epoch}/{p.epochs} \u00b7 batch {p.batch}/{p.batches} "
                                f"\u00b7 {p.samples_per_second:,.0f} samples/s \u00b7 "
                                f"ETA {clock(p.eta)}")

    def _set_progress(self, value: int, maximum: int, text: str) -> None:
        """QProgressBar repaints at once (synchronously) when its value changes; with
        updates off it only schedules a repaint, so the event loop never waits for it."""
        self.progress.setUpdatesEnabled(False)
        self.progress.setMaximum(maximum)
        self.progress.setValue(value)
        self.progress.setFormat(text)
        self.progress.setUpdatesEnabled(True)

    def _show_diagnostic(self) -> None:
        """The banner leads with the diagnostic to act on first (not merely the latest)."""
        diagnostics = self.session.live.diagnostics
        shown = headline(diagnostics)
        self.banner.show_diagnostic(shown, len(diagnostics) - 1)
        flagged = [d for d in diagnostics if d.node]
        if shown.node:
            self.highlightRequested.emit([shown.node], HIGHLIGHT.get(shown.severity,
                                                                    HIGHLIGHT["warning"]))
        if self.curves is not None:
            names = {self.document.design.node(d.node).name for d in flagged
                     if self.document.design.has_node(d.node)}
            self.curves.set_flagged_layers(names)

    def _show_final(self) -> None:
        final = self.session.live.final
        if isinstance(final, Failed):
            self.banner.show_failure(final)
            self.status.setText(f"Failed: {final.reason.splitlines()[0][:140]}")
        else:
            metrics = ", ".join(f"{k} {v:.4g}" for k, v in final.metrics.items()
                                if k not in ("epoch", "lr") and isinstance(v, (int, float)))
            word = {"completed": "Finished", "stopped": "Stopped",
                    "early_stopped": "Stopped early"}.get(final.status, final.status)
            self.status.setText(f"{word} after {count_of(final.epochs_done, 'epoch')} in "
                                f"{clock(final.seconds)}: {metrics}")
        self.deviceChanged.emit(self._available)
        if self.is_stale():
            self.schedule_refresh()

    def _on_state(self, state: str) -> None:
        running = state in ("running", "paused")
        self.train_action.setEnabled(not self.session.busy)
        self.pause_action.setEnabled(running)
        paused = state == "paused"
        self.pause_action.setText("&Resume Training" if paused else "&Pause Training")
        self.pause_action.setIconText("Resume" if paused else "Pause")
        # Stop reaches a run that has not begun yet, and ends a worker that stopped answering
        self.stop_action.setEnabled(running or state in ("starting", "unresponsive"))
        self.checkpoint_action.setEnabled(running)
        if state in ("starting", "paused", "stopping", "idle", "unresponsive"):
            self.status.setText(STATE_TEXT[state])
        if state == "starting":
            self._show_planned_epochs()
        if not self.session.running:
            self.drift.hide()

    def _flush(self) -> None:
        """Redraw what changed since the last redraw, if the curves are on screen; the timer
        stops once a finished run is fully drawn (or the curves are out of sight)."""
        if self._dirty & {"progress", "started"}:
            self._show_progress()
            self._dirty.discard("progress")
        shown = self.curves is not None and self.curves.isVisible()
        if shown and self._dirty:
            self.curves.redraw(self._take_dirty())
        if not self.session.running and (not self._dirty or not shown):
            self._redraw.stop()

    def _take_dirty(self) -> set[str]:
        """The parts to redraw now: per-step curves every time, and one of the heavier
        epoch-end views at most every EPOCH_VIEW_MS (never with a run's first redraw, which
        creates the curves), so no redraw lands in one long frame and fast epochs do not keep
        the window busy (a run's end, once settled, redraws everything at once)."""
        dirty = self._dirty
        now = dirty - EPOCH_VIEWS
        if not self.session.running and "final" not in dirty:
            now = set(dirty)
        elif ("started" not in dirty
              and time.monotonic() - self._epoch_drawn >= EPOCH_VIEW_MS / 1000):
            group = self._next_epoch_group(dirty)
            if group:
                now |= group
                self._epoch_drawn = time.monotonic()
        self._dirty = dirty - now
        return now

    def _next_epoch_group(self, dirty: set[str]) -> set[str]:
        """The dirty parts of the next epoch-end group in turn: taken round the groups, so
        epochs that end faster than EPOCH_VIEW_MS cannot keep the later views from ever
        being redrawn during a run."""
        count = len(EPOCH_GROUPS)
        for step in range(count):
            index = (self._epoch_turn + step) % count
            if EPOCH_GROUPS[index] & dirty:
                self._epoch_turn = (index + 1) % count
                return EPOCH_GROUPS[index] & dirty
        return set()

    # ------------------------------------------------------------------ runs
    def _refresh_runs(self) -> None:
        record = self.session.record
        live_id = record.id if record is not None and self.session.running else None
        self.runs.set_store(self.session.store, live_id)
        self.predict.set_runs(list(self.runs.records.values()))

    def _overlay(self, records: list[RunRecord]) -> None:
        """Lay the selected runs' curves over the live ones."""
        if self.curves is None:
            if records:
                self.ensure_curves()   # which overlays the selection
            return
        from designer.training.curves_area import StoredCurves

        live = self.session.record
        stored = []
        for record in records:
            if live is not None and record.folder == live.folder:
                continue
            stored.append(StoredCurves.from_arrays(
                record.id, record.name, int(record.info.get("batches_per_epoch") or 1),
                read_step_curves(record.folder), read_metrics(record.folder)))
        self.curves.set_stored(stored)

    def _predict_with(self, record: RunRecord) -> None:
        self.predict.choose(record)
        self.tabs.setCurrentWidget(self.predict)
        self.predict.predict_samples()

    def export_picture(self, path: Path) -> None:
        """The curves (live and overlaid runs) as a PNG file."""
        curves = self.ensure_curves()
        self.tabs.setCurrentWidget(self.curves_page)
        if not curves.isVisible():   # never laid out on screen: give it a picture's size
            curves.resize(curves.size().expandedTo(EXPORT_SIZE))
        curves.redraw_all()
        if curves.grab().save(str(path), "PNG"):
            self.message.emit(f"Saved {path}")
        else:
            self.message.emit(f"Could not save {path}")
