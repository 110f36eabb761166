"""Probes during a run: what every node of the trained network makes of one fixed sample, at
each epoch end, for a run whose options ask for it (`RunOptions.probe`, probe's options such
as {"sample": 3}). One forward pass of a small batch in eval mode: about 10-20 ms for the
`cnn` template, sent as a few KB of pictures (engine.probes).

Probes keep within BUDGET of the run's time: where epochs are so short that a probe at each
would cost more (the `cnn` template's digits take well under a second an epoch), an epoch end
is skipped until the run has caught up; the last epoch is always probed.
"""

from __future__ import annotations

import time
from typing import Any

from engine.errors import DesignError
from engine.training.events import Probed
from engine.training.run_state import RunSetup

BUDGET = 0.02   # the share of a run's time its probes may take


class EpochProbes:
    """Probes one network of a run on the same batch at epoch ends, within BUDGET."""

    def __init__(self, watcher: Any, network: str, run: int) -> None:
        self.watcher, self.network, self.run = watcher, network, run
        self.started = time.perf_counter()
        self.spent = 0.0   # seconds probing so far

    def take(self, models: dict[str, Any], epoch: int, last: bool) -> Probed | None:
        """The probe at the end of `epoch`, or None when probing now would pass the budget."""
        began = time.perf_counter()
        if not last and self.spent > BUDGET * (began - self.started):
            return None
        probe = self.watcher.take(models[self.network], f"epoch {epoch}")
        self.spent += time.perf_counter() - began
        return Probed(self.run, epoch=epoch, probe=probe)


def epoch_probes(setup: RunSetup, run: int,
                 options: dict[str, Any]) -> tuple[EpochProbes | None, Probed | None]:
    """The run's probes, or None and the message saying why the design cannot be probed
    (the run itself goes on: probes only watch it)."""
    from engine.probes import BATCH_SIZE, NetworkProbe
    from engine.probes.samples import probe_batch

    network = options.get("network") or setup.plan.networks[0].network
    try:
        batch = probe_batch(setup.design, network, options.get("sample", 0),
                            options.get("batch", BATCH_SIZE), setup.report)
    except (DesignError, OSError, ValueError) as err:
        return None, Probed(run, problem=f"activations cannot be shown during this run: {err}")
    watcher = NetworkProbe(setup.design, network, setup.report, batch)
    return EpochProbes(watcher, network, run), None
