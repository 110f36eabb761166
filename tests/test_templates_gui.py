"""Templates in the designer: laid out to stay readable when framed in a small canvas, shown
in the gallery with their card, and the Backbone's weights file editable in the inspector."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from designer.canvas.node_item import DETAIL_LOD
from designer.canvas.tabs import NetworkTabs
from designer.document import DesignDocument
from designer.panels.inspector import Inspector
from designer.panels.param_editors import TextEditor
from designer.panels.template_gallery import TemplateGallery
from templates import card_sections, load_template, template_names

CANVAS = (900, 560)


@pytest.mark.parametrize("name", template_names())
def test_framing_a_whole_template_keeps_its_cards_detailed(qtbot, name):
    """'Frame all' in a 900x560 canvas must not zoom out below the level where cards lose
    their texts: each template is laid out compactly (long chains wrapped into rows)."""
    tabs = NetworkTabs(DesignDocument(load_template(name)))
    qtbot.addWidget(tabs)
    tabs.show()
    qtbot.waitExposed(tabs)
    for network, view in tabs.views().items():
        tabs.setCurrentWidget(tabs.page_of(network))
        port = view.viewport()
        tabs.resize(tabs.width() + CANVAS[0] - port.width(), tabs.height() + CANVAS[1] - port.height())
        qtbot.waitUntil(lambda port=port: (port.width(), port.height()) == CANVAS)
        view.frame_all()
        assert view.zoom >= DETAIL_LOD, f"{name}/{network} frames at {view.zoom:.2f}"


def test_gallery_shows_the_card_of_the_chosen_template(qtbot):
    gallery = TemplateGallery()
    qtbot.addWidget(gallery)
    for name in ("transformer", "resnet"):
        gallery.select(name)
        shown = gallery.card.text()
        for heading, text in card_sections(load_template(name)):
            assert f"<b>{heading}</b>" in shown
            assert text.split(". ")[0].replace("'", "&#x27;") in shown


def test_the_weights_file_is_typed_or_browsed_in_the_inspector(qtbot, tmp_path, monkeypatch):
    document = DesignDocument(load_template("transfer"))
    inspector = Inspector(document)
    qtbot.addWidget(inspector)
    backbone = document.design.find("backbone")
    document.set_selection([backbone])
    editor = inspector.fields["weights_file"].editor
    assert isinstance(editor, TextEditor)

    missing = str(tmp_path / "missing.pth")
    editor.line.setText(missing)
    assert document.design.node(backbone).params["weights_file"] == ""  # not while typing
    qtbot.keyClick(editor.line, Qt.Key.Key_Return)
    assert document.design.node(backbone).params["weights_file"] == missing
    qtbot.waitUntil(lambda: any("there is no weights file" in p.message
                                for p in document.current_report().problems))

    chosen = tmp_path / "resnet18.safetensors"
    chosen.write_bytes(b"")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args: (str(chosen), ""))
    qtbot.mouseClick(editor.browse, Qt.MouseButton.LeftButton)
    assert document.design.node(backbone).params["weights_file"] == str(chosen)
    document.undo_stack.undo()  # edits of one field merge into one step
    assert document.design.node(backbone).params["weights_file"] == ""
