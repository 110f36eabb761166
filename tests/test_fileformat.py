"""Design files: validation with JSON paths, versions, atomic saves, and property tests."""

import json
import os

import pytest
from design_documents import document_of, parent_at, paths_into
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import engine
from engine import Design, DesignError, cli, fileformat
from engine.fields import Param
from engine.layers import all_layers
from engine.training.settings import schema
from templates import load_template, template_names


def _load(document, tmp_path) -> Design:
    path = tmp_path / "d.ncnet"
    path.write_text(json.dumps(document) if not isinstance(document, str) else document)
    return engine.load_design(path)


@pytest.mark.parametrize("name", template_names())
def test_templates_round_trip_and_check_clean(name, tmp_path):
    design = load_template(name)
    assert engine.check(design).ok
    engine.save_design(design, tmp_path / "t.ncnet")
    assert engine.load_design(tmp_path / "t.ncnet") == design


def test_errors_name_file_path_and_problem(tmp_path):
    document = document_of(load_template("cnn"))
    document["networks"]["model"]["nodes"][1]["params"]["kernel_size"] = "three"
    document["networks"]["model"]["edges"][0]["dst"] = "ghost"
    with pytest.raises(DesignError) as info:
        _load(document, tmp_path)
    text = str(info.value)
    assert "d.ncnet" in text and "2 problems" in text
    assert '$.networks["model"].nodes[1].params.kernel_size' in text
    assert "'kernel_size' must be a whole number or 2 of them" in text
    assert "'ghost' is not a valid node" in text


@pytest.mark.parametrize("content, expected", [
    ("", "not valid JSON at line 1, column 1"),
    ("{\"format\": ", "not valid JSON"),
    ("[1, 2]", "holds a JSON object, not a list"),
    ('{"format": "other"}', "not a NeuralCanvas design"),
    ('{"format": "neuralcanvas.design", "schema_version": "1"}', "$.schema_version"),
    ('{"format": "neuralcanvas.design", "schema_version": 1, "networks": {}}', "$.networks"),
    ('{"format": "neuralcanvas.design", "schema_version": 1, "networks": {"m": []}}',
     "expected an object with nodes and edges"),
])
def test_invalid_files_give_design_errors(content, expected, tmp_path):
    with pytest.raises(DesignError, match=None) as info:
        _load(content, tmp_path)
    assert expected in str(info.value)


def test_missing_and_binary_files(tmp_path):
    with pytest.raises(DesignError, match="no such file"):
        engine.load_design(tmp_path / "absent.ncnet")
    (tmp_path / "bin.ncnet").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(DesignError, match="not a text file"):
        engine.load_design(tmp_path / "bin.ncnet")


def test_newer_schema_is_refused_and_older_is_migrated(tmp_path, monkeypatch):
    document = document_of(load_template("mlp"))
    document["schema_version"] = fileformat.SCHEMA_VERSION + 1
    with pytest.raises(DesignError, match="newer NeuralCanvas"):
        _load(document, tmp_path)

    # An older schema goes through every migration in order.
    old = document_of(load_template("mlp"))
    monkeypatch.setattr(fileformat, "SCHEMA_VERSION", 3)
    calls = []

    def rename_title(doc):
        calls.append(1)
        doc["name"] = doc.pop("title")
        return doc

    def add_description(doc):
        calls.append(2)
        doc.setdefault("description", "migrated")
        return doc

    monkeypatch.setattr(fileformat, "MIGRATIONS", {1: rename_title, 2: add_description})
    document = old
    document["schema_version"] = 1
    document["title"] = document.pop("name")
    del document["description"]
    design = _load(document, tmp_path)
    assert calls == [1, 2] and design.name == "mlp" and design.description == "migrated"


def test_save_is_atomic_when_writing_fails(tmp_path, monkeypatch):
    path = tmp_path / "net.ncnet"
    engine.save_design(load_template("mlp"), path)
    before = path.read_bytes()

    def crash(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(OSError):
        engine.save_design(load_template("cnn"), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["net.ncnet"]


# ---------------------------------------------------------------- property tests

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children,
                                                                      max_size=3),
    max_leaves=10)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=200))
def test_random_bytes_give_design_error(blob):
    with pytest.raises(DesignError):
        fileformat.design_from_json(blob.decode("latin-1"), "random.ncnet")


