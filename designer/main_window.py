"""The main window: network tabs in the middle, panels around them, menus, files and autosave."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QSize, Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QColor, QShowEvent
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QMenu,
    QPushButton,
    QSplitter,
    QTabBar,
    QToolBar,
    QWidget,
)

from designer.accessibility import keep_named
from designer.autosave import AutosaveNote, Autosaver, default_recovery_dir, find_recoveries
from designer.canvas import NetworkTabs
from designer.design_properties import DesignPropertiesDialog, SetDesignProperties
from designer.document import DesignDocument
from designer.heap import settle_after_opening
from designer.insight import CanvasInsight
from designer.panels.cheat_sheet import CheatSheet, shortcut_text
from designer.panels.code_view import CodeView
from designer.panels.dialogs import Dialogs
from designer.panels.inspector import Inspector
from designer.panels.lazy import RefreshWhenShown
from designer.panels.palette import LayerPalette
from designer.panels.problems import ProblemsPanel
from designer.panels.summary import SummaryPanel
from designer.panels.user_guide import UserGuide
from designer.settings import AppSettings
from designer.shortcuts import ActionSpec, Keys, StandardKey, assign_shortcuts
from designer.theme import THEME_MODES, ThemeManager, themed_icon
from designer.training.panel import TrainingPanel
from engine import Design, DesignError, load_design, save_design
from engine.events import BlockAdded, BlockRemoved, DesignEvent, NameChanged, Reset
from engine.fileformat import EXTENSION

if TYPE_CHECKING:   # the dialogs are imported when opened: the window starts without them
    from designer.panels.about import AboutDialog
    from designer.panels.export_dialog import ExportDialog
    from designer.panels.import_dialog import ImportDialog

APP_NAME = "NeuralCanvas"
# Toolbar groups; the actions named in TOOL_BAR_TEXT show their text beside the icon.
TOOL_BAR = (("new", "open", "save"), ("undo", "redo"),
            ("auto_layout", "frame_all", "zoom_in", "zoom_out"), ("import", "export"),
            ("train", "pause", "stop"))
TOOL_BAR_TEXT = ("export", "train", "pause", "stop")
ICONS = {"auto_layout": "auto-layout", "frame_all": "frame-all", "zoom_in": "zoom-in",
         "zoom_out": "zoom-out", "export": "export-code"}
# Where the canvas's actions (designer.canvas.tabs) stand in the menus, in groups.
EDIT_MENU = (("cut", "copy", "paste", "duplicate", "delete"),
             ("select_all", "add_layer", "auto_layout"),
             ("group_block", "ungroup_block", "rename_block"))
VIEW_MENU = (("frame_selection", "frame_all", "zoom_in", "zoom_out", "reset_zoom"),
             ("open_block", "leave_block"))
TRAINING_KEYS = (("F5",), ("F6",), ("Shift+F5",), ("Ctrl+K",))  # train, pause, stop, checkpoint
TRAINING_DOCK_SHARE = 0.45  # of the window's height, when a run starts with a small dock
CANVAS_SHARE = 0.3          # of the window's height the canvas keeps when the Setup form grows
SETUP_FORM_SHARE = 0.64     # of the Setup tab's width for the settings form (the rest: preview)


def tool_tip(action: QAction) -> str:
    """What a toolbar button does and its first shortcut, e.g. "Train the design … (F5)"."""
    what = action.statusTip() or action.text().replace("&", "").rstrip("…")
    keys = shortcut_text(action).split(", ")[0]
    return f"{what} ({keys})" if keys else what


class MainWindow(QMainWindow):
    """One open design. Canvas-only shortcuts work while the canvas has focus, so text fields
    keep their own Copy, Paste, Delete and Select All."""

    def __init__(self, document: DesignDocument, settings: AppSettings | None = None,
                 theme: ThemeManager | None = None, recovery_dir: Path | None = None,
                 dialogs: Dialogs | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        if document.parent() is None:
            document.setParent(self)
        self.settings = settings or AppSettings()
        self.theme = theme
        self.dialogs = dialogs or Dialogs(self)
        self.recovery_dir = recovery_dir or default_recovery_dir()
        self.autosaver = Autosaver(document, self.recovery_dir,
                                   self.settings.autosave_seconds() * 1000, self)
        self._fit_setup_when_shown = False
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks
                            | QMainWindow.DockOption.AllowTabbedDocks)

        self.tabs = NetworkTabs(document, self)
        self.setCentralWidget(self.tabs)
        self.palette_panel = LayerPalette(self)
        self.inspector = Inspector(document, self, rename=self.tabs.rename_node)
        self.problems = ProblemsPanel(document, self)
        self.summary = SummaryPanel(document, self)
        self.code_view = CodeView(document, self.dialogs, self)
        self.training = TrainingPanel(document, self)
        self.docks: dict[str, QDockWidget] = {}
        self._build_docks()
        self._build_menus()
        self._build_tool_bar()
        self._build_status_bar()
        self.insight = CanvasInsight(self.tabs, self.inspector, self.training.probes)

        self.palette_panel.layerActivated.connect(self.add_layer)
        self.palette_panel.blockActivated.connect(self.add_block)
        self.palette_panel.blockOpenRequested.connect(document.open_definition)
        self.palette_panel.blockDeleteRequested.connect(self.tabs.blocks.delete_definition)
        self.tabs.message.connect(self.show_message)
        self.code_view.message.connect(self.show_message)
        self.code_view.exportRequested.connect(self.export_design)
        self.training.message.connect(self.show_message)
        self.training.deviceChanged.connect(self._device_label.setText)
        self.training.highlightRequested.connect(self._highlight_nodes)
        self.training.revealRequested.connect(self.show_training)
        self.problems.countChanged.connect(self._show_problem_count)
        document.undo_stack.cleanChanged.connect(self._on_clean_changed)
        document.designChanged.connect(self._on_design_event)
        document.pathChanged.connect(lambda _path: self._update_title())
        self._show_problem_count(len(document.report.errors), len(document.report.warnings))
        self.palette_panel.show_design_blocks(document.design.blocks)
        self._update_title()
        self._restore_layout()
        keep_named(self)

    # ------------------------------------------------------------------ layout
    def _add_dock(self, key: str, title: str, widget: QWidget,
                  area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"{key}Dock")
        dock.setWidget(widget)
        if isinstance(widget, RefreshWhenShown):
            widget.set_shown(False)  # until the dock reports it is on screen
            dock.visibilityChanged.connect(widget.set_shown)
        self.addDockWidget(area, dock)
        self.docks[key] = dock
        return dock

    def _build_docks(self) -> None:
        left, right = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
        bottom = Qt.DockWidgetArea.BottomDockWidgetArea
        self._add_dock("palette", "Layers", self.palette_panel, left)
        self._add_dock("inspector", "Inspector", self.inspector, right)
        problems = self._add_dock("problems", "Problems", self.problems, bottom)
        summary = self._add_dock("summary", "Summary", self.summary, bottom)
        code = self._add_dock("code", "Code", self.code_view, bottom)
        training = self._add_dock("training", "Training", self.training, bottom)
        self.tabifyDockWidget(problems, summary)
        self.tabifyDockWidget(summary, code)
        self.tabifyDockWidget(code, training)
        summary.raise_()
        self.resizeDocks([self.docks["palette"], self.docks["inspector"]], [220, 340],
                         Qt.Orientation.Horizontal)
        self.resizeDocks([problems], [240], Qt.Orientation.Vertical)

    def _build_tool_bar(self) -> None:
        """The common actions, Train/Pause/Stop among them; each button says what it does and
        its key in a tooltip, and those in TOOL_BAR_TEXT also show their name."""
        bar = QToolBar("Main toolbar", self)
        bar.setObjectName("mainToolBar")
        bar.setMovable(False)
        bar.setIconSize(QSize(20, 20))
        for group in TOOL_BAR:
            for name in group:
                action = self.actions_by_name[name]
                action.setToolTip(tool_tip(action))
                bar.addAction(action)
                if name in TOOL_BAR_TEXT:
                    bar.widgetForAction(action).setToolButtonStyle(
                        Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            bar.addSeparator()
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        self.tool_bar = bar
        self._paint_icons()

    def _paint_icons(self) -> None:
        """Draw the toolbar icons in the current palette's ink (again after a theme switch)."""
        ratio = self.devicePixelRatioF()
        for group in TOOL_BAR:
            for name in group:
                self.actions_by_name[name].setIcon(themed_icon(ICONS.get(name, name),
                                                               self.palette(), ratio))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "actions_by_name"):
            self._paint_icons()
        super().changeEvent(event)

    def _build_status_bar(self) -> None:
        self._problem_count = QPushButton(self)
        self._problem_count.setFlat(True)
        self._problem_count.setToolTip("Show the problems panel")
        self._problem_count.clicked.connect(self.show_problems)
        self.statusBar().addPermanentWidget(self._problem_count)
        self._device_label = QLabel(self)
        self._device_label.setToolTip("The device training runs on")
        self.statusBar().addPermanentWidget(self._device_label)
        self.statusBar().addPermanentWidget(AutosaveNote(self.autosaver, self))

    def _restore_layout(self) -> None:
        """The layout of the last session, or on a first start most of the screen."""
        geometry, state = self.settings.window_geometry(), self.settings.window_state()
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            available = self.screen().availableGeometry()
            size = QSize(min(1600, int(available.width() * 0.9)),
                         min(1000, int(available.height() * 0.9)))
            self.resize(size)
            self.move(available.center() - self.rect().center())
        if state is not None:
            self.restoreState(state)
        else:
            self.docks["training"].raise_()   # a first start shows what Train will use
            self._fit_setup_when_shown = True
        for name, splitter in self._remembered_splitters().items():
            split = self.settings.splitter_state(name)
            if split is not None:
                splitter.restoreState(split)
            elif state is not None:   # a layout kept before splits were: the default split
                self._fit_setup_when_shown = True

    def _remembered_splitters(self) -> dict[str, QSplitter]:
        """Splits inside docks that the next start restores as the user left them (the
        Setup tab's, which a first start sizes so the whole form shows)."""
        return {"setup": self.training.setup}

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._fit_setup_when_shown:
            self._fit_setup_when_shown = False
            QTimer.singleShot(0, self.fit_setup_form)   # once the docks have their sizes

    def fit_setup_form(self) -> None:
        """Size the Training dock and the Setup tab's split so the whole settings form shows
        (its groups wrap into columns), leaving the canvas at least CANVAS_SHARE of the
        height; the default layout of a first start."""
        setup = self.training.setup
        total = sum(setup.sizes())
        form_width = round(total * SETUP_FORM_SHARE)
        setup.setSizes([form_width, total - form_width])
        form = setup.form
        frame = form.width() - form.viewport().width()   # the scroll bar, if one shows now
        missing = form.widget().heightForWidth(form_width - frame) - form.viewport().height()
        dock = self.docks["training"]
        if missing > 0:
            room = self.centralWidget().height() - int(self.height() * CANVAS_SHARE)
            self.resizeDocks([dock], [self._dock_group_height(dock) + min(missing, max(room, 0))],
                             Qt.Orientation.Vertical)
            QTimer.singleShot(0, self.tabs.frame_all)   # the canvas got shorter

    def _dock_group_height(self, dock: QDockWidget) -> int:
        """The height resizeDocks sets for a dock: with its tabbed neighbours' tab bar."""
        bars = [bar for bar in self.findChildren(QTabBar) if bar.parent() is self
                and bar.isVisible() and dock.windowTitle() in
                [bar.tabText(i) for i in range(bar.count())]]
        return dock.height() + (bars[0].height() if bars else 0)

    # ------------------------------------------------------------------ actions and menus
    def _file_commands(self) -> tuple[ActionSpec | None, ...]:
        """The File menu (None: a separator; the Open Recent submenu follows Open)."""
        return (
            ActionSpec("new", "&New…", self.new_design, (StandardKey.New,),
                       tip="Start a blank design or one of the templates"),
            ActionSpec("open", "&Open…", self.open_design, (StandardKey.Open,),
                       tip="Open a design file"),
            None,
            ActionSpec("save", "&Save", self.save, (StandardKey.Save,), tip="Save the design"),
            ActionSpec("save_as", "Save &As…", self.save_as, (StandardKey.SaveAs, "Ctrl+Shift+S")),
            None,
            ActionSpec("import", "&Import PyTorch Module…", self.import_module, ("Ctrl+I",),
                       tip="Turn an nn.Module class from a Python file into a design"),
            ActionSpec("export", "&Export…", self.export_design, ("Ctrl+E",),
                       tip="Write the design as a PyTorch script or an ONNX file"),
            None,
            ActionSpec("properties", "Design &Properties…", self.edit_properties,
                       tip="The design's name and description"),
            None,
            ActionSpec("quit", "&Quit", self.close, (StandardKey.Quit, "Ctrl+Q")),
        )

    def _help_commands(self) -> tuple[ActionSpec | None, ...]:
        return (
            ActionSpec("guide", "&User Guide", self.show_user_guide, (StandardKey.HelpContents,)),
            ActionSpec("shortcuts", "&Keyboard Shortcuts", self.show_cheat_sheet, ("Ctrl+/",)),
            None,
            ActionSpec("about", f"&About {APP_NAME}", self.show_about),
        )

    def _build_menus(self) -> None:
        """Every menu, then every shortcut of the window and its canvas at once (see
        designer.shortcuts): each key is bound once, on its action."""
        self.actions_by_name: dict[str, QAction] = {}
        self._key_plan: list[tuple[QAction, tuple]] = list(self.tabs.key_plan)
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self._fill(file_menu, self._file_commands())
        self.recent_menu = QMenu("Open &Recent", file_menu)
        actions = file_menu.actions()
        after_open = actions[actions.index(self.actions_by_name["open"]) + 1]
        file_menu.insertMenu(after_open, self.recent_menu)
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        self._build_edit_menu(bar.addMenu("&Edit"))
        self._build_view_menu(bar.addMenu("&View"))
        self._build_run_menu(bar.addMenu("&Run"))
        self._fill(bar.addMenu("&Help"), self._help_commands())
        assign_shortcuts(self._key_plan)

    def _build_edit_menu(self, menu: QMenu) -> None:
        stack = self.document.undo_stack
        # Both conventions for redo work everywhere: Ctrl+Y (Windows) and Ctrl+Shift+Z.
        self._add_made(menu, "undo", stack.createUndoAction(self, "&Undo"), (StandardKey.Undo,))
        self._add_made(menu, "redo", stack.createRedoAction(self, "&Redo"),
                       (StandardKey.Redo, "Ctrl+Y", "Ctrl+Shift+Z"))
        menu.addSeparator()
        self._add_canvas_actions(menu, EDIT_MENU)

    def _build_view_menu(self, menu: QMenu) -> None:
        self._add_canvas_actions(menu, VIEW_MENU)
        menu.addSeparator()
        panels = menu.addMenu("&Panels")
        for dock in self.docks.values():
            panels.addAction(dock.toggleViewAction())
        self._build_theme_menu(menu.addMenu("&Theme"))
        menu.addSeparator()
        for name, action, keys in self.training.insight_actions()["view"]:
            self._add_made(menu, name, action, keys)

    def _build_run_menu(self, menu: QMenu) -> None:
        for name, action, keys in zip(("train", "pause", "stop", "checkpoint"),
                                      self.training.actions_for_menu(), TRAINING_KEYS):
            self._add_made(menu, name, action, keys)
        menu.addSeparator()
        for name, action, keys in self.training.insight_actions()["run"]:
            self._add_made(menu, name, action, keys)
        menu.addSeparator()
        self._fill(menu, (ActionSpec("show_training", "Show &Training Panel",
                                     self.show_training, ("Ctrl+Shift+T",)),))

    def _fill(self, menu: QMenu, commands: tuple[ActionSpec | None, ...]) -> None:
        """Add the window's own commands to a menu; their keys work anywhere in the window."""
        for spec in commands:
            if spec is None:
                menu.addSeparator()
            else:
                self._add_made(menu, spec.name, spec.make(self), spec.keys)

    def _add_made(self, menu: QMenu, name: str, action: QAction, keys: Keys) -> None:
        """A window-wide action, in `menu`, with its keys in the plan."""
        self._key_plan.append((action, tuple(keys)))
        self.addAction(action)
        menu.addAction(action)
        self.actions_by_name[name] = action

    def _add_canvas_actions(self, menu: QMenu, groups: tuple[tuple[str, ...], ...]) -> None:
        """The canvas's own actions (bound to the canvas, keys and all) in a menu."""
        for index, group in enumerate(groups):
            if index:
                menu.addSeparator()
            for name in group:
                action = self.tabs.actions_by_name[name]
                menu.addAction(action)
                self.actions_by_name[name] = action

    def _build_theme_menu(self, menu: QMenu) -> None:
        group = QActionGroup(self)
        current = self.theme.mode if self.theme else self.settings.theme()
        self.theme_actions: dict[str, QAction] = {}
        for mode in THEME_MODES:
            action = QAction("Follow System" if mode == "system" else mode.capitalize(), self)
            action.setCheckable(True)
            action.setChecked(mode == current)
            action.triggered.connect(lambda _checked=False, m=mode: self.set_theme(m))
            group.addAction(action)
            menu.addAction(action)
            self.theme_actions[mode] = action

    # ------------------------------------------------------------------ view
    def add_layer(self, layer_type: str) -> None:
        """Add a layer at the centre of the visible canvas and give the canvas focus."""
        self.tabs.add_layer_at_centre(layer_type)
        view = self.tabs.current_view()
        if view is not None:
            view.setFocus()

    def add_block(self, block: str) -> None:
        """Add a node using a block at the centre of the visible canvas (a built-in block is
        copied into the design first)."""
        self.tabs.add_block_at_centre(block)
        self.tabs.current_view().setFocus()

    def set_theme(self, mode: str) -> None:
        if self.theme is not None:
            self.theme.set_mode(mode)
        self.settings.set_theme(mode)
        self.theme_actions[mode].setChecked(True)

    def show_cheat_sheet(self) -> CheatSheet:
        sheet = CheatSheet(self.menuBar(), self)
        sheet.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        sheet.show()
        return sheet

    def show_user_guide(self) -> UserGuide:
        guide = UserGuide(self)
        guide.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        guide.show()
        return guide

    def show_about(self) -> AboutDialog:
        from designer.panels.about import AboutDialog  # package metadata: when asked

        about = AboutDialog(self)
        about.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        about.open()
        return about

    def edit_properties(self) -> DesignPropertiesDialog:
        """The name and description dialog (window-modal; OK is one undo step)."""
        dialog = DesignPropertiesDialog(self.document, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def show_message(self, text: str) -> None:
        self.statusBar().showMessage(text, 6000)

    def _show_problem_count(self, errors: int, warnings: int) -> None:
        self._problem_count.setText(self.problems.summary.text())
        count = errors + warnings
        self.docks["problems"].setWindowTitle(f"Problems ({count})" if count else "Problems")

    def show_training(self) -> None:
        """Bring the training panel forward, tall enough for its plots."""
        dock = self.docks["training"]
        dock.show()
        dock.raise_()
        wanted = int(self.height() * TRAINING_DOCK_SHARE)
        if dock.height() < wanted:
            self.resizeDocks([dock], [wanted], Qt.Orientation.Vertical)

    def _highlight_nodes(self, node_ids: list[str], colour: QColor | None) -> None:
        for network in self.tabs.views():
            for view in self.tabs.page_of(network).views():
                view.network_scene().highlight_nodes(node_ids, colour)

    def show_problems(self) -> None:
        dock = self.docks["problems"]
        dock.show()
        dock.raise_()

    # ------------------------------------------------------------------ title
    def _update_title(self) -> None:
        self.setWindowTitle(f"{APP_NAME} \u2014 {self.document.design.name}[*]")
        self.setWindowModified(not self.document.undo_stack.isClean())

    def _on_clean_changed(self, clean: bool) -> None:
        self.setWindowModified(not clean)

    def _on_design_event(self, event: DesignEvent) -> None:
        if isinstance(event, NameChanged | Reset):
            self._update_title()
        if isinstance(event, BlockAdded | BlockRemoved | Reset):
            self.palette_panel.show_design_blocks(self.document.design.blocks)

    # ------------------------------------------------------------------ files
    def confirm_discard(self) -> bool:
        """True when the current design may be replaced (saved, discarded or already clean)."""
        if self.document.undo_stack.isClean():
            return True
        answer = self.dialogs.ask_unsaved(self.document.design.name)
        if answer == "save":
            return self.save()
        return answer == "discard"

    def new_design(self) -> None:
        if not self.confirm_discard():
            return
        design = self.dialogs.choose_template()
        if design is not None:
            self.show_design(design, None)

    def import_module(self) -> ImportDialog | None:
        """Ask for a Python file, its class and input shape; the import replaces the design."""
        from designer.panels.import_dialog import ImportDialog  # the importer: when asked

        if not self.confirm_discard():
            return None
        dialog = ImportDialog(self.dialogs, self.settings.last_folder(), self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.imported.connect(self._show_imported)
        dialog.open()
        return dialog

    def _show_imported(self, design: Design, left_out: list[str]) -> None:
        self.show_design(design, None)
        self.document.undo_stack.resetClean()   # not saved anywhere yet
        extra = f"; left out (forward never calls them): {', '.join(left_out)}" if left_out \
            else ""
        self.show_message(f"Imported {design.name}{extra}")

    def export_design(self) -> ExportDialog:
        """The export dialog for the design as it is now."""
        from designer.panels.export_dialog import ExportDialog  # the compiler: when asked

        dialog = ExportDialog(self.document.design.copy(), self.dialogs,
                              self.settings.last_folder(), self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.exported.connect(self._on_exported)
        dialog.open()
        return dialog

    def _on_exported(self, message: str, path: Path) -> None:
        self.settings.set_last_folder(path.parent)
        self.show_message(message)

    def show_design(self, design: Design, path: Path | None) -> None:
        """Replace the open design (already confirmed) and frame it."""
        self.document.replace_design(design, path)
        self.autosaver.discard()
        self.tabs.frame_all()
        self._update_title()
        settle_after_opening(design)   # its cards and checks live as long as it is open

    def open_design(self) -> None:
        if not self.confirm_discard():
            return
        path = self.dialogs.ask_open_path(self.settings.last_folder())
        if path is not None:
            self.open_path(path)

    def open_path(self, path: Path) -> bool:
        """Open a design file; a file that cannot be read is explained, never half-loaded."""
        path = Path(path)
        try:
            design = load_design(path)
        except DesignError as err:
            self.dialogs.show_error("Cannot open design", str(err))
            if not path.is_file():
                self.settings.remove_recent_file(path)
            return False
        self.show_design(design, path.resolve())
        self._remember_file(path)
        self.show_message(f"Opened {path}")
        return True

    def save(self) -> bool:
        if self.document.path is None:
            return self.save_as()
        return self._write(self.document.path)

    def save_as(self) -> bool:
        suggested = self.document.path or (self.settings.last_folder()
                                           / f"{self.document.design.name}{EXTENSION}")
        path = self.dialogs.ask_save_path(suggested)
        if path is None:
            return False
        if path.suffix != EXTENSION:
            path = path.with_name(path.name + EXTENSION)
        design = self.document.design
        if design.name != path.stem:   # an undo step, so the saved state includes it
            self.document.push(SetDesignProperties(design, path.stem, design.description,
                                                   f"Name the design {path.stem}"))
        if not self._write(path):
            return False
        self.document.set_path(path)
        return True

    def _write(self, path: Path) -> bool:
        try:
            save_design(self.document.design, path)
        except (OSError, DesignError) as err:
            self.dialogs.show_error("Cannot save design", f"Could not save {path}:\n{err}")
            return False
        self.document.undo_stack.setClean()
        self.autosaver.discard()
        self._remember_file(path)
        self.show_message(f"Saved {path}")
        return True

    def _remember_file(self, path: Path) -> None:
        self.settings.add_recent_file(path)
        self.settings.set_last_folder(path.resolve().parent)

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.settings.recent_files()
        for path in recent:
            action = self.recent_menu.addAction(path.name)
            action.setToolTip(str(path))
            action.setStatusTip(str(path))
            action.triggered.connect(lambda _checked=False, p=path: self.open_recent(p))
        if not recent:
            self.recent_menu.addAction("No recent files").setEnabled(False)
        else:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear Recent Files", self.settings.clear_recent_files)

    def open_recent(self, path: Path) -> None:
        if self.confirm_discard():
            self.open_path(path)

    # ------------------------------------------------------------------ recovery
    def offer_recovery(self) -> bool:
        """Offer work left by sessions that crashed, newest first; True if one was restored."""
        for recovery in find_recoveries(self.recovery_dir):
            if not self.dialogs.ask_restore(recovery):
                recovery.discard()
                continue
            try:
                design = recovery.load()
            except DesignError as err:
                self.dialogs.show_error("Cannot restore", f"The recovery file is damaged and "
                                        f"was kept at {recovery.design_path}:\n{err}")
                recovery.design_path.rename(recovery.design_path.with_suffix(".damaged"))
                continue
            self.show_design(design, recovery.original)
            self.document.undo_stack.resetClean()
            self.autosaver.save_now()
            recovery.discard()
            self.show_message("Restored unsaved work; save it to keep it")
            return True
        return False

    # ------------------------------------------------------------------ closing
    def closeEvent(self, event: QCloseEvent) -> None:
        if not (self.autosaver.keeps_unsaved_work or self.confirm_discard()):
            event.ignore()
            return
        self.settings.set_window_layout(self.saveGeometry(), self.saveState())
        for name, splitter in self._remembered_splitters().items():
            self.settings.set_splitter_state(name, splitter.saveState())
        self.settings.sync()
        self.autosaver.close()
        self.training.shutdown()
        event.accept()
