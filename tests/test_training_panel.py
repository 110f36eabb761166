"""Training from the designer with a real worker: live curves, pause/resume/stop, editing during a
run, failures that leave the editor working, run overlays and weights loaded back.

One warm TrainingService is shared by the module; every window trains the `mlp` template on
the digits with few epochs (or many, stopped early)."""

import os
import signal
import time

import numpy as np
import pytest
import torch
from test_app_support import ScriptedDialogs

from designer.undo_commands import AddNode, SetParams
from designer.document import DesignDocument
from designer.main_window import MainWindow
from designer.settings import AppSettings
from engine import save_design
from engine.runs import load_models
from engine.training.worker import TrainingService
from templates import load_template

pytestmark = pytest.mark.slow  # every test trains in the worker

START_TIMEOUT = 90_000   # ms; the first run waits for the worker to import torch
WAIT = 30_000            # ms; generous for a loaded machine (how soon: benchmarks/latency.py)


@pytest.fixture(scope="module")
def service():
    with TrainingService() as running:
        yield running


def training_window(qtbot, tmp_path, service, template="mlp", **training):
    design = load_template(template)
    design.set_training(**training)
    path = tmp_path / f"{template}.ncnet"
    save_design(design, path)
    window = MainWindow(DesignDocument(design, path), AppSettings(tmp_path / "settings.ini"),
                        None, tmp_path / "recovery", ScriptedDialogs())
    window.training.session.use_service(service)
    qtbot.addWidget(window)
    window.resize(1400, 900)
    window.show()
    window.show_training()
    return window


def finish(qtbot, window, timeout=START_TIMEOUT):
    qtbot.waitUntil(lambda: window.training.session.live.final is not None, timeout=timeout)
    return window.training.session.live.final


