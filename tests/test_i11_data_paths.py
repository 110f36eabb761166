"""Relative data paths are read against the design file's folder by every consumer: the check,
`neuralcanvas train` and the app's runs, whatever the process's working folder."""

from __future__ import annotations

import pytest
from test_i11_data_fit import write_csv
from test_training_support import classifier

from engine import save_design
from engine.cli import main
from engine.runs import RunStore, runs_folder_for
from engine.training.data_paths import anchored_to_folder


def test_a_design_anchored_to_its_folder_reads_relative_paths_there(tmp_path):
    design = classifier(inputs=4, classes=3, data={"source": "csv", "path": "data/flowers.csv",
                                                    "target": "kind"})
    anchored = anchored_to_folder(design, tmp_path)
    assert anchored.training["data"]["path"] == str(tmp_path / "data" / "flowers.csv")
    assert design.training["data"]["path"] == "data/flowers.csv"  # the open design is untouched
    absolute = str(tmp_path / "elsewhere.csv")
    design.training["data"]["path"] = absolute
    assert anchored_to_folder(design, tmp_path / "x").training["data"]["path"] == absolute
    assert anchored_to_folder(design, None).training == design.training


@pytest.mark.slow
def test_train_from_another_folder_finds_data_beside_the_design(tmp_path, monkeypatch, capsys):
    project = tmp_path / "project"
    project.mkdir()
    write_csv(project / "flowers.csv", classes=3)
    design_file = project / "net.ncnet"
    save_design(classifier(inputs=4, classes=3, epochs=1, data={
        "source": "csv", "path": "flowers.csv", "target": "kind"}), design_file)
    monkeypatch.chdir(tmp_path)
    assert main(["train", str(design_file), "--device", "cpu"]) == 0, capsys.readouterr()
    assert [r.status for r in RunStore(runs_folder_for(design_file)).runs()] == ["completed"]
