"""The canvas's block commands: group the selection into a block, ungroup block nodes, open a
block's definition and leave it, rename a definition. Each edit is one undo step."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from PySide6.QtWidgets import QInputDialog, QLineEdit, QWidget

from designer.canvas.scene import NetworkScene
from designer.document import DesignDocument
from designer.undo_commands import DesignEdit
from engine import Design, DesignError
from engine.blocks.grouping import free_block_name, group, rename_block, ungroup
from engine.layers.block_node import BLOCK_TYPE

Result = TypeVar("Result")


class ShowsScene(Protocol):
    """A view, as far as the block commands need it."""

    def network_scene(self) -> NetworkScene: ...


class BlockActions:
    """What the block actions of the canvas (NetworkTabs) do, on the view shown now."""

    def __init__(self, document: DesignDocument, current_view: Callable[[], ShowsScene],
                 say: Callable[[str], None], dialog_parent: QWidget) -> None:
        self.document, self._current_view, self._say = document, current_view, say
        self._dialog_parent = dialog_parent

    def _scene(self) -> NetworkScene:
        return self._current_view().network_scene()

    def group_selection(self, name: str | None = None) -> str | None:
        """Group the selected layers into a new block (named Block1, Block2, ... unless
        `name` is given; Rename Block changes it later); returns the block node's id."""
        scene = self._scene()
        selected = scene.selected_ids()
        name = name or free_block_name(self.document.design)
        use = self._edit(f"Group into {name}", "Cannot group",
                         lambda design: group(design, selected, name))
        if use is None:
            return None
        scene.select_nodes([use])
        self._say(f"Grouped {len(selected)} layer{'s' * (len(selected) != 1)} into block "
                  f"{name!r}: double-click it to open, Rename Block to name it")
        return use

    def ungroup_selection(self) -> list[str]:
        """Put the contents of every selected block node back, as one step."""
        scene = self._scene()
        design = self.document.design
        uses = [n for n in scene.selected_ids() if design.node(n).type == BLOCK_TYPE]
        if not uses:
            self._say("Select a block node to ungroup")
            return []
        names = ", ".join(design.node(n).name for n in uses)

        def put_back(design) -> list[str]:
            return [added for use in uses for added in ungroup(design, use)]

        added = self._edit(f"Ungroup {names}", "Cannot ungroup", put_back) or []
        scene.select_nodes(added)
        return added

    def open_selected(self) -> None:
        design = self.document.design
        uses = [n for n in self._scene().selected_ids() if design.node(n).type == BLOCK_TYPE]
        if len(uses) != 1:
            self._say("Select one block node to open its definition")
            return
        self.document.open_block(uses[0])

    def leave(self) -> None:
        if not self.document.leave_block():
            self._say(f"{self.document.network!r} is a network, not a block; there is no "
                      "level above it")

    def block_in_view(self) -> str | None:
        """The definition Rename Block acts on: the selected block node's, else the one shown."""
        design = self.document.design
        uses = [n for n in self._scene().selected_ids() if design.node(n).type == BLOCK_TYPE]
        if len(uses) == 1:
            return design.node(uses[0]).params["block"]
        scope = self.document.scope
        return scope if design.is_block(scope) else None

    def rename_shown(self) -> None:
        block = self.block_in_view()
        if block is None:
            self._say("Select a block node, or open a block, to rename its definition")
            return
        name, accepted = QInputDialog.getText(
            self._dialog_parent, "Rename Block", f"New name for block {block!r} (every use follows):",
            QLineEdit.EchoMode.Normal, block)
        if accepted:
            self.rename(block, name.strip())

    def rename(self, block: str, name: str) -> bool:
        """Rename a definition as one undo step; False (with the reason said) if refused."""
        if name == block:
            return False
        return self._edit(f"Rename block {block} to {name}", f"Cannot rename block {block!r}",
                          lambda design: rename_block(design, block, name) or True) is not None

    def delete_definition(self, block: str) -> bool:
        """Remove a definition no node uses, as one undo step (refused, with the uses named,
        while nodes use it)."""
        return self._edit(f"Delete block {block}", f"Cannot delete block {block!r}",
                          lambda design: design.remove_block(block) or True) is not None

    def _edit(self, text: str, refused: str, operation: Callable[[Design], Result]
              ) -> Result | None:
        """Carry out an operation as one undo step; None (and the reason said) if refused."""
        try:
            command, result = DesignEdit.run(self.document.design, text, operation)
        except DesignError as err:
            self._say(f"{refused}: {err}")
            return None
        self.document.push(command)
        return result
