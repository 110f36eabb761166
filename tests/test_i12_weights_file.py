"""Issue 12, item 12: the check follows a Backbone's weights file as it appears, changes and
vanishes (what it remembers of a node includes the file's state), and reads a relative path
against the design file's folder, as data paths are, in the check, the command line and runs.
"""

from __future__ import annotations

from engine import Design, check
from engine.cli import main as cli_main
from engine.fileformat import save_design
from engine.training.data_paths import anchored_description, anchored_to_folder

MISSING = "there is no weights file"


def backbone_design(weights_file: str) -> tuple[Design, str]:
    design = Design("transfer")
    image = design.add("Input", shape=(3, 32, 32), name="image")
    backbone = design.add("Backbone", image, name="backbone", weights_file=weights_file)
    design.add("Output", design.add("Linear", backbone, out_features=4, name="scores"),
               name="label")
    return design, backbone


def messages_on(design: Design, node: str, folder=None) -> list[str]:
    return [p.message for p in check(design, folder).errors if p.node == node]


def test_a_weights_file_created_after_a_check_is_found_by_the_next(tmp_path):
    path = tmp_path / "resnet18.safetensors"
    design, node = backbone_design(str(path))
    assert any(MISSING in m for m in messages_on(design, node))
    path.write_bytes(b"weights")
    assert messages_on(design, node) == []
    path.unlink()
    assert any(MISSING in m for m in messages_on(design, node))


def test_a_relative_weights_file_is_read_beside_the_design(tmp_path, monkeypatch):
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    (project / "weights").mkdir(parents=True)
    elsewhere.mkdir()
    (project / "weights" / "resnet18.pth").write_bytes(b"weights")
    design, node = backbone_design("weights/resnet18.pth")
    monkeypatch.chdir(elsewhere)
    assert messages_on(design, node, project) == []
    assert any(MISSING in m for m in messages_on(design, node))  # no folder: nothing beside
    anchored = anchored_to_folder(design, project)  # what a run and a preview build from
    assert anchored.node(node).params["weights_file"] == str(project / "weights/resnet18.pth")
    assert design.node(node).params["weights_file"] == "weights/resnet18.pth"
    design.training["data"] = {"source": "csv", "path": "data.csv", "target": "kind"}
    described = anchored_description(design, project)   # what the editor sends its helper
    assert described == anchored_to_folder(design, project).to_dict()
    assert described["training"]["data"]["path"] == str(project / "data.csv")
    assert design.node(node).params["weights_file"] == "weights/resnet18.pth"
    assert design.training["data"]["path"] == "data.csv"
    assert anchored_description(design, None) == design.to_dict()


def test_neuralcanvas_check_reads_the_weights_file_beside_the_design(tmp_path, monkeypatch,
                                                                     capsys):
    project = tmp_path / "project"
    project.mkdir()
    design, _ = backbone_design("resnet18.pth")
    save_design(design, project / "transfer.ncnet")
    monkeypatch.chdir(tmp_path)
    assert cli_main(["check", str(project / "transfer.ncnet")]) == 1
    assert MISSING in capsys.readouterr().out
    (project / "resnet18.pth").write_bytes(b"weights")
    assert cli_main(["check", str(project / "transfer.ncnet")]) == 0
    assert MISSING not in capsys.readouterr().out
