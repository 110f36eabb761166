"""The Training panel's parts without a worker: buffers, the live run model, undoable settings,
the settings form, plots, the banner and canvas highlights."""

import re

import numpy as np
import pytest
from PySide6.QtGui import QColor

from designer.document import DesignDocument
from designer.training.banner import Banner
from designer.training.buffers import Series, SmoothedSeries
from designer.training.setting_undo import SetTrainingValue
from designer.training.live import LiveRun
from designer.training.settings_form import SettingsForm
from engine.training.events import (
    Ack,
    Batch,
    Diagnostic,
    EpochEnd,
    Failed,
    Gradients,
    Samples,
    Started,
    Validation,
)
from templates import load_template


def started(task="classification", batches=10, first_epoch=1):
    return Started(1, task=task, batches_per_epoch=batches, epochs=5, first_epoch=first_epoch,
                   device="cpu", device_name="CPU", data={"labels": ["a", "b"]})


# ---------------------------------------------------------------------------- buffers

def test_a_series_grows_without_changing_views_handed_out_before():
    series = Series(capacity=2)
    series.extend([1.0, 2.0], [10.0, 20.0])
    view = series.y
    series.extend(np.arange(3.0, 100.0), np.arange(30.0, 1000.0, 10.0))
    assert view.tolist() == [10.0, 20.0]
    assert len(series) == 99 and series.x.dtype == np.float64
    assert series.last() == 990.0


def test_the_smoothed_loss_starts_at_the_first_value_and_follows_a_trend():
    series = SmoothedSeries(capacity=4)
    series.extend(np.arange(1.0, 4.0), [2.0, 2.0, 2.0])
    assert np.allclose(series.smooth.y, 2.0)     # bias-corrected: no pull towards zero
    series.extend(np.arange(4.0, 204.0), np.zeros(200))
    assert series.smooth.y[-1] < 1e-6
    series.extend([205.0], [np.nan])
    assert np.isnan(series.smooth.y[-1])


# ---------------------------------------------------------------------------- the live run

def test_batch_values_are_spread_over_the_steps_they_cover():
    live = LiveRun()
    live.apply([started(task="gan")])
    changed = live.apply([Batch(1, epoch=1, batch=4, batches=10, step=4,
                                values={"d_loss": [1.0, 0.9, 0.8, 0.7], "g_loss": [2.0, 1.5]},
                                lr=0.01, samples_per_second=100.0, eta=3.0)])
    assert {"steps", "lr", "progress"} <= changed
    assert live.steps["d_loss"].x.tolist() == [1, 2, 3, 4]
    assert live.steps["g_loss"].x.tolist() == [2, 4]
    assert live.progress.samples_per_second == 100.0 and live.lr.y.tolist() == [0.01]


def test_a_resumed_run_continues_its_step_count():
    live = LiveRun()
    live.apply([started(batches=10, first_epoch=3),
                Batch(1, epoch=3, batch=2, step=22, values={"loss": [0.5, 0.4]})])
    assert live.steps["loss"].x.tolist() == [21, 22]


def test_epoch_results_confusion_gradients_and_the_end():
    live = LiveRun()
    confusion = np.array([[3, 1], [0, 4]])
    changed = live.apply([
        started(),
        EpochEnd(1, epoch=1, epochs=5, metrics={"loss": 0.5}),
        Validation(1, epoch=1, metrics={"val_loss": 0.6, "val_accuracy": 0.875,
                                        "modes_covered": 3}, confusion=confusion,
                   labels=["a", "b"]),
        Gradients(1, epoch=1, step=10, layers=[
            {"network": "model", "node": "n1", "name": "hidden", "norm": 0.5},
            {"network": "model", "node": "n2", "name": "scores", "norm": None}]),
        Ack(1, command="pause", state="paused")])
    assert {"epochs", "confusion", "gradients", "state"} <= changed
    assert live.epochs["val_accuracy"].y.tolist() == [0.875]
    assert live.counts == {"modes_covered": 3}
    assert np.array_equal(live.confusion, confusion) and live.validated_epoch == 1
    matrix = live.gradients.matrix()
    assert matrix[0, 0] == 0.5 and np.isnan(matrix[1, 0])
    assert live.state == "paused" and live.last_epoch == 1
    live.apply([Failed(1, reason="boom", error="crashed", checkpoint="/tmp/ckpt")])
    assert (live.state, live.running, live.last_checkpoint) == ("failed", False, "/tmp/ckpt")


