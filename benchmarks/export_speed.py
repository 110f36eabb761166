"""Time of exporting a design as a Python script, this tree against an earlier version.

Designs: the cnn template, and torchvision's resnet50 imported (about 170 nodes). Each version
runs in a fresh interpreter of its own; "first" is the first export there (imports included:
torch, in versions whose code generation built modules), "median" the median of the next
`--rounds` exports of the same design.

    python benchmarks/export_speed.py --before 4656c3d~1 [--rounds 20]

`--before` is a git revision (its files are taken with `git archive`) or a folder holding an
earlier checkout.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_CHILD = """
import json, statistics, sys, time
from engine.codegen.export import generate_code
from engine.fileformat import load_design
results = {}
for path in sys.argv[2:]:
    design = load_design(path)
    start = time.perf_counter()
    generate_code(design)
    first = time.perf_counter() - start
    times = []
    for _ in range(int(sys.argv[1])):
        start = time.perf_counter()
        generate_code(design)
        times.append(time.perf_counter() - start)
    results[path] = (first, statistics.median(times), "torch" in sys.modules)
print(json.dumps(results))
"""


def measure(tree: Path, designs: list[Path], rounds: int) -> dict[str, list]:
    """{design path: [first s, median s, torch imported]} for the code in `tree`."""
    result = subprocess.run([sys.executable, "-c", _CHILD, str(rounds), *map(str, designs)],
                            cwd=tree, env={**os.environ, "PYTHONPATH": str(tree)},
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout.splitlines()[-1])


def source_tree(before: str, scratch: Path) -> Path:
    """A folder with the files of `before` (a folder already, or a git revision)."""
    if Path(before).is_dir():
        return Path(before)
    archive = scratch / "before.tar"
    with archive.open("wb") as stream:
        subprocess.run(["git", "archive", before], cwd=ROOT, stdout=stream, check=True)
    folder = scratch / "before"
    with tarfile.open(archive) as tar:
        tar.extractall(folder, filter="data")
    return folder


def imported_resnet50(folder: Path) -> Path:
    """torchvision's resnet50 imported into a design file (in a child: torch stays out)."""
    path = folder / "resnet50.ncnet"
    code = ("import torch, torchvision, sys\n"
            "from engine.importing import import_network\n"
            "from engine.fileformat import save_design\n"
            "model = torchvision.models.resnet50(weights=None).eval()\n"
            "result = import_network(model, torch.randn(1, 3, 64, 64))\n"
            "save_design(result.design, sys.argv[1])\n")
    subprocess.run([sys.executable, "-c", code, str(path)], cwd=ROOT, check=True)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="git revision or folder to compare with")
    parser.add_argument("--rounds", type=int, default=20, help="timed exports per design")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        designs = {"cnn template": ROOT / "templates" / "cnn.ncnet",
                   "resnet50 (imported)": imported_resnet50(scratch)}
        before = measure(source_tree(args.before, scratch), list(designs.values()), args.rounds)
        after = measure(ROOT, list(designs.values()), args.rounds)
    print(f"{'design':22} {'':7} {'first (s)':>10} {'median (ms)':>12} {'torch':>6}")
    for label, path in designs.items():
        for version, results in (("before", before), ("after", after)):
            first, median, torch = results[str(path)]
            print(f"{label:22} {version:7} {first:10.2f} {median * 1000:12.1f} "
                  f"{'yes' if torch else 'no':>6}")


if __name__ == "__main__":
    main()
