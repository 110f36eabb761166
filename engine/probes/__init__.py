"""Activation probes: what every node of a network makes of one sample (engine.probes.probe),
drawn as one sheet for reports and teaching (engine.probes.sheet)."""

from engine.probes.pictures import Picture, PictureLimits
from engine.probes.probe import (
    BATCH_SIZE,
    NetworkProbe,
    NodeProbe,
    Probe,
    probe,
    probe_for_worker,
)
from engine.probes.statistics import Statistics

__all__ = ["BATCH_SIZE", "NetworkProbe", "NodeProbe", "Picture", "PictureLimits", "Probe",
           "Statistics", "probe", "probe_for_worker"]