# ---------------------------------------------------------------------------- settings

@pytest.fixture
def document(qtbot):
    return DesignDocument(load_template("mlp"))


def test_a_setting_is_one_undoable_step_and_typing_merges(document):
    design = document.design
    assert "weight_decay" not in design.training["optimizer"]
    lr = design.training["optimizer"]["lr"]
    document.push(SetTrainingValue(design, "optimizer.weight_decay", 0.1))
    document.push(SetTrainingValue(design, "optimizer.weight_decay", 0.01))
    assert design.training["optimizer"]["weight_decay"] == 0.01
    assert design.training["optimizer"]["lr"] == lr          # the rest of the section stays
    assert document.undo_stack.count() == 1
    document.undo_stack.undo()
    assert "weight_decay" not in design.training["optimizer"]
    document.push(SetTrainingValue(design, "grad_clip", 1.0))
    document.undo_stack.undo()
    assert "grad_clip" not in design.training                 # absent again, not a default
    document.undo_stack.redo()
    assert design.training["grad_clip"] == 1.0


def test_the_form_shows_only_settings_that_apply(qtbot, document):
    form = SettingsForm(document)
    qtbot.addWidget(form)
    assert form.applies("data.layout") and not form.applies("data.wave")
    assert not form.applies("optimizer.momentum") and form.applies("optimizer.beta1")
    assert not form.groups["GAN"].isVisibleTo(form)
    data = dict(document.design.training["data"])
    assert form.apply("data.source", "waves")
    assert form.applies("data.wave") and not form.applies("data.layout")
    assert form.apply("optimizer.name", "sgd")
    assert form.applies("optimizer.momentum") and form.applies("optimizer.nesterov")
    assert document.design.training["data"] == data | {"source": "waves"}
    document.undo_stack.undo()
    assert form.editors["optimizer.name"].value() == "adam"   # undo reaches the form


def test_editors_push_commands_and_bad_values_are_explained(qtbot, document):
    form = SettingsForm(document)
    qtbot.addWidget(form)
    lr = document.design.training["optimizer"]["lr"]
    form.editors["batch_size"].field.setText("48")
    form.editors["batch_size"].field.commit()
    assert document.design.training["batch_size"] == 48
    assert document.undo_stack.undoText() == "Set Batch size to 48"
    before = document.undo_stack.count()
    assert not form.apply("optimizer.lr", 0.0)
    assert document.undo_stack.count() == before
    assert "greater than 0" in form.message.text() and form.message.isVisibleTo(form)
    assert form.editors["optimizer.lr"].value() == lr        # the form shows the kept value
    assert not form.apply("device", "tpu")
    assert "must be auto" in form.message.text() and "'tpu'" in form.message.text()
    assert form.apply("optimizer.lr", 0.01)
    assert not form.message.isVisibleTo(form)


def test_text_settings_store_lists_and_nothing_when_empty(qtbot, document):
    form = SettingsForm(document)
    qtbot.addWidget(form)
    form.apply("data.source", "csv")
    editor = form.editors["data.features"]
    editor.line.setText("a, b ,c")
    editor.line.editingFinished.emit()
    assert document.design.training["data"]["features"] == ["a", "b", "c"]
    editor.line.setText("")
    editor.line.editingFinished.emit()
    assert document.design.training["data"]["features"] is None


def test_the_device_list_offers_what_the_machine_has(qtbot, document):
    form = SettingsForm(document)
    qtbot.addWidget(form)
    form.set_devices([("cuda:0", "Some GPU"), ("cpu", "CPU (2 threads)")])
    combo = form.editors["device"].combo
    assert [combo.itemText(i) for i in range(combo.count())] == ["auto", "cuda:0", "cpu"]
    assert combo.currentText() == "auto"
    combo.setCurrentText("cpu")
    combo.activated.emit(2)
    assert document.design.training["device"] == "cpu"


