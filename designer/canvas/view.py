"""The view of one network: navigation (zoom, pan, framing), keys, drops from the palette,
context menus, search-to-add and in-place renaming."""

from __future__ import annotations

import math

from PySide6.QtCore import QEvent, QLineF, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QContextMenuEvent,
    QCursor,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPen,
    QWheelEvent,
)
from PySide6.QtWidgets import QGraphicsView, QMenu, QWidget

from designer.canvas.block_actions import BlockActions
from designer.canvas.connection_rules import layers_accepting, layers_with_output
from designer.canvas.edge_item import EdgeItem
from designer.canvas.empty_hint import EmptyCanvasHint
from designer.canvas.node_item import NodeItem
from designer.canvas.node_text import shape_text
from designer.canvas.rename_editor import RenameEditor
from designer.canvas.scene import NetworkScene
from designer.canvas.search_popup import LayerSearchPopup
from designer.canvas.style import (
    GRID_STEP,
    HEADER_HEIGHT,
    MAX_ZOOM,
    MIN_ZOOM,
    NODE_WIDTH,
    PORT_TOP,
    CanvasStyle,
)
from designer.canvas.wiring import LooseEnd
from designer.undo_commands import Disconnect, macro
from engine.layers import all_layers

LAYER_MIME = "application/x-neuralcanvas-layer"
BLOCK_MIME = "application/x-neuralcanvas-block"  # a block's name: the design's or a built-in
SCENE_EXTENT = 100_000.0
FRAME_MARGIN = 40.0
WHEEL_STEP = 1.0015  # zoom factor per 1/8 degree of wheel rotation (a notch is 120)
KEY_ZOOM = 1.25
WIRE_DROP_REACH = 8.0  # view pixels around the drop point in which a wire takes the layer
_MODIFIER_KEYS = {Qt.Key.Key_Shift, Qt.Key.Key_Control, Qt.Key.Key_Alt, Qt.Key.Key_Meta}


def _dropped_type(event, mime: str = LAYER_MIME) -> str:
    """The layer type (or block name) a palette drag carries."""
    data = event.mimeData().data(mime)
    return bytes(data).decode("utf-8", errors="replace").strip()


