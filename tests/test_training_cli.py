"""`neuralcanvas train`: headless training with progress, files, resume and a clean Ctrl+C."""

import json
import signal
import subprocess
import sys

import pytest
from test_training_support import classifier, read_metrics

from engine import save_design
from engine.cli import main
from engine.training.checkpoint import load_checkpoint

CLI = "import sys; from engine.cli import main; sys.exit(main())"


@pytest.mark.slow
def test_train_writes_metrics_weights_checkpoints_and_summary(tmp_path, capsys):
    save_design(classifier(), tmp_path / "net.ncnet")
    out = tmp_path / "out"
    code = main(["train", str(tmp_path / "net.ncnet"), "--epochs", "2", "--device", "cpu",
                 "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0
    assert "epoch 2/2" in printed and "val_accuracy" in printed and "parameters" in printed
    assert len(read_metrics(out / "metrics.csv")) == 2
    assert (out / "last" / "model.safetensors").is_file()
    assert (out / "best" / "model.safetensors").is_file()
    assert (out / "design.ncnet").is_file()
    assert json.loads((out / "summary.json").read_text())["epochs_done"] == 2
    code = main(["train", str(tmp_path / "net.ncnet"), "--epochs", "3", "--out",
                 str(tmp_path / "more"), "--resume", str(out / "checkpoints" / "epoch-0002")])
    assert code == 0
    assert [row["epoch"] for row in read_metrics(tmp_path / "more" / "metrics.csv")] == [1, 2, 3]


def test_a_run_that_cannot_start_says_why(tmp_path, capsys):
    save_design(classifier(data={"source": "csv", "path": str(tmp_path / "missing.csv"),
                                 "target": "y"}), tmp_path / "net.ncnet")
    code = main(["train", str(tmp_path / "net.ncnet"), "--out", str(tmp_path / "out")])
    assert code == 1
    assert "there is no file" in capsys.readouterr().out


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_and_keeps_the_last_checkpoint(tmp_path):
    design = classifier(epochs=200, data={"source": "generated", "samples": 8192})
    design.set_params(design.find("hidden"), out_features=512)
    save_design(design, tmp_path / "net.ncnet")
    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-c", CLI, "train", str(tmp_path / "net.ncnet"),
                                "--out", str(out)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in process.stdout:
        if line.startswith("epoch 1/"):
            break
    process.send_signal(signal.SIGINT)
    rest, errors = process.communicate(timeout=60)
    assert process.returncode == 130, errors
    assert "stopped after" in rest and "stopping after this step" in errors
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "stopped" and summary["epochs_done"] < 200
    assert load_checkpoint(out / "checkpoints" / "epoch-0001").record["epoch"] == 1