# ---------------------------------------------------------------------------- plots

def test_curves_downsample_clip_and_survive_the_log_scale(qtbot):
    from designer.training.plots import EPSILON, CurvePlot, CurveStyle

    plot = CurvePlot("Loss")
    qtbot.addWidget(plot)
    x = np.arange(1_000_000, dtype=np.float64)
    y = np.zeros_like(x)
    y[1:] = 1 / x[1:]
    plot.set_curve("loss", x, y, CurveStyle("#000000"), "train loss")
    curve = plot.curves["loss"]
    assert curve.opts["autoDownsample"] and curve.opts["clipToView"]
    assert curve.opts["downsampleMethod"] == "peak"
    plot.set_log(True)
    assert curve.yData.min() == EPSILON           # zero clamped, never log(0)
    assert "train loss: 0.5" in plot.readout_text(2.2, 0.0)


def test_the_curves_area_draws_a_live_run_and_stored_runs_over_it(qtbot):
    from designer.training.curves_area import CurvesArea, StoredCurves

    area = CurvesArea()
    qtbot.addWidget(area)
    live = LiveRun()
    area.set_live(live)
    live.apply([started(), Batch(1, epoch=1, batch=3, step=3, values={"loss": [3.0, 2.0, 1.0]},
                                 lr=0.1),
                Validation(1, epoch=1, metrics={"val_loss": 1.5, "val_accuracy": 0.5},
                           confusion=np.eye(2, dtype=int) * 4, labels=["a", "b"])])
    area.redraw({"started", "steps", "lr"})       # a run's first redraw: its per-step curves
    assert ("live", "loss") in area.loss_plot.curves and ("live", "val_loss") not in area.loss_plot.curves
    area.redraw({"epochs", "confusion"})          # its epoch-end views follow
    assert {("live", "loss"), ("live", "loss", "raw"), ("live", "val_loss")} <= set(
        area.loss_plot.curves)
    assert ("live", "val_accuracy") in area.metric_plot.curves
    assert area.loss_plot.curves[("live", "val_loss")].xData.tolist() == [10.0]   # epoch 1 = step 10
    assert area.task_view.currentWidget() is area.confusion
    stored = StoredCurves.from_arrays("0001", "Run 1", 5,
                                      {"loss": (np.arange(1.0, 6.0), np.ones(5))},
                                      {"epoch": np.array([1.0]), "val_loss": np.array([0.9])})
    area.set_stored([stored])
    assert {("0001", "loss"), ("0001", "val_loss")} <= set(area.loss_plot.curves)
    assert area.loss_plot.curves[("0001", "loss")].name() == "Run 1: train loss"
    area.unit.setCurrentText("epochs")
    assert area.loss_plot.curves[("live", "val_loss")].xData.tolist() == [1.0]
    area.set_stored([])
    assert ("0001", "loss") not in area.loss_plot.curves


def test_gan_samples_show_generated_points_beside_real_ones(qtbot):
    from designer.training.curves_area import CurvesArea

    area = CurvesArea()
    qtbot.addWidget(area)
    live = LiveRun()
    area.set_live(live)
    points = np.random.default_rng(0).normal(size=(64, 2)).astype(np.float32)
    live.apply([started(task="gan"), Samples(1, epoch=2, form="points", generated=points,
                                             real=points + 1)])
    area.redraw({"started"})
    assert area.task_view.currentWidget() is area.samples
    assert area.samples.stack.currentWidget() is area.samples.scatter
    assert [s.label for s in area.samples.scatter.sets] == ["real", "generated"]


# ---------------------------------------------------------------------------- banner, canvas

def test_a_diagnostic_banner_explains_and_points_at_the_layer(qtbot):
    banner = Banner()
    qtbot.addWidget(banner)
    banner.show_diagnostic(Diagnostic(1, code="exploding_gradients", severity="warning",
                                      message="gradient norm of 'hidden' is 5e3",
                                      fix="lower the learning rate", node="n2"), more=1)
    assert banner.isVisibleTo(banner.parentWidget() or banner)
    assert "Try:</b> lower the learning rate" in banner.text.text()
    assert "huge" in banner.text.text() and "1 other diagnostic in" in banner.text.text()
    with qtbot.waitSignal(banner.showLayer) as shown:
        banner.layer_button.click()
    assert shown.args == ["n2"]
    banner.show_failure(Failed(1, reason="the data has 3 classes", error="data",
                               details="Traceback ..."))
    assert banner.layer_button.isHidden() and not banner.details_button.isHidden()
    assert "does not fit" in banner.title.text()


