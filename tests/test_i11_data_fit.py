"""Issue 11, item 3: `check` compares each Input with the data the design trains on and the
Output with the task, and shows a misfit as an error on the node to change (canvas, Problems
panel, `neuralcanvas check`), from a cheap description of the data cached per file."""

from __future__ import annotations

import gzip
import os
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit, QPushButton
from test_app_support import make_window
from test_training_support import classifier, regressor

from engine import Design, check
from engine.cli import main as cli_main
from engine.fileformat import save_design
from engine.training import data_description
from engine.training.settings import settings_from
from templates import load_template, template_names


def input_of(design: Design, network: str = "model") -> str:
    return next(n for n in design.nodes(network) if design.node(n).type == "Input")


def output_of(design: Design, network: str = "model") -> str:
    return next(n for n in design.nodes(network) if design.node(n).type == "Output")


def errors_on(design: Design, node: str, folder: Path | None = None) -> list:
    return [p for p in check(design, folder).errors if p.node == node]


def write_csv(path: Path, classes: int, rows: int = 60, features: int = 4) -> Path:
    header = [f"f{i}" for i in range(features)] + ["kind"]
    lines = [",".join(header)] + [",".join([str(r % 5)] * features + [f"k{r % classes}"])
                                  for r in range(rows)]
    path.write_text("\n".join(lines) + "\n")
    return path


# ---------------------------------------------------------------------------- the case

def test_an_input_of_28x28_on_the_cnn_templates_8x8_digits_is_an_error_on_the_input():
    design = load_template("cnn")
    image = input_of(design)
    design.set_params(image, shape=(1, 28, 28))
    [problem] = check(design).errors
    assert problem.node == image and problem.network == "model"
    assert "(1, 8, 8)" in problem.message and "(1, 28, 28)" in problem.message
    assert problem.fix.startswith("set the Input's shape to [1, 8, 8], the shape of one "
                                  "digits sample")


@pytest.mark.parametrize("name", template_names())
def test_every_template_fits_its_data_and_a_wrong_input_is_caught(name):
    design = load_template(name)
    assert check(design).ok, [str(p) for p in check(design).errors]
    settings = settings_from(design.training)
    network = settings.gan.discriminator if settings.task == "gan" else "model"
    if name == "dcgan":  # its generator makes 8x8 images; give it flat digits to compare with
        design.set_training(data={**design.training["data"], "layout": "flat"})
    elif name == "gan":  # the generator takes noise; its samples and the real ones must agree
        design.set_params(input_of(design, settings.gan.generator), shape=(16,))
        assert check(design).ok  # noise of any size fits
        design.set_params(design.find("point"), out_features=3)
        design.set_params(input_of(design, network), shape=(3,))
    else:
        shape = design.node(input_of(design)).params["shape"]
        design.set_params(input_of(design), shape=(*shape[:-1], shape[-1] + 1))
    [problem] = errors_on(design, input_of(design, network))
    assert "set the Input's shape to" in problem.fix and "the shape of one" in problem.fix


# ---------------------------------------------------------------------------- outputs and tasks

def test_a_classifier_of_10_scores_on_a_3_class_csv_is_an_error_on_the_output(tmp_path):
    path = write_csv(tmp_path / "flowers.csv", classes=3)
    design = classifier(inputs=4, classes=10, data={"source": "csv", "path": str(path),
                                                    "target": "kind"})
    [problem] = errors_on(design, output_of(design))
    assert "3 classes" in problem.message and "10 scores" in problem.message
    assert problem.fix == "set out_features of 'scores' to 3"
    design.set_params(design.find("scores"), out_features=3)
    assert check(design).ok


