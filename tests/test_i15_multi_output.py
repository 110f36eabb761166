"""Issue 15, nodes with several outputs: Unbind, Chunk and Split (one output per piece) and
MultiheadAttention's weights, through the design, its file, the check, the build, the
exported code, ONNX, block grouping and the importer."""

import json

import pytest
import torch
from test_codegen_helpers import single_thread
from test_i15_importer import assert_round_trip
from torch import nn

import engine
from engine import Design, check
from engine.blocks.grouping import group, ungroup
from engine.codegen.forward import forward_program
from engine.errors import DesignError
from engine.events import EdgeAdded
from engine.export_onnx import export_onnx
from engine.fileformat import design_from_json, load_design, save_design
from engine.importing import import_network

pytestmark = pytest.mark.usefixtures(single_thread.__name__)


def _pieces(layer="Chunk", shape=(6, 4), **params):
    """Input -> `layer` -> an Add of its first two outputs and an Output of its last."""
    design = Design("pieces")
    x = design.add("Input", shape=shape)
    cut = design.add(layer, x, **params)
    last = len(design.output_names(cut)) - 1
    design.add("Output", design.add("Add", (cut, 0), (cut, 1), name="joined"))
    design.add("Output", (cut, last), name="last")
    return design, cut


# ---------------------------------------------------------------------------- the model
def test_an_edge_names_the_output_it_leaves_and_events_carry_it():
    design, cut = _pieces(chunks=3)
    seen = []
    design.events.connect(seen.append)
    out = design.add("Output", (cut, 1), name="middle")
    assert [e.out for e in design.inputs_of(out)] == [1]
    assert any(isinstance(e, EdgeAdded) and e.out == 1 for e in seen)
    assert design.output_names(cut) == ("0", "1", "2")
    assert "has 3 outputs (0 0, 1 1, 2 2); there is no output 3" in design.connection_problem(
        cut, design.add("ReLU"), 0, 3)
    assert design.connection_problem(cut, design.find("relu1"), 0, 2) is None


def test_files_write_out_only_when_not_zero_and_read_it_back(tmp_path):
    design, _ = _pieces(chunks=3)
    edges = design.to_dict()["networks"]["model"]["edges"]
    assert [e.get("out") for e in edges] == [None, None, 1, None, 2]
    save_design(design, tmp_path / "pieces.ncnet")
    assert load_design(tmp_path / "pieces.ncnet") == design


def test_a_bad_output_index_in_a_file_is_named_by_its_path():
    design, _ = _pieces()
    document = {"format": "neuralcanvas.design", "schema_version": 3, **design.to_dict()}
    document["networks"]["model"]["edges"][2]["out"] = -1
    document["networks"]["model"]["edges"][3]["from"] = 1
    with pytest.raises(DesignError) as caught:
        design_from_json(json.dumps(document))
    listing = "\n".join(caught.value.problems)
    assert '$.networks["model"].edges[2].out: an output must be a whole number' in listing
    assert '$.networks["model"].edges[3].from: an edge has no key \'from\'' in listing


def test_removing_a_wired_output_is_a_check_error_not_a_crash():
    design, cut = _pieces(chunks=3)
    design.set_params(cut, chunks=2)  # the Output of piece 2 now reads an output that went
    report = check(design)
    (problem,) = report.errors
    assert problem.node == design.find("last")
    assert "reads output 2 of chunk1 (Chunk), which has 2 outputs" in problem.message
    with pytest.raises(DesignError, match="reads output 2"):
        engine.build_model(design)
    design.set_params(cut, chunks=3)
    assert check(design).ok


