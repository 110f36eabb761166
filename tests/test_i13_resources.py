"""Issue 13, resources/ at the top level: the app finds its icons, guide and app icon in a
checkout, and a wheel carries them (as designer.assets) so an installed app finds them too."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile

import pytest
from import_graph import ROOT
from setuptools import find_packages

from designer.app import ICON_PATH
from designer.panels.user_guide import GUIDE_PATH
from designer.resources import resource_path
from designer.theme import ICON_DIR


def test_the_app_finds_every_resource_in_the_top_level_folder():
    assert resource_path() == ROOT / "resources"
    assert ICON_PATH.is_file() and GUIDE_PATH.is_file()
    assert sorted(ICON_DIR.glob("*.svg"))
    assert not (ROOT / "designer" / "resources").exists()


def test_the_wheel_lists_every_package_in_the_tree():
    """pyproject lists the packages (to map resources/ in): none may be left out."""
    listed = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    found = find_packages(str(ROOT), include=["engine*", "designer*", "templates*"])
    assert sorted(listed) == sorted(found + ["designer.assets"])


@pytest.mark.slow
def test_a_built_wheel_carries_the_resources(tmp_path):
    """Built from a copy, so the build leaves nothing in the checkout."""
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for name in ("designer", "engine", "templates", "resources"):
        shutil.copytree(ROOT / name, source / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps",
                    "--no-build-isolation", "-q", "-w", str(tmp_path)], check=True, cwd=tmp_path)
    (wheel,) = tmp_path.glob("neuralcanvas-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {f"designer/assets/{p.relative_to(ROOT / 'resources').as_posix()}"
               for p in (ROOT / "resources").rglob("*") if p.is_file()}
    assert shipped and shipped <= names
