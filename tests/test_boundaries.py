"""The engine stays GUI-free and loading never runs code from a file."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QT_IMPORT = re.compile(r"^\s*(from|import)\s+(PySide6|pyqtgraph|shiboken6|designer)\b", re.MULTILINE)
UNSAFE = re.compile(r"pickle\.loads?\(|weights_only\s*=\s*False|(^|[^.\w])eval\(")


def test_engine_sources_never_import_qt_or_the_designer():
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "engine").rglob("*.py")
                 if QT_IMPORT.search(p.read_text(encoding="utf-8"))]
    assert offenders == []


def test_importing_the_engine_loads_no_qt():
    code = ("import sys, engine, engine.cli, templates; engine.cli.build_parser(); "
            "import engine.layers; engine.layers.all_layers(); "
            "bad = [m for m in sys.modules if m.split('.')[0] in "
            "('PySide6', 'pyqtgraph', 'shiboken6', 'designer')]; print(bad); sys.exit(bool(bad))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_pickle_eval_or_unsafe_torch_load():
    offenders = [str(p.relative_to(ROOT)) for folder in ("engine", "designer")
                 for p in (ROOT / folder).rglob("*.py")
                 if UNSAFE.search(p.read_text(encoding="utf-8"))]
    assert offenders == []
