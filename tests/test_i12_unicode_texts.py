"""Texts no file can store (issue 12, items 2 and 4): a lone UTF-16 surrogate.

JSON's "\\ud800" escape reads as a lone surrogate, which Python holds but UTF-8 cannot
encode. A design file holding one, anywhere, opened in the editor and checked clean from a
script, then `neuralcanvas check` died printing it and every save raised UnicodeEncodeError:
the design could be edited but never saved. Such a file is refused at load with the JSON path
of each such text; the Design API refuses such names; a save refuses before touching the file.
"""

from __future__ import annotations

import json

import pytest
from test_app_support import ScriptedDialogs, make_window

from engine import Design, DesignError
from engine.fileformat import FORMAT_TAG, SCHEMA_VERSION, load_design, save_design
from templates import load_template

LONE = "\ud800"


def _gan() -> dict:
    return {"format": FORMAT_TAG, "schema_version": SCHEMA_VERSION,
            **load_template("gan").to_dict()}


def _node_name(document):
    document["networks"]["generator"]["nodes"][1]["name"] = f"noise{LONE}"
    return "$.networks.generator.nodes[1].name"


def _design_name(document):
    document["name"] = LONE
    return "$.name"


def _network_name(document):
    document["networks"][f"{LONE}gen"] = document["networks"].pop("generator")
    return "$.networks['\\ud800gen']"


def _card_title(document):
    document["card"][LONE] = "text"
    return "$.card['\\ud800']"


def _data_path(document):
    document["training"]["data"] = {"source": "csv", "path": f"data{LONE}.csv"}
    return "$.training.data.path"


def _unknown_key(document):
    document["training"][LONE] = 1
    return "$.training['\\ud800']"


PLACES = [_node_name, _design_name, _network_name, _card_title, _data_path, _unknown_key]


def _write(document: dict, tmp_path) -> str:
    path = tmp_path / "design.ncnet"
    path.write_text(json.dumps(document), encoding="utf-8")  # json.dumps escapes it: \ud800
    return str(path)


@pytest.mark.parametrize("place", PLACES, ids=lambda place: place.__name__.strip("_"))
def test_a_lone_surrogate_anywhere_in_a_file_is_refused_with_its_path(place, tmp_path):
    document = _gan()
    path = place(document)
    with pytest.raises(DesignError) as raised:
        load_design(_write(document, tmp_path))
    assert f"{path}: this " in str(raised.value) and "\\ud800" in str(raised.value)
    str(raised.value).encode("utf-8")  # the message itself can be printed


def test_the_editor_refuses_to_open_such_a_file_and_keeps_the_open_design(qtbot, tmp_path):
    document = _gan()
    _node_name(document)
    dialogs = ScriptedDialogs()
    window = make_window(qtbot, tmp_path, dialogs=dialogs)
    before = window.document.design.to_dict()
    assert not window.open_path(_write(document, tmp_path))
    assert dialogs.errors[-1][0] == "Cannot open design" and "nodes[1].name" in dialogs.errors[-1][1]
    assert window.document.design.to_dict() == before


def test_the_design_api_refuses_names_with_a_lone_surrogate():
    design = Design()
    node = design.add("Input")
    for edit in (lambda: design.rename(node, f"x{LONE}"), lambda: design.set_name(LONE),
                 lambda: design.add("ReLU", node, name=LONE),
                 lambda: design.add_network(f"net{LONE}")):
        with pytest.raises(DesignError, match="half of a character pair"):
            edit()


def test_a_save_refuses_an_unstorable_text_and_leaves_the_old_file_whole(tmp_path):
    design = load_template("mlp")
    target = tmp_path / "mlp.ncnet"
    save_design(design, target)
    before = target.read_bytes()
    design.set_training(notes=LONE)  # a setting the Design API does not read
    with pytest.raises(DesignError, match="cannot save"):
        save_design(design, target)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["mlp.ncnet"]
