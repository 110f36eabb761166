"""`neuralcanvas probe DESIGN --sample K [--weights W] -o sheet.png`: one sheet with every
node's output for one sample (registered with engine.cli)."""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.cli import add_output_options, command
from engine.errors import DesignError
from engine.fileformat import load_design
from engine.training.data_paths import anchored_to_folder


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="a design file (.ncnet)")
    parser.add_argument("--sample", type=int, default=0, metavar="K",
                        help="which training sample to show, counted from 0 (for a GAN's "
                        "generator: the seed of its noise; default 0)")
    parser.add_argument("--file", dest="sample_file", metavar="PATH",
                        help="show a sample from this file instead (an image, .npy, .npz or "
                        ".csv), read as Predict reads it")
    parser.add_argument("--network", help="the network to probe (default: the one trained; "
                        "a GAN's generator)")
    parser.add_argument("--weights", metavar="W", help="a .safetensors file or a run's "
                        "folder (default: the initial weights a run starts from)")
    add_output_options(parser, "the picture to write (.png)")


@command("probe", "draw what every layer of a design makes of one sample", _configure)
def _probe(args: argparse.Namespace) -> int:
    from engine.probes.probe import probe
    from engine.probes.sheet import save_sheet

    design = anchored_to_folder(load_design(args.file), Path(args.file).resolve().parent)
    found = probe(design, args.network, args.sample_file or args.sample, args.weights)
    try:
        save_sheet(found, f"{design.name or Path(args.file).stem}: what each layer makes of "
                   "one sample", args.output)
    except (OSError, ValueError) as err:   # Pillow's ValueError: a suffix it cannot write
        raise DesignError(f"cannot write {args.output}: {err}") from None
    print(f"wrote {args.output}: {len(found.nodes)} outputs of network {found.network!r} for "
          f"{found.source}, {found.weights}")
    for node in found.nodes:
        if node.statistics.flags:
            print(f"  warning: {node.label} ({node.layer}): "
                  f"{' and '.join(node.statistics.flags)} units")
    return 0
