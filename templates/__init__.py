"""Starting designs shipped with NeuralCanvas, one `.ncnet` file each, with a picture of its
graph (`<name>.png`, drawn by `python tools/render_template_pictures.py`).

Each template carries a teaching card in `design.card`: what the network family is for, how it
is built, what to try changing, and the pitfall it is prone to.
"""

from __future__ import annotations

from pathlib import Path

from engine.design import Design
from engine.errors import DesignError
from engine.fileformat import load_design

TEMPLATE_DIR = Path(__file__).resolve().parent

# The card's keys in reading order, with the heading each is shown under.
CARD_SECTIONS = (("purpose", "What it is for"), ("structure", "How it is built"),
                 ("try", "Try this"), ("pitfall", "Watch out for"))


def template_names() -> list[str]:
    """Template names in gallery order: simplest first, as a course would teach them."""
    order = ["mlp", "cnn", "rnn", "gru", "gan", "dcgan", "autoencoder", "transformer", "resnet",
             "transfer"]
    present = {p.stem for p in TEMPLATE_DIR.glob("*.ncnet")}
    return [n for n in order if n in present] + sorted(present - set(order))


def template_path(name: str) -> Path:
    path = TEMPLATE_DIR / f"{name}.ncnet"
    if not path.is_file():
        raise DesignError(f"there is no template {name!r}; available: "
                          f"{', '.join([BLANK, *template_names()])}")
    return path


def picture_path(name: str) -> Path:
    """Where the picture of a template's graph is kept (it may not be drawn yet)."""
    return TEMPLATE_DIR / f"{name}.png"


BLANK = "blank"   # not a file: one Input, no description, default settings
BLANK_SUMMARY = "One Input and nothing else, to build a network from scratch."


def blank_design() -> Design:
    """A design with one Input, no description and default training settings."""
    design = Design("untitled")
    design.add("Input", pos=(0.0, 0.0))
    return design


def load_template(name: str) -> Design:
    return blank_design() if name == BLANK else load_design(template_path(name))


def summary_line(design: Design) -> str:
    """The first sentence of a design's description, for listings."""
    text = design.description.strip()
    return text.split(". ")[0].rstrip(".") + "." if text else ""


def card_sections(design: Design) -> list[tuple[str, str]]:
    """The design's card as (heading, text) pairs in reading order, leaving out empty parts."""
    return [(heading, design.card[key].strip()) for key, heading in CARD_SECTIONS
            if design.card.get(key, "").strip()]
