"""What the app and its helper processes hold in memory: the editor alone, the editor with its
idle warm worker(s), after a training run and after a Setup preview; then what each import
of a worker costs on its own, and what a finished run on a larger data set leaves behind.

Three figures per process, from /proc/PID/smaps_rollup:
- RSS: every page the process maps, libraries shared with other processes counted in full
  (the figure `top` shows, and the one that overstates: torch's 400 MB of libraries are
  mapped in each process but in memory once);
- PSS: shared pages divided among the processes that share them (the sum over processes is
  what the machine really gives the app);
- USS: pages only this process holds (what ending it gives back).

The app is the real one (designer.app.run_app, offscreen, settings in a scratch folder, the
`cnn` template with the Training panel up as at a first start), driven step by step from
here; each round is a fresh app, and the figures are medians over rounds (spread in
brackets).

    python benchmarks/worker_memory.py [--rounds 3] [--no-breakdown] [--samples 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STEPS = ("editor", "idle", "trained", "previewed")
ROUND_TIMEOUT_S = 600   # a round that takes longer is killed (and reports what it measured)


def memory(pid: int) -> dict[str, float]:
    """RSS, PSS and USS of `pid` in MB."""
    fields: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        key, value = line.split(":", 1)
        fields[key] = int(value.split()[0])
    uss = fields["Private_Clean"] + fields["Private_Dirty"]
    return {"rss": fields["Rss"] / 1024, "pss": fields["Pss"] / 1024, "uss": uss / 1024}


CUDA_LIBRARIES = ("/nvidia/", "libtorch_cuda", "libc10_cuda", "libcuda", "libnv", "libcu")


def cuda_share(pid: int) -> dict[str, float]:
    """RSS and USS (MB) of the CUDA libraries mapped in `pid`: torch's CUDA build loads them
    even on a machine without a GPU (file pages: shared between processes, and the kernel
    may drop them under pressure)."""
    found = {"rss": 0.0, "uss": 0.0}
    counting = False
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        head = line.split()
        if head and "-" in head[0] and not head[0].endswith(":"):   # a mapping's first line
            counting = len(head) > 5 and any(part in head[5] for part in CUDA_LIBRARIES)
        elif counting and head[0] == "Rss:":
            found["rss"] += int(head[1]) / 1024
        elif counting and head[0] in ("Private_Clean:", "Private_Dirty:"):
            found["uss"] += int(head[1]) / 1024
    return found


def children(pid: int) -> list[int]:
    """Every live process below `pid`, by /proc's parent links."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if stat[0] != "Z":
                parents[int(entry.name)] = int(stat[1])
    found, frontier = [], [pid]
    while frontier:
        below = [child for child, parent in parents.items() if parent in frontier]
        found += below
        frontier = below
    return found


def role(pid: int, roles: dict[str, list[str]]) -> str:
    """What a child process is: what it answered for (from the app), or its command line."""
    if str(pid) in roles:
        return " + ".join(sorted(roles[str(pid)]))
    command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    return "resource tracker" if "resource_tracker" in command else "other child"


