"""File > New: a blank design first, then a gallery of the shipped templates, each with a
picture, its description and its card (what it is for, how it is built, what to try, what to
watch out for)."""

from __future__ import annotations

import html

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from designer.panels.graph_picture import design_picture
from engine import Design, check
from templates import blank_design, card_sections, load_template, template_names

THUMBNAIL = QSize(220, 120)
PREVIEW = QSize(460, 260)
NAME_ROLE = Qt.ItemDataRole.UserRole
BLANK = "Blank design"
BLANK_TEXT = ("One Input and nothing else: drag layers from the palette (or press Tab on the "
              "canvas), end with an Output, and train on generated data of the Input's shape "
              "with the default settings. Give it a name and a description under File > "
              "Design Properties.")


def describe_design(design: Design) -> str:
    """One line of facts: networks, layers and parameters."""
    report = check(design)
    layers = sum(len(design.nodes(n)) for n in design.networks)
    parameters = sum(report.total_params(n) for n in design.networks)
    networks = ", ".join(design.networks)
    kind = "network" if len(design.networks) == 1 else "networks"
    plural = "" if layers == 1 else "s"
    return f"{kind} {networks} · {layers} layer{plural} · {parameters:,} parameters"


def card_html(design: Design) -> str:
    """The design's card as rich text: one bold heading per part, then its text."""
    return "".join(f"<p><b>{html.escape(heading)}</b><br>{html.escape(text)}</p>"
                   for heading, text in card_sections(design))


class TemplateGallery(QDialog):
    """Pick the blank design or a template; `chosen()` gives a fresh copy of its design."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New design")
        self.designs = {BLANK: blank_design()}
        self.designs.update((name, load_template(name)) for name in template_names())
        self._build_list()
        body = QHBoxLayout()
        body.addWidget(self.list, 1)
        body.addLayout(self._build_details())
        layout = QVBoxLayout(self)
        layout.addLayout(body)
        layout.addWidget(self._build_buttons())
        self.list.currentItemChanged.connect(self._show_details)
        self.list.itemDoubleClicked.connect(lambda _item: self.accept())
        if self.list.count():
            self.list.setCurrentRow(0)

    def _build_list(self) -> None:
        """A thumbnail of each design, at least two columns wide."""
        self.list = QListWidget(self)
        self.list.setViewMode(QListWidget.ViewMode.IconMode)
        self.list.setIconSize(THUMBNAIL)
        self.list.setGridSize(THUMBNAIL + QSize(24, 40))
        self.list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.list.setMovement(QListWidget.Movement.Static)
        self.list.setWordWrap(True)
        self.list.setMinimumWidth(2 * (THUMBNAIL.width() + 24) + 30)
        for name, design in self.designs.items():
            picture = design_picture(design, THUMBNAIL, self.palette(), self.font())
            item = QListWidgetItem(QIcon(picture), name, self.list)
            item.setData(NAME_ROLE, name)
            item.setToolTip(self._about(name))

    def _build_details(self) -> QVBoxLayout:
        """The chosen design's picture, title and facts above its description and card,
        which scroll."""
        self.preview = QLabel(self)
        self.preview.setFixedSize(PREVIEW)
        self.title = QLabel(self)
        self.facts = QLabel(self)
        self.description = QLabel(self)
        self.description.setWordWrap(True)
        self.description.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.card = QLabel(self)
        self.card.setWordWrap(True)
        self.card.setTextFormat(Qt.TextFormat.RichText)
        self.card.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        details = QVBoxLayout()
        details.addWidget(self.preview)
        details.addWidget(self.title)
        details.addWidget(self.facts)
        details.addWidget(self._scrolling_text(), 1)
        return details

    def _scrolling_text(self) -> QScrollArea:
        """The description and the card, scrolling vertically at the preview's width."""
        text = QWidget(self)
        text_layout = QVBoxLayout(text)
        text_layout.setContentsMargins(0, 0, 0, 0)
        text_layout.addWidget(self.description)
        text_layout.addWidget(self.card)
        text_layout.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidget(text)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFixedWidth(PREVIEW.width() + scroll.verticalScrollBar().sizeHint().width())
        scroll.setMinimumHeight(220)
        return scroll

    def _build_buttons(self) -> QDialogButtonBox:
        """Create and Cancel."""
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Create")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        return buttons

    def select(self, name: str) -> None:
        for row in range(self.list.count()):
            if self.list.item(row).data(NAME_ROLE) == name:
                self.list.setCurrentRow(row)
                return
        raise KeyError(f"there is no template {name!r}")

    def _show_details(self, item: QListWidgetItem | None) -> None:
        if item is None:
            return
        design = self.designs[item.data(NAME_ROLE)]
        self.preview.setPixmap(design_picture(design, PREVIEW, self.palette(), self.font()))
        self.title.setText(f"<b>{item.data(NAME_ROLE)}</b>")
        self.facts.setText(describe_design(design))
        self.description.setText(self._about(item.data(NAME_ROLE)))
        self.card.setText(card_html(design))

    def _about(self, name: str) -> str:
        return BLANK_TEXT if name == BLANK else self.designs[name].description

    def chosen(self) -> Design | None:
        item = self.list.currentItem()
        return self.designs[item.data(NAME_ROLE)].copy() if item else None

    @classmethod
    def choose(cls, parent: QWidget | None = None) -> Design | None:
        """Show the gallery modally; the chosen template's design, or None if cancelled."""
        dialog = cls(parent)
        return dialog.chosen() if dialog.exec() == QDialog.DialogCode.Accepted else None
