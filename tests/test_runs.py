"""The run store (engine.runs): folders beside the design, listing, renaming, deleting, moving,
curves, weights loaded back into models, and predictions with them (engine.prediction)."""

import json

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import save_file

from engine import DesignError, build_model, save_design
from engine.prediction import predict_file, predict_samples
from engine.runs import (
    RunStore,
    export_metrics_csv,
    load_models,
    read_metrics,
    read_step_curves,
    runs_folder_for,
    save_step_curves,
)
from templates import load_template


def stored_run(folder, template="mlp", seed=0, which="last"):
    """A run as the trainer leaves it: its design and one network's weights."""
    store = RunStore(folder)
    record = store.create()
    design = load_template(template)
    save_design(design, record.folder / "design.ncnet")
    torch.manual_seed(seed)
    for network in design.networks:
        model = build_model(design, network)
        (record.folder / which).mkdir(exist_ok=True)
        save_file({k: v.contiguous() for k, v in model.state_dict().items()},
                  record.folder / which / f"{network}.safetensors")
    return store, store.update(record.id, "completed", batches_per_epoch=45)


def test_runs_live_beside_the_design_file(tmp_path):
    assert runs_folder_for(tmp_path / "net.ncnet") == tmp_path / "net.runs"


def test_runs_are_numbered_listed_renamed_and_deleted(tmp_path):
    store = RunStore(tmp_path / "net.runs")
    first, second = store.create(), store.create("baseline", task="classification")
    assert (first.id, second.id) == ("0001", "0002")
    assert [r.name for r in store.runs()] == ["Run 1", "baseline"]
    assert store.get("0002").info["task"] == "classification"
    store.rename("0001", "  wider layers ")
    assert store.get("0001").name == "wider layers"
    with pytest.raises(DesignError, match="empty"):
        store.rename("0001", "   ")
    store.delete("0001")
    assert [r.id for r in store.runs()] == ["0002"]
    assert not (tmp_path / "net.runs" / "0001").exists()
    assert store.create().id == "0003"


def test_update_merges_facts_and_keeps_the_name(tmp_path):
    store = RunStore(tmp_path)
    record = store.create("mine", device="cpu")
    updated = store.update(record.id, "completed", epochs_done=3, metrics={"loss": 0.5})
    assert (updated.name, updated.status, updated.finished) == ("mine", "completed", True)
    assert updated.info == {"device": "cpu", "epochs_done": 3, "metrics": {"loss": 0.5}}
    assert json.loads((record.folder / "run.json").read_text())["epochs_done"] == 3
    with pytest.raises(DesignError, match="no run '0042'"):
        store.get("0042")


def test_an_unreadable_run_folder_is_left_out(tmp_path):
    store = RunStore(tmp_path)
    store.create()
    (tmp_path / "0002").mkdir()
    (tmp_path / "0002" / "run.json").write_text("{not json")
    assert [r.id for r in store.runs()] == ["0001"]


def test_moving_runs_renumbers_them_and_rewrites_weight_paths(tmp_path):
    scratch = tmp_path / "scratch"
    _, record = stored_run(scratch)
    weights = str(record.folder / "last" / "model.safetensors")
    (record.folder / "summary.json").write_text(json.dumps({"weights": {"model": weights}}))
    target = RunStore(tmp_path / "net.runs")
    target.create("already here")
    moved = RunStore(scratch).move_to(tmp_path / "net.runs")
    assert not scratch.exists()
    names = [(r.id, r.name) for r in moved.runs()]
    assert names == [("0001", "already here"), ("0002", "Run 1")]
    files = moved.get("0002").weight_files()
    assert files["model"] == tmp_path / "net.runs" / "0002" / "last" / "model.safetensors"
    assert files["model"].is_file()


def test_metrics_are_read_as_columns_and_exported_as_they_are(tmp_path):
    store = RunStore(tmp_path)
    record = store.create()
    text = "epoch,lr,loss,val_loss\n1,0.01,2.0,1.5\n2,0.01,1.0,\n"
    (record.folder / "metrics.csv").write_text(text)
    columns = read_metrics(record.folder)
    assert columns["loss"].tolist() == [2.0, 1.0]
    assert columns["val_loss"][0] == 1.5 and np.isnan(columns["val_loss"][1])
    export_metrics_csv(record, tmp_path / "out.csv")
    assert (tmp_path / "out.csv").read_text() == text
    with pytest.raises(DesignError, match="no metrics"):
        export_metrics_csv(store.create(), tmp_path / "none.csv")


