"""The learning-rate range test: a suggestion read off the curve by a stated rule, on a throwaway
copy of the design; on `mlp` it lies within a factor of 10 of the template's own rate and
training with it reaches the template's target; the plot, the command and the worker call."""

from __future__ import annotations

import importlib.util
import math
import os
import signal
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine import DesignError, save_design
from engine.cli import main
from engine.training.lr_finder import LrCurve, find_for_worker, find_learning_rate, suggest
from engine.training.lr_plot import draw_lr_curve
from engine.training.worker import TrainingService
from templates import load_template

ROOT = Path(__file__).resolve().parents[1]


def _benchmarks():
    """benchmarks/templates.py: the templates' targets and how it trains them."""
    spec = importlib.util.spec_from_file_location("template_benchmarks",
                                                  ROOT / "benchmarks" / "templates.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module   # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _curve(rates: np.ndarray, losses: np.ndarray) -> LrCurve:
    suggestion, rule, minimum = suggest(rates, losses)
    return LrCurve(rates, losses, losses, suggestion, rule, minimum, 1e-3, "adam", "test")


def test_the_suggestion_is_the_steepest_fall_before_the_minimum():
    rates = np.logspace(-6, 0, 61)
    exponents = np.log10(rates)
    losses = 2.0 - np.tanh(exponents + 3.0) + np.where(exponents > -1, 10 * (exponents + 1), 0)
    suggestion, rule, minimum = suggest(rates, losses)
    assert rule == "steepest descent"
    assert suggestion == pytest.approx(1e-3, rel=0.3)   # where tanh falls fastest
    assert minimum == pytest.approx(0.1, rel=0.3)


def test_a_curve_flat_until_it_blows_up_falls_back_to_a_tenth_of_its_minimum():
    rates = np.logspace(-6, 0, 30)
    losses = np.full(30, 2.0)
    losses[13:] = np.linspace(3, 30, 17)
    assert suggest(rates, losses) == (pytest.approx(rates[0] / 10), "minimum / 10",
                                      pytest.approx(rates[0]))


def test_the_plot_marks_the_suggestion_and_the_designs_rate():
    rates = np.logspace(-7, 0, 100)
    losses = 2.0 - np.tanh(np.log10(rates) + 3) + np.random.default_rng(0).normal(0, .05, 100)
    image = draw_lr_curve(_curve(rates, losses), "a curve")
    pixels = np.asarray(image)
    assert image.size == (900, 560)
    for colour in ((200, 60, 40), (60, 140, 80), (40, 70, 160)):   # suggested, own, smoothed
        assert (pixels == colour).all(axis=2).sum() > 100, colour


def test_a_gan_and_impossible_ranges_are_refused_by_name():
    with pytest.raises(DesignError, match="a GAN's generator and discriminator"):
        find_learning_rate(load_template("gan"))
    with pytest.raises(DesignError, match="0 < start < end"):
        find_learning_rate(load_template("mlp"), start=1.0, end=0.1)


@pytest.mark.slow
def test_on_mlp_the_suggestion_is_near_its_own_rate_and_trains_to_its_target():
    design = load_template("mlp")
    before = design.to_dict()
    curve = find_learning_rate(design)
    assert design.to_dict() == before   # a throwaway copy trained
    assert 20 < len(curve.losses) <= 200 and "4x its best" in curve.ended
    assert curve.current == 0.003 and 0.1 < curve.suggestion / curve.current < 10
    assert curve.smoothed.min() < curve.losses[0] / 2   # the curve shows a real descent

    benchmarks = _benchmarks()
    run = benchmarks.train("mlp", {"optimizer.lr": float(curve.suggestion)})
    outcome = benchmarks.TARGETS["mlp"].measure(run)
    assert outcome.met, outcome.figure


@pytest.mark.slow
def test_the_command_prints_the_suggestion_and_draws_the_curve(tmp_path, capsys):
    save_design(load_template("mlp"), tmp_path / "mlp.ncnet")
    plot = tmp_path / "curve.png"
    assert main(["lr-find", str(tmp_path / "mlp.ncnet"), "--steps", "60", "--start", "1e-5",
                 "-o", str(plot)]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("suggested learning rate: ")
    assert "the design's adam uses 0.003" in printed and f"wrote {plot}" in printed
    assert Image.open(plot).size == (900, 560)
    assert main(["lr-find", str(tmp_path / "mlp.ncnet"), "-o", str(plot)]) == 1   # no --force


def test_the_command_names_what_cannot_run(tmp_path, capsys):
    save_design(load_template("gan"), tmp_path / "gan.ncnet")
    assert main(["lr-find", str(tmp_path / "gan.ncnet")]) == 2
    assert "learning-rate finder follows one loss" in capsys.readouterr().err


@pytest.mark.slow
def test_the_training_worker_answers_calls_between_runs():
    with TrainingService() as service:
        refused = service.call(find_for_worker, load_template("gan").to_dict(), {})
        reply = refused.result(timeout=120)
        assert reply.value is None and "a GAN's generator" in reply.error
        call = service.call(find_for_worker, load_template("mlp").to_dict(),
                            {"steps": 40, "start": 1e-4, "end": 1.0})
        reply = call.result(timeout=120)
        assert reply.error is None and isinstance(reply.value, LrCurve)
        assert math.isfinite(reply.value.suggestion) and call.result() is reply
        run = service.start(load_template("mlp"), overrides={"epochs": 1})
        with pytest.raises(DesignError, match="a run is going"):
            service.call(find_for_worker, load_template("mlp").to_dict(), {})
        run.wait(timeout=120)
        assert run.final.kind == "finished"
        lost = service.call(find_for_worker, load_template("mlp").to_dict(), {})
        os.kill(service.worker_pid, signal.SIGKILL)
        assert lost.result(timeout=60).error == ("the training process ended before "
                                                 "answering: was killed (SIGKILL)")
