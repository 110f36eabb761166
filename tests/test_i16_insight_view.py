"""Seeing inside the network, without torch in the test: probes handed to the canvas show under
every card and large in the inspector, the inspector works out each shape (a shape error shows
the same working), the learning-rate finder's Apply is one undo step of its own, and gradient
norms colour the wires with a legend of their orders of magnitude."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QColor
from test_app_support import make_window

from designer.gradient_flow import decade, decade_colour, edge_norms
from designer.training.lr_finder_dialog import LrFinderDialog
from designer.undo_commands import SetParams
from engine import Edge
from engine.probes import NodeProbe, Picture, Probe, Statistics
from engine.training.events import Gradients, Probed
from engine.training.lr_finder import LrCurve
from engine.training.worker_calls import Reply
from templates import load_template


def fake_probe(design, network: str = "model", weights: str = "epoch 2") -> Probe:
    """A probe of every node: 8 maps for image outputs, a strip for the rest; relu1 dead."""
    nodes = []
    for node_id in design.nodes(network):
        node = design.node(node_id)
        maps = node.type != "Linear" and node.type != "Output" and node.type != "Flatten" \
            and node.type != "Dropout"
        pixels = (np.arange(8 * 6 * 6) % 256).astype(np.uint8).reshape(8, 6, 6) if maps \
            else np.arange(10, dtype=np.uint8).reshape(1, 1, 10)
        dead = 0.75 if node.name == "relu1" else (0.0 if node.type == "ReLU" else None)
        nodes.append(NodeProbe(node_id, (), 0, node.name, node.type, ("N", 8, 6, 6),
                               Picture("maps" if maps else "vector", pixels, -1.0, 1.0, True,
                                       8 if maps else 10, 32 if maps else 10),
                               Statistics(0.1, 0.5, -1.0, 2.0, 0.4, None, dead, 32)))
    return Probe(network, "training sample 3 of 1438, class 9", weights, 32, tuple(nodes))


@pytest.fixture
def window(qtbot, tmp_path):
    made = make_window(qtbot, tmp_path, "cnn")
    submitted = []
    submit = made.training.jobs.submit
    made.training.jobs.submit = lambda key, *args, **kwargs: (
        submitted.append(key), submit(key, *args, **kwargs))
    made.resize(1400, 900)
    made.show()
    yield made
    assert not {"probe", "probe-large"} & set(submitted)   # the probes came from the "run"


def hand_over(window, messages) -> None:
    """Messages as the worker would send them during a run, folded and announced."""
    session = window.training.session
    session.changed.emit(session.live.apply(messages))


def cards(window):
    return window.tabs.view_of("model").network_scene().nodes


def test_a_runs_probes_show_under_every_card_with_flags(qtbot, window):
    design = window.document.design
    hand_over(window, [Probed(1, epoch=2, probe=fake_probe(design))])
    window.actions_by_name["show_activations"].trigger()
    qtbot.waitUntil(lambda: all(card.probe_tag is not None for card in cards(window).values()))
    conv = cards(window)[design.find("conv1")].probe_tag
    assert len(conv.images) == 8 and conv.images[0].width() == 6
    assert "weights after epoch 2 of the run" in conv.toolTip()
    relu = cards(window)[design.find("relu1")].probe_tag
    assert relu.flagged and not conv.flagged
    assert "these ReLUs have died" in relu.toolTip()   # the diagnostics' explanation
    assert "dead 75%" in relu.toolTip()
    window.actions_by_name["show_activations"].trigger()   # off again
    qtbot.waitUntil(lambda: all(card.probe_tag is None for card in cards(window).values()))


def test_an_edit_fades_the_probes_until_new_ones_come(qtbot, window):
    design = window.document.design
    hand_over(window, [Probed(1, epoch=1, probe=fake_probe(design))])
    window.actions_by_name["show_activations"].trigger()
    conv = design.find("conv1")
    qtbot.waitUntil(lambda: cards(window)[conv].probe_tag is not None)
    window.training.probes._reprobe.setInterval(60_000)   # no helper in this test
    window.document.push(SetParams(design, conv, {"out_channels": 16}))
    qtbot.waitUntil(lambda: cards(window)[conv].probe_tag.opacity() < 1)
    assert window.training.probes.stale


def test_the_inspector_shows_the_selected_nodes_channels_and_statistics(qtbot, window):
    design = window.document.design
    hand_over(window, [Probed(1, epoch=2, probe=fake_probe(design))])
    window.actions_by_name["show_activations"].trigger()
    window.document.set_selection([design.find("relu1")])
    activation = window.inspector.activation
    qtbot.waitUntil(activation.isVisible)
    assert len(activation.grid.images) == 8 and activation.grid.heightForWidth(300) > 0
    assert "Dead" in activation.table.text() and "75%" in activation.table.text()
    assert "these ReLUs have died" in activation.flags.text()
    assert "8 of 32 channels" in activation.caption.text()
    window.document.set_selection([])
    assert window.inspector.activation is None


def test_the_inspector_works_out_the_shape_and_a_shape_error_shows_the_same_working(window):
    design = window.document.design
    conv = design.find("conv1")
    window.document.set_selection([conv])
    working = window.inspector.working
    assert "height = floor((8 + 2*1 - 1*(3-1) - 1) / 1) + 1 = 8" in working.text()
    window.document.push(SetParams(design, conv, {"kernel_size": 12, "padding": 0}))
    window.document.recheck()
    wrong = "height = floor((8 + 2*0 - 1*(12-1) - 1) / 1) + 1 = -3"
    assert f"\u2717 {wrong}" in working.text()
    assert wrong in window.inspector.problems.text()   # the check's error ends with it


class AnsweredCall:
    def __init__(self, value):
        self.value = value

    def result(self, timeout=0.0):
        return Reply(1, self.value)


def a_curve(current: float) -> LrCurve:
    rates = np.geomspace(1e-7, 10, 100)
    losses = 2.3 - np.tanh(np.log10(rates) + 3) + np.where(rates > 0.1, 50 * rates, 0)
    return LrCurve(rates, losses, losses, 3.1e-3, "steepest descent", 2e-2, current, "adam",
                   "the loss grew")


def test_applying_the_suggested_learning_rate_is_one_undo_step_of_its_own(qtbot, window):
    panel = window.training
    stack = window.document.undo_stack
    panel.setup.form.apply("optimizer.lr", 0.005)   # typed first: a step of its own
    steps = stack.count()
    dialog = LrFinderDialog({}, lambda *_: AnsweredCall(a_curve(0.005)),
                            panel.apply_learning_rate, window)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(dialog.apply_button.isEnabled)
    assert "Suggested learning rate <b>0.0031</b>" in dialog.status.text()
    dialog.apply_button.click()
    assert panel.setup.form.value("optimizer.lr") == 0.0031
    assert stack.count() == steps + 1
    stack.undo()
    assert panel.setup.form.value("optimizer.lr") == 0.005
    stack.redo()
    assert panel.setup.form.value("optimizer.lr") == 0.0031


def test_the_finder_says_why_it_cannot_run(qtbot, window):
    def refuse(*_arguments):
        raise RuntimeError("a run is going; the training process takes this after the run")

    dialog = LrFinderDialog({}, refuse, lambda rate: True, window)
    qtbot.addWidget(dialog)
    assert "could not run: a run is going" in dialog.status.text()
    assert not dialog.apply_button.isEnabled()


def test_the_learning_rate_has_a_find_button_and_a_menu_command(window):
    assert window.training.setup.form.find_button.text() == "Find\u2026"
    assert window.actions_by_name["find_learning_rate"].shortcut().toString() == "Ctrl+Shift+L"
    assert window.actions_by_name["show_activations"].shortcut().toString() == "F7"


def test_gradient_norms_colour_the_wires_with_a_legend(qtbot, window):
    design = window.document.design
    layers = [{"network": "model", "node": design.find(name), "name": name, "norm": norm}
              for name, norm in (("conv1", 3e-6), ("conv2", 4e-3), ("scores", 0.2))]
    window.actions_by_name["show_gradient_flow"].trigger()
    hand_over(window, [Gradients(1, epoch=3, step=90, layers=layers)])
    scene = window.tabs.view_of("model").network_scene()
    first = Edge(design.find("image"), design.find("conv1"), 0, 0)
    qtbot.waitUntil(lambda: scene.edges[first].flow is not None)
    assert scene.edges[first].flow == QColor(decade_colour(-6))
    into_scores = next(e for e in scene.edges if e.dst == design.find("scores"))
    assert scene.edges[into_scores].flow == QColor(decade_colour(-3))   # from conv2 onwards
    legend = window.insight.legends[window.tabs.view_of("model")]
    assert legend.isVisible()
    assert legend.text().splitlines() == ["Gradient norm, epoch 3, step 90", "1e-1", "1e-2",
                                          "1e-3", "1e-4", "1e-5", "1e-6"]
    window.actions_by_name["show_gradient_flow"].trigger()
    assert scene.edges[first].flow is None and not legend.isVisible()


def test_a_wire_carries_the_norm_of_the_layer_before_it():
    design = load_template("cnn")
    ids = {design.node(n).name: n for n in design.nodes("model")}
    norms = edge_norms(design, "model", {ids["conv1"]: 1e-3, ids["scores"]: 0.5})
    by_pair = {(design.node(e.src).name, design.node(e.dst).name): n for e, n in norms.items()}
    assert by_pair[("image", "conv1")] == 1e-3          # before the first: the first's
    assert by_pair[("relu2", "pool")] == 1e-3           # passed on through the layers after
    assert by_pair[("scores", "digit")] == 0.5
    assert decade(1e-12) == -7 and decade(1e9) == 3     # held within the scale
