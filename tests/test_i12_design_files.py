"""Property tests: no design file can hang, crash or flood `neuralcanvas check`.

Every template is saved, mutated the way an attacker or a broken tool would (huge whole
numbers, 1e308, NaN and Infinity written into the JSON, deep nesting, long texts, wrong types,
keys removed, keys added), written to disk and checked through the command line. The check
either works (exit 0 or 1) or says why the file is bad (exit 2, a DesignError with a message);
any other exception fails the test, as do a case that runs past its time limit, one that
allocates too much, or a message or report too long to read.
"""

from __future__ import annotations

import contextlib
import io
import json
import signal
import tracemalloc
from pathlib import Path

import pytest
from design_documents import document_of, parent_at, paths_into
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import cli
from templates import load_template, template_names

CASES = 240                    # mutated files per run (the whole file runs in well under 60 s)
SECONDS_PER_CASE = 20          # the alarm's limit: a hang fails the case instead of the run
LONGEST_ERROR = 8_000          # characters of an exit-2 message
LONGEST_REPORT = 100_000       # characters of a report on a template-sized design
MOST_MEMORY = 300 * 2**20      # bytes Python may allocate while loading and checking one file
RUN_COUNT = {"cases": 0}       # how many cases ran, printed at the end (pytest -s shows it)

DOCUMENTS = {name: document_of(load_template(name)) for name in template_names()}

# Written into the JSON text as it is, not as a JSON string: values json.dumps cannot make.
RAW_LITERALS = ("NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1" + "0" * 400,
                "-" + "9" * 4000)
HUGE_NUMBERS = st.one_of(
    st.sampled_from([2**31, 2**63 - 1, 2**63, 2**64, 10**12, 10**30, 10**308, -10**30]),
    st.integers(min_value=10, max_value=400).map(lambda digits: 10**digits),
    st.integers(min_value=-(2**70), max_value=2**70))
EXTREME_FLOATS = st.sampled_from([1e308, -1e308, 1.7976931348623157e308, 5e-324, -0.0])
NUMBER_TEXTS = st.sampled_from(["nan", "NaN", "inf", "-inf", "Infinity", "1e400", ""])
LONG_TEXTS = st.integers(min_value=300, max_value=2_000_000).map(lambda n: "x" * n)
SMALL_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.floats(allow_nan=False,
                                                               allow_infinity=False)
    | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                max_size=3),
    max_leaves=8)


REPLACEMENTS = st.one_of(
    HUGE_NUMBERS, EXTREME_FLOATS, NUMBER_TEXTS, LONG_TEXTS, SMALL_JSON,
    st.integers(min_value=1, max_value=5_000).map(lambda depth: ("raw", "[" * depth + "]" * depth)),
    st.sampled_from(RAW_LITERALS).map(lambda text: ("raw", text)),
    st.lists(HUGE_NUMBERS, min_size=1, max_size=4), st.integers(0, 2**31 - 1),
    st.lists(st.integers(1, 2**31 - 1), min_size=1, max_size=80))


PATHS = {name: paths_into(document) for name, document in DOCUMENTS.items()}
# Layer parameters and training settings: where a value passes loading and reaches the check.
SETTING_PATHS = {name: [p for p in paths if "params" in p or "training" in p]
                 for name, paths in PATHS.items()}


@st.composite
def mutated_files(draw) -> str:
    """A template's JSON text with one to four mutations."""
    name = draw(st.sampled_from(sorted(DOCUMENTS)))
    document = json.loads(json.dumps(DOCUMENTS[name]))
    raw: dict[str, str] = {}
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(PATHS[name]) | st.sampled_from(SETTING_PATHS[name]))
        try:
            parent = parent_at(document, path)
            parent[path[-1]]
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation replaced what this path runs through
        if not isinstance(parent, (dict, list)):
            continue
        action = draw(st.sampled_from(["replace", "replace", "replace", "remove", "add_key"]))
        if action == "remove" and isinstance(parent, dict):
            del parent[path[-1]]
        elif action == "add_key" and isinstance(parent[path[-1]], dict):
            key = draw(st.text(max_size=8) | LONG_TEXTS)
            parent[path[-1]][key] = draw(REPLACEMENTS)
        else:
            value = draw(REPLACEMENTS)
            if isinstance(value, tuple):  # ("raw", literal): a placeholder replaced below
                marker = f"@@raw{len(raw)}@@"
                raw[json.dumps(marker)] = value[1]
                value = marker
            parent[path[-1]] = value
    text = json.dumps(document)
    for marker, literal in raw.items():
        text = text.replace(marker, literal)
    return text


class _Hang(Exception):
    pass


def _on_alarm(signum, frame):
    raise _Hang(f"one case ran past {SECONDS_PER_CASE} s")


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    yield tmp_path_factory.mktemp("mutated")
    print(f"\nmutated design files checked: {RUN_COUNT['cases']}")


@settings(max_examples=CASES, deadline=SECONDS_PER_CASE * 1000, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(text=mutated_files())
def test_a_mutated_design_file_is_checked_or_refused_with_a_message(folder, text):
    path = folder / "mutated.ncnet"
    path.write_text(text, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(SECONDS_PER_CASE)
    tracemalloc.start()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli.main(["check", str(path)])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    RUN_COUNT["cases"] += 1
    assert peak < MOST_MEMORY, f"loading and checking allocated {peak:,} bytes"
    if code == 2:
        message = err.getvalue()
        assert message.startswith("error: ") and len(message) > len("error: \n")
        assert len(message) < LONGEST_ERROR, message[:500]
    else:
        assert code in (0, 1), (code, err.getvalue()[:500])
        assert len(out.getvalue()) < LONGEST_REPORT, out.getvalue()[:500]


WHOLE_NUMBER_SLOTS = [(name, index, node["id"], key)
                      for name, document in DOCUMENTS.items()
                      for network in document["networks"].values()
                      for index, node in enumerate(network["nodes"])
                      for key, value in node["params"].items()
                      if isinstance(value, int) and not isinstance(value, bool)]


@settings(max_examples=CASES, deadline=SECONDS_PER_CASE * 1000, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(slots=st.lists(st.sampled_from(WHOLE_NUMBER_SLOTS), min_size=1, max_size=3),
       values=st.lists(st.integers(-(2**63) + 1, 2**63 - 1) | st.integers(0, 4096)
                       | st.sampled_from([2**31 - 1, 2**31, 2**62, 10**12, 10**9]),
                       min_size=3, max_size=3))
def test_any_storable_whole_number_in_a_layer_is_checked_without_hanging(slots, values):
    """Whole numbers a file may hold (up to int64) in any layer's size, count or index: the
    check finishes and reports them, or their consequences, as problems; it never raises."""
    from engine.checking import check
    from engine.fileformat import design_from_document

    name = slots[0][0]
    document = json.loads(json.dumps(DOCUMENTS[name]))
    nodes = {node["id"]: node for network in document["networks"].values()
             for node in network["nodes"]}
    for (template, _, node_id, key), value in zip(slots, values):
        if template == name:
            nodes[node_id]["params"][key] = value
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(SECONDS_PER_CASE)
    try:
        report = check(design_from_document(document, f"{name}.ncnet"))
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    RUN_COUNT["cases"] += 1
    assert sum(len(str(problem)) for problem in report.problems) < LONGEST_REPORT
