"""Issue 11, items 2 and 20: the training panel shows the open design's runs and nothing else,
in words that read right.

A scripted training service stands in for the worker (it hands out the events a real run sends,
and writes a weights file so the Predict tab offers the run); the window, its File > New, the
panel, its session and run store are the real ones. The window is shown, so the panel's helper
process starts (device list, estimates): marked slow.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from test_app_support import ScriptedDialogs

from designer.document import DesignDocument
from designer.main_window import MainWindow
from designer.settings import AppSettings
from engine import save_design
from engine.runs import RunStore
from engine.training.events import (
    Batch,
    Diagnostic,
    EpochEnd,
    Finished,
    Gradients,
    Started,
    Validation,
)
from templates import load_template

EPOCHS = 6
BATCHES = 4


class ScriptedRun:
    """Stands in for engine.training.worker.Run: prepared events, and a stop that ends it."""

    def __init__(self, run_id: int, events: list, stop_event) -> None:
        self.id, self.pending, self.final, self._stop_event = run_id, events, None, stop_event
        self.unresponsive = False

    @property
    def done(self) -> bool:
        return self.final is not None

    def events(self, timeout: float = 0.0) -> list:
        handed, self.pending = self.pending, []
        for event in handed:
            if event.kind in ("finished", "failed"):
                self.final = event
        return handed

    def stop(self) -> None:
        if not self.done:
            self.pending.append(self._stop_event)

    def pause(self) -> None: ...
    def resume(self) -> None: ...
    def checkpoint(self) -> None: ...


class ScriptedService:
    """Stands in for TrainingService. `finish`: whether runs end by themselves (else they
    go on until stopped)."""

    def __init__(self) -> None:
        self.finish, self.runs, self.diagnostics = True, [], []

    def start(self, design, out_dir: str, **options) -> ScriptedRun:
        events, stopped = script(design, len(self.runs) + 1, out_dir, self.finish,
                                 self.diagnostics)
        self.runs.append(ScriptedRun(len(self.runs) + 1, events, stopped))
        return self.runs[-1]

    def shutdown(self) -> None: ...


def script(design, run: int, out_dir: str, finish: bool,
           diagnostics: list) -> tuple[list, Finished]:
    """A run's events, with the design's own layer names in its gradient reports."""
    layers = [{"network": net, "node": node, "name": design.node(node).name, "norm": 0.5}
              for net in design.networks for node in design.nodes(net)
              if "Linear" in design.node(node).type or "Conv" in design.node(node).type]
    gan = design.training.get("task") == "gan"
    values = {"d_loss": [0.7] * BATCHES, "g_loss": [0.9] * BATCHES} if gan else {
        "loss": [2.0, 1.5, 1.2, 1.0]}
    (out := Path(out_dir) / "last").mkdir(parents=True)
    (out / "model.safetensors").write_bytes(b"")   # the Predict tab lists runs with weights
    events = [Started(run, task="gan" if gan else "classification", device="cpu",
                      device_name="CPU", networks={n: 10 for n in design.networks},
                      data={"description": "scripted"}, batches_per_epoch=BATCHES,
                      epochs=EPOCHS, out_dir=out_dir),
              Batch(run, epoch=1, batch=BATCHES, batches=BATCHES, step=BATCHES,
                    values=values, lr=0.001),
              EpochEnd(run, epoch=1, epochs=EPOCHS, metrics={k: v[-1] for k, v in values.items()},
                       lr=0.001, seconds=0.1),
              Gradients(run, epoch=1, step=BATCHES, layers=layers),
              *(diagnostics or [Diagnostic(run, code="overfitting",
                                           message="overfitting since epoch 1")])]
    if not gan:
        events.append(Validation(run, epoch=1, metrics={"val_loss": 1.1, "val_accuracy": 0.6},
                                 confusion=np.eye(3, dtype=int) * 5, per_class=[1.0] * 3))
    stopped = Finished(run, status="stopped", epochs_done=1, metrics={"loss": 1.0},
                       out_dir=out_dir, seconds=1.0)
    completed = Finished(run, status="completed", epochs_done=EPOCHS,
                         metrics={"loss": 1.0, "val_accuracy": 0.6}, out_dir=out_dir,
                         seconds=65.0)
    return events + ([completed] if finish else []), stopped


@pytest.fixture
def window(qtbot, tmp_path):
    path = tmp_path / "cnn.ncnet"
    save_design(load_template("cnn"), path)
    made = MainWindow(DesignDocument(load_template("cnn"), path),
                      AppSettings(tmp_path / "settings.ini"), None, tmp_path / "recovery",
                      ScriptedDialogs())
    made.training.session._scratch = tmp_path / "unsaved" / "first"
    made.training.session.use_service(ScriptedService())
    qtbot.addWidget(made)
    made.resize(1400, 900)
    made.show()
    yield made
    made.training.shutdown()


def file_new(window, template: str) -> None:
    """File > New, picking a template in the gallery (answered by the scripted dialogs)."""
    window.dialogs.template = load_template(template)
    file_menu = window.menuBar().actions()[0].menu()
    next(a for a in file_menu.actions() if a.text().startswith("&New")).trigger()


def train(qtbot, window) -> None:
    window.actions_by_name["train"].trigger()
    qtbot.waitUntil(lambda: window.training.session.live.started is not None, timeout=5000)


def strip_rows(panel) -> list[str]:
    ticks = panel.curves.gradients.getPlotItem().getAxis("left")._tickLevels
    return [label for level in ticks or [] for _pos, label in level]


def shows_nothing_of_a_run(window) -> None:
    panel = window.training
    assert panel.status.text() == "Ready"
    assert panel.progress.text() == f"{window.document.design.training['epochs']} epochs planned"
    assert panel.banner.isHidden()
    assert not panel.session.live.steps and panel.session.live.started is None
    assert not panel.curves.loss_plot.curves and not panel.curves.metric_plot.curves
    assert panel.curves.gradients.names == [] and strip_rows(panel) == []
    assert panel.curves.confusion.matrix is None
    assert panel.curves.task_view.currentWidget() is panel.curves.hint
    assert panel.predict.runs.count() == 0 and panel.predict.prediction is None
    assert panel.runs.tree.topLevelItemCount() == 0 and panel.runs.selected() == []
    assert not window._device_label.text().startswith("Training on")


@pytest.mark.slow
def test_file_new_shows_the_new_design_and_none_of_the_previous_runs(qtbot, window):
    panel = window.training
    train(qtbot, window)
    qtbot.waitUntil(lambda: panel.status.text().startswith("Finished"), timeout=5000)
    assert panel.status.text().startswith("Finished after 6 epochs in 1:05")
    assert panel.predict.runs.count() == 1 and not panel.banner.isHidden()
    qtbot.waitUntil(lambda: "conv1" in strip_rows(panel), timeout=5000)

    file_new(window, "gan")
    assert window.document.design.name == load_template("gan").name
    shows_nothing_of_a_run(window)

    panel.session.service.finish = False      # the gan trains until it is stopped
    train(qtbot, window)
    qtbot.waitUntil(lambda: bool(strip_rows(panel)), timeout=5000)
    gan = load_template("gan")
    assert set(strip_rows(panel)) <= {gan.node(n).name for net in gan.networks
                                      for n in gan.nodes(net)}
    assert window._device_label.text() == "Training on CPU"
    gan_store = panel.session.store

    file_new(window, "mlp")                     # while the gan's run is still going
    shows_nothing_of_a_run(window)
    qtbot.waitUntil(lambda: window.actions_by_name["train"].isEnabled(), timeout=5000)
    (stopped,) = RunStore(gan_store.folder).runs()
    assert stopped.status == "stopped" and stopped.info["epochs_done"] == 1
    assert (stopped.folder / "steps.npz").is_file()
    shows_nothing_of_a_run(window)              # the stopped run ended out of sight


@pytest.mark.slow
def test_a_short_run_counts_its_epochs_in_words_and_lets_go_of_the_device(qtbot, window):
    panel = window.training
    assert panel.progress.text() == f"{load_template('cnn').training['epochs']} epochs planned"
    panel.session.service.finish = False
    train(qtbot, window)
    qtbot.waitUntil(lambda: panel.progress.text() == f"epoch 1 of {EPOCHS}", timeout=5000)
    assert window._device_label.text() == "Training on CPU"
    window.actions_by_name["stop"].trigger()
    qtbot.waitUntil(lambda: panel.session.live.final is not None, timeout=5000)
    assert panel.status.text().startswith("Stopped after 1 epoch in 0:01")
    assert not window._device_label.text().startswith("Training on")
    record = json.loads((panel.session.record.folder / "run.json").read_text())
    assert record["status"] == "stopped"


@pytest.mark.slow
def test_the_banner_leads_with_the_diagnosis_to_act_on_first(qtbot, window):
    panel = window.training
    panel.session.service.diagnostics = [
        Diagnostic(1, code="learning_rate_too_high", severity="error",
                   message="the loss is diverging", fix="lower Learning rate"),
        Diagnostic(1, code="overfitting", message="overfitting since epoch 1", fix="Dropout")]
    train(qtbot, window)
    qtbot.waitUntil(lambda: len(panel.session.live.diagnostics) == 2, timeout=5000)
    assert "Learning rate too high" in panel.banner.title.text()
    assert "lower Learning rate" in panel.banner.text.text()
    assert "1 other diagnostic in this run" in panel.banner.text.text()


def metric_title(panel) -> str:
    return panel.curves.metric_plot.getPlotItem().titleLabel.text


def x_range(plot) -> list[float]:
    return plot.getPlotItem().vb.viewRange()[0]


@pytest.mark.slow
def test_file_new_leaves_no_axis_range_or_plot_title_of_the_previous_design(qtbot, window):
    """The gan's 'D(x), D(G(z))' title and its thousands of steps stayed on the empty plots
    of the mlp opened next."""
    panel = window.training
    file_new(window, "gan")
    assert metric_title(panel).startswith("D(x)")        # the open design's task, before a run
    train(qtbot, window)
    qtbot.waitUntil(lambda: panel.status.text().startswith("Finished"), timeout=5000)
    qtbot.waitUntil(lambda: x_range(panel.curves.loss_plot)[1] > EPOCHS, timeout=5000)

    file_new(window, "mlp")
    shows_nothing_of_a_run(window)
    assert metric_title(panel) == "Accuracy"
    for plot in (panel.curves.loss_plot, panel.curves.metric_plot, panel.curves.lr_plot):
        assert x_range(plot)[1] <= 1