def test_a_run_fills_the_curves_pauses_resumes_and_stops(qtbot, tmp_path, service):
    window = training_window(qtbot, tmp_path, service, epochs=200)
    panel, live = window.training, window.training.session.live
    hidden = window.document.design.find("hidden1")
    width = window.document.design.node(hidden).params["out_features"]
    window.actions_by_name["train"].trigger()
    assert not window.actions_by_name["train"].isEnabled()
    qtbot.waitUntil(lambda: len(live.steps.get("loss", ())) > 3, timeout=START_TIMEOUT)
    qtbot.waitUntil(lambda: ("live", "loss") in panel.curves.loss_plot.curves, timeout=WAIT)
    assert len(panel.curves.loss_plot.curves[("live", "loss")].xData) > 0
    assert window._device_label.text() == "Training on CPU, 1 thread"   # a small network
    assert "samples/s" in panel.status.text() and "ETA" in panel.status.text()

    redraws = []
    drawn = panel.curves.redraw
    panel.curves.redraw = lambda changed: (redraws.append(time.monotonic()), drawn(changed))
    qtbot.waitUntil(lambda: len(redraws) >= 6, timeout=WAIT)
    gaps = np.diff(redraws)
    assert gaps.min() > 0.08    # at most about 10 redraws a second, whatever the step rate

    # The run trains the design as it was: edits reach the canvas, not the run.
    window.document.push(SetParams(window.document.design, hidden, {"out_features": width // 2}))
    qtbot.waitUntil(panel.drift.isVisible, timeout=WAIT)

    window.actions_by_name["pause"].trigger()
    qtbot.waitUntil(lambda: live.state == "paused", timeout=WAIT)
    assert window.actions_by_name["pause"].iconText() == "Resume"
    paused_at = live.progress.step
    window.actions_by_name["pause"].trigger()
    qtbot.waitUntil(lambda: live.state == "running", timeout=WAIT)
    qtbot.waitUntil(lambda: live.progress.step > paused_at, timeout=WAIT)

    window.actions_by_name["stop"].trigger()
    final = finish(qtbot, window, timeout=WAIT)
    assert final.kind == "finished" and final.status == "stopped"
    assert final.epochs_done < 200
    assert window.actions_by_name["train"].isEnabled() and not panel.drift.isVisible()

    record = panel.session.store.runs()[-1]
    assert record.status == "stopped" and record.info["device"] == "cpu"
    trained = load_models(record)["model"]
    assert trained.state_dict()[next(iter(trained.state_dict()))].shape[0] == width
    assert (record.folder / "steps.npz").is_file()
    assert panel.runs.tree.topLevelItem(0).text(1) == "stopped"


def test_a_run_whose_data_does_not_fit_shows_why_and_the_editor_keeps_working(
        qtbot, tmp_path, service):
    window = training_window(qtbot, tmp_path, service, epochs=2)
    document = window.document
    document.push(SetParams(document.design, document.design.find("pixels"), {"shape": (32,)}))
    window.actions_by_name["train"].trigger()
    final = finish(qtbot, window)
    assert final.kind == "failed" and final.error == "design"
    banner = window.training.banner
    assert banner.isVisible() and "cannot train" in banner.title.text()
    assert "shape (64)" in banner.text.text() and "'pixels'" in banner.text.text()
    assert "set the Input's shape to [64]" in banner.text.text()
    preflight = window.training.setup.preflight   # the Setup tab says so before a next try
    qtbot.waitUntil(lambda: "Cannot train yet" in preflight.problem.text(),
                    timeout=START_TIMEOUT)
    assert window.training.session.store.runs()[-1].status == "failed"
    assert window.actions_by_name["train"].isEnabled()
    count = len(document.design.nodes())
    document.push(AddNode(document.design, "ReLU", "model", (0.0, 0.0)))
    assert len(document.design.nodes()) == count + 1
    document.undo_stack.undo()
    assert len(document.design.nodes()) == count


def test_runs_overlay_continue_and_their_weights_come_back(qtbot, tmp_path, service):
    window = training_window(qtbot, tmp_path, service, epochs=1)
    panel = window.training
    for _ in range(2):
        window.actions_by_name["train"].trigger()
        assert finish(qtbot, window).kind == "finished"
    first, second = panel.session.store.runs()
    panel.runs.select([first.id, second.id])
    assert {s.key for s in panel.curves.stored} == {first.id}   # the shown run is not doubled
    assert (first.id, "loss") in panel.curves.loss_plot.curves
    assert (first.id, "val_loss") in panel.curves.loss_plot.curves
    assert (first.id, "val_accuracy") in panel.curves.metric_plot.curves

    panel.runs.select([first.id])
    panel.runs.buttons["continue"].click()
    qtbot.waitUntil(lambda: panel.session.live.started is not None, timeout=START_TIMEOUT)
    assert panel.session.live.started.first_epoch == 2
    assert finish(qtbot, window).epochs_done == 2

    panel.predict.set_runs(panel.session.store.runs())
    panel.runs.select([second.id])
    panel.runs.buttons["predict"].click()
    qtbot.waitUntil(lambda: panel.predict.prediction is not None, timeout=START_TIMEOUT)
    prediction = panel.predict.prediction
    model = load_models(panel.session.store.get(second.id))["model"]
    with torch.no_grad():
        expected = model(torch.as_tensor(prediction.inputs))
    assert np.allclose(prediction.outputs, expected.numpy(), atol=1e-6)
    assert np.array_equal(prediction.predicted, expected.argmax(-1).numpy())
    shown = panel.predict.result.grid
    assert len(shown.pixmaps) == len(prediction.inputs) and "%" in shown.captions[0]


def test_a_worker_killed_from_outside_is_reported_and_the_editor_keeps_working(
        qtbot, tmp_path, service):
    window = training_window(qtbot, tmp_path, service, epochs=200)
    live = window.training.session.live
    window.actions_by_name["train"].trigger()
    qtbot.waitUntil(lambda: len(live.steps.get("loss", ())) > 0, timeout=START_TIMEOUT)
    os.kill(service.worker_pid, signal.SIGKILL)
    final = finish(qtbot, window, timeout=10_000)
    assert final.kind == "failed" and final.error == "crashed"
    assert "killed" in window.training.banner.text.text()
    assert window.actions_by_name["train"].isEnabled()
    document = window.document
    document.push(AddNode(document.design, "ReLU", "model", (0.0, 0.0)))
    document.undo_stack.undo()
    assert window.training.session.store.runs()[-1].status == "failed"
