"""The exported script trains exactly like the app: same seed, same per-epoch numbers."""

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from test_training_support import RECIPES, exported_script, read_metrics, run_script, train

from engine import Design
from engine.training.script import render_training_program
from templates import load_template, template_names

EPOCHS = 2


def assert_ruff_clean(path: Path) -> None:
    """Exported code passes ruff's default rules and formatting, at its line length and ours."""
    for command in (["ruff", "check", "--isolated", "--quiet"],
                    ["ruff", "format", "--isolated", "--check", "--quiet"],
                    ["ruff", "format", "--isolated", "--check", "--quiet", "--line-length", "100"]):
        result = subprocess.run([*command, str(path)], capture_output=True, text=True,
                                check=False)
        assert result.returncode == 0, result.stdout + result.stderr


def train_both_ways(design: Design, tmp_path: Path, *script_args: str) -> tuple[Any, list, list]:
    """Trains `design` in the app and with its exported script: the app's final event and
    the per-epoch metrics of each."""
    _, final = train(design, tmp_path / "app")
    run_script(exported_script(design, tmp_path / "export"), "--out", str(tmp_path / "script"),
               *script_args)
    return (final, read_metrics(tmp_path / "app" / "metrics.csv"),
            read_metrics(tmp_path / "script" / "metrics.csv"))


@pytest.mark.slow
@pytest.mark.parametrize("recipe", sorted(RECIPES))
def test_exported_script_reproduces_the_in_app_epochs(recipe, tmp_path):
    design = RECIPES[recipe](epochs=EPOCHS)
    final, app, exported = train_both_ways(design, tmp_path, "--device", "cpu")
    assert final.kind == "finished", getattr(final, "reason", "")
    assert len(app) == len(exported) == EPOCHS
    assert set(app[0]) == set(exported[0])
    for ours, theirs in zip(app, exported, strict=True):
        for column, value in ours.items():
            assert theirs[column] == pytest.approx(value, rel=1e-5, abs=1e-5), column
    weights = {p.name for p in (tmp_path / "script").glob("*.safetensors")}
    assert weights == {f"{network}.safetensors" for network in design.networks}


@pytest.mark.slow
def test_exported_script_follows_the_settings(tmp_path):
    design = RECIPES["classification"](
        epochs=5, schedule={"name": "plateau", "patience": 0, "factor": 0.5},
        optimizer={"name": "sgd", "lr": 0.5, "momentum": 0.9, "nesterov": True},
        early_stopping={"enabled": True, "patience": 1}, grad_clip=0.5)
    final, app, exported = train_both_ways(design, tmp_path)
    assert [row["lr"] for row in exported] == [row["lr"] for row in app]
    assert len(exported) == len(app) == final.epochs_done
    assert [r["val_loss"] for r in exported] == pytest.approx([r["val_loss"] for r in app],
                                                              rel=1e-5)


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff is a test dependency")
@pytest.mark.parametrize("name", template_names())
def test_exported_templates_pass_ruff_unchanged(name, tmp_path):
    script = exported_script(load_template(name), tmp_path)
    assert_ruff_clean(script)


@pytest.mark.parametrize("recipe", sorted(RECIPES))
def test_training_program_is_plain_pytorch(recipe):
    design = RECIPES[recipe]()
    program = render_training_program(design, {n: n.title() for n in design.networks})
    text = "\n".join(program.imports) + program.body
    assert "engine" not in text and "neuralcanvas" not in text.lower()
    assert program.body.rstrip().endswith("train(parse_args())")
    assert "torch.distributed" in text and "DistributedSampler" in program.body
    assert all(line.startswith(("import ", "from ")) for line in program.imports)


