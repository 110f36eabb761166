"""Seeing inside the network with the real helper and worker: activations of the initial
weights before training (with the inspector's channels in full), the worker's probes at each
epoch end of a run with the wires coloured by gradient flow, and the learning-rate finder run
in the worker and applied."""

from __future__ import annotations

import pytest
from test_app_support import make_window

from engine.training.worker import TrainingService

pytestmark = pytest.mark.slow   # the helper and the worker import torch; a short run trains

START = 120_000   # ms: the first job waits for torch to import on a loaded machine


@pytest.fixture(scope="module")
def service():
    with TrainingService() as running:
        yield running


@pytest.fixture
def window(qtbot, tmp_path, service):
    made = make_window(qtbot, tmp_path, "cnn")
    made.document.design.set_training(epochs=2)
    made.training.session.use_service(service)
    made.resize(1400, 900)
    made.show()
    return made


def tags(window) -> dict:
    nodes = window.tabs.view_of("model").network_scene().nodes
    return {node_id: card.probe_tag for node_id, card in nodes.items()}


def test_activations_before_and_during_a_run_and_the_gradient_flow(qtbot, window):
    design, probes = window.document.design, window.training.probes
    window.actions_by_name["show_activations"].trigger()
    qtbot.waitUntil(lambda: all(tags(window).values()), timeout=START)
    assert probes.probe.weights == "initial weights (seed 0)"
    conv = design.find("conv1")
    assert len(tags(window)[conv].images) == 8   # thumbnails: the first 8 of 32 maps
    window.document.set_selection([conv])
    qtbot.waitUntil(lambda: len(window.inspector.activation.grid.images) == 32, timeout=START)
    assert window.inspector.activation.isVisible()

    window.actions_by_name["show_gradient_flow"].trigger()
    window.actions_by_name["train"].trigger()
    live = window.training.session.live
    qtbot.waitUntil(lambda: live.probed is not None and live.probed.epoch == 2, timeout=START)
    qtbot.waitUntil(lambda: live.final is not None, timeout=START)
    assert "weights after epoch 2" in tags(window)[conv].toolTip()
    scene = window.tabs.view_of("model").network_scene()
    assert all(item.flow is not None for item in scene.edges.values())
    assert window.insight.legends[window.tabs.view_of("model")].isVisible()


def test_the_learning_rate_finder_runs_in_the_worker_and_applies(qtbot, window):
    stack = window.document.undo_stack
    before, steps = window.training.setup.form.value("optimizer.lr"), stack.count()
    dialog = window.training.find_learning_rate()
    qtbot.waitUntil(dialog.apply_button.isEnabled, timeout=START)
    suggestion = float(f"{dialog.curve.suggestion:.2g}")
    assert before / 10 <= suggestion <= before * 10
    dialog.apply_button.click()
    assert window.training.setup.form.value("optimizer.lr") == suggestion
    assert stack.count() == steps + 1
    stack.undo()
    assert window.training.setup.form.value("optimizer.lr") == before
