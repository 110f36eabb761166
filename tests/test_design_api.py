"""Designs built with the scripting API: shapes and parameter counts against hand-written torch."""

import pytest
import torch
from torch import nn

import engine
from engine import Design, DesignError, Report


def count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def _checked(d: Design, last: str) -> Report:
    """Ends `d` with an Output after `last` and checks it: every design here must pass."""
    d.add("Output", last)
    report = engine.check(d)
    assert report.ok, [problem.message for problem in report.errors]
    return report


def test_issue_example_chain_matches_hand_written_module():
    d = Design()
    x = d.add("Input", shape=(1, 28, 28))
    h = d.add("Conv2d", x, out_channels=16, kernel_size=3, padding=1)
    h = d.add("ReLU", h)
    s = d.add("MaxPool2d", h, kernel_size=2)
    f = d.add("Flatten", s)
    y = d.add("Linear", f, out_features=10)
    report = _checked(d, y)
    assert report.shape(s) == ("N", 16, 14, 14)
    assert report.shape(y) == ("N", 10)
    reference = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Flatten(), nn.Linear(16 * 14 * 14, 10))
    assert report.total_params() == count(reference)
    model = engine.build_model(d)
    model.load_state_dict(dict(zip(model.state_dict(), reference.state_dict().values())))
    x_in = torch.randn(5, 1, 28, 28)
    assert torch.equal(model(x_in), reference(x_in))


def test_skip_connection_block():
    d = Design()
    x = d.add("Input", shape=(8, 16, 16))
    a = d.add("Conv2d", x, out_channels=8, kernel_size=3, padding=1, bias=False)
    a = d.add("BatchNorm2d", a)
    a = d.add("ReLU", a)
    a = d.add("Conv2d", a, out_channels=8, kernel_size=3, padding=1, bias=False)
    s = d.add("Add", a, x)
    y = d.add("ReLU", s)
    report = _checked(d, y)
    assert report.shape(s) == ("N", 8, 16, 16)
    reference = [nn.Conv2d(8, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8),
                 nn.Conv2d(8, 8, 3, padding=1, bias=False)]
    assert report.total_params() == sum(map(count, reference))
    out = engine.build_model(d)(torch.randn(2, 8, 16, 16))
    assert tuple(out.shape) == (2, 8, 16, 16)


def test_inception_concat_branches_and_shapes_agree_with_torch():
    d = Design()
    x = d.add("Input", shape=(3, 32, 32))
    b1 = d.add("Conv2d", x, out_channels=4, kernel_size=1)
    b2 = d.add("Conv2d", x, out_channels=6, kernel_size=3, padding=1)
    b3 = d.add("MaxPool2d", x, kernel_size=3, stride=1, padding=1)
    c = d.add("Concat", b1, b2, b3, dim=1)
    p = d.add("AdaptiveAvgPool2d", c)
    f = d.add("Flatten", p)
    y = d.add("Linear", f, out_features=5)
    report = _checked(d, y)
    assert report.shape(c) == ("N", 13, 32, 32)
    assert report.total_params() == (3 * 4 + 4) + (3 * 6 * 9 + 6) + (13 * 5 + 5)
    assert tuple(engine.build_model(d)(torch.randn(2, 3, 32, 32)).shape) == (2, 5)


def test_lstm_classifier_on_token_ids():
    d = Design()
    x = d.add("Input", shape=(20,), dtype="long")
    e = d.add("Embedding", x, num_embeddings=50, embedding_dim=16)
    h = d.add("LSTM", e, hidden_size=24, num_layers=2, bidirectional=True)
    y = d.add("Linear", h, out_features=3)
    report = _checked(d, y)
    assert report.shape(e) == ("N", 20, 16) and report.shape(h) == ("N", 48)
    reference = [nn.Embedding(50, 16), nn.LSTM(16, 24, 2, bidirectional=True, batch_first=True),
                 nn.Linear(48, 3)]
    assert report.total_params() == sum(map(count, reference))
    out = engine.build_model(d)(torch.randint(0, 50, (4, 20)))
    assert tuple(out.shape) == (4, 3)


def test_sequence_output_and_transformer():
    d = Design()
    x = d.add("Input", shape=(10, 32))
    t = d.add("TransformerEncoderLayer", x, nhead=4, dim_feedforward=64)
    g = d.add("GRU", t, hidden_size=8, output="sequence")
    report = _checked(d, g)
    reference = [nn.TransformerEncoderLayer(32, 4, 64, batch_first=True),
                 nn.GRU(32, 8, batch_first=True)]
    assert report.shape(g) == ("N", 10, 8)
    assert report.total_params() == sum(map(count, reference))


def test_two_network_gan_and_several_inputs_and_outputs():
    d = Design(networks=("generator", "discriminator"))
    z = d.add("Input", shape=(4,), network="generator")
    g = d.add("Linear", z, out_features=2, network="generator")
    d.add("Output", g, network="generator")
    p = d.add("Input", shape=(2,), network="discriminator")
    q = d.add("Linear", p, out_features=1, network="discriminator")
    d.add("Output", q, network="discriminator")
    report = engine.check(d)
    assert report.ok and report.total_params("generator") == 10
    assert report.total_params("discriminator") == 3
    gen = engine.build_model(d, "generator")
    assert tuple(engine.build_model(d, "discriminator")(gen(torch.randn(3, 4))).shape) == (3, 1)

    multi = Design()
    a = multi.add("Input", shape=(3,), name="a")
    b = multi.add("Input", shape=(5,), name="b")
    la = multi.add("Linear", a, out_features=2)
    multi.add("Output", multi.add("Concat", la, b))
    multi.add("Output", la)
    first, second = engine.build_model(multi)(torch.ones(1, 3), torch.ones(1, 5))
    assert tuple(first.shape) == (1, 7) and tuple(second.shape) == (1, 2)


