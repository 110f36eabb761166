"""Issue 11, item 16: once the window has closed, the app's process ends at once.

Closing had already ended the worker and the helper, but the interpreter's teardown then took
every Qt object and module down one by one: most of a second more before the process was
gone. The launcher ends the GUI process when the app returns, with its exit code and its
buffered output, and without that teardown.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CLOSED_APP = textwrap.dedent("""
    import atexit, sys
    import designer.app
    from designer import launcher, qt_platform_check

    qt_platform_check.platform_problem = lambda: None
    designer.app.run_app = lambda argv: (print("window closed", end=""), 3)[1]
    atexit.register(lambda: print(" and torn down"))
    sys.exit(launcher.main([]))
""")


def test_the_launcher_ends_the_process_when_the_app_returns_keeping_code_and_output():
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    result = subprocess.run([sys.executable, "-c", CLOSED_APP], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 3, result.stderr
    assert result.stdout == "window closed"     # flushed; the teardown (atexit) never ran
