"""Bounds that keep files and edits from hanging, crashing or flooding the app (issue 12, 1-4).

Each test drives the engine the way a file or a script does: a template saved as JSON with one
value changed, loaded with `load_design` and checked, or the Design API called directly.
"""

from __future__ import annotations

import io
import json
import math
from contextlib import redirect_stderr, redirect_stdout

import pytest
from time_limit import time_limit

from engine import Design, DesignError, cli, model_size
from engine.checking import check
from engine.compiler import build_model
from engine.fileformat import FORMAT_TAG, SCHEMA_VERSION, load_design
from engine.layers import TensorInfo, get_layer
from engine.limits import LARGEST_WHOLE_NUMBER, LONGEST_NAME, LONGEST_TEXT, big_number
from engine.quoting import excerpt
from templates import load_template

MACHINE = 24 * 2**30  # the memory the tests pretend this machine has


@pytest.fixture(autouse=True)
def known_memory(monkeypatch):
    monkeypatch.setattr(model_size, "physical_memory", lambda: MACHINE)


@pytest.fixture(autouse=True)
def no_hang():
    """A hang fails the test after 30 s instead of stopping the run."""
    with time_limit(30, "the engine"):
        yield


def _document(template: str) -> dict:
    return {"format": FORMAT_TAG, "schema_version": SCHEMA_VERSION,
            **load_template(template).to_dict()}


def _node(document: dict, layer_type: str) -> dict:
    """The first node of `layer_type` in a network or, failing that, in a block definition."""
    scopes = [*document["networks"].values(), *document.get("blocks", {}).values()]
    return next(node for scope in scopes for node in scope["nodes"] if node["type"] == layer_type)


def _write(document: dict | str, tmp_path) -> str:
    path = tmp_path / "design.ncnet"
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return str(path)