def test_the_canvas_rings_the_layer_a_diagnostic_names(qtbot, tmp_path):
    from test_app_support import make_window

    window = make_window(qtbot, tmp_path, "mlp")
    node = window.document.design.find("hidden2")
    session = window.training.session
    session.live.apply([started(), Diagnostic(1, code="vanishing_gradients", severity="warning",
                                              message="hidden2 gets almost no gradient",
                                              fix="use ReLU or BatchNorm", node=node)])
    session.changed.emit({"diagnostics"})
    items = window.tabs.current_view().network_scene().nodes
    assert items[node].highlight == QColor("#e0a100")
    assert all(item.highlight is None for key, item in items.items() if key != node)
    banner = window.training.banner
    assert not banner.isHidden() and "almost no gradient" in banner.text.text()
    banner.layer_button.click()
    assert window.document.selection == [node]
    banner.dismiss()
    assert items[node].highlight is None


# ---------------------------------------------------------------------------- runs tab

def stored_runs(folder, count):
    """Finished runs with per-epoch metrics, as the trainer and the session leave them."""
    from engine.runs import RunStore, save_step_curves

    store = RunStore(folder)
    for index in range(count):
        record = store.create()
        (record.folder / "metrics.csv").write_text(
            f"epoch,lr,loss,val_loss,val_accuracy\n1,0.1,{2 - index},1.5,0.5\n"
            f"2,0.1,{1 - index / 2},1.2,0.7\n")
        save_step_curves(record.folder, {"loss": (np.arange(1.0, 21.0), np.linspace(2, 1, 20))})
        store.update(record.id, "completed", batches_per_epoch=10, epochs_done=2,
                     metrics={"val_accuracy": 0.7})
    return store


def quiet_panel(qtbot, tmp_path):
    """A panel on a saved design, told it is hidden (so it starts no processes)."""
    from designer.training.panel import TrainingPanel
    from engine import save_design

    design = load_template("mlp")
    save_design(design, tmp_path / "mlp.ncnet")
    panel = TrainingPanel(DesignDocument(design, tmp_path / "mlp.ncnet"))
    panel.set_shown(False)
    qtbot.addWidget(panel)
    return panel


def test_the_runs_tab_renames_deletes_and_exports(qtbot, tmp_path):
    stored_runs(tmp_path / "mlp.runs", 3)
    panel = quiet_panel(qtbot, tmp_path)
    runs = panel.runs
    runs.refresh()
    assert [runs.tree.topLevelItem(i).text(0) for i in range(3)] == ["Run 3", "Run 2", "Run 1"]
    assert runs.tree.topLevelItem(0).text(3) == "accuracy 70.0%"
    runs.select(["0001"])
    runs.tree.selectedItems()[0].setText(0, "baseline")
    assert panel.session.store.get("0001").name == "baseline"

    exported = {}
    runs.ask_save_path = lambda title, name, kind: exported.setdefault(kind, tmp_path / name)
    runs.buttons["csv"].click()
    assert (tmp_path / "baseline.csv").read_text().startswith("epoch,lr,loss")
    runs.select(["0001", "0002"])
    assert {s.key for s in panel.curves.stored} == {"0001", "0002"}   # built on demand
    runs.buttons["png"].click()
    picture = exported["PNG images (*.png)"]
    assert picture.suffix == ".png" and picture.stat().st_size > 1000

    runs.confirm = lambda question: "baseline" in question
    runs.buttons["delete"].click()
    assert [r.id for r in panel.session.store.runs()] == ["0003"]
    assert not (tmp_path / "mlp.runs" / "0001").exists()