def test_step_curves_round_trip(tmp_path):
    x = np.arange(1, 1001, dtype=np.float64)
    save_step_curves(tmp_path, {"loss": (x, 1 / x), "d_real": (x[:3], x[:3] / 10)})
    curves = read_step_curves(tmp_path)
    assert set(curves) == {"loss", "d_real"}
    assert np.array_equal(curves["loss"][1], 1 / x)
    assert read_step_curves(tmp_path / "missing") == {}


def test_weights_load_back_into_models_that_give_the_same_outputs(tmp_path):
    _, record = stored_run(tmp_path)
    model = load_models(record)["model"]
    torch.manual_seed(0)
    reference = build_model(load_template("mlp"))
    sample = torch.randn(5, 64)
    for key, value in reference.state_dict().items():
        assert torch.equal(model.state_dict()[key], value)
    reference.eval()
    assert torch.equal(model(sample), reference(sample))
    assert not model.training


def test_weights_that_do_not_fit_the_design_are_refused_by_name(tmp_path):
    _, record = stored_run(tmp_path)
    design = load_template("mlp")
    design.set_params(design.find("hidden1"), out_features=32)
    with pytest.raises(DesignError, match="do not fit network 'model'"):
        load_models(record, design)
    empty = RunStore(tmp_path).create()
    save_design(design, empty.folder / "design.ncnet")
    with pytest.raises(DesignError, match="no saved weights"):
        load_models(empty)


def test_the_weights_a_run_ended_with_are_preferred(tmp_path):
    _, record = stored_run(tmp_path, seed=1, which="best")
    stored_weights = record.folder / "best" / "model.safetensors"
    (record.folder / "summary.json").write_text(
        json.dumps({"weights": {"model": str(stored_weights)}}))
    assert record.weight_files() == {"model": stored_weights}
    assert record.has_weights


def test_predictions_on_samples_use_the_trained_weights(tmp_path):
    _, record = stored_run(tmp_path)
    prediction = predict_samples(record, count=12)
    assert prediction.task == "classification" and prediction.form == "vectors"
    assert prediction.inputs.shape == (12, 64) and prediction.targets.shape == (12,)
    model = load_models(record)["model"]
    with torch.no_grad():
        expected = model(torch.as_tensor(prediction.inputs))
    assert np.allclose(prediction.outputs, expected.numpy())
    assert np.array_equal(prediction.predicted, expected.argmax(-1).numpy())
    assert prediction.labels == [str(i) for i in range(10)]


def test_a_gan_predicts_by_generating_points(tmp_path):
    _, record = stored_run(tmp_path, "gan")
    prediction = predict_samples(record, count=16)
    assert prediction.form == "points" and prediction.outputs.shape == (16, 2)


def test_predictions_on_files(tmp_path):
    _, record = stored_run(tmp_path / "mlp")
    samples = np.random.default_rng(0).random((3, 64)).astype(np.float32)
    np.save(tmp_path / "three.npy", samples)
    assert predict_file(record, tmp_path / "three.npy").predicted.shape == (3,)
    np.save(tmp_path / "wrong.npy", samples[:, :10])
    with pytest.raises(DesignError, match=r"shape \[10\] but the Input .* takes \[64\]"):
        predict_file(record, tmp_path / "wrong.npy")
    header = ",".join(f"p{i}" for i in range(64))
    rows = "\n".join(",".join(f"{v:.3f}" for v in row) for row in samples)
    (tmp_path / "rows.csv").write_text(f"{header}\n{rows}\n")
    assert predict_file(record, tmp_path / "rows.csv").inputs.shape == (3, 64)
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(DesignError, match="choose an image"):
        predict_file(record, tmp_path / "notes.txt")


def test_a_picture_is_fitted_to_an_image_model(tmp_path):
    _, record = stored_run(tmp_path / "cnn", "cnn")
    pixels = np.full((16, 16), 255, dtype=np.uint8)   # dark ink on white, unlike digits
    pixels[4:12, 7:9] = 0
    Image.fromarray(pixels).save(tmp_path / "one.png")
    prediction = predict_file(record, tmp_path / "one.png")
    assert prediction.inputs.shape == (1, 1, 8, 8) and prediction.form == "images"
    assert prediction.inputs.mean() < 0.5   # turned light-on-dark like the training digits
    Image.fromarray(pixels).save(tmp_path / "one.tiff")   # the loader's suffixes, .tiff too
    assert predict_file(record, tmp_path / "one.tiff").inputs.shape == (1, 1, 8, 8)
    (tmp_path / "broken.png").write_bytes(b"not a picture")
    with pytest.raises(DesignError, match="cannot be read as an image"):
        predict_file(record, tmp_path / "broken.png")