def test_a_regression_output_of_5_on_a_target_of_width_1_is_an_error_on_the_output(tmp_path):
    path = write_csv(tmp_path / "prices.csv", classes=3)
    path.write_text(path.read_text().replace(",k0", ",0.5").replace(",k1", ",1.5")
                    .replace(",k2", ",2.5"))  # the target becomes a number
    design = regressor(inputs=4, data={"source": "csv", "path": str(path), "target": "kind"})
    design.set_params(design.find("values"), out_features=5)
    [problem] = errors_on(design, output_of(design))
    assert "(1)" in problem.message and "(5)" in problem.message
    assert problem.fix == "set out_features of 'values' to 1"
    design.set_params(design.find("values"), out_features=1)
    assert check(design).ok


def test_class_ids_for_a_regression_task_name_the_task_setting():
    design = regressor(inputs=2, data={"source": "two_moons"})
    [problem] = errors_on(design, output_of(design))
    assert "class ids" in problem.message and "Task (Setup > Task and data)" in problem.fix


def test_float_images_into_an_embedding_first_design_is_an_error_on_the_input():
    design = Design()
    tokens = design.add("Input", shape=(64,), dtype="long", name="tokens")
    embed = design.add("Embedding", tokens, num_embeddings=20, embedding_dim=8)
    scores = design.add("Linear", design.add("Flatten", embed), out_features=10, name="scores")
    design.add("Output", scores)
    design.set_training(data={"source": "digits", "layout": "flat"})
    [problem] = errors_on(design, tokens)
    assert "real numbers" in problem.message and "token ids" in problem.message
    assert "replace the Embedding" in problem.fix


def test_token_ids_beyond_the_embedding_are_an_error_on_the_embedding():
    design = Design()
    tokens = design.add("Input", shape=(8,), dtype="long")
    embed = design.add("Embedding", tokens, num_embeddings=5, embedding_dim=4, name="embed")
    design.add("Output", design.add("Linear", design.add("Flatten", embed), out_features=2))
    design.set_training(data={"source": "token_match", "length": 8, "tokens": 10})
    [problem] = errors_on(design, embed)
    assert problem.fix == "set num_embeddings to at least 10"


# ---------------------------------------------------------------------------- file sources

def test_npz_is_described_from_member_headers(tmp_path):
    path = tmp_path / "arrays.npz"
    np.savez_compressed(path, x=np.zeros((40, 15), np.float32), y=np.arange(40) % 4)
    design = classifier(inputs=12, classes=4, batch_size=8,
                        data={"source": "npz", "path": str(path)})
    [problem] = errors_on(design, input_of(design))
    assert "(15)" in problem.message
    assert "[15], the shape of one 'x' row of arrays.npz" in problem.fix
    design.set_params(input_of(design), shape=(15,))
    assert check(design).ok


def idx_bytes(shape: tuple[int, ...], body: bytes) -> bytes:
    return bytes([0, 0, 8, len(shape)]) + struct.pack(f">{len(shape)}I", *shape) + body


def test_idx_images_are_described_from_their_header_alone(tmp_path):
    images = tmp_path / "images.idx.gz"
    with gzip.open(images, "wb") as stream:  # the header promises 60,000 images; none follow
        stream.write(idx_bytes((60000, 28, 28), b""))
    labels = tmp_path / "labels.idx"
    labels.write_bytes(idx_bytes((3,), bytes([0, 4, 9])))
    design = Design()
    pixels = design.add("Input", shape=(784,))
    design.add("Output", design.add("Linear", design.add("Flatten", pixels), out_features=10))
    design.set_training(data={"source": "mnist_idx", "images": str(images),
                              "labels": str(labels)})
    [problem] = errors_on(design, input_of(design))
    assert "[1, 28, 28], the shape of one image of images.idx.gz" in problem.fix
    design.set_params(input_of(design), shape=(1, 28, 28))
    assert check(design).ok


