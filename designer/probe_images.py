"""Probe pictures (engine.probes.Picture: uint8 levels) as coloured QImages, and the words the
canvas and the inspector both use for a probe's statistics and flags. No torch here."""

from __future__ import annotations

from PySide6.QtGui import QImage

from engine.probes import NodeProbe, Picture, Statistics
from engine.probes.colours import coloured
from engine.training.diagnostics import UNIT_FLAGS


def picture_images(picture: Picture) -> list[QImage]:
    """One RGB image per map (a channel), or the one image of a sequence, vector or scalar."""
    import numpy as np  # here, not at the top: the editor starts without numpy

    rgb = np.ascontiguousarray(coloured(picture.pixels, picture.diverging))
    images = []
    for layer in rgb:
        height, width = layer.shape[:2]
        data = np.ascontiguousarray(layer)
        images.append(QImage(data.data, width, height, 3 * width,
                             QImage.Format.Format_RGB888).copy())
    return images


def share(value: float) -> str:
    """A share as a percentage without false precision: '0%', '<1%', '37%'."""
    if value == 0:
        return "0%"
    return "<1%" if value < 0.01 else f"{value:.0%}"


def statistics_line(statistics: Statistics) -> str:
    """The tag's one line: zeros, and saturated or dead units where the layer has them."""
    parts = [f"zero {share(statistics.zeros)}"]
    if statistics.saturated is not None:
        parts.append(f"saturated {share(statistics.saturated)}")
    if statistics.dead is not None:
        parts.append(f"dead {share(statistics.dead)}")
    return " \u00b7 ".join(parts)


def statistics_rows(statistics: Statistics) -> list[tuple[str, str]]:
    """(name, value) rows for the inspector's table."""
    rows = [("Mean", f"{statistics.mean:.4g}"), ("Std", f"{statistics.std:.4g}"),
            ("Min", f"{statistics.min:.4g}"), ("Max", f"{statistics.max:.4g}"),
            ("Zero", f"{share(statistics.zeros)} of the units, for this sample")]
    if statistics.saturated is not None:
        rows.append(("Saturated", f"{share(statistics.saturated)} near a bound"))
    if statistics.dead is not None:
        rows.append(("Dead", (f"{share(statistics.dead)} zero for all {statistics.batch} "
                              "samples of the batch")))
    return rows


def flag_texts(probed: NodeProbe) -> list[tuple[str, str, str]]:
    """(headline, why it matters, what to change) for each flag of the node's output, in the
    words of the run's diagnostics."""
    statistics = probed.statistics
    found = []
    for flag in statistics.flags:
        amount = statistics.dead if flag == "dead" else statistics.saturated
        why, fix = UNIT_FLAGS[flag]
        found.append((f"{share(amount or 0.0)} of the units of {probed.label!r} are {flag}",
                      why, fix))
    return found


def picture_caption(picture: Picture) -> str:
    """What the picture shows of the output: '8 of 32 channels', '64 features'."""
    noun = {"maps": "channels", "sequence": "features", "vector": "values"}.get(picture.kind)
    if noun is None:
        return "one value"
    if picture.shown < picture.total:
        verb = "" if picture.kind == "maps" else " (averaged)"
        return f"{picture.shown} of {picture.total} {noun}{verb}"
    return f"{picture.total} {noun}"
