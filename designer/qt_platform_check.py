"""Before Qt starts: are the system libraries of its X11 platform plugin (xcb) installed?

Without them Qt prints "Could not load the Qt platform plugin "xcb"" and aborts, naming no
library, and a fresh Debian lacks several (libxcb-cursor0, libxcb-icccm4, libxcb-keysyms1, ...).
`ldd` on the plugin reports each missing library as "not found"; the user gets their names and
the command that installs them. Nothing here imports Qt: a missing library could abort it.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

# The libraries PySide6's xcb plugin and QtWidgets load, and the Debian/Ubuntu package of
# each (Debian 13 renamed a few to ...t64; apt-get takes the old name and installs the new).
DEBIAN_PACKAGES = {
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libGLX.so.0": "libglx0",
    "libGLdispatch.so.0": "libglvnd0",
    "libOpenGL.so.0": "libopengl0",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libXau.so.6": "libxau6",
    "libXdmcp.so.6": "libxdmcp6",
    "libdbus-1.so.3": "libdbus-1-3",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-glx.so.0": "libxcb-glx0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libxcb-xinput.so.0": "libxcb-xinput0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb.so.1": "libxcb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
}


def platform_problem(environ: Mapping[str, str] = os.environ,
                     platform: str = sys.platform) -> str | None:
    """What to tell the user when Qt is about to use xcb and cannot; None when all is well
    (or Qt will not use xcb: another QT_QPA_PLATFORM, a Wayland session, no DISPLAY)."""
    if not uses_xcb(environ, platform):
        return None
    missing = missing_libraries(_ldd(_xcb_plugin_files()))
    return explanation(missing) if missing else None


def uses_xcb(environ: Mapping[str, str], platform: str) -> bool:
    """Whether Qt will load its xcb plugin: on Linux, asked for by QT_QPA_PLATFORM (its first
    choice), or by default when an X display is set and no Wayland one."""
    if not platform.startswith("linux"):
        return False
    asked = environ.get("QT_QPA_PLATFORM", "").split(";")[0].split(":")[0].strip()
    if asked:
        return asked == "xcb" and bool(environ.get("DISPLAY"))
    return bool(environ.get("DISPLAY")) and not environ.get("WAYLAND_DISPLAY")


def missing_libraries(ldd_output: str) -> list[str]:
    """The libraries `ldd` reports as "not found", each once, in the order reported."""
    missing: list[str] = []
    for line in ldd_output.splitlines():
        name, arrow, where = line.strip().partition("=>")
        if arrow and where.strip() == "not found" and name.strip() not in missing:
            missing.append(name.strip())
    return missing


def explanation(missing: list[str]) -> str:
    """The message for the user: what is missing, and the command that installs it."""
    packages = list(dict.fromkeys(DEBIAN_PACKAGES[n] for n in missing if n in DEBIAN_PACKAGES))
    unknown = [name for name in missing if name not in DEBIAN_PACKAGES]
    lines = [("NeuralCanvas cannot open its window: Qt's X11 platform plugin (xcb) needs "
              "system libraries that are not installed:"), "  " + " ".join(missing)]
    if packages:
        lines += ["On Debian or Ubuntu, install them with:",
                  "  sudo apt-get install " + " ".join(packages)]
    if unknown:
        lines.append(f"Install the package that provides {', '.join(unknown)} "
                     "(Debian: apt-file search NAME).")
    lines.append("On other systems, install the packages that provide these libraries.")
    return "\n".join(lines)


def _xcb_plugin_files() -> list[Path]:
    """PySide6's xcb plugin and QtWidgets module, found without importing them."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return []
    root = Path(next(iter(spec.submodule_search_locations)))
    candidates = [root / "Qt" / "plugins" / "platforms" / "libqxcb.so",
                  *sorted(root.glob("QtWidgets*.so"))]
    return [path for path in candidates if path.is_file()]


def _ldd(files: list[Path]) -> str:
    """ldd's report on `files`; empty when there is nothing to ask or no ldd (then Qt
    itself will report whatever goes wrong)."""
    if not files:
        return ""
    try:
        return subprocess.run(["ldd", *map(str, files)], capture_output=True, text=True,
                              timeout=20, check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ""