def test_the_setup_tab_shows_the_cost_data_and_mismatch_of_the_next_run(qtbot, tmp_path):
    from designer.training.tasks import preview_design

    panel = quiet_panel(qtbot, tmp_path)
    preflight = panel.setup.preflight
    design = panel.document.design
    assert preflight.values["parameters"].text() == f"{panel.document.report.total_params('model'):,}"
    preflight.show_preview(preview_design(design.to_dict()))
    assert "FLOPs" in preflight.values["flops"].text()
    assert f"batch of {design.training['batch_size']}" in preflight.values["memory"].text()
    counts = re.fullmatch(r"([\d,]+) for training, ([\d,]+) for validation",
                          preflight.values["samples"].text())
    assert sum(int(c.replace(",", "")) for c in counts.groups()) == 1797   # every digit
    assert preflight.values["classes"].text().startswith("10: 0, 1, 2")
    assert preflight.problem.isHidden()
    assert len(preflight.samples.grid.pixmaps) == 16
    design.set_params(design.find("pixels"), shape=(32,))
    preflight.show_preview(preview_design(design.to_dict()))
    assert "Cannot train yet" in preflight.problem.text() and "(64)" in preflight.problem.text()

    # Another design opens: the digits' rows, mismatch and samples go until its own come.
    panel.document.replace_design(load_template("gan"), None)
    assert [preflight.values[k].text() for k in ("data", "samples", "shapes", "classes")] \
        == ["\u2026"] * 4
    assert preflight.problem.isHidden() and not preflight.samples.grid.pixmaps


def test_runs_of_an_unsaved_design_move_beside_it_when_it_is_saved(qtbot, tmp_path):
    from designer.training.session import TrainingSession

    document = DesignDocument(load_template("mlp"))
    session = TrainingSession(document, scratch=tmp_path / "scratch")
    scratch = session.store.folder
    assert scratch.parent == tmp_path / "scratch"
    stored_runs(scratch, 2)
    document.set_path(tmp_path / "mine.ncnet")
    assert session.store.folder == tmp_path / "mine.runs"
    assert [r.name for r in session.store.runs()] == ["Run 1", "Run 2"]
    assert not scratch.exists()

    other = DesignDocument(load_template("mlp"))
    unsaved = TrainingSession(other, scratch=tmp_path / "scratch")
    stored_runs(unsaved.store.folder, 1)
    other.replace_design(load_template("cnn"), tmp_path / "cnn.ncnet")   # File > Open
    assert unsaved.store.runs() == []        # the discarded design's runs stay where they were
    assert len(list((tmp_path / "scratch").iterdir())) == 1


def test_the_legend_moves_to_the_corner_without_data(qtbot):
    from designer.training.plots import CurvePlot, CurveStyle

    plot = CurvePlot("Accuracy")
    qtbot.addWidget(plot)
    plot.resize(420, 300)
    plot.show()
    x = np.linspace(0.0, 10.0, 200)
    plot.set_curve("accuracy", x, x / 10, CurveStyle("#000000"), "accuracy")  # rises
    qtbot.waitUntil(lambda: plot.getPlotItem().vb.width() > 100)
    plot.place_legend()
    qtbot.waitUntil(lambda: plot.legend.pos().y() > 100)
    box = plot.getPlotItem().vb.sceneBoundingRect()
    legend = plot.legend.sceneBoundingRect()
    assert legend.center().x() > box.center().x() and legend.center().y() > box.center().y()


def test_epoch_views_take_turns_when_epochs_end_faster_than_they_redraw(qtbot, tmp_path,
                                                                        monkeypatch):
    """Every epoch-end group dirty at every redraw (epochs faster than EPOCH_VIEW_MS): each
    group still gets its turn during the run, not only the first."""
    from designer.training import panel as panel_module

    panel = quiet_panel(qtbot, tmp_path)
    monkeypatch.setattr(panel_module, "EPOCH_VIEW_MS", 0)
    monkeypatch.setattr(type(panel.session), "running", property(lambda session: True))
    drawn = []
    for _ in range(len(panel_module.EPOCH_GROUPS)):
        panel._dirty = set(panel_module.EPOCH_VIEWS) | {"batches"}
        drawn.append(panel._take_dirty() - {"batches"})
    assert drawn == [group for group in panel_module.EPOCH_GROUPS]