# ---------------------------------------------------------------------- the app, driven
def app_main() -> None:
    """The app side: start the real app, and at each step wait until its processes are idle,
    print the step with the pids of the helper processes, and wait for a line on stdin."""
    from PySide6.QtCore import QTimer

    from designer.app import application, run_app
    from designer.main_window import MainWindow

    app = application()
    go = threading.Event()
    threading.Thread(target=lambda: [go.set() for _ in sys.stdin], daemon=True).start()
    state = {"step": 0, "window": None, "waiting": False, "asked": False, "pids": {}}

    def settled() -> bool:
        """Nothing runs, and both the worker and the jobs' helper have answered a getpid
        (they answer in turn, so the worker has warmed up and earlier jobs are done)."""
        window = state["window"]
        session = window.training.session
        if state["step"] == 0:
            return True
        if not state["asked"]:
            if session.running or session.service is None or window.training.jobs._callbacks:
                return False
            state["asked"], state["pids"] = True, {}
            state["call"] = session.service.call(os.getpid)
            window.training.jobs.submit(
                "getpid", os.getpid, done=lambda pid: state["pids"].update({"jobs helper": pid}),
                failed=print)
        reply = state["call"].result()
        if reply is None or "jobs helper" not in state["pids"]:
            return False
        state["pids"]["training worker"] = reply.value
        state["asked"] = False
        return True

    def advance() -> None:
        window = state["window"]
        step = STEPS[state["step"]]
        if step == "idle":
            window.training.session.start()
        elif step == "trained":
            window.training.mark_stale()
            window.training.refresh()
        elif step == "previewed":
            app.quit()

    def poll() -> None:
        if state["window"] is None:
            found = [w for w in app.topLevelWidgets() if isinstance(w, MainWindow)]
            if not found:
                return
            state["window"] = found[0]
            found[0].document.design.set_training(epochs=1)
        if state["waiting"]:
            if go.is_set():
                go.clear()
                state["waiting"] = False
                advance()
                state["step"] += 1
            return
        if settled():
            roles: dict[str, list[str]] = {}
            for name, pid in state["pids"].items():
                roles.setdefault(str(pid), []).append(name)
            print("STEP", STEPS[state["step"]], json.dumps(roles), flush=True)
            state["waiting"] = True

    timer = QTimer()
    timer.timeout.connect(poll)
    timer.start(100)
    sys.exit(run_app([]))


