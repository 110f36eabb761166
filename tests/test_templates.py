"""Every template: complete (description, card, picture), clean under check, and trainable by
the engine: one short epoch on a subset of its data gives finite losses, validation figures and
the samples its card promises."""

from __future__ import annotations

import math

import pytest
from test_codegen_helpers import single_thread

from engine import check
from engine.cli import main as cli_main
from engine.training.settings import settings_from
from engine.training.trainer import RunOptions, Trainer
from templates import CARD_SECTIONS, card_sections, load_template, picture_path, template_names

NAMES = template_names()
EXPECTED = {"mlp", "cnn", "rnn", "gru", "gan", "dcgan", "autoencoder", "transformer", "resnet",
            "transfer"}
# What each template's training shows besides curves (see engine.training.events, samples).
SAMPLES = {"gru": "text", "gan": "points", "dcgan": "images", "autoencoder": "vectors",
           "rnn": "series"}


def test_every_course_family_has_a_template():
    assert EXPECTED <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_template_has_its_description_card_and_picture(name):
    design = load_template(name)
    assert design.description.strip()
    assert [heading for heading, _ in card_sections(design)] == [h for _, h in CARD_SECTIONS]
    assert all(len(text) > 60 for _, text in card_sections(design))
    picture = picture_path(name)
    assert picture.is_file() and picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("name", NAMES)
def test_template_checks_clean(name):
    design = load_template(name)
    report = check(design)
    assert not report.errors, report.errors
    warnings = [p.message for p in report.problems]
    if name == "transfer":  # ships without weights: it says it trains from scratch
        [warning] = warnings
        assert "no weights file" in warning and "from scratch" in warning
    else:
        assert not warnings
    settings_from(design.training)  # the settings are valid as shipped


def short_run_overrides(design) -> dict:
    """One epoch on a few hundred samples of the template's own data source."""
    settings = settings_from(design.training)
    overrides: dict = {"epochs": 1, "checkpoint_every": 0}
    if settings.data.source == "digits":
        overrides["data.validation_split"] = 0.9
    else:
        overrides["data.samples"] = 320
    return overrides


@pytest.mark.slow
@pytest.mark.usefixtures(single_thread.__name__)
@pytest.mark.parametrize("name", NAMES)
def test_template_trains_one_short_epoch(name):
    design = load_template(name)
    events = []
    final = Trainer(design, events.append,
                    RunOptions(overrides=short_run_overrides(design))).run()
    assert final.kind == "finished", getattr(final, "reason", "")
    losses = [value for event in events if event.kind == "batch"
              for values in event.values.values() for value in values]
    assert losses and all(math.isfinite(v) for v in losses)
    [validation] = [e for e in events if e.kind == "validation"]
    assert validation.metrics and all(math.isfinite(v) for v in validation.metrics.values())
    shown = [e for e in events if e.kind == "samples"]
    if name in SAMPLES:
        assert shown and shown[-1].form == SAMPLES[name]
    if name == "autoencoder":  # the 2-D latent scatter
        assert shown[-1].latent.shape[1:] == (2,)
    if name == "gru":
        assert len(shown[-1].text) > 64


def test_cli_lists_every_template_with_its_card(capsys):
    assert cli_main(["templates"]) == 0
    out = capsys.readouterr().out
    for name in NAMES:
        assert f"\n{name} — " in f"\n{out}"
    assert out.count("Watch out for:") == len(NAMES)
    assert str(picture_path("cnn")) in out
