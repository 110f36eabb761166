"""`neuralcanvas lr-find DESIGN [-o plot.png]`: the learning-rate range test headless; prints
the suggested rate and why (registered with engine.cli)."""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.cli import command
from engine.errors import DesignError
from engine.fileformat import load_design
from engine.training.data_paths import anchored_to_folder
from engine.training.lr_finder import END_LR, START_LR, STEPS


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="a design file (.ncnet)")
    parser.add_argument("-o", "--output", help="also draw the curve into this picture (.png)")
    parser.add_argument("--force", action="store_true", help="overwrite the picture if it "
                        "exists")
    parser.add_argument("--steps", type=int, default=STEPS,
                        help=f"training steps of the test (default {STEPS})")
    parser.add_argument("--start", type=float, default=START_LR,
                        help=f"the first learning rate (default {START_LR:g})")
    parser.add_argument("--end", type=float, default=END_LR,
                        help=f"the last learning rate (default {END_LR:g})")
    parser.add_argument("--device", help="auto, cpu, cuda, cuda:N or mps (default: the "
                        "design's setting)")


@command("lr-find", "suggest a learning rate with a range test (the design is not changed)",
         _configure)
def _lr_find(args: argparse.Namespace) -> int:
    from engine.training.lr_finder import find_learning_rate
    from engine.training.lr_plot import save_lr_curve

    design = anchored_to_folder(load_design(args.file), Path(args.file).resolve().parent)
    overrides = {"device": args.device} if args.device else {}
    curve = find_learning_rate(design, args.steps, args.start, args.end, overrides)
    print(f"suggested learning rate: {curve.suggestion:.3g} ({curve.rule} of the smoothed "
          f"loss; lowest loss at {curve.minimum:.3g})")
    print(f"the design's {curve.optimizer} uses {curve.current:.3g}; the test ran "
          f"{len(curve.losses)} steps and stopped because {curve.ended}")
    if args.output:
        try:
            save_lr_curve(curve, f"{design.name or Path(args.file).stem}: loss against "
                          "learning rate", args.output)
        except (OSError, ValueError) as err:   # Pillow's ValueError: a suffix it cannot write
            raise DesignError(f"cannot write {args.output}: {err}") from None
        print(f"wrote {args.output}")
    return 0
