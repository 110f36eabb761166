"""Issue 11 item 3, judged on new cases: whatever makes a run refuse to start (a generator that
does not fit its discriminator, a data file that is not there, a setting a GAN cannot use) is
an error of `check` and of `neuralcanvas check` (exit 1), never "no problems"."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import Design, check
from engine.cli import main as cli_main
from engine.fileformat import save_design
from engine.training.plan import make_plan
from templates import load_template


def dcgan_with_a_28x28_discriminator() -> Design:
    design = load_template("dcgan")
    image = next(n for n in design.nodes("discriminator") if design.node(n).type == "Input")
    design.set_params(image, shape=(1, 28, 28))
    return design


def mlp_on_a_missing_csv(folder: Path) -> Design:
    design = load_template("mlp")
    design.set_training(data={"source": "csv", "path": str(folder / "absent.csv"),
                              "target": "label"})
    return design


def gan_with_early_stopping() -> Design:
    design = load_template("gan")
    design.set_training(early_stopping={"enabled": True})
    return design


@pytest.mark.parametrize("make, words", [
    (lambda _folder: dcgan_with_a_28x28_discriminator(),
     ("the generator makes samples of shape (1, 8, 8) but the discriminator's Input takes "
      "(1, 28, 28)")),
    (mlp_on_a_missing_csv, "File or folder (Setup > Task and data): there is no file"),
    (lambda _folder: gan_with_early_stopping(), "Early stopping (Setup > Length)")])
def test_a_design_the_run_refuses_is_an_error_of_check(tmp_path, capsys, make, words):
    design = make(tmp_path)
    with pytest.raises(Exception) as refused:  # what F5 meets
        make_plan(design)
    [problem] = check(design).errors
    assert words in problem.message and problem.message == str(refused.value)
    save_design(design, tmp_path / "refused.ncnet")
    assert cli_main(["check", str(tmp_path / "refused.ncnet")]) == 1
    assert words in capsys.readouterr().out


def test_errors_in_a_network_are_not_repeated_as_a_refused_run():
    design = load_template("dcgan")
    noise = next(n for n in design.nodes("generator") if design.node(n).type == "Input")
    design.set_params(noise, shape=(3, 4, 5))  # the generator's first Linear cannot take it
    errors = check(design).errors
    assert errors and all(p.node is not None for p in errors)