TEMPLATE_DOCUMENT = document_of(load_template("cnn"))
TEMPLATE_PATHS = paths_into(TEMPLATE_DOCUMENT)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(TEMPLATE_PATHS), json_values, st.booleans())
def test_corrupted_designs_give_design_error_or_load(path, value, delete):
    document = json.loads(json.dumps(TEMPLATE_DOCUMENT))
    parent = parent_at(document, path)
    if delete and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    try:
        design = fileformat.design_from_document(document, "corrupt.ncnet")
    except DesignError as err:
        assert "corrupt.ncnet" in str(err)
        return
    engine.check(design)  # a design that loads never crashes the checker


LAYER_TYPES = [spec.name for spec in all_layers()]


@st.composite
def random_designs(draw):
    design = Design(draw(st.text(min_size=1, max_size=8)))
    if draw(st.booleans()):
        design.add_network(draw(st.text(min_size=1, max_size=6).filter(lambda n: n != "model")))
    for network in design.networks:
        ids = []
        for _ in range(draw(st.integers(0, 6))):
            layer = draw(st.sampled_from(LAYER_TYPES))
            node = design.add(layer, network=network, name=draw(st.text(min_size=1, max_size=8).filter(str.strip)),
                              pos=(draw(st.floats(-1e4, 1e4)), draw(st.floats(-1e4, 1e4))))
            spec = design.node(node)
            for src in draw(st.lists(st.sampled_from(ids), max_size=2)) if ids else []:
                port = draw(st.integers(0, 2))
                if design.connection_problem(src, node, port) is None:
                    design.connect(src, node, port)
            ids.append(node)
            del spec
    for path in draw(st.lists(st.sampled_from(SETTING_PATHS), max_size=4, unique=True)):
        *sections, key = path.split(".")
        place = design.training
        for section in sections:
            place = place.setdefault(section, {})
        place[key] = draw(valid_values(SETTINGS[path]))
    return design


SETTINGS = schema()
SETTING_PATHS = list(SETTINGS)


def valid_values(param: Param) -> st.SearchStrategy:
    """Any value the setting's declaration accepts, as JSON holds it."""
    low = param.minimum if param.minimum is not None else param.above
    if param.kind == "int":
        values = st.integers(int(low or 0) + (param.above is not None), min(int(param.maximum), 10**6))
    elif param.kind == "float":
        values = st.floats(low or 0.0, param.maximum if param.maximum is not None else 1e6,
                           exclude_min=param.above is not None)
    elif param.kind == "bool":
        values = st.booleans()
    elif param.kind == "choice":
        values = st.sampled_from(param.choices)
    elif param.pattern is not None:
        values = st.sampled_from(["auto", "cpu", "mps", "cuda", "cuda:3"])
    elif param.kind == "text":
        values = st.text(max_size=8)
    elif param.kind == "texts":
        values = st.lists(st.text(max_size=4), max_size=3)
    else:
        values = st.lists(st.integers(int(low or 0), 64), min_size=param.length or 1,
                          max_size=param.length or 3)
    return st.one_of(st.none(), values) if param.optional else values


@settings(max_examples=100, deadline=None)
@given(random_designs())
def test_random_valid_designs_survive_save_and_load(tmp_path_factory, design):
    path = tmp_path_factory.mktemp("rt") / "design.ncnet"
    engine.save_design(design, path)
    assert engine.load_design(path) == design


@settings(max_examples=100, deadline=None)
@given(st.sampled_from([""] + sorted({p.rsplit(".", 1)[0] + "." for p in SETTING_PATHS
                                       if "." in p})),
       st.text(min_size=1, max_size=10))
def test_an_unknown_training_key_is_refused_naming_it_and_its_section(tmp_path_factory,
                                                                       section, key):
    """A misspelt setting would silently take its default: the file does not load."""
    known = {p.removeprefix(section).split(".")[0] for p in SETTING_PATHS if p.startswith(section)}
    assume(key not in known)
    document = document_of(load_template("mlp"))
    place = document["training"]
    for name in section.split(".")[:-1]:
        place = place.setdefault(name, {})
    place[key] = 5
    with pytest.raises(DesignError) as info:
        fileformat.design_from_document(document, "typo.ncnet")
    owner = "training." + section[:-1] if section else "training"
    assert f"{owner} has no setting {key!r}" in str(info.value)


def test_a_misspelt_setting_suggests_the_closest_one_and_exits_2_at_the_command_line(
        tmp_path, capsys):
    document = document_of(load_template("mlp"))
    document["training"]["epochz"] = 5
    path = tmp_path / "typo.ncnet"
    path.write_text(json.dumps(document))
    with pytest.raises(DesignError, match=r"\$\.training\.epochz: training has no setting "
                                          r"'epochz'; did you mean 'epochs'\?"):
        engine.load_design(path)
    assert cli.main(["check", str(path)]) == 2
    assert "did you mean 'epochs'?" in capsys.readouterr().err
