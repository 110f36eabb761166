"""The data check of `engine.check`: each way the data does not fit the design, as a problem
on the node to change, known before anything trains.

The data is described, not loaded (engine.training.data_description), so this runs after
every edit. A design whose networks have errors gets no data problems here (those errors
already say it cannot train); any other refusal of the run (a setting, a data file that is
missing or cannot be used, a generator that does not fit its discriminator) is one problem, in
the words the run would stop with, so check never says "no problems" for a design F5 refuses.
"""

from __future__ import annotations

from pathlib import Path

from engine.checking import Problem, Report
from engine.design import Design
from engine.errors import DesignError
from engine.limits import byte_size, physical_memory
from engine.training.data_description import HeldData, describe_data
from engine.training.data_paths import with_design_folder
from engine.training.datacheck import DataError, misfits
from engine.training.labels import setting_place
from engine.training.plan import Plan, make_plan
from engine.training.settings import SAMPLED_SOURCES, settings_from


def data_problems(design: Design, report: Report, folder: Path | None = None) -> list[Problem]:
    """Misfits between the design and the data it trains on (relative data paths read
    against `folder`, the design file's folder)."""
    try:
        settings = with_design_folder(settings_from(design.training), folder)
    except DesignError as err:
        return [] if report.errors else [Problem(None, "error", str(err))]
    try:
        plan = make_plan(design, settings, report)
    except DesignError as err:
        # Generated samples take the design's shapes, so a design that cannot be planned
        # yet (no network to train) has no data to misfit; the run's start names why.
        quiet = report.errors or settings.data.source == "generated"
        return [] if quiet else [Problem(None, "error", str(err))]
    try:
        described = describe_data(plan)
    except DataError as err:  # the run stops on the same DataError when it loads the file
        return [Problem(None, "error", str(err))]
    if described is None:
        return []
    beyond = held_data_problem(plan, described.held)
    found = [Problem(None, "error", *beyond)] if beyond else []
    if settings.data.source == "generated":
        return found  # generated samples take the design's shapes
    return found + [Problem(m.node, m.severity, m.message, m.fix, m.network)
                    for m in misfits(plan, design, described.facts)]


def held_data_problem(plan: Plan, held: HeldData) -> tuple[str, str] | None:
    """(message, fix) when the samples the run would hold do not fit in this machine's
    memory (the run would swap to a halt or be killed while making or loading them)."""
    memory = physical_memory()
    if memory is None or held.bytes <= memory:
        return None
    fix = (f"lower {setting_place('data.samples')}" if plan.data.source in SAMPLED_SOURCES
           else "use a smaller data file")
    message = (f"the {plan.data.source} data would take {held.describe()}, but this "
               f"machine has {byte_size(memory)} of memory")
    return message, fix
