"""The Backbone layer: a torchvision network as a feature extractor, with weights from a local
file, frozen or partly trainable; clear warnings and errors about the weights file."""

from __future__ import annotations

import ast
import warnings

import pytest
import torch
import torchvision
from safetensors.torch import save_file
from test_codegen_helpers import load_exported, ruff_problems
from torch import nn

from engine import Design, DesignError, build_model, check, generate_code
from engine.layers import TensorInfo, get_layer
from engine.layers.catalogue.pretrained import ARCHITECTURES
from engine.training.portable.backbones import backbone_blocks


def backbone_design(**params) -> tuple[Design, str]:
    d = Design("transfer")
    image = d.add("Input", shape=(3, 32, 32), name="image")
    backbone = d.add("Backbone", image, name="backbone", **params)
    scores = d.add("Linear", backbone, out_features=4, name="scores")
    d.add("Output", scores, name="label")
    return d, backbone


def imagenet_state(arch: str = "resnet18") -> dict[str, torch.Tensor]:
    """Weights laid out as torchvision saves them: the 1000-class head included."""
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torchvision.models.get_model(arch, weights=None).state_dict()


BUILT_ON_CPU = {"regnet_y_400mf", "regnet_y_800mf"}  # their initialisation needs real tensors


@pytest.mark.parametrize("arch", list(ARCHITECTURES))
def test_the_table_matches_the_real_networks(arch):
    """Checking reads sizes from the table without torch; they must be the real ones."""
    spec = get_layer("Backbone")
    info = TensorInfo(("N", 3, 64, 64))
    params = {**spec.defaults(), "arch": arch}
    with torch.device("meta" if arch not in BUILT_ON_CPU else "cpu"):
        model = spec.build([info], params)
        head = torchvision.models.get_model(arch, weights=None).get_submodule(
            ARCHITECTURES[arch].head)
    assert isinstance(head, nn.Linear)
    assert isinstance(model.get_submodule(ARCHITECTURES[arch].head), nn.Identity)
    assert spec.infer([info], params).shape == ("N", head.in_features)
    assert spec.count_params([info], params) == sum(p.numel() for p in model.parameters())


def test_without_a_weights_file_check_warns_that_it_trains_from_scratch():
    design, node = backbone_design(arch="resnet18")
    report = check(design)
    assert report.shape(node) == ("N", 512)
    [problem] = [p for p in report.problems if p.node == node]
    assert problem.severity == "warning"
    assert "no weights file" in problem.message and "from scratch" in problem.message
    assert "ImageNet" in problem.fix
    model = build_model(design)
    assert all(p.requires_grad for p in model.parameters())


@pytest.mark.parametrize(("name", "expected"), [("missing.pth", "there is no weights file"),
                                                ("weights.txt", "not a .safetensors")])
def test_a_weights_file_that_cannot_be_read_is_an_error(tmp_path, name, expected):
    path = tmp_path / name
    if name.endswith(".txt"):
        path.write_text("not weights")
    design, node = backbone_design(weights_file=str(path))
    [problem] = [p for p in check(design).problems if p.node == node]
    assert problem.severity == "error"
    assert expected in problem.message and str(path) in problem.message
    with pytest.raises(DesignError):
        build_model(design)


@pytest.mark.parametrize("suffix", [".safetensors", ".pth"])
def test_weights_load_and_all_but_the_last_blocks_freeze(tmp_path, suffix):
    state = imagenet_state()
    path = tmp_path / f"resnet18{suffix}"
    if suffix == ".safetensors":
        save_file(state, path)
    else:
        torch.save(state, path)
    design, node = backbone_design(weights_file=str(path), frozen=True, train_last=1)
    assert not [p for p in check(design).problems if p.node == node]
    model = build_model(design)
    backbone = model.get_submodule("backbone")
    assert torch.equal(backbone.conv1.weight, state["conv1.weight"])
    trainable = {name for name, p in backbone.named_parameters() if p.requires_grad}
    assert trainable == {f"layer4.1.{name}" for name, _ in backbone.layer4[1].named_parameters()}
    assert all(p.requires_grad for p in model.get_submodule("scores").parameters())
    assert model(torch.rand(2, 3, 32, 32)).shape == (2, 4)


def test_train_last_counts_blocks_from_the_end_and_may_exceed_them(tmp_path):
    path = tmp_path / "resnet18.pth"
    torch.save(imagenet_state(), path)
    design, node = backbone_design(weights_file=str(path), train_last=99)
    backbone = build_model(design).get_submodule("backbone")
    assert all(p.requires_grad for p in backbone.parameters())
    design.set_params(node, frozen=False, train_last=0)
    backbone = build_model(design).get_submodule("backbone")
    assert all(p.requires_grad for p in backbone.parameters())
    assert len(backbone_blocks(backbone)) == 10  # conv1, bn1 and the eight residual blocks


def test_weights_of_another_network_are_refused_with_the_reason(tmp_path):
    path = tmp_path / "mobilenet.safetensors"
    save_file({k: v.contiguous() for k, v in imagenet_state("mobilenet_v3_small").items()}, path)
    design, _ = backbone_design(weights_file=str(path))
    with pytest.raises(DesignError, match="do not fit resnet18"):
        build_model(design)


def test_a_damaged_file_is_refused_with_the_reason(tmp_path):
    path = tmp_path / "broken.safetensors"
    path.write_bytes(b"\x00" * 40)
    design, _ = backbone_design(weights_file=str(path))
    with pytest.raises(DesignError, match="cannot be read"):
        build_model(design)


def test_grey_images_need_a_conversion_to_three_channels():
    d = Design()
    image = d.add("Input", shape=(1, 32, 32))
    node = d.add("Backbone", image)
    [problem] = [p for p in check(d).problems if p.node == node and p.severity == "error"]
    assert "3 colour channels" in problem.message and "Conv2d" in problem.fix


def test_an_exported_script_loads_and_freezes_the_weights_as_the_app_does(tmp_path):
    path = tmp_path / "resnet18.safetensors"
    save_file(imagenet_state(), path)
    design, _ = backbone_design(weights_file=str(path), train_last=2)
    code = generate_code(design)
    [call] = [node for node in ast.walk(ast.parse(code)) if isinstance(node, ast.Call)
              and getattr(node.func, "id", "") == "pretrained_backbone"]
    assert [ast.literal_eval(a) for a in call.args] == ["resnet18"]
    assert {k.arg: ast.literal_eval(k.value) for k in call.keywords} == {
        "head": "fc", "weights_file": str(path), "train_last": 2}
    assert "torchvision.models.get_model" in code and not ruff_problems(code)
    exported = load_exported(code, tmp_path)["Model"]()
    built = build_model(design)
    assert exported.state_dict().keys() == built.state_dict().keys()
    assert all(torch.equal(value, exported.state_dict()[key])
               for key, value in built.state_dict().items() if "scores" not in key)
    assert ({n for n, p in exported.named_parameters() if p.requires_grad}
            == {n for n, p in built.named_parameters() if p.requires_grad})


def test_an_exported_script_without_weights_builds_the_headless_network(tmp_path):
    design, _ = backbone_design(arch="mobilenet_v3_small", frozen=True)
    code = generate_code(design)
    assert 'pretrained_backbone("mobilenet_v3_small", head="classifier.3")' in code
    model = load_exported(code, tmp_path)["Model"]()
    assert model(torch.rand(2, 3, 32, 32)).shape == (2, 4)