def test_an_image_folder_with_fewer_classes_than_scores_is_an_error_on_the_output(tmp_path):
    for kind in ("cat", "dog"):
        (tmp_path / "pets" / kind).mkdir(parents=True)
        for k in range(6):
            Image.new("RGB", (10, 12)).save(tmp_path / "pets" / kind / f"{k}.png")
    design = Design()
    x = design.add("Input", shape=(3, 8, 8))
    scores = design.add("Linear", design.add("Flatten", x), out_features=3, name="scores")
    design.add("Output", scores)
    design.set_training(batch_size=4, data={"source": "image_folder",
                                            "path": str(tmp_path / "pets")})
    [problem] = errors_on(design, output_of(design))
    assert "2 classes" in problem.message and problem.fix == "set out_features of 'scores' to 2"
    design.set_params(design.find("scores"), out_features=2)
    assert check(design).ok


def test_relative_data_paths_are_read_against_the_designs_folder(tmp_path, monkeypatch):
    write_csv(tmp_path / "flowers.csv", classes=3)
    design = classifier(inputs=7, classes=3, data={"source": "csv", "path": "flowers.csv",
                                                   "target": "kind"})
    monkeypatch.chdir(tmp_path.parent)
    [missing] = check(design).errors  # no folder: read where a run would read it, and refused
    assert missing.message.startswith("File or folder") and "no file flowers.csv" in missing.message
    [problem] = errors_on(design, input_of(design), folder=tmp_path)
    assert "the shape of one row of flowers.csv" in problem.fix


def test_a_description_is_cached_until_its_file_changes(tmp_path):
    path = write_csv(tmp_path / "flowers.csv", classes=3)
    design = classifier(inputs=4, classes=3, data={"source": "csv", "path": str(path),
                                                   "target": "kind"})
    data_description._remembered.cache_clear()
    assert check(design).ok
    assert check(design).ok
    info = data_description._remembered.cache_info()
    assert (info.misses, info.hits) == (1, 1)  # read once, then remembered
    write_csv(path, classes=5)
    stamp = os.stat(path).st_mtime_ns + 1_000_000_000
    os.utime(path, ns=(stamp, stamp))
    [problem] = errors_on(design, output_of(design))
    assert "5 classes" in problem.message
    assert data_description._remembered.cache_info().misses == 2


# ---------------------------------------------------------------------------- command line

def test_neuralcanvas_check_exits_1_and_names_the_input_and_the_fix(tmp_path, capsys):
    design = load_template("cnn")
    design.set_params(input_of(design), shape=(1, 28, 28))
    save_design(design, tmp_path / "big.ncnet")
    assert cli_main(["check", str(tmp_path / "big.ncnet")]) == 1
    printed = capsys.readouterr().out
    assert "[error] image: the data's samples have shape (1, 8, 8)" in printed
    assert "fix: set the Input's shape to [1, 8, 8], the shape of one digits sample" in printed


def test_neuralcanvas_check_reads_relative_data_paths_beside_the_design(tmp_path, capsys,
                                                                       monkeypatch):
    write_csv(tmp_path / "flowers.csv", classes=3)
    design = classifier(inputs=4, classes=10, data={"source": "csv", "path": "flowers.csv",
                                                    "target": "kind"})
    save_design(design, tmp_path / "flowers.ncnet")
    monkeypatch.chdir(tmp_path.parent)
    assert cli_main(["check", str(tmp_path / "flowers.ncnet")]) == 1
    assert "fix: set out_features of 'scores' to 3" in capsys.readouterr().out


# ---------------------------------------------------------------------------- the app