def _cli_check(path: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = cli.main(["check", path])
    return code, out.getvalue(), err.getvalue()


def _errors(design: Design) -> list[str]:
    return [str(problem) for problem in check(design).errors]


# ---------------------------------------------------------------- 1. counts never loop

def test_a_trillion_stacked_lstm_layers_is_a_check_error_naming_node_and_parameter(tmp_path):
    document = _document("rnn")
    _node(document, "LSTM")["params"]["num_layers"] = 10**12
    code, out, _ = _cli_check(_write(document, tmp_path))
    assert code == 1
    assert "lstm (LSTM): 'num_layers' is 1000000000000 but must be at most 100" in out


@pytest.mark.parametrize("kind", ["RNN", "GRU", "LSTM"])
@pytest.mark.parametrize("layers, bidirectional", [(1, False), (3, False), (2, True)])
def test_recurrent_parameter_counts_are_closed_form_and_match_torch(kind, layers,
                                                                    bidirectional):
    from torch import nn

    spec = get_layer(kind)
    params = {**spec.defaults(), "num_layers": layers, "bidirectional": bidirectional,
              "hidden_size": 12}
    module = getattr(nn, kind)(5, 12, num_layers=layers, bidirectional=bidirectional)
    assert spec.count_params([TensorInfo(("N", 7, 5))], params) == \
        sum(p.numel() for p in module.parameters())
    # within the bound, a huge stack is counted at once (a loop per layer would hang here)
    huge = {**params, "num_layers": 10**15}
    assert spec.count_params([TensorInfo(("N", 7, 5))], huge) > 10**15


def test_every_whole_number_parameter_has_an_upper_bound():
    for spec in (get_layer(name) for name in ("Linear", "Conv2d", "LSTM", "Embedding",
                                              "Input", "MaxPool2d", "Slice")):
        for param in spec.params:
            if param.kind in ("int", "ints", "size"):
                assert param.maximum is not None and param.maximum <= LARGEST_WHOLE_NUMBER, \
                    (spec.name, param.name)


# ---------------------------------------------------------------- 2. numbers beyond floats

HUGE = "1" + "0" * 400


@pytest.mark.parametrize("template, edit, path", [
    ("resnet", lambda d: _node(d, "BatchNorm2d")["params"].__setitem__("eps", "HUGE"),
     ".params.eps"),
    ("cnn", lambda d: _node(d, "Conv2d").__setitem__("pos", ["HUGE", 0]), ".pos"),
    ("rnn", lambda d: d["training"].setdefault("optimizer", {}).__setitem__("lr", "HUGE"),
     "$.training.optimizer.lr"),
    ("rnn", lambda d: d["training"].__setitem__("epochs", "HUGE"), "$.training.epochs"),
])
def test_a_400_digit_number_is_a_design_error_naming_file_and_path(template, edit, path,
                                                                   tmp_path):
    document = _document(template)
    edit(document)
    text = json.dumps(document).replace('"HUGE"', HUGE)
    file = _write(text, tmp_path)
    with pytest.raises(DesignError) as info:
        load_design(file)
    message = str(info.value)
    assert file in message and path in message
    assert "401-digit number" in message and len(message) < 1000
    code, _, err = _cli_check(file)
    assert code == 2 and err.startswith("error: ")


@pytest.mark.parametrize("literal", ["1e400", "-1e400"])
def test_a_float_beyond_range_in_a_file_is_refused(literal, tmp_path):
    document = _document("mlp")
    _node(document, "Dropout")["params"]["p"] = "HUGE"
    with pytest.raises(DesignError, match=r"\.params\.p: 'p' must be a finite number"):
        load_design(_write(json.dumps(document).replace('"HUGE"', literal), tmp_path))


def test_the_design_api_refuses_numbers_no_float_can_hold():
    design = Design()
    with pytest.raises(DesignError, match="must be a finite number"):
        design.add("Dropout", p=10**400)
    with pytest.raises(DesignError, match="a position must be two numbers"):
        design.add("ReLU", pos=(10**400, 0))
    with pytest.raises(DesignError, match="a position must be two numbers"):
        design.add("ReLU", pos=(math.inf, 0))


# ---------------------------------------------------------------- 3. sizes that cannot exist

def _chain(*layers: tuple[str, dict], shape=(3, 16, 16)) -> Design:
    design = Design()
    previous = design.add("Input", shape=shape)
    for layer, params in layers:
        previous = design.add(layer, previous, **params)
    design.add("Output", previous)
    return design


def test_upsample_by_1e308_is_a_check_error_not_an_overflow():
    design = _chain(("Upsample", {"scale_factor": 1e308}))
    assert any("'scale_factor'" in error and "at most" in error for error in _errors(design))


def test_an_input_larger_than_any_tensor_is_refused_at_load_or_check(tmp_path):
    document = _document("mlp")
    _node(document, "Input")["params"]["shape"] = [10**30]
    with pytest.raises(DesignError, match=r"\.params\.shape: 'shape' is 1000"):
        load_design(_write(document, tmp_path))
    huge = _chain(("Flatten", {}), shape=(2**31 - 1, 2**31 - 1, 2**31 - 1))
    errors = _errors(huge)
    assert any("more than a tensor can hold" in error for error in errors), errors


def test_a_linear_with_a_billion_outputs_is_an_error_with_its_figures():
    design = _chain(("Flatten", {}), ("Linear", {"out_features": 10**9}), shape=(1000,))
    linear = design.find("linear1")
    report = check(design)
    [problem] = report.problems_for(linear)
    assert problem.severity == "error"
    assert problem.message == ("linear1 (Linear) has 1.0e12 parameters (3.6 TB as float32); "
                               "this machine has 24 GB")
    assert problem.fix
    with pytest.raises(DesignError, match="cannot be built"):
        build_model(design)  # refused before torch allocates a single weight


def test_a_conv_with_a_trillion_channels_is_refused_before_export():
    from engine.codegen.export import export_script

    design = _chain(("Conv2d", {"out_channels": 10**12}))
    assert any("'out_channels'" in error for error in _errors(design))
    wide = _chain(("Conv2d", {"out_channels": 2**31 - 1, "kernel_size": 3}))
    assert any("parameters" in error and "this machine has 24 GB" in error
               for error in _errors(wide))
    with pytest.raises(DesignError, match="cannot be exported"):
        export_script(wide)


def test_an_output_too_large_for_memory_is_an_error_on_its_node():
    design = _chain(("Upsample", {"scale_factor": 100.0}), ("Upsample", {"scale_factor": 100.0}),
                    shape=(64, 512, 512))
    errors = _errors(design)
    assert any("one sample takes" in error and "this machine has 24 GB" in error
               for error in errors), errors


def test_designs_that_fit_still_check_clean():
    assert check(_chain(("Flatten", {}), ("Linear", {"out_features": 10}))).ok
    assert check(load_template("resnet")).ok


# ---------------------------------------------------------------- 4. names and messages

def test_a_huge_node_name_in_a_file_is_refused_with_a_short_message(tmp_path):
    document = _document("cnn")
    _node(document, "Linear")["name"] = "x" * 20_000_000
    file = _write(document, tmp_path)
    code, out, err = _cli_check(file)
    assert code == 2 and out == ""
    assert ".name: a node's name is 20,000,000 characters long" in err
    assert f"at most {LONGEST_NAME} are allowed" in err and len(err) < 1000


@pytest.mark.parametrize("field, longest", [("name", LONGEST_NAME),
                                            ("description", LONGEST_TEXT)])
def test_long_design_texts_are_refused_at_load(field, longest, tmp_path):
    document = _document("mlp")
    document[field] = "y" * (longest + 1)
    with pytest.raises(DesignError, match=rf"\$\.{field}: .* at most {longest:,} are allowed"):
        load_design(_write(document, tmp_path))
    document[field] = "y" * longest
    assert len(getattr(load_design(_write(document, tmp_path)), field)) == longest


def test_long_network_names_card_sections_and_keys_are_refused_in_short_messages(tmp_path):
    document = _document("gan")
    network = next(iter(document["networks"]))
    document["networks"]["n" * 5_000_000] = document["networks"].pop(network)
    document["card"]["k" * 1_000_000] = "z" * 3_000_000
    _node(document, "Linear")["params"]["p" * 1_000_000] = 1
    with pytest.raises(DesignError) as info:
        load_design(_write(document, tmp_path))
    message = str(info.value)
    assert "a network's name is 5,000,000 characters long" in message
    assert "a card section's title is 1,000,000 characters long" in message
    assert "Linear has no parameter 'ppppp" in message
    assert len(message) < 5_000


def test_the_design_api_refuses_long_names_and_texts():
    design = load_template("mlp")
    node = design.nodes()[1]
    with pytest.raises(DesignError, match=f"a node's name is {LONGEST_NAME + 1} characters long"):
        design.rename(node, "a" * (LONGEST_NAME + 1))
    with pytest.raises(DesignError, match="a node's name is"):
        design.add("ReLU", name="b" * 1_000)
    with pytest.raises(DesignError, match="the design's name is"):
        design.set_name("c" * 1_000)
    with pytest.raises(DesignError, match="the description is"):
        design.description = "d" * (LONGEST_TEXT + 1)
    with pytest.raises(DesignError, match="a network's name is"):
        design.add_network("e" * 1_000)
    design.rename(node, "a" * LONGEST_NAME)
    assert design.node(node).name == "a" * LONGEST_NAME


def test_a_file_with_thousands_of_problems_lists_a_few_and_counts_the_rest(tmp_path):
    document = _document("mlp")
    nodes = document["networks"]["model"]["nodes"]
    nodes += [{"id": f"x{i}", "type": "ReLU", "name": "", "pos": [0, 0]} for i in range(5000)]
    with pytest.raises(DesignError) as info:
        load_design(_write(document, tmp_path))
    message = str(info.value)
    assert "(5,000 problems)" in message and "... and 4,980 more" in message
    assert len(info.value.problems) == 5000 and len(message) < 5_000


def test_port_numbers_are_bounded_so_the_check_never_walks_them():
    design = Design()
    source = design.add("Input")
    add = design.add("Add")
    with pytest.raises(DesignError, match="from 0 to 999"):
        design.connect(source, add, 10**30)


def test_settings_whole_numbers_have_an_upper_bound(tmp_path):
    document = _document("mlp")
    document["training"]["batch_size"] = 10**30
    with pytest.raises(DesignError, match=r"training\.batch_size: 'batch_size' is 1000.* but must be at "
                       r"most 2,147,483,647"):
        load_design(_write(document, tmp_path))


@pytest.mark.parametrize("value, expected", [
    ("short", "'short'"),
    ("x" * 1_000_000, "'" + "x" * 60 + "…' (1,000,000 characters)"),
    (10**400, "a 401-digit number"),
    (list(range(10**6)), "[0, 1, 2, 3, 4, 5, 6, 7, ...]"),
    ([[[[[1]]]]], "[[[[...]]]]"),
])
def test_excerpt_quotes_user_input_in_at_most_a_line(value, expected):
    assert excerpt(value) == expected


def test_big_numbers_read_as_figures():
    assert big_number(999_999) == "999,999"
    assert big_number(10**12) == "1.0e12"
    assert big_number(10**5000) == "1.0e5000"