# ---------------------------------------------------------------------------- the layers
@pytest.mark.parametrize(("layer", "params", "shape", "reference"), [
    ("Unbind", {"dim": 2, "count": 3}, (4, 3, 5), lambda x: x.unbind(2)),
    ("Chunk", {"dim": 1, "chunks": 3}, (7, 2), lambda x: torch.chunk(x, 3, dim=1)),
    ("Split", {"dim": -1, "sizes": (1, 3, 2)}, (2, 6), lambda x: torch.split(x, [1, 3, 2], -1)),
])
def test_each_piece_matches_torch(layer, params, shape, reference):
    design = Design(layer)
    x = design.add("Input", shape=shape)
    cut = design.add(layer, x, **params)
    outputs = [design.add("Output", (cut, out)) for out in range(len(design.output_names(cut)))]
    report = check(design)
    assert report.ok, report.problems
    sample = torch.randn(2, *shape)
    with torch.no_grad():
        got = engine.build_model(design)(sample)
    want = reference(sample)
    assert len(got) == len(want) == len(outputs)
    for out, (actual, expected) in enumerate(zip(got, want)):
        assert torch.equal(actual, expected)
        assert report.shape(cut, out) == ("N", *expected.shape[1:])
    assert report.params(cut) == 0


def test_pieces_refuse_what_torch_would_cut_otherwise():
    problems = {layer: check(_pieces(layer, shape=(5, 4), **params)[0]).errors[0].message
                for layer, params in [("Unbind", {"count": 4}), ("Chunk", {"chunks": 4}),
                                      ("Split", {"sizes": (2, 2)})]}
    assert "dimension 1 of (N, 5, 4) has 5 positions, so it gives 5 tensors" in problems["Unbind"]
    assert "pieces of 2, which makes 3 chunks, not 4" in problems["Chunk"]
    assert "the sizes [2, 2] add up to 4" in problems["Split"]
    assert "batch" in check(_pieces("Chunk", shape=(6,), dim=0)[0]).errors[0].message


def test_attention_takes_separate_key_and_value_and_gives_its_weights():
    design = Design("cross")
    query = design.add("Input", shape=(3, 8), name="query")
    memory = design.add("Input", shape=(5, 6), name="memory")
    attn = design.add("MultiheadAttention", query, memory, memory, num_heads=2,
                      need_weights=True, average_attn_weights=False, name="attn")
    design.add("Output", attn)
    design.add("Output", (attn, 1), name="weights")
    report = check(design)
    assert report.ok, report.problems
    assert design.output_names(attn) == ("output", "weights")
    assert (report.shape(attn), report.shape(attn, 1)) == (("N", 3, 8), ("N", 2, 3, 5))
    model = engine.build_model(design).eval()
    assert report.total_params() == sum(p.numel() for p in model.parameters())
    torch_attention = nn.MultiheadAttention(8, 2, kdim=6, vdim=6, batch_first=True).eval()
    torch_attention.load_state_dict(model.attn.state_dict(), strict=True)
    q, kv = torch.randn(2, 3, 8), torch.randn(2, 5, 6)
    with torch.no_grad():
        got = model(q, kv)
        want = torch_attention(q, kv, kv, need_weights=True, average_attn_weights=False)
    assert all(torch.equal(a, b) for a, b in zip(got, want))
    assert ("attn_output, attn_weights = self.attn(query, memory, memory, need_weights=True, "
            "average_attn_weights=False)") in model.forward_source


def test_two_inputs_to_attention_say_what_to_connect():
    design = Design("two")
    x = design.add("Input", shape=(3, 8))
    design.add("Output", design.add("MultiheadAttention", x, x, num_heads=2))
    (problem,) = check(design).errors
    assert "takes one input (self-attention) or three (query, key, value)" in problem.message


# ---------------------------------------------------------------------------- the code
def test_the_forward_unpacks_the_outputs_as_a_person_writes_it():
    design, cut = _pieces(shape=(8, 4))
    source = engine.build_model(design).forward_source
    assert "chunk1_0, chunk1_1 = torch.chunk(input1, 2, dim=1)" in source
    design.set_params(cut, chunks=4)  # outputs 2 and 3 are read by nothing
    lines = forward_program(design, "model", check(design)).lines
    assert "chunk1_0, chunk1_1, _, _ = torch.chunk(input1, 4, dim=1)" in lines


@pytest.mark.slow
def test_onnx_export_takes_every_piece_and_the_attention_weights(tmp_path):
    pytest.importorskip("onnxruntime")
    design = Design("onnx")
    qkv = design.add("Unbind", design.add("Input", shape=(3, 5, 8)), dim=1, count=3)
    attn = design.add("MultiheadAttention", (qkv, 0), (qkv, 1), (qkv, 2), num_heads=2,
                      need_weights=True)
    halves = design.add("Chunk", attn, chunks=2, dim=2)
    design.add("Output", (halves, 1))
    design.add("Output", (attn, 1))
    result = export_onnx(design, tmp_path / "pieces.onnx")  # checked in onnxruntime
    assert result.max_difference < 1e-5


