"""What the canvas shows inside the network: activation probes and gradient flow.

Before training a probe runs the design's initial weights (or a run's chosen weights) on the
chosen sample in the helper process (designer.training.jobs; the editor never imports torch),
again a moment after each edit. During a run the worker probes at each epoch end
(engine.training.epoch_probes) and the LiveRun keeps the latest; this object hands them on.
The inspector's large view is a second probe with larger pictures, made when a node is
selected and kept until the probe it enlarges changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from designer.document import DesignDocument
from designer.gradient_flow import node_norms
from designer.timers import make_timer
from designer.training.jobs import Jobs
from designer.training.session import TrainingSession
from engine.events import DesignEvent, NodeMoved, Reset
from engine.probes import PictureLimits, Probe, probe_for_worker
from engine.training.data_paths import anchored_description

REPROBE_DELAY_MS = 700   # after an edit, wait for a pause in editing before probing again
LARGE = PictureLimits(maps=64, side=64)   # the inspector's channel-by-channel view
INITIAL = "initial weights"


@dataclass(frozen=True)
class Weights:
    """Which weights the probe runs: a run's folder or weights file (None: the initial ones
    a run starts from) and its name for people."""

    path: str | None = None
    name: str = INITIAL


class ProbeController(QObject):
    probeChanged = Signal()        # probe, stale or problem changed
    largeChanged = Signal()        # the inspector's larger probe arrived
    flowChanged = Signal()         # gradient norms to show on the wires
    busyChanged = Signal(bool)     # a probe is being computed
    message = Signal(str)

    def __init__(self, document: DesignDocument, session: TrainingSession, jobs: Jobs,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document, self.session, self.jobs = document, session, jobs
        self.showing = False
        self.showing_flow = False
        self.sample: int | str = 0
        self.weights = Weights()
        self.probe: Probe | None = None
        self.large: Probe | None = None
        self.stale = False
        self.problem = ""
        self._asked = 0          # numbers the requests: an answer to an older one is dropped
        self._large_wanted = False
        self._reprobe = make_timer(self, REPROBE_DELAY_MS, self.refresh, single_shot=True)
        document.designChanged.connect(self._on_design_event)
        session.changed.connect(self._on_run_changed)

    # ------------------------------------------------------------------ choices
    def set_showing(self, showing: bool) -> None:
        if showing == self.showing:
            return
        self.showing = showing
        if showing and (self.probe is None or self.stale):
            self.refresh()
        self.probeChanged.emit()

    def set_showing_flow(self, showing: bool) -> None:
        if showing != self.showing_flow:
            self.showing_flow = showing
            self.flowChanged.emit()

    def choose(self, sample: int | str, weights: Weights) -> None:
        """Probe another sample (an index into the training data, or a file) or weights."""
        if isinstance(sample, Path):
            sample = str(sample)
        if (sample, weights) == (self.sample, self.weights) and self.probe is not None:
            return
        self.sample, self.weights = sample, weights
        self._forget()
        if self.showing:
            self.refresh()

    def run_options(self) -> dict[str, Any]:
        """What a run is asked to probe at each epoch end (the same sample)."""
        return {"sample": self.sample}

    # ------------------------------------------------------------------ probing
    def refresh(self) -> None:
        """Probe now in the helper (not while a run goes: its own probes come each epoch)."""
        if not self.showing or self.session.running:
            return
        self._asked += 1
        asked = self._asked
        self.busyChanged.emit(True)
        self.jobs.submit("probe", probe_for_worker, self._design(), self._options(),
                         done=lambda probe: self._arrived(probe, asked),
                         failed=lambda reason: self._failed(reason, asked))

    def want_large(self) -> None:
        """The inspector shows a node: make the larger probe, unless it is already made."""
        if self.large is not None or self._large_wanted or self.probe is None or self.stale:
            return
        if self.session.running or self.probe.weights.startswith("epoch"):
            return   # a run's weights of an epoch live in the worker: the small view stays
        self._large_wanted = True
        asked = self._asked
        self.jobs.submit("probe-large", probe_for_worker, self._design(),
                         {**self._options(), "limits": LARGE},
                         done=lambda probe: self._large_arrived(probe, asked),
                         failed=lambda _reason: self._large_arrived(None, asked))

    def _design(self) -> dict[str, Any]:
        return anchored_description(self.document.design, self.document.folder)

    def _options(self) -> dict[str, Any]:
        return {"sample": self.sample, "weights": self.weights.path}

    def _arrived(self, probe: Probe, asked: int) -> None:
        if asked != self._asked:
            return
        self.busyChanged.emit(False)
        self.probe, self.stale, self.problem = probe, False, ""
        self.large, self._large_wanted = None, False
        self.probeChanged.emit()

    def _failed(self, reason: str, asked: int) -> None:
        if asked != self._asked:
            return
        self.busyChanged.emit(False)
        self.problem = f"Activations cannot be shown: {reason}"
        self.message.emit(self.problem)
        self.probeChanged.emit()

    def _large_arrived(self, probe: Probe | None, asked: int) -> None:
        self._large_wanted = False
        if asked == self._asked and probe is not None:
            self.large = probe
            self.largeChanged.emit()

    def _forget(self) -> None:
        """What was shown no longer holds (another sample or weights, another design)."""
        self._asked += 1
        self.probe, self.large, self._large_wanted = None, None, False
        self.problem = ""
        self.probeChanged.emit()

    # ------------------------------------------------------------------ following
    def _on_design_event(self, event: DesignEvent) -> None:
        if isinstance(event, Reset):
            self.weights, self.sample = Weights(), 0
            self._forget()
            if self.showing:
                self.refresh()
            return
        if isinstance(event, NodeMoved) or self.probe is None:
            return
        if not self.stale:
            self.stale = True
            self.large = None
            self.probeChanged.emit()
        if self.showing:
            self._reprobe.start()

    def _on_run_changed(self, changed: set[str]) -> None:
        live = self.session.live
        if "probe" in changed and live.probed is not None:
            if live.probed.probe is None:
                self.message.emit(live.probed.problem)
            else:
                self._asked += 1   # a probe computed before the run is older than this one
                self.probe, self.stale, self.problem = live.probed.probe, False, ""
                self.large = None
                self.probeChanged.emit()
        if "gradients" in changed and self.showing_flow:
            self.flowChanged.emit()

    def gradient_norms(self, network: str) -> tuple[dict[str, float], str]:
        """The latest gradient norm of each node of `network`, and when it was measured
        ("epoch 3"); empty before a run has reported any."""
        history = self.session.live.gradients
        if not history.columns:
            return {}, ""
        norms = node_norms(history.layers, history.columns[-1], network)
        return norms, f"epoch {history.epochs[-1]}, step {history.steps[-1]}"

    def context(self) -> str:
        """The sample and the weights, in words ('training sample 3 of 1438, class 9 ·
        initial weights (seed 0)')."""
        if self.probe is None:
            return ""
        weights = self.probe.weights
        if weights.startswith("epoch"):
            weights = f"weights after {weights} of the run"
        elif self.weights.path is not None:
            weights = f"weights of {self.weights.name}"
        return f"{self.probe.source} \u00b7 {weights}"
