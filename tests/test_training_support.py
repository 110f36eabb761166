"""Small designs for each training recipe and helpers to run them (imported by the training,
data, worker, script and torchrun tests; no tests of its own)."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

from engine import Design
from engine.training.control import Control
from engine.training.trainer import RunOptions, Trainer


def classifier(inputs: int = 8, classes: int = 3, **training) -> Design:
    d = Design("classifier")
    x = d.add("Input", shape=(inputs,), name="features")
    h = d.add("Linear", x, out_features=32, name="hidden")
    h = d.add("ReLU", h, name="relu")
    y = d.add("Linear", h, out_features=classes, name="scores")
    d.add("Output", y, name="label")
    _settle(d, training, task="classification", data={"source": "generated", "samples": 512},
                   optimizer={"name": "adam", "lr": 0.01}, epochs=4, batch_size=32)
    return d


def regressor(inputs: int = 8, **training) -> Design:
    d = Design("regressor")
    x = d.add("Input", shape=(inputs,), name="features")
    h = d.add("Linear", x, out_features=32, name="hidden")
    h = d.add("Tanh", h, name="tanh")
    y = d.add("Linear", h, out_features=2, name="values")
    d.add("Output", y, name="prediction")
    _settle(d, training, task="regression", data={"source": "generated", "samples": 512},
                   optimizer={"name": "adam", "lr": 0.01}, epochs=4, batch_size=32)
    return d


def forecaster(sequence: str = "many_to_one", **training) -> Design:
    d = Design("forecaster")
    x = d.add("Input", shape=(16, 1), name="window")
    h = d.add("GRU", x, hidden_size=16, name="gru",
              output="sequence" if sequence == "many_to_many" else "last")
    y = d.add("Linear", h, out_features=1, name="next_value")
    d.add("Output", y, name="forecast")
    _settle(d, training, task="sequence", data={"source": "waves", "samples": 256, "length": 16,
                                          "sequence": sequence},
                   optimizer={"name": "adam", "lr": 0.01}, epochs=3, batch_size=32)
    return d


def char_model(**training) -> Design:
    d = Design("chars")
    x = d.add("Input", shape=(16,), dtype="long", name="text")
    e = d.add("Embedding", x, num_embeddings=71, embedding_dim=16, name="embed")
    h = d.add("GRU", e, hidden_size=32, output="sequence", name="gru")
    y = d.add("Linear", h, out_features=71, name="next_char")
    d.add("Output", y, name="logits")
    _settle(d, training, task="sequence", data={"source": "text", "samples": 256, "length": 16,
                                          "sequence": "many_to_many", "validation_split": 0.1},
                   optimizer={"name": "adam", "lr": 0.01}, epochs=3, batch_size=32)
    return d


def autoencoder(**training) -> Design:
    d = Design("autoencoder")
    x = d.add("Input", shape=(64,), name="image")
    h = d.add("Linear", x, out_features=16, name="encode")
    z = d.add("Linear", d.add("ReLU", h, name="relu1"), out_features=2, name="code")
    h = d.add("Linear", z, out_features=32, name="decode")
    y = d.add("Linear", d.add("ReLU", h, name="relu2"), out_features=64, name="pixels")
    d.add("Output", y, name="reconstruction")
    d.add("Output", z, name="latent")
    _settle(d, training, task="autoencoder", data={"source": "digits", "layout": "flat"},
                   optimizer={"name": "adam", "lr": 0.01}, epochs=3, batch_size=64)
    return d


def gan(**training) -> Design:
    d = Design("gan", networks=("generator", "discriminator"))
    z = d.add("Input", shape=(4,), name="noise", network="generator")
    h = d.add("ReLU", d.add("Linear", z, out_features=32, name="g1", network="generator"),
              name="g_relu", network="generator")
    d.add("Output", d.add("Linear", h, out_features=2, name="point", network="generator"),
          name="fake", network="generator")
    p = d.add("Input", shape=(2,), name="point_in", network="discriminator")
    h = d.add("LeakyReLU", d.add("Linear", p, out_features=32, name="d1",
                                 network="discriminator"), name="d_act", network="discriminator")
    d.add("Output", d.add("Linear", h, out_features=1, name="realness",
                          network="discriminator"), name="score", network="discriminator")
    _settle(d, training, task="gan", data={"source": "gaussian_ring", "samples": 512},
                   optimizer={"name": "adam", "lr": 0.002, "beta1": 0.5}, epochs=3,
                   batch_size=64)
    return d


def _settle(design: Design, overrides: dict, **defaults) -> None:
    """Training settings: the recipe's defaults, then the test's overrides."""
    design.set_training(**(defaults | overrides))


RECIPES = {"classification": classifier, "regression": regressor, "sequence": forecaster,
           "characters": char_model, "autoencoder": autoencoder, "gan": gan}


def train(design: Design, out: Path | None = None, control: Control | None = None,
          **options) -> tuple[list, object]:
    """Run a design in this process; return (events, final event)."""
    events: list = []
    final = Trainer(design, events.append, RunOptions(out_dir=str(out) if out else None,
                                                      **options), control).run()
    return events, final


def of_kind(events: list, kind: str) -> list:
    return [e for e in events if e.kind == kind]


def read_metrics(path: Path) -> list[dict[str, float]]:
    with open(path, newline="") as stream:
        return [{k: float(v) for k, v in row.items() if v != ""} for row in csv.DictReader(stream)]


def exported_script(design: Design, folder: Path) -> Path:
    """Write the design's exported script (and the files it reads) into `folder`."""
    from engine.codegen.export import export_script

    exported = export_script(design)
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "train_design.py"
    script.write_text(exported.code, encoding="utf-8")
    for name, text in exported.assets.items():
        (folder / name).write_text(text, encoding="utf-8")
    return script


def run_script(script: Path, *arguments: str, launcher: tuple[str, ...] = (sys.executable,),
               timeout: float = 300) -> subprocess.CompletedProcess:
    result = subprocess.run([*launcher, str(script), *arguments], cwd=script.parent,
                            capture_output=True, text=True, timeout=timeout, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result
