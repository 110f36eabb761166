"""One canvas tab per network of the design (a GAN shows its generator and discriminator);
each tab shows the network or a block definition opened from it (designer.canvas.scope_page).

The canvas's commands (Copy, Delete, Frame All, ...) are QActions declared once, in
`NetworkTabs._commands`, and live here, bound to the canvas and its children: they work in the
canvas alone, and the main window puts the same actions in its menus.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QTabWidget, QWidget

from designer.canvas.block_actions import BlockActions
from designer.canvas.scope_page import ScopePage
from designer.canvas.view import KEY_ZOOM, NetworkView
from designer.document import DesignDocument
from designer.shortcuts import ActionSpec, StandardKey, assign_shortcuts
from engine.events import DesignEvent, NetworkAdded, NetworkRemoved, Reset


class NetworkTabs(QTabWidget):
    """Tabs of NetworkViews that follow the document's networks and its current network."""

    message = Signal(str)

    def __init__(self, document: DesignDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self._pages: dict[str, ScopePage] = {}
        self.blocks = BlockActions(document, self.current_view, self.message.emit, self)
        self.setDocumentMode(True)
        self.setTabBarAutoHide(True)
        self.setMovable(False)
        document.designChanged.connect(self._on_design_event)
        document.networkChanged.connect(self._show_network)
        document.frameRequested.connect(self._frame_node)
        self.currentChanged.connect(self._on_tab_changed)
        self._sync_tabs(frame=True)
        self._show_network(document.network)
        self.actions_by_name: dict[str, QAction] = {}
        self.key_plan: list[tuple[QAction, tuple]] = []
        self._build_actions()

    def _commands(self) -> tuple[ActionSpec, ...]:
        """Every canvas command and its keys: the one place a canvas key is bound."""
        return (
            ActionSpec("cut", "Cu&t", self.cut_selection, (StandardKey.Cut,)),
            ActionSpec("copy", "&Copy", self.copy_selection, (StandardKey.Copy,)),
            ActionSpec("paste", "&Paste", self.paste, (StandardKey.Paste,)),
            ActionSpec("duplicate", "D&uplicate", self.duplicate_selection, ("Ctrl+D",)),
            ActionSpec("delete", "&Delete", self.delete_selection,
                       (StandardKey.Delete, "Backspace")),
            ActionSpec("select_all", "Select &All", self.select_all, (StandardKey.SelectAll,)),
            ActionSpec("add_layer", "Add &Layer…", self.open_add_menu, ("Tab", "Shift+A")),
            ActionSpec("auto_layout", "Auto &Layout", self.auto_layout, ("Ctrl+L",),
                       tip="Arrange the layers in the order data flows through them"),
            ActionSpec("frame_selection", "&Frame Selection", self.frame_selection, ("F",)),
            ActionSpec("frame_all", "Frame &All", self.frame_all, ("A", "Home"),
                       tip="Zoom to show the whole network"),
            ActionSpec("zoom_in", "Zoom &In", self.zoom_in, (StandardKey.ZoomIn, "Ctrl+=")),
            ActionSpec("zoom_out", "Zoom &Out", self.zoom_out, (StandardKey.ZoomOut,)),
            ActionSpec("reset_zoom", "&Reset Zoom", self.reset_zoom, ("Ctrl+0",)),
            ActionSpec("group_block", "&Group into Block\u2026", self.blocks.group_selection,
                       ("Ctrl+G",), tip="Make a block from the selected layers and put one "
                       "block node in their place"),
            ActionSpec("ungroup_block", "&Ungroup Block", self.blocks.ungroup_selection,
                       ("Ctrl+Shift+G",), tip="Put the selected block nodes' layers back"),
            ActionSpec("open_block", "&Open Block", self.blocks.open_selected, ("Alt+Down",),
                       tip="Show the selected block node's definition (double-click does too)"),
            ActionSpec("leave_block", "Up to &Enclosing Level", self.blocks.leave, ("Alt+Up",),
                       tip="Leave the block definition shown, back to where it was opened"),
            ActionSpec("rename_block", "Rename Bloc&k\u2026", self.blocks.rename_shown,
                       ("Ctrl+Shift+R",), tip="Rename the block definition shown or selected; every use follows"),
        )

    def _build_actions(self) -> None:
        """Bind the commands to the canvas (and its children), so text fields elsewhere keep
        their own Copy, Paste, Delete and Select All."""
        for spec in self._commands():
            action = spec.make(self)
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.addAction(action)
            self.actions_by_name[spec.name] = action
            self.key_plan.append((action, spec.keys))
        assign_shortcuts(self.key_plan)

    # ------------------------------------------------------------------ tabs and networks
    def views(self) -> dict[str, NetworkView]:
        """Each network's own view (the definitions opened over it aside)."""
        return {network: page.root_view for network, page in self._pages.items()}

    def view_of(self, network: str) -> NetworkView:
        return self._pages[network].root_view

    def page_of(self, network: str) -> ScopePage:
        return self._pages[network]

    def current_page(self) -> ScopePage:
        return self.currentWidget()

    def current_view(self) -> NetworkView:
        """The view edits go to: the network's, or the innermost definition opened in it."""
        return self.currentWidget().current_view()

    def _sync_tabs(self, frame: bool = False) -> None:
        """Add a tab for each new network and drop the tabs of removed ones, in design order."""
        networks = self.document.design.networks
        for network in list(self._pages):
            if network not in networks:
                page = self._pages.pop(network)
                page.detach()
                self.removeTab(self.indexOf(page))
                page.deleteLater()
        for index, network in enumerate(networks):
            if network not in self._pages:
                page = ScopePage(self.document, network, self)
                page.message.connect(self.message)
                self._pages[network] = page
                self.insertTab(index, page, network)
            elif frame:
                self._pages[network].root_view.frame_when_shown()

    def _on_design_event(self, event: DesignEvent) -> None:
        if isinstance(event, NetworkAdded | NetworkRemoved):
            self._sync_tabs()
        elif isinstance(event, Reset):
            self._sync_tabs(frame=True)

    def _show_network(self, network: str) -> None:
        page = self._pages.get(network)
        if page is not None and self.currentWidget() is not page:
            self.setCurrentWidget(page)

    def _on_tab_changed(self, index: int) -> None:
        page = self.widget(index)
        if isinstance(page, ScopePage) and page.network in self.document.design.networks:
            self.document.set_network(page.network)
            self.document.set_selection(page.current_view().network_scene().selected_ids())

    def _frame_node(self, node_id: str) -> None:
        """Frame a node the document revealed (it has opened the node's scope already)."""
        if not self.document.design.has_node(node_id):
            return
        view = self.current_view()
        if view.network == self.document.design.network_of(node_id):
            view.frame_nodes([node_id])

    # ------------------------------------------------------------------ actions (menus bind these)
    def frame_selection(self) -> None:
        self.current_view().frame_selection()

    def frame_all(self) -> None:
        self.current_view().frame_all()

    def zoom_in(self) -> None:
        self.current_view().zoom_by(KEY_ZOOM)

    def zoom_out(self) -> None:
        self.current_view().zoom_by(1 / KEY_ZOOM)

    def reset_zoom(self) -> None:
        self.current_view().reset_zoom()

    def rename_node(self, node_id: str, name: str) -> None:
        """Rename on the node's canvas, which makes room if the name widens its card."""
        network = self.document.design.network_of(node_id)
        self.view_of(network).network_scene().rename(node_id, name)

    def delete_selection(self) -> None:
        self.current_view().network_scene().delete_selection()

    def duplicate_selection(self) -> None:
        self.current_view().network_scene().duplicate_selection()

    def copy_selection(self) -> None:
        self.current_view().network_scene().copy_selection()

    def cut_selection(self) -> None:
        self.current_view().network_scene().cut_selection()

    def paste(self) -> None:
        self.current_view().paste()

    def select_all(self) -> None:
        self.current_view().network_scene().select_all()

    def auto_layout(self) -> None:
        view = self.current_view()
        view.network_scene().auto_layout()
        view.frame_all()

    def open_add_menu(self) -> None:
        self.current_view().open_add_menu()

    def add_layer_at_centre(self, layer_type: str) -> str | None:
        view = self.current_view()
        return view.add_layer_at(layer_type, view.centre_scene_pos())

    def add_block_at_centre(self, block: str) -> str | None:
        view = self.current_view()
        return view.add_block_at(block, view.centre_scene_pos())
