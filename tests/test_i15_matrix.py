"""Issue 15's import matrix (tests/model_matrix.py): every torchvision classifier and
segmentation model, a spread of timm families and tiny Hugging Face transformers. Each model
that imports today must keep round-tripping exactly (import -> build -> the original's
state_dict loads strictly -> export -> run, all equal to the original at another batch size);
each model refused today must be refused with one grouped DesignError naming its causes, never
another exception. benchmarks/import_matrix.py prints the same matrix with times, memory and
the refusals grouped by cause."""

import re

import pytest
import torchvision
from model_matrix import Case, matrix, release_memory, round_trip
from test_codegen_helpers import single_thread
from test_i14_import_blocks import MODELS as ROUND_TRIPPED_THROUGH_BLOCKS
from test_import_torchvision import ARCHITECTURES as ROUND_TRIPPED_FLAT

# Refused today, by cause (benchmarks/import_matrix.py lists every cause). When one of these
# starts importing, its test checks the round trip is exact; then move it out of this list so
# its test fails if it stops importing.
REFUSED: set[str] = set()  # every model of the matrix imports
# Round-tripped by the older tests (each torchvision model is imported once per test run).
ELSEWHERE = {f"torchvision/{name}" for name in (*ROUND_TRIPPED_THROUGH_BLOCKS,
                                                *ROUND_TRIPPED_FLAT)}

CASES = matrix()
pytestmark = pytest.mark.usefixtures(single_thread.__name__)


@pytest.fixture(autouse=True)
def one_model_at_a_time():
    """Each test frees its model before the next is built: two workers each holding a large
    model or two would take many gigabytes."""
    yield
    release_memory()


def _params(refused: bool) -> list:
    return [pytest.param(case, id=case.id, marks=pytest.mark.slow) for case in CASES
            if (case.id in REFUSED) == refused and case.id not in ELSEWHERE]


def _assert_faithful(case: Case, status: str, difference: float) -> None:
    allowed = ("exact", "tolerance") if case.tolerance else ("exact",)
    assert status in allowed, (f"{case.id}: the round trip differs from the original by up "
                               f"to {difference:.3g} (allowed {case.tolerance})")


_HEADING = re.compile(r"^cannot import \w+: (?P<count>\d+) operations? without a NeuralCanvas "
                      r"equivalent(?:, for (?P<reasons>\d+) reasons)?:$")


def _uses(cause: str) -> int:
    """How many operations one line of a refusal stands for ("12 uses of F.pad: ...")."""
    many = re.match(r"(\d+) uses of ", cause)
    return int(many[1]) if many else 1


@pytest.mark.parametrize("case", _params(refused=False))
def test_model_round_trips_exactly(case, tmp_path):
    trip = round_trip(case, tmp_path)
    assert trip.status != "refused", trip.refusal
    _assert_faithful(case, trip.status, trip.difference)


@pytest.mark.parametrize("case", _params(refused=True))
def test_refused_model_gets_one_grouped_refusal(case, tmp_path):
    """One DesignError naming every cause once, each with its count and source lines. A model
    that has started importing must round-trip exactly instead."""
    trip = round_trip(case, tmp_path)  # any other exception fails the test
    if trip.status != "refused":
        _assert_faithful(case, trip.status, trip.difference)
        return
    head, *causes = trip.refusal.split("\n  - ")
    heading = _HEADING.match(head)
    assert heading, trip.refusal
    assert causes and causes == list(trip.problems) and len(set(causes)) == len(causes)
    assert int(heading["count"]) == sum(_uses(cause) for cause in causes), trip.refusal
    assert int(heading["reasons"] or 1) == len(causes)


def test_matrix_covers_every_torchvision_classifier_and_segmentation_model():
    names = {case.id for case in CASES}
    classifiers = torchvision.models.list_models(module=torchvision.models)
    segmentation = torchvision.models.list_models(module=torchvision.models.segmentation)
    assert len(classifiers) == 80
    assert {f"torchvision/{name}" for name in classifiers} <= names
    assert {f"torchvision-segmentation/{name}" for name in segmentation} <= names
    assert REFUSED <= names and ELSEWHERE <= names
