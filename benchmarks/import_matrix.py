"""Issue 15's import matrix, model by model: import -> build -> load the original's weights
strictly -> export -> run the export, compared with the original (tests/model_matrix.py).

Each model runs in its own process, so the largest (vit_h_14, regnet_y_128gf: over 600M
parameters) hold memory only while they run, and each one's peak RSS is its own. Prints one
line per model (family, name, status, seconds, peak RSS, the refusal's first line), the counts
per family and the refusals grouped by cause with the models each blocks; --refusals PATH writes
every refusal's full text.

Run: nice -n 10 python benchmarks/import_matrix.py [--refusals PATH] [family/name or family ...]
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import subprocess
import sys
import time
import traceback
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STATUSES = ("exact", "tolerance", "differs", "refused", "crashed")


def run_one(case_id: str, threads: int) -> dict:
    """Round-trip one model in this process; the outcome as a JSON-ready dict."""
    import torch
    from model_matrix import matrix, round_trip

    torch.set_num_threads(threads)
    case = next(case for case in matrix() if case.id == case_id)
    start = time.process_time()
    try:
        trip = round_trip(case)
        outcome = {"status": trip.status, "difference": trip.difference,
                   "refusal": trip.refusal, "problems": list(trip.problems)}
    except Exception as error:  # noqa: BLE001 - any other exception is what the run reports
        tail = traceback.format_exc().strip().splitlines()[-12:]
        outcome = {"status": "crashed", "refusal": f"{type(error).__name__}: {error}",
                   "problems": [], "traceback": tail}
    outcome.update(id=case.id, family=case.family, name=case.name,
                   tolerance=case.tolerance, cpu_s=time.process_time() - start,
                   peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return outcome


def run_in_subprocess(case_id: str, threads: int, timeout: float) -> dict:
    start = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, __file__, "--one", case_id,
                               "--threads", str(threads)], capture_output=True, text=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        family, name = case_id.split("/", 1)
        return {"id": case_id, "family": family, "name": name, "status": "crashed",
                "refusal": f"timed out after {timeout:.0f} s", "problems": [], "cpu_s": timeout,
                "peak_mb": 0.0, "wall_s": timeout}
    result_lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not result_lines:
        family, name = case_id.split("/", 1)
        tail = done.stderr.strip().splitlines()[-12:]
        outcome = {"id": case_id, "family": family, "name": name, "status": "crashed",
                   "refusal": f"process exited with {done.returncode}", "problems": [],
                   "traceback": tail, "cpu_s": 0.0, "peak_mb": 0.0}
    else:
        outcome = json.loads(result_lines[-1])
    outcome["wall_s"] = time.perf_counter() - start
    return outcome


def cause(problem: str) -> str:
    """A refusal line without its count, module paths, shapes and source lines: what blocks,
    so the same cause in different models (and layers) groups together."""
    problem = re.sub(r"^\d+ uses of ", "", problem)
    problem = re.sub(r" \('[^)]*\)(?=: )", "", problem, count=1)     # ('a.b', 'c.d', ...)
    problem = re.sub(r" '[^']*'(?=: )", "", problem, count=1)        # 'a.b' (one module)
    problem = problem.split(" (/", 1)[0].split(" (<", 1)[0]          # (file:line code; ...)
    return re.sub(r" \(it gives .*? for a batch of \d+\)", "", problem)


def summary(outcomes: list[dict]) -> list[str]:
    lines = ["", f"{'family':<26}" + "".join(f"{s:>10}" for s in STATUSES) + f"{'total':>8}"]
    families: dict[str, Counter] = defaultdict(Counter)
    for outcome in outcomes:
        families[outcome["family"]][outcome["status"]] += 1
    for family, counts in families.items():
        lines.append(f"{family:<26}" + "".join(f"{counts[s]:>10}" for s in STATUSES)
                     + f"{sum(counts.values()):>8}")
    blocked: dict[str, dict[str, None]] = defaultdict(dict)  # cause -> models, in order
    for outcome in outcomes:
        for problem in outcome.get("problems", []):
            blocked[cause(problem)][outcome["id"]] = None
    if blocked:
        lines += ["", "Refusals by cause (models each blocks):"]
        for text, ids in sorted(blocked.items(), key=lambda item: -len(item[1])):
            lines.append(f"  [{len(ids)}] {text}\n      {', '.join(ids)}")
    peak = max(outcomes, key=lambda outcome: outcome["peak_mb"])
    slowest = max(outcomes, key=lambda outcome: outcome["cpu_s"])
    lines += ["", (f"total CPU {sum(o['cpu_s'] for o in outcomes):.0f} s, wall "
                   f"{sum(o['wall_s'] for o in outcomes):.0f} s; slowest {slowest['id']} "
                   f"{slowest['cpu_s']:.1f} s; largest peak RSS {peak['id']} "
                   f"{peak['peak_mb']:.0f} MB")]
    return lines


def refusal_text(outcomes: list[dict]) -> str:
    parts = []
    for outcome in outcomes:
        if outcome["status"] in ("refused", "crashed"):
            body = outcome["refusal"]
            if outcome.get("traceback"):
                body += "\n" + "\n".join(outcome["traceback"])
            parts.append(f"## {outcome['id']} ({outcome['status']})\n{body}\n")
    return "\n".join(parts)


def main() -> None:
    sys.path.insert(0, str(ROOT / "tests"))  # the shared matrix and its helpers
    sys.path.insert(0, str(ROOT))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("only", nargs="*", help="family/name or family (default: all)")
    parser.add_argument("--refusals", type=Path, help="write every refusal's full text here")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per model")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per model")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # the child process's model
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.threads)))
        return

    from model_matrix import matrix

    cases = [case for case in matrix()
             if not args.only or case.id in args.only or case.family in args.only]
    print(f"{'family':<26}{'model':<34}{'status':<10}{'cpu s':>7}{'wall s':>8}{'peak MB':>9}"
          "  refusal", flush=True)
    outcomes = []
    for case in cases:
        outcome = run_in_subprocess(case.id, args.threads, args.timeout)
        outcomes.append(outcome)
        note = outcome["refusal"].splitlines()[0] if outcome["refusal"] else ""
        if outcome["status"] in ("tolerance", "differs"):
            note = f"max abs difference {outcome['difference']:.3g}"
        print(f"{case.family:<26}{case.name:<34}{outcome['status']:<10}"
              f"{outcome['cpu_s']:>7.1f}{outcome['wall_s']:>8.1f}{outcome['peak_mb']:>9.0f}"
              f"  {note}", flush=True)
    print("\n".join(summary(outcomes)))
    if args.refusals:
        args.refusals.write_text(refusal_text(outcomes), encoding="utf-8")


if __name__ == "__main__":
    main()
