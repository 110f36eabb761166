"""Issue 11, item 19: `new` never overwrites silently, and `train` keeps its runs in the same
run store as the app, so the Runs tab lists them."""

import json

import pytest
from test_training_support import classifier

from designer.document import DesignDocument
from designer.training.panel import TrainingPanel
from engine import load_design, save_design
from engine.cli import main
from engine.runs import RunStore, runs_folder_for
from templates import load_template


def test_new_refuses_to_overwrite_a_file_without_force(tmp_path, capsys):
    target = tmp_path / "mine.ncnet"
    target.write_text("my own work")
    assert main(["new", "cnn", "-o", str(target)]) == 1
    error = capsys.readouterr().err
    assert f"{target} already exists" in error and "--force" in error
    assert target.read_text() == "my own work"
    assert main(["new", "cnn", "-o", str(target), "--force"]) == 0
    assert load_design(target) == load_template("cnn")


@pytest.mark.slow
def test_train_keeps_runs_in_the_design_run_store_that_the_app_lists(qtbot, tmp_path, capsys):
    design_file = tmp_path / "net.ncnet"
    save_design(classifier(epochs=2, optimizer={"name": "adam", "lr": 50.0}), design_file)
    assert main(["train", str(design_file), "--device", "cpu"]) == 0
    printed = capsys.readouterr().out
    folder = runs_folder_for(design_file) / "0001"
    assert f"run kept in {folder}" in printed
    assert "act on this one first:\n  [error] the loss is diverging" in printed
    assert not (tmp_path / "net_training").exists()
    assert json.loads((folder / "diagnostics.json").read_text())[0]["code"] == \
        "learning_rate_too_high"

    checkpoint = folder / "checkpoints" / "epoch-0001"
    assert main(["train", str(design_file), "--epochs", "3", "--resume", str(checkpoint)]) == 0
    runs = RunStore(runs_folder_for(design_file)).runs()
    assert [(r.id, r.status, r.info["epochs_done"]) for r in runs] == [
        ("0001", "completed", 2), ("0002", "completed", 3)]
    assert runs[1].info["resumed_from"] == "0001" and runs[1].info["device_name"] == "CPU"

    panel = TrainingPanel(DesignDocument(load_design(design_file), design_file))
    qtbot.addWidget(panel)
    listed = [panel.runs.tree.topLevelItem(i) for i in range(panel.runs.tree.topLevelItemCount())]
    assert [(item.text(0), item.text(2)) for item in listed] == [("Run 2", "3"), ("Run 1", "2")]
    assert len(panel.predict.records) == 2
