"""Issue 17, what waiting people pay for in imports: the editor, `check` and `export` (and the
Code tab's text, written in the editor) never import torch or the libraries that come with it;
`import engine` loads only what a name asked for needs; a command line imports only the module
of its command. Each check runs in a fresh interpreter and reads its sys.modules."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import engine
from engine import cli

ROOT = Path(__file__).resolve().parents[1]
CNN = ROOT / "templates" / "cnn.ncnet"
TORCH_AND_CO = ("torch", "torchvision", "sklearn", "scipy")


def loaded_after(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running `code`."""
    script = f"import json, sys\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                            text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return set(json.loads(result.stdout.splitlines()[-1]))


def heavy(modules: set[str]) -> list[str]:
    return sorted({name.split(".")[0] for name in modules} & set(TORCH_AND_CO))


def test_the_editor_and_its_code_tab_never_import_torch():
    modules = loaded_after(
        "from engine import cli\n"
        "cli.command_names()\n"
        "from designer.app import application, open_main_window\n"
        "import designer.main_window, designer.panels.code_view\n"
        "from designer.file_tasks import script_text\n"
        f"from engine.fileformat import load_design\n"
        f"text, exportable = script_text(load_design({str(CNN)!r}).to_dict())\n"
        "assert exportable and 'class' in text\n")
    assert "designer.main_window" in modules
    assert heavy(modules) == []


@pytest.mark.parametrize("command", [["check", str(CNN)], ["export", str(CNN), "-o", "{out}"]],
                         ids=["check", "export"])
def test_check_and_export_never_import_torch(tmp_path, command):
    argv = [part.replace("{out}", str(tmp_path / "x.py")) for part in command]
    modules = loaded_after(f"from engine import cli\nassert cli.main({argv!r}) == 0\n")
    assert heavy(modules) == []
    assert not {"numpy", "networkx"} & modules   # a design's graph is engine.graph's
    if command[0] == "check":   # nor code generation, nor the training commands, nor the
        # readers of data files (the template trains on generated data)
        assert not {"engine.codegen.export", "engine.training.train_cli",
                    "engine.training.data_rows"} & modules


def test_importing_engine_loads_what_a_name_needs():
    modules = loaded_after("import engine\n")
    assert not {"engine.codegen.export", "engine.compiler", "engine.importing",
                "engine.checking", "networkx"} & modules
    modules = loaded_after("from engine import Design\n")
    assert "engine.design" in modules and "engine.codegen.export" not in modules


def test_engine_names_resolve_on_first_use():
    from engine.codegen.export import generate_code
    from engine.design import Design

    assert engine.Design is Design and engine.generate_code is generate_code
    assert set(engine.__all__) == {"__version__", *engine._HOMES}
    assert set(engine.__all__) <= set(dir(engine))
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        engine.nothing  # noqa: B018


def test_the_command_table_names_the_module_of_each_command():
    cli.build_parser()   # every module imported: every command registered
    assert set(cli.COMMANDS) == set(cli.command_names())
    for name, module in cli.COMMAND_MODULES.items():
        assert cli.COMMANDS[name][2].__module__ == module


def test_a_command_line_builds_only_its_command(capsys):
    parser = cli.build_parser("check")
    assert parser.parse_args(["check", str(CNN)]).command == "check"
    with pytest.raises(SystemExit):
        parser.parse_args(["export", str(CNN), "-o", "x.py"])
    capsys.readouterr()


FIRST_PAINT = """
import json, sys, tempfile
from pathlib import Path
from PySide6.QtCore import QEvent, QEventLoop, QObject, QTimer
from designer.app import application, open_main_window
from designer.settings import AppSettings

class FirstPaint(QObject):
    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint and not seen:
            seen.extend(sys.modules)
            QTimer.singleShot(0, painted.quit)
        return False

seen = []
folder = Path(tempfile.mkdtemp())
app = application()
window = open_main_window(None, AppSettings(folder / "settings.ini"), None, folder / "recovery")
watcher = FirstPaint()
window.installEventFilter(watcher)
window.update()
painted = QEventLoop()
painted.exec()   # the window's catch-up after its first paint ran first: it was queued first
import gc
print(json.dumps({"at first paint": sorted(seen), "frozen": gc.get_freeze_count(),
                  "tracked": len(gc.get_objects())}), flush=True)
import os
os._exit(0)
"""


def test_the_window_paints_before_plots_arrays_importers_and_the_compiler_load():
    """What the first frame does not wait for: pyqtgraph (the Training panel's curves come
    after it), numpy (the run store, the live buffers and the pictures read arrays once a run,
    a preview or a prediction brings them; engine.on_first_use), networkx (a design's graph
    is engine.graph's), the work done in the helper process (prediction, data loading), and
    the dialogs with what they read (the import and export engines, the About dialog's package
    metadata: imported when a dialog opens)."""
    result = subprocess.run([sys.executable, "-c", FIRST_PAINT], cwd=ROOT, capture_output=True,
                            text=True, timeout=300, check=False,
                            env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert result.returncode == 0, result.stderr[-2000:]
    found = json.loads(result.stdout.splitlines()[-1])
    modules = set(found["at first paint"])
    assert {"designer.main_window", "designer.training.live", "engine.runs"} <= modules
    assert not {"pyqtgraph", "numpy", "networkx", "grandalf", "engine.prediction",
                "engine.training.data", "engine.importing", "engine.compiler",
                "engine.export_onnx", "designer.panels.import_dialog",
                "designer.panels.export_dialog", "designer.panels.about",
                "importlib.metadata"} & modules
    assert heavy(modules) == []
    # then start-up's objects left the garbage collector's passes (designer.heap), so
    # that a full collection no longer stalls the window
    assert found["frozen"] > 10 * found["tracked"]


def test_a_module_on_first_use_is_imported_when_a_name_of_it_is_read():
    modules = loaded_after(
        "from engine.on_first_use import ModuleOnFirstUse\n"
        "colours = ModuleOnFirstUse('colorsys')\n"
        "assert 'colorsys' not in sys.modules, 'imported before use'\n"
        "assert colours.rgb_to_hsv(1.0, 0.0, 0.0) == (0.0, 1.0, 1.0)\n"
        "assert 'rgb_to_hsv' in vars(colours)   # kept: later reads are plain reads\n")
    assert "colorsys" in modules