def source_files(folder):
    """One small file of each kind a data source reads, each fitting the design the test
    trains on it (the classification recipe, 8x8 images of 2 classes, the characters
    recipe), as `check` asks."""
    import numpy as np
    from test_data_sources import idx_bytes, make_image_folder

    folder.mkdir(parents=True, exist_ok=True)
    rows = [",".join(f"{i % 7}" for _ in range(8)) + f",{i % 3}" for i in range(100)]
    (folder / "table.csv").write_text("a,b,c,d,e,f,g,h,y\n" + "\n".join(rows) + "\n")
    np.savez(folder / "arrays.npz", x=np.ones((100, 8)), y=np.arange(100) % 3)  # a batch of 64 fits
    (folder / "images.idx").write_bytes(idx_bytes(np.zeros((100, 8, 8), np.uint8), 8))
    (folder / "labels.idx").write_bytes(idx_bytes((np.arange(100) % 2).astype(np.uint8), 8))
    make_image_folder(folder / "pictures", per_class=50, size=(8, 8))  # a batch of 64 fits
    alphabet = "".join(chr(ord("0") + i) for i in range(71))  # the recipe's 71 characters
    (folder / "a very long folder name with spaces and 'quotes' in it.txt").write_text(
        alphabet * 10)
    return {
        "csv": {"source": "csv", "path": str(folder / "table.csv"), "target": "y",
                "features": ["a", "b", "c", "d", "e", "f", "g", "h"]},
        "npz": {"source": "npz", "path": str(folder / "arrays.npz")},
        "mnist_idx": {"source": "mnist_idx", "images": str(folder / "images.idx"),
                      "labels": str(folder / "labels.idx")},
        "image_folder": {"source": "image_folder", "path": str(folder / "pictures"),
                         "flip": True, "crop_padding": 2},
        "text": {"source": "text", "sequence": "many_to_many", "length": 16,
                 "path": str(folder / "a very long folder name with spaces and 'quotes' in it.txt")},
    }


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff is a test dependency")
def test_every_combination_of_settings_renders_clean_code(tmp_path):
    files = source_files(tmp_path / "data")
    image = Design()
    x = image.add("Input", shape=(1, 8, 8))
    image.add("Output", image.add("Linear", image.add("Flatten", x), out_features=2))
    image_autoencoder = Design()
    x = image_autoencoder.add("Input", shape=(1, 8, 8))
    code = image_autoencoder.add("Linear", image_autoencoder.add("Flatten", x), out_features=64)
    image_autoencoder.add("Output", image_autoencoder.add("Reshape", code, shape=(1, 8, 8)))
    cases = []
    for schedule in ("none", "step", "cosine", "plateau"):
        for optimizer in ({"name": "sgd", "nesterov": True}, {"name": "adamw"},
                          {"name": "rmsprop"}):
            for recipe in sorted(RECIPES):
                extra = {} if recipe == "gan" else {"early_stopping": {"enabled": True}}
                cases.append(RECIPES[recipe](schedule={"name": schedule}, optimizer=optimizer,
                                             grad_clip=1.0, **extra))
    for name, data in files.items():
        design = (image if name in ("image_folder", "mnist_idx") else
                  RECIPES["characters"]() if name == "text" else RECIPES["classification"]())
        for task in ("classification", "autoencoder", "gan") if name == "image_folder" else ("",):
            copy = (image_autoencoder if task == "autoencoder" else design).copy()
            copy.set_training(data=data, compile=True, precision="fp16",
                              **({"task": task} if task and task != "gan" else {}))
            cases.append(copy)
    cases.append(RECIPES["gan"](compile=True, precision="bf16", data={"validation_split": 0.0}))
    sensors = [f"sensor_{i}" for i in range(30)]  # a feature list too long for one line
    wide = tmp_path / "data" / "sensors.csv"
    wide.write_text(",".join([*sensors, "y"]) + "\n" + "\n".join(
        ",".join(["1"] * 30 + [str(i % 3)]) for i in range(100)) + "\n")
    wide_design = RECIPES["classification"](data={**files["csv"], "path": str(wide),
                                                  "validation_split": 0.0, "features": sensors})
    wide_design.set_params(wide_design.find("features"), shape=(30,))
    cases.append(wide_design)
    for index, design in enumerate(cases):
        exported_script(design, tmp_path / f"case{index}")
    assert_ruff_clean(tmp_path)


def image_design(folder):
    from test_data_sources import make_image_folder

    make_image_folder(folder)
    d = Design()
    x = d.add("Input", shape=(1, 8, 8))
    h = d.add("Flatten", d.add("Conv2d", x, out_channels=4, kernel_size=3))
    d.add("Output", d.add("Linear", h, out_features=2))
    d.set_training(epochs=EPOCHS, batch_size=4, data={
        "source": "image_folder", "path": str(folder), "flip": True, "rotate": 10.0,
        "validation_split": 0.25})
    return d


def csv_design(folder):
    folder.mkdir()
    rows = ["a,b,c,kind"] + [f"{i % 7},{i % 5 - 2},{(i * 3) % 11},{'xy'[i % 2]}"
                             for i in range(200)]
    (folder / "table.csv").write_text("\n".join(rows) + "\n")
    return RECIPES["classification"](inputs=3, classes=2, data={
        "source": "csv", "path": str(folder / "table.csv"), "target": "kind"})


@pytest.mark.slow
@pytest.mark.parametrize("make", [image_design, csv_design])
def test_exported_script_reproduces_runs_on_the_users_files(make, tmp_path):
    design = make(tmp_path / "data")
    final, app, exported = train_both_ways(design, tmp_path)
    assert final.kind == "finished", getattr(final, "reason", "")
    assert [r["loss"] for r in exported] == pytest.approx([r["loss"] for r in app], rel=1e-5)
    assert [r["val_loss"] for r in exported] == pytest.approx([r["val_loss"] for r in app],
                                                              rel=1e-5)


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff is a test dependency")
def test_a_layer_whose_output_nothing_reads_is_called_without_naming_its_result(tmp_path):
    """An imported auxiliary head, or a layer left unwired: called as the original calls it,
    with no variable bound that nothing reads (ruff's F841)."""
    design = Design("aux")
    x = design.add("Input", shape=(4,))
    design.add("Linear", x, out_features=3, name="aux")
    design.add("Output", design.add("Linear", x, out_features=2, name="fc"))
    script = exported_script(design, tmp_path)
    assert "        self.aux(input1)\n" in script.read_text(encoding="utf-8")
    assert_ruff_clean(script)