# ---------------------------------------------------------------------- the measuring side
def one_round() -> dict[str, dict[str, dict[str, float]]]:
    """Start the app, measure each step: {step: {process role: memory}}."""
    figures: dict[str, dict[str, dict[str, float]]] = {}
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, HOME=home, XDG_CONFIG_HOME=f"{home}/config",
                   XDG_DATA_HOME=f"{home}/data", QT_QPA_PLATFORM="offscreen")
        app = subprocess.Popen([sys.executable, __file__, "--app"], cwd=ROOT, env=env,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        watchdog = threading.Timer(ROUND_TIMEOUT_S, app.kill)
        watchdog.start()
        try:
            for line in app.stdout:
                if not line.startswith("STEP "):
                    continue
                _, step, roles = line.split(" ", 2)
                measured = {"editor": memory(app.pid)}
                for child in children(app.pid) if step != "editor" else ():
                    measured[f"{role(child, json.loads(roles))} ({child})"] = memory(child)
                figures[step] = measured
                app.stdin.write("go\n")
                app.stdin.flush()
            app.wait(timeout=ROUND_TIMEOUT_S)
        finally:
            watchdog.cancel()
            if app.poll() is None:
                app.kill()
                app.wait()
    return figures


def strip_pid(name: str) -> str:
    return name.rsplit(" (", 1)[0]


def report(rounds: list[dict[str, dict[str, dict[str, float]]]]) -> None:
    print(f"{'step':<10} {'process':<34} {'RSS MB':>16} {'PSS MB':>16} {'USS MB':>16}")
    for step in STEPS:
        per_round = [{strip_pid(name): value for name, value in figures[step].items()}
                     for figures in rounds if step in figures]
        names = list(dict.fromkeys(name for figures in per_round for name in figures))
        for name in [*names, "total"]:
            row = f"{step:<10} {name:<34}"
            for kind in ("rss", "pss", "uss"):
                values = [sum(value[kind] for value in figures.values()) if name == "total"
                          else figures[name][kind] for figures in per_round if name == "total"
                          or name in figures]
                row += f" {_median(values):>16}"
            print(row)
    print("total RSS counts shared libraries once per process; total PSS is the real cost")


def _median(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{statistics.median(values):.0f} [{min(values):.0f}-{max(values):.0f}]"


# ---------------------------------------------------------------------- the breakdown
BREAKDOWN = textwrap.dedent("""
    import importlib, json, sys
    sys.path.insert(0, {root!r})
    sys.argv = [sys.argv[0]]
    from benchmarks.worker_memory import cuda_share, memory
    import os
    for name in {modules!r}:
        if name == "warm-up":
            from engine.training.worker import _warm_up
            _warm_up()
        else:
            importlib.import_module(name)
    after = memory(os.getpid())
    heavy = [m for m in ("torchvision", "sklearn", "scipy", "sympy", "torch._dynamo",
                         "pandas", "PIL") if m in sys.modules]
    print(json.dumps({{"after": after, "cuda": cuda_share(os.getpid()), "heavy": heavy,
                      "modules": len(sys.modules)}}))
""")

STAGES = {
    "python alone": [],
    "import torch": ["torch"],
    "torch + torchvision": ["torch", "torchvision"],
    "torch + sklearn (scipy)": ["torch", "sklearn.datasets"],
    "engine.training.trainer": ["engine.training.trainer"],
    "worker warm-up": ["warm-up"],
    "+ Setup preview's modules": ["warm-up", "designer.training.tasks"],
}


def _fresh_runs(code: str, rounds: int) -> list[dict]:
    """Run `code` in `rounds` fresh interpreters; the JSON each prints last."""
    found = []
    for _ in range(rounds):
        result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True,
                                capture_output=True, text=True)
        found.append(json.loads(result.stdout.strip().splitlines()[-1]))
    return found


def breakdown(rounds: int) -> None:
    """Each stage in a fresh interpreter: what importing it leaves resident."""
    print(f"\n{'worker stage (fresh process)':<28} {'RSS MB':>16} {'PSS MB':>16} "
          f"{'USS MB':>16}  {'CUDA libs RSS/USS':>17}  heavy modules in")
    for stage, modules in STAGES.items():
        found = _fresh_runs(BREAKDOWN.format(root=str(ROOT), modules=modules), rounds)
        row = f"{stage:<28}"
        for kind in ("rss", "pss", "uss"):
            row += f" {_median([f['after'][kind] for f in found]):>16}"
        cuda = found[-1]["cuda"]
        print(f"{row}  {cuda['rss']:>11.0f} / {cuda['uss']:<3.0f}  "
              f"{', '.join(found[-1]['heavy']) or '-'} ({found[-1]['modules']} modules)")


AFTER_RUN = textwrap.dedent("""
    import ctypes, gc, json, os, sys, tempfile
    sys.path.insert(0, {root!r})
    from benchmarks.worker_memory import memory
    from engine.training.control import Control
    from engine.training.trainer import RunOptions, Trainer
    from engine.training.worker import _warm_up
    from templates import load_template

    _warm_up()
    found = {{"warm worker": memory(os.getpid())}}
    design = load_template("transformer")
    design.set_training(epochs=1, data={{**design.training["data"], "samples": {samples}}})
    with tempfile.TemporaryDirectory() as out:
        Trainer(design, lambda event: None, RunOptions(run=1, out_dir=out), Control()).run()
    found["after the run"] = memory(os.getpid())
    gc.collect()
    found["+ gc.collect()"] = memory(os.getpid())
    ctypes.CDLL(None).malloc_trim(0)
    found["+ malloc_trim(0)"] = memory(os.getpid())
    print(json.dumps(found))
""")


def after_run(rounds: int, samples: int) -> None:
    """What a finished run leaves in its worker, and what collecting and trimming give back
    (each round a fresh process; the `transformer` template with `samples` sequences)."""
    print(f"\nafter one epoch of `transformer` on {samples:,} samples (fresh process)")
    found = _fresh_runs(AFTER_RUN.format(root=str(ROOT), samples=samples), rounds)
    for stage in found[0]:
        row = f"{stage:<28}"
        for kind in ("rss", "pss", "uss"):
            row += f" {_median([f[stage][kind] for f in found]):>16}"
        print(row)


def main() -> None:
    if "--app" in sys.argv:
        sys.argv = [sys.argv[0]]
        sys.path[0] = str(ROOT)   # not benchmarks/, whose templates.py would hide the package
        app_main()
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-breakdown", action="store_true")
    parser.add_argument("--samples", type=int, default=100_000,
                        help="data set size of the run whose leftovers are measured")
    arguments = parser.parse_args()
    rounds = [one_round() for _ in range(arguments.rounds)]
    report(rounds)
    if not arguments.no_breakdown:
        breakdown(arguments.rounds)
        after_run(arguments.rounds, arguments.samples)


if __name__ == "__main__":
    main()