def test_typing_a_shape_the_data_lacks_shows_the_error_on_the_canvas_and_in_problems(
        qtbot, tmp_path):
    window = make_window(qtbot, tmp_path, "cnn")
    window.show()
    qtbot.waitExposed(window)
    document = window.document
    image = input_of(document.design)
    view = window.tabs.current_view()
    card = view.scene().nodes[image]
    where = view.mapFromScene(card.mapToScene(card.title_rect().center()))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=where)
    qtbot.waitUntil(lambda: "shape" in window.inspector.fields)
    line = window.inspector.fields["shape"].editor.findChild(QLineEdit)

    def type_shape(text: str) -> None:
        line.selectAll()
        qtbot.keyClicks(line, text)
        qtbot.keyClick(line, Qt.Key.Key_Return)

    type_shape("1, 28, 28")
    panel = window.problems
    qtbot.waitUntil(lambda: panel.summary.text().startswith("1 error"))
    model = panel.model
    row = next(r for r in range(model.rowCount()) if model.problems[r].node == image)
    assert model.index(row, 0).data() == "image"
    assert "(1, 28, 28)" in model.index(row, 1).data()
    assert model.index(row, 2).data().startswith("set the Input's shape to [1, 8, 8]")
    assert card.badge.isVisible() and card.badge.severity == "error"
    assert status_problems(window).text().startswith("1 error")

    type_shape("1, 8, 8")  # the fix it gave
    qtbot.waitUntil(lambda: panel.summary.text() == "No problems: the design is ready to train.")
    assert not card.badge.isVisible()
    assert "ready to train" in status_problems(window).text()


def status_problems(window) -> QPushButton:
    """The status bar's problem count, as a person sees it."""
    return next(b for b in window.statusBar().findChildren(QPushButton)
                if b.toolTip() == "Show the problems panel")


# ---------------------------------------------------------------------------- description = data

def loaded_and_described(design: Design) -> tuple:
    import torch

    from engine.training.data import load_data
    from engine.training.plan import make_plan

    plan = make_plan(design)
    facts = load_data(plan, design, torch.device("cpu")).facts
    described = data_description.describe_data(plan).facts
    fields = ("input_shape", "input_is_ids", "target_shape", "target_is_ids", "train_samples")
    return ([getattr(described, f) for f in fields], [getattr(facts, f) for f in fields])


@pytest.mark.parametrize("name", template_names())
def test_each_templates_description_matches_the_data_it_loads(name):
    described, loaded = loaded_and_described(load_template(name))
    assert described == loaded


def image_design(task: str, shape: tuple[int, ...], classes: int, data: dict) -> Design:
    """Input -> Flatten -> Linear -> Output, fitting `shape` (autoencoders give it back)."""
    design = Design()
    x = design.add("Input", shape=shape)
    size = classes if task != "autoencoder" else int(np.prod(shape))
    y = design.add("Linear", design.add("Flatten", x), out_features=size)
    if task == "autoencoder":
        y = design.add("Unflatten", y, dim=1, sizes=shape)
    design.add("Output", y)
    design.set_training(task=task, batch_size=2, data=data)
    return design


def test_each_file_sources_description_matches_the_data_it_loads(tmp_path):
    csv_path = write_csv(tmp_path / "flowers.csv", classes=3)
    np.savez(tmp_path / "arrays.npz", x=np.zeros((40, 6), np.float32), y=np.ones(40))
    (tmp_path / "images.idx").write_bytes(idx_bytes((20, 4, 4), bytes(320)))
    (tmp_path / "labels.idx").write_bytes(idx_bytes((20,), bytes(range(20))))
    for kind in ("cat", "dog"):
        (tmp_path / "pets" / kind).mkdir(parents=True)
        for k in range(5):
            Image.new("RGB", (10, 12)).save(tmp_path / "pets" / kind / f"{k}.png")
    pets = {"source": "image_folder", "path": str(tmp_path / "pets")}
    designs = [
        image_design("classification", (4,), 3, {"source": "csv", "path": str(csv_path),
                                                 "target": "kind"}),
        image_design("regression", (6,), 1, {"source": "npz",
                                             "path": str(tmp_path / "arrays.npz")}),
        image_design("classification", (1, 4, 4), 20, {
            "source": "mnist_idx", "images": str(tmp_path / "images.idx"),
            "labels": str(tmp_path / "labels.idx")}),
        image_design("classification", (3, 4, 4), 2, pets),
        image_design("autoencoder", (1, 4, 4), 0, pets),
    ]
    for design in designs:
        assert check(design).ok, [str(p) for p in check(design).errors]
        described, loaded = loaded_and_described(design)
        assert described == loaded, design.training["data"]
