"""The blank design is a starting point of the command line as of the gallery, and a reader that
stops early (`neuralcanvas templates | head`) ends the listing quietly."""

from __future__ import annotations

import subprocess
import sys

from engine import load_design
from engine.cli import main
from templates import BLANK, load_template


def test_new_blank_writes_the_galleries_blank_design(tmp_path, capsys):
    target = tmp_path / "mine.ncnet"
    assert main(["new", BLANK, "-o", str(target)]) == 0
    design = load_design(target)
    assert design == load_template(BLANK)
    assert [design.node(n).type for n in design.nodes()] == ["Input"]
    assert main(["templates"]) == 0
    assert capsys.readouterr().out.splitlines()[1].startswith(f"{BLANK} — ")


def test_templates_piped_into_a_reader_that_stops_early_ends_quietly():
    listing = subprocess.Popen([sys.executable, "-m", "engine.cli", "templates"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert listing.stdout.readline()       # read one line, then stop reading, as `head -1`
    listing.stdout.close()
    _, errors = listing.communicate(timeout=120)
    assert b"Traceback" not in errors and b"BrokenPipeError" not in errors, errors.decode()