def test_editing_refuses_only_what_cannot_be_stored():
    d = Design()
    x = d.add("Input", shape=(4,))
    add = d.add("Add", x)                           # incomplete: one input so far
    loose = d.add("Linear", out_features=3)         # not connected yet
    with pytest.raises(DesignError, match="unknown layer type 'Conv9d'"):
        d.add("Conv9d", x)
    with pytest.raises(DesignError, match="has no parameter 'kernel'"):
        d.add("Conv2d", x, kernel=3)
    with pytest.raises(DesignError, match="'out_features' must be a whole number"):
        d.set_params(loose, out_features="ten")
    with pytest.raises(DesignError, match="no node 'n99'"):
        d.connect("n99", add, 1)
    with pytest.raises(DesignError, match="has 1 input; there is no input 1"):
        d.connect(x, loose, 1)
    d.connect(x, add, 1)
    with pytest.raises(DesignError, match="already connected"):
        d.connect(x, add, 1)
    assert engine.check(d).problems  # stored, and reported by check instead


def test_node_ids_are_stable_across_save_and_load(tmp_path):
    d = Design()
    x = d.add("Input", shape=(4,))
    y = d.add("Linear", x, out_features=2)
    d.remove(x)
    z = d.add("Input", shape=(4,))
    d.connect(z, y)
    engine.save_design(d, tmp_path / "d.ncnet")
    loaded = engine.load_design(tmp_path / "d.ncnet")
    assert loaded.nodes() == [y, z]
    assert loaded.add("ReLU", y) not in (x, y, z)


def _problems(d: Design) -> list[str]:
    return [f"{p.severity}: {p.message}" for p in engine.check(d).problems]


def test_check_reports_errors_in_plain_words():
    d = Design()
    x = d.add("Input", shape=(10,))
    c = d.add("Conv2d", x)
    d.add("Output", c)
    assert any("Conv2d expects a 4-D tensor" in p and "(N, 10)" in p for p in _problems(d))

    d = Design()
    a = d.add("Input", shape=(3, 8, 8))
    b = d.add("Input", shape=(3, 4, 4))
    d.add("Output", d.add("Concat", a, b))
    assert any("agree in every other dimension" in p for p in _problems(d))

    d = Design()
    x = d.add("Input", shape=(4,))
    r1 = d.add("ReLU", x)
    r2 = d.add("ReLU", r1)
    d.add("Output", r2)
    d.disconnect(x, r1)
    d.connect(r2, r1)
    assert any("cycle" in p for p in _problems(d))

    d = Design()
    l1 = d.add("Linear", out_features=2)
    assert {"error: network 'model' has no Input", "error: network 'model' has no Output"} <= set(
        _problems(d))
    assert any("input 0 not connected" in p for p in _problems(d))
    a, b = d.add("Input", shape=(3,)), d.add("Input", shape=(3,))
    d.connect(a, l1)
    d.connect(b, l1)
    assert any("input 0 has 2 connections" in p for p in _problems(d))

    d = Design()
    x = d.add("Input", shape=(4,))
    d.add("Output", d.add("Dropout", x, p=1.5))
    assert any("'p' is 1.5 but must be at most 1" in p for p in _problems(d))


def test_check_warns_about_what_runs_but_is_rarely_meant():
    d = Design()
    x = d.add("Input", shape=(32, 7, 7))
    y = d.add("Linear", x, out_features=10)
    s = d.add("Softmax", y, dim=-1)
    report = _checked(d, s)
    messages = {p.message: p.fix for p in report.warnings}
    linear = next(m for m in messages if "last dimension only" in m)
    assert "Flatten" in messages[linear]
    assert any("cross-entropy" in m for m in messages)


def test_build_model_lists_errors():
    d = Design()
    x = d.add("Input", shape=(10,))
    d.add("Output", d.add("Conv2d", x))
    with pytest.raises(DesignError, match="cannot be built") as info:
        engine.build_model(d)
    assert any("Conv2d" in problem for problem in info.value.problems)


def test_rebuild_reuses_unchanged_modules_and_keeps_weights():
    d = Design()
    x = d.add("Input", shape=(4,))
    a = d.add("Linear", x, out_features=3, name="a")
    b = d.add("Linear", a, out_features=2, name="b")
    d.add("Output", b)
    first = engine.build_model(d)
    reuse = {node: getattr(first, attr) for attr, node in first.node_of_module.items()}
    d.set_params(b, out_features=5)
    second = engine.build_model(d, reuse=reuse)
    assert second.a is first.a and second.b is not first.b


def test_gating_multiply_broadcasts_and_pooling_rounds_up_like_torch():
    d = Design()
    x = d.add("Input", shape=(8, 5, 5))
    g = d.add("Sigmoid", d.add("AdaptiveAvgPool2d", x))
    m = d.add("Multiply", x, g)
    p = d.add("MaxPool2d", m, kernel_size=2, ceil_mode=True)
    report = _checked(d, p)
    assert report.shape(m) == ("N", 8, 5, 5) and report.shape(p) == ("N", 8, 3, 3)
    assert tuple(engine.build_model(d)(torch.randn(2, 8, 5, 5)).shape) == (2, 8, 3, 3)
    bad = Design()
    a, b = bad.add("Input", shape=(8, 5, 5)), bad.add("Input", shape=(8, 4, 4))
    bad.add("Output", bad.add("Add", a, b))
    assert any("sizes of 1 that broadcast" in p.message for p in engine.check(bad).errors)