class NetworkView(QGraphicsView):
    """Shows one NetworkScene; every edit goes through the scene to the undo stack."""

    message = Signal(str)

    def __init__(self, scene: NetworkScene, parent: QWidget | None = None) -> None:
        super().__init__(scene, parent)
        self.network = scene.network
        self.search_popup: LayerSearchPopup | None = None
        self.rename_editor: RenameEditor | None = None
        self._pan_from: QPointF | None = None
        self._space_held = False
        self._frame_pending = True
        self.setRenderHints(QPainter.RenderHint.Antialiasing |
                            QPainter.RenderHint.TextAntialiasing)
        self.setSceneRect(-SCENE_EXTENT / 2, -SCENE_EXTENT / 2, SCENE_EXTENT, SCENE_EXTENT)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setRubberBandSelectionMode(Qt.ItemSelectionMode.IntersectsItemShape)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontAdjustForAntialiasing)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAcceptDrops(True)
        self.setFrameShape(QGraphicsView.Shape.NoFrame)
        scene.renameRequested.connect(self.rename_node)
        scene.looseWireDropped.connect(self._offer_layers_for_wire)
        scene.message.connect(self._show_message)
        self.empty_hint = EmptyCanvasHint(self, scene)
        self._restyle()

    def network_scene(self) -> NetworkScene:
        return self.scene()

    # ------------------------------------------------------------------ zoom and framing
    @property
    def zoom(self) -> float:
        return self.transform().m11()

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        """Zoom keeping `anchor` (a viewport point; default: the cursor or the centre) still."""
        target = min(MAX_ZOOM, max(MIN_ZOOM, self.zoom * factor))
        factor = target / self.zoom
        if abs(factor - 1.0) < 1e-9:
            return
        if anchor is None:
            cursor = self.viewport().mapFromGlobal(QCursor.pos())
            inside = self.viewport().rect().contains(cursor)
            anchor = QPointF(cursor) if inside else QPointF(self.viewport().rect().center())
        before = self.mapToScene(anchor.toPoint())
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.scale(factor, factor)
        after = self.mapToScene(anchor.toPoint())
        self.translate(after.x() - before.x(), after.y() - before.y())
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)

    def reset_zoom(self) -> None:
        centre = self.mapToScene(self.viewport().rect().center())
        self.resetTransform()
        self.centerOn(centre)

    def frame_rect(self, rect: QRectF) -> None:
        """Fit a scene rectangle in the view, never zooming beyond 100% or outside the clamps."""
        if rect.isNull() or self.viewport().width() < 10:
            return
        rect = rect.adjusted(-FRAME_MARGIN, -FRAME_MARGIN, FRAME_MARGIN, FRAME_MARGIN)
        port = self.viewport().rect()
        zoom = min(port.width() / rect.width(), port.height() / rect.height())
        zoom = min(1.0, MAX_ZOOM, max(MIN_ZOOM, zoom))
        self.resetTransform()
        self.scale(zoom, zoom)
        self.centerOn(rect.center())

    def frame_nodes(self, node_ids: list[str]) -> None:
        self.frame_rect(self.network_scene().items_rect(node_ids))

    def frame_selection(self) -> None:
        ids = self.network_scene().selected_ids()
        if ids:
            self.frame_nodes(ids)
        else:
            self.frame_all()

    def frame_all(self) -> None:
        self._frame_pending = False
        rect = self.network_scene().items_rect()
        if rect.isNull():
            self.resetTransform()
            self.centerOn(0, 0)
        else:
            self.frame_rect(rect)

    def frame_when_shown(self) -> None:
        """Frame everything now if the view has a size, else as soon as it gets one."""
        self._frame_pending = True
        if self.isVisible() and self.viewport().width() > 10:
            self.frame_all()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self._frame_pending and self.viewport().width() > 10:
            self.frame_all()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._frame_pending and self.viewport().width() > 10:
            self.frame_all()

    # ------------------------------------------------------------------ where things go
    def cursor_scene_pos(self) -> QPointF:
        """The cursor in scene coordinates when it is over the view, else the view's centre."""
        cursor = self.viewport().mapFromGlobal(QCursor.pos())
        if not self.viewport().rect().contains(cursor):
            cursor = self.viewport().rect().center()
        return self.mapToScene(cursor)

    def centre_scene_pos(self) -> QPointF:
        return self.mapToScene(self.viewport().rect().center())

    @staticmethod
    def _card_at(point: QPointF) -> QPointF:
        """The top-left of a card whose header is centred on `point` (the scene then finds
        the free spot nearest to it)."""
        return QPointF(round(point.x() - NODE_WIDTH / 2), round(point.y() - HEADER_HEIGHT / 2))

    # ------------------------------------------------------------------ editing entry points
    def add_layer_at(self, layer_type: str, point: QPointF) -> str | None:
        """Add a layer with its header centred on a scene point (drops, search-to-add)."""
        return self.network_scene().add_layer(layer_type, self._card_at(point))

    def add_block_at(self, block: str, point: QPointF) -> str | None:
        """Add a node using `block` (the design's, or a built-in copied in) at a scene point."""
        return self.network_scene().add_block(block, self._card_at(point))

    def open_add_menu(self, point: QPointF | None = None) -> LayerSearchPopup:
        """Search-to-add at a scene point (default: the cursor, or the centre)."""
        point = self.cursor_scene_pos() if point is None else point
        types = [spec.name for spec in all_layers()]
        return self._open_popup(types, "Add a layer", point,
                                lambda layer_type: self.add_layer_at(layer_type, point))

    def _offer_layers_for_wire(self, end: LooseEnd) -> None:
        """A wire let go on empty canvas: offer the layers that fit and connect the choice."""
        scene = self.network_scene()
        node = scene.design.node(end.node_id)
        if end.from_output:
            info = self._current_report().info(end.node_id, end.port)
            types = layers_accepting(info)
            title = f"Add after {node.name}" + (f" {shape_text(info)}" if info else "")
            pos = QPointF(end.scene_pos.x(), end.scene_pos.y() - HEADER_HEIGHT - PORT_TOP)

            def add(layer_type: str) -> None:
                scene.add_layer(layer_type, pos, inputs=[((end.node_id, end.port), 0)])
        else:
            types = layers_with_output()
            title = f"Add before input {end.port} of {node.name}"
            top = end.scene_pos.y() - HEADER_HEIGHT - PORT_TOP
            pos = QPointF(end.scene_pos.x() - NODE_WIDTH, top)

            def add(layer_type: str) -> None:
                scene.add_layer(layer_type, pos, outputs=[(end.node_id, end.port)])
        self._open_popup(types, title, end.scene_pos, add)

    def _offer_layers_for_edge(self, item: EdgeItem) -> None:
        """Offer the layers that fit the wire's tensor and splice the choice into the wire."""
        scene = self.network_scene()
        edge = item.edge
        info = self._current_report().info(edge.src, edge.out)
        point = item.label_rect().center() if not item.label_rect().isNull() else \
            item.boundingRect().center()
        title = f"Insert into the wire {scene.design.node(edge.src).name} \u2192 " \
                f"{scene.design.node(edge.dst).name}"
        pos = QPointF(point.x() - NODE_WIDTH / 2, point.y() + 30)
        self._open_popup(layers_accepting(info), title, point,
                         lambda layer_type: scene.insert_layer(layer_type, edge, pos))

    def _open_popup(self, types: list[str], title: str, point: QPointF,
                    on_chosen) -> LayerSearchPopup:
        if self.search_popup is not None:
            self.search_popup.close()
        popup = LayerSearchPopup(types, title, self)
        popup.chosen.connect(on_chosen)
        popup.destroyed.connect(lambda *_: self._forget_popup(popup))
        self.search_popup = popup
        popup.popup_at(self.viewport().mapToGlobal(self.mapFromScene(point)))
        return popup

    def _forget_popup(self, popup: LayerSearchPopup) -> None:
        if self.search_popup is popup:
            self.search_popup = None

    def _current_report(self):
        return self.network_scene().document.current_report()

    def rename_node(self, node_id: str) -> None:
        """Edit a node's name in place over its header; Enter commits one undoable Rename."""
        scene = self.network_scene()
        item = scene.nodes.get(node_id)
        if item is None:
            return
        if self.rename_editor is not None:
            self.rename_editor.finish()
        rect = self.mapFromScene(item.mapToScene(item.title_rect())).boundingRect()
        editor = RenameEditor(self.viewport(), item.name,
                              lambda text: self._commit_rename(node_id, text))
        editor.place_over(rect)
        self.rename_editor = editor
        editor.destroyed.connect(lambda *_: self._forget_editor(editor))

    def _forget_editor(self, editor: RenameEditor) -> None:
        if self.rename_editor is editor:
            self.rename_editor = None

    def _commit_rename(self, node_id: str, text: str) -> None:
        refusal = self.network_scene().rename(node_id, text)
        if refusal:
            self._show_message(refusal)
        self.setFocus()

    def paste(self) -> None:
        self.network_scene().paste(self._card_at(self.cursor_scene_pos()))

    def _show_message(self, text: str) -> None:
        self.message.emit(text)

    # ------------------------------------------------------------------ mouse
    def _starts_pan(self, event: QMouseEvent) -> bool:
        button, mods = event.button(), event.modifiers()
        return button == Qt.MouseButton.MiddleButton or (
            button == Qt.MouseButton.LeftButton and
            (self._space_held or mods & Qt.KeyboardModifier.AltModifier))

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self._starts_pan(event):
            self._pan_from = event.position()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._pan_from is not None:
            delta = event.position() - self._pan_from
            self._pan_from = event.position()
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - round(delta.x()))
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - round(delta.y()))
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._pan_from is not None:
            self._pan_from = None
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor if self._space_held
                                      else Qt.CursorShape.ArrowCursor)
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() or event.angleDelta().x()
        if steps:
            self.zoom_by(WHEEL_STEP ** steps, event.position())
        event.accept()

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        scene = self.network_scene()
        point = self.mapToScene(event.pos())
        item = scene.item_at(point)
        if isinstance(item, NodeItem):
            if not item.isSelected():
                scene.select_nodes([item.node_id])
            self._node_menu(item).exec(event.globalPos())
        elif isinstance(item, EdgeItem):
            self._edge_menu(item).exec(event.globalPos())
        else:
            self.open_add_menu(point)
        event.accept()

    def _node_menu(self, item: NodeItem) -> QMenu:
        scene = self.network_scene()
        menu = QMenu(self)
        blocks = BlockActions(scene.document, lambda: self, self.message.emit, self)
        if item.block is not None:
            menu.addAction(f"Open {item.block}", lambda: scene.open_block(item.node_id))
            menu.addAction("Ungroup", blocks.ungroup_selection)
            menu.addAction("Rename Block\u2026", blocks.rename_shown)
        menu.addAction("Group into Block", blocks.group_selection)
        menu.addSeparator()
        menu.addAction("Rename\u2026", lambda: self.rename_node(item.node_id))
        menu.addAction("Duplicate", scene.duplicate_selection)
        menu.addAction("Copy", scene.copy_selection)
        menu.addAction("Cut", scene.cut_selection)
        edges = scene.design.inputs_of(item.node_id) + scene.design.outputs_of(item.node_id)
        if edges:
            menu.addAction("Disconnect all wires", lambda: self._disconnect(edges))
        menu.addSeparator()
        menu.addAction("Frame", lambda: self.frame_nodes([item.node_id]))
        menu.addSeparator()
        menu.addAction("Delete", scene.delete_selection)
        return menu

    def _edge_menu(self, item: EdgeItem) -> QMenu:
        menu = QMenu(self)
        design = self.network_scene().design
        edge = item.edge
        label = f"Disconnect {design.node(edge.src).name} \u2192 {design.node(edge.dst).name}"
        menu.addAction("Insert layer\u2026", lambda: self._offer_layers_for_edge(item))
        menu.addAction(label, lambda: self._disconnect([edge]))
        return menu

    def _disconnect(self, edges) -> None:
        scene = self.network_scene()
        if len(edges) == 1:
            scene.document.push(Disconnect(scene.design, edges[0]))
            return
        with macro(scene.document.undo_stack, f"Disconnect {len(edges)} wires"):
            for edge in edges:
                scene.document.push(Disconnect(scene.design, edge))

    # ------------------------------------------------------------------ keys
    def keyPressEvent(self, event: QKeyEvent) -> None:
        """The keys that are not commands: any key read the note pinned to a port, Space
        held pans, Escape drops a wire being dragged or clears the selection. Commands (Copy,
        Delete, F, Tab, ...) are the canvas's actions (NetworkTabs), bound only there."""
        scene = self.network_scene()
        if event.key() not in _MODIFIER_KEYS:
            scene.clear_note()
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_held = True
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
        elif event.key() == Qt.Key.Key_Escape:
            if not scene.cancel_wire():
                scene.select_nodes([])
        else:
            super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_held = False
            if self._pan_from is None:
                self.viewport().setCursor(Qt.CursorShape.ArrowCursor)
            return
        super().keyReleaseEvent(event)

    # ------------------------------------------------------------------ drops from the palette
    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasFormat(LAYER_MIME) or event.mimeData().hasFormat(BLOCK_MIME):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event) -> None:
        if event.mimeData().hasFormat(BLOCK_MIME):
            event.acceptProposedAction()
            return
        if not event.mimeData().hasFormat(LAYER_MIME):
            super().dragMoveEvent(event)
            return
        point = self.mapToScene(event.position().toPoint())
        scene = self.network_scene()
        scene.show_drop_wire(scene.wire_for_drop(_dropped_type(event), point,
                                                 WIRE_DROP_REACH / max(self.zoom, 1e-3)))
        event.acceptProposedAction()

    def dragLeaveEvent(self, event) -> None:
        self.network_scene().show_drop_wire(None)
        super().dragLeaveEvent(event)

    def dropEvent(self, event) -> None:
        """A layer dropped on a wire goes into it; elsewhere it is added where it fell (a
        block always where it fell)."""
        if event.mimeData().hasFormat(BLOCK_MIME):
            point = self.mapToScene(event.position().toPoint())
            if self.add_block_at(_dropped_type(event, BLOCK_MIME), point) is not None:
                event.acceptProposedAction()
                self.setFocus()
            else:
                event.ignore()
            return
        if not event.mimeData().hasFormat(LAYER_MIME):
            super().dropEvent(event)
            return
        scene = self.network_scene()
        layer_type = _dropped_type(event)
        point = self.mapToScene(event.position().toPoint())
        edge = scene.wire_for_drop(layer_type, point, WIRE_DROP_REACH / max(self.zoom, 1e-3))
        scene.show_drop_wire(None)
        if edge is not None:
            added = scene.insert_layer(layer_type, edge, self._card_at(point))
        else:
            added = self.add_layer_at(layer_type, point)
        if added is not None:
            event.acceptProposedAction()
            self.setFocus()
        else:
            event.ignore()

    # ------------------------------------------------------------------ looks
    def _restyle(self) -> None:
        style = CanvasStyle.from_palette(self.palette(), self.font())
        self._style = style
        self.network_scene().set_style(style)
        self.empty_hint.restyle()
        self.viewport().update()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.FontChange):
            self._restyle()
        super().changeEvent(event)

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        """A quiet grid: fine lines every GRID_STEP, stronger every fifth; coarser when zoomed
        out so it never turns into noise."""
        style = self._style
        painter.fillRect(rect, style.background)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        step = GRID_STEP if self.zoom >= 0.5 else GRID_STEP * 5
        if step * self.zoom < 6:
            return
        minor: list[QLineF] = []
        major: list[QLineF] = []
        first = math.floor(rect.left() / step)
        for k in range(first, math.ceil(rect.right() / step) + 1):
            line = QLineF(k * step, rect.top(), k * step, rect.bottom())
            (major if k % 5 == 0 and step == GRID_STEP else minor).append(line)
        first = math.floor(rect.top() / step)
        for k in range(first, math.ceil(rect.bottom() / step) + 1):
            line = QLineF(rect.left(), k * step, rect.right(), k * step)
            (major if k % 5 == 0 and step == GRID_STEP else minor).append(line)
        for lines, colour in ((minor, style.grid_minor), (major, style.grid_major)):
            if lines:
                painter.setPen(QPen(colour, 0))
                painter.drawLines(lines)
