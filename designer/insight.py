"""Showing inside the network: the probe controller's activations on every card of every open
view (and large in the inspector), and the gradient flow on the wires with its legend.

The canvas views come and go (network tabs, opened blocks) and rebuild their items when the
design is replaced; this object puts the current state onto whatever items exist, whenever
either side changes.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QColor

from designer.canvas import NetworkTabs
from designer.canvas.flow_legend import FlowLegend
from designer.canvas.scene import NetworkScene
from designer.canvas.view import NetworkView
from designer.gradient_flow import decade, decade_colour, edge_norms, legend_decades
from designer.panels.inspector import Inspector
from designer.training.probe_controller import ProbeController
from engine.events import EdgeAdded, NetworkAdded, NodeAdded, Reset
from engine.probes import NodeProbe, Probe
from engine.probes.capture import Use

NEW_ITEMS = (NodeAdded, EdgeAdded, NetworkAdded, Reset)  # events after which new items exist


class CanvasInsight(QObject):
    """Keeps the canvas and the inspector showing what the ProbeController holds."""

    def __init__(self, tabs: NetworkTabs, inspector: Inspector,
                 probes: ProbeController) -> None:
        super().__init__(tabs)
        self.tabs, self.inspector, self.probes = tabs, inspector, probes
        self.document = tabs.document
        self.legends: dict[NetworkView, FlowLegend] = {}
        self._pending = QTimer(self)   # items appear after the design's events: show then
        self._pending.setSingleShot(True)
        self._pending.setInterval(0)
        self._pending.timeout.connect(self.show_all)
        probes.probeChanged.connect(self.show_all)
        probes.flowChanged.connect(self.show_flow)
        probes.largeChanged.connect(self.show_in_inspector)
        # only new items need showing what the controller holds (it says itself when that
        # changes, an edit making its probe stale): a drag or a parameter edit redoes none
        self.document.designChanged.connect(
            lambda event: self._pending.start() if isinstance(event, NEW_ITEMS) else None)
        self.document.scopeChanged.connect(lambda _scope: self._pending.start())
        self.document.networkChanged.connect(lambda _network: self._pending.start())
        self.document.selectionChanged.connect(lambda _ids: self.show_in_inspector())
        inspector.rebuilt.connect(self.show_in_inspector)

    # ------------------------------------------------------------------ activations
    def show_all(self) -> None:
        self.show_probes()
        self.show_flow()
        self.show_in_inspector()

    def show_probes(self) -> None:
        probe = self.probes.probe if self.probes.showing else None
        context, stale = self.probes.context(), self.probes.stale
        for scene, uses in self._scenes():
            found = _by_node(probe, uses) if probe is not None else {}
            for node_id, item in scene.nodes.items():
                item.set_probe(found.get(node_id), context, stale)

    def _scenes(self) -> list[tuple[NetworkScene, tuple[Use, ...] | None]]:
        """Each open scene with the block uses that lead into it (copy 0 of each), None
        where a definition was opened on its own (no use to probe)."""
        found = []
        for network in self.tabs.views():
            page = self.tabs.page_of(network)
            trail = self.document.trail(network)
            uses: tuple[Use, ...] | None = ()
            for index, view in enumerate(page.views()):
                if index:
                    via = trail[index - 1].via if index - 1 < len(trail) else None
                    uses = None if uses is None or via is None else (*uses, (via, 0))
                found.append((view.network_scene(), uses))
        return found

    def selected_probe(self) -> NodeProbe | None:
        """The selected node's output in the larger probe if it came, else the small one."""
        selection = self.document.selection
        if not self.probes.showing or len(selection) != 1 or self.probes.probe is None:
            return None
        scopes = {scene.network: uses for scene, uses in self._scenes()}
        uses = scopes.get(self.document.design.network_of(selection[0]))
        if uses is None:
            return None
        for probe in (self.probes.large, self.probes.probe):
            found = _by_node(probe, uses).get(selection[0]) if probe is not None else None
            if found is not None:
                return found
        return None

    def show_in_inspector(self) -> None:
        probed = self.selected_probe()
        large = probed is not None and self.probes.large is not None and any(
            probed is node for node in self.probes.large.nodes)
        self.inspector.show_activation(probed, self.probes.context(), self.probes.stale,
                                       large)
        if probed is not None and not large:
            self.probes.want_large()

    # ------------------------------------------------------------------ gradient flow
    def show_flow(self) -> None:
        """Colour each network's wires by the latest gradient norms (when shown)."""
        for network, view in self.tabs.views().items():
            scene = view.network_scene()
            norms, when = (self.probes.gradient_norms(network) if self.probes.showing_flow
                           else ({}, ""))
            flows = edge_norms(self.document.design, network, norms) if norms else {}
            for edge, item in scene.edges.items():
                norm = flows.get(edge)
                item.set_flow(None if norm is None else QColor(decade_colour(decade(norm))),
                              "" if norm is None else
                              f"gradient flowing back here: norm {norm:.2g} ({when})")
            self._legend(view).show_decades(legend_decades(flows.values()),
                                            f"Gradient norm, {when}" if when else "")

    def _legend(self, view: NetworkView) -> FlowLegend:
        legend = self.legends.get(view)
        if legend is None:
            legend = self.legends[view] = FlowLegend(view)
            view.destroyed.connect(lambda _object=None, v=view: self.legends.pop(v, None))
        return legend


def _by_node(probe: Probe, uses: tuple[Use, ...]) -> dict[str, NodeProbe]:
    """The first output of each node that lies inside `uses` (() for the network's own)."""
    found: dict[str, NodeProbe] = {}
    for probed in probe.nodes:
        if probed.uses == uses and probed.out == 0:
            found.setdefault(probed.node, probed)
    return found