# ---------------------------------------------------------------------------- blocks
def test_grouping_after_a_second_output_keeps_the_shapes():
    design = Design("group")
    cut = design.add("Chunk", design.add("Input", shape=(6, 4)), chunks=3)
    joined = design.add("Add", (cut, 0), (cut, 1))
    relu = design.add("ReLU", joined)
    design.add("Output", relu)
    design.add("Output", (cut, 2))
    before = check(design)
    use = group(design, [joined, relu], "Joiner")
    assert [(e.src, e.out) for e in design.inputs_of(use)] == [(cut, 0), (cut, 1)]
    after = check(design)
    assert after.ok, after.problems
    assert after.shape(use) == before.shape(relu)
    ungroup(design, use)
    assert check(design).ok


# ---------------------------------------------------------------------------- import
class ViTAttention(nn.Module):
    """timm's Attention, as written there (fused qkv, heads by reshape and permute)."""

    def __init__(self, dim: int = 16, heads: int = 4) -> None:
        super().__init__()
        self.heads, self.head_dim = heads, dim // heads
        self.scale = self.head_dim ** -0.5
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.heads, self.head_dim)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        attn = ((q @ k.transpose(-2, -1)) * self.scale).softmax(dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(B, N, C))


class ViTBlock(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(16)
        self.attn = ViTAttention()
        self.mlp = nn.Linear(16, 32)

    def forward(self, x):
        x = x + self.attn(self.norm(x))
        value, gate = self.mlp(x).chunk(2, dim=-1)
        return value * torch.sigmoid(gate)


def test_vit_attention_imports_exactly_with_unbind(tmp_path):
    design, code = assert_round_trip(ViTBlock(), (torch.randn(2, 5, 16),), tmp_path)
    types = [design.node(n).type for scope in design.blocks + design.networks
             for n in design.nodes(scope)]
    assert types.count("Unbind") == 1 and types.count("Chunk") == 1 and "Slice" not in types
    assert "unbind_0, unbind_1, unbind_2 = permute.unbind(1)" in code
    assert "chunk_0, chunk_1 = torch.chunk(mlp, 2, dim=2)" in code
    assert "class Attention(nn.Module)" in code or "class ViTAttention(nn.Module)" in code


def test_cross_attention_with_its_weights_imports_exactly(tmp_path):
    model = EncoderDecoderPlain()
    design, code = assert_round_trip(model, (torch.randn(2, 7, 16),), tmp_path)
    (attn,) = [n for n in design.nodes("model") if design.node(n).type == "MultiheadAttention"]
    assert len(design.inputs_of(attn)) == 3 and design.node(attn).params["need_weights"]
    assert "cross_output, cross_weights = self.cross(" in code
    assert "need_weights=True" in code


class EncoderDecoderPlain(nn.Module):
    """Cross-attention whose queries are a shorter sequence than the encoder's memory."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Linear(16, 16)
        self.queries = nn.Linear(16, 16)
        self.cross = nn.MultiheadAttention(16, 4, batch_first=True)
        self.head = nn.Linear(16, 3)

    def forward(self, x):
        memory = torch.relu(self.encoder(x))
        query = self.queries(x[:, :3])
        result = self.cross(query, memory, memory, need_weights=True)
        return self.head(result[0]), result[1]


def test_chunk_and_split_import_as_one_node_each():
    class Gates(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(6, 12)

        def forward(self, x):
            a, b = self.fc(x).chunk(2, dim=1)
            small, large = torch.split(a * b, [2, 4], dim=1)
            return small + large[:, :2]

    design = import_network(Gates(), (torch.randn(2, 6),)).design
    types = [design.node(n).type for n in design.nodes("model")]
    assert types.count("Chunk") == types.count("Split") == 1
    split = next(n for n in design.nodes("model") if design.node(n).type == "Split")
    assert design.node(split).params["sizes"] == (2, 4)
