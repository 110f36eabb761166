"""Starting designs shipped with NeuralCanvas, one `.ncnet` file each."""

from __future__ import annotations

from pathlib import Path

from engine.design import Design
from engine.errors import DesignError
from engine.fileformat import load_design

TEMPLATE_DIR = Path(__file__).resolve().parent


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
                          f"{', '.join(template_names())}")
    return path


def load_template(name: str) -> Design:
    return load_design(template_path(name))


def summary_line(design: Design) -> str:
    """The first sentence of a design's description, for listings."""
    text = design.description.strip()
    return text.split(". ")[0].rstrip(".") + "." if text else ""
