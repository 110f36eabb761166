"""Data sources: built-in sets, the user's files, and clear refusals when data and design
disagree."""

import gzip
import struct

import numpy as np
import pytest
import torch
from PIL import Image
from test_training_support import classifier, of_kind, regressor, train

from engine import Design
from engine.training.portable import builtin_data, file_data


def test_builtin_sets_have_their_shapes_and_repeat_for_a_seed():
    x, y = builtin_data.digits_data(as_images=True)
    assert x.shape == (1797, 1, 8, 8) and y.max() == 9 and 0 <= x.min() and x.max() <= 1
    assert builtin_data.digits_data(as_images=False)[0].shape == (1797, 64)
    x, y = builtin_data.wave_data(64, 20, 0.1, "square", many_to_many=True, seed=1)
    assert x.shape == (64, 20, 1) and y.shape == (64, 20, 1)
    assert torch.equal(x[:, 1:], y[:, :-1])
    x, y = builtin_data.wave_data(64, 20, 0.0, "sine", many_to_many=False, seed=1)
    assert y.shape == (64, 1)
    for make in (lambda s: builtin_data.two_moons_data(100, 0.1, s),
                 lambda s: builtin_data.spiral_data(90, 3, 0.1, s),
                 lambda s: builtin_data.gaussian_ring_data(100, 8, 2.0, 0.02, s)):
        first, again, other = make(0), make(0), make(1)
        assert torch.equal(first[0], again[0]) and not torch.equal(first[0], other[0])
        assert first[0].shape == (len(first[1]), 2)


def test_token_match_labels_say_whether_the_first_token_returns():
    x, y = builtin_data.token_match_data(200, 12, 10, seed=0)
    returns = (x[:, 1:] == x[:, :1]).any(dim=1).long()
    assert torch.equal(returns, y) and y.sum() == 100


def test_text_windows_follow_the_text():
    vocabulary = sorted(set("hello world"))
    x, y = builtin_data.text_data("hello world", vocabulary, 4, 2, many_to_many=True,
                                  samples=100)
    decode = "".join
    assert decode(vocabulary[i] for i in x[0]) == "hell"
    assert decode(vocabulary[i] for i in y[0]) == "ello"
    assert len(x) == 4


def test_teacher_data_is_learnable_and_shaped_like_the_design():
    x, y = builtin_data.teacher_data(100, (3, 4), 0, (5,), 7, seed=0)
    assert x.shape == (100, 3, 4) and y.shape == (100, 5) and y.dtype == torch.long
    x, y = builtin_data.teacher_data(100, (6,), 20, (), 0, seed=0)
    assert x.dtype == torch.long and x.max() < 20 and y.dtype == torch.float32


# ---------------------------------------------------------------------------- the user's files

def write_csv(path, rows):
    path.write_text("\n".join(",".join(map(str, row)) for row in rows) + "\n")


def test_csv_classes_and_values(tmp_path):
    path = tmp_path / "flowers.csv"
    write_csv(path, [("a", "b", "kind"), (1, 2, "rose"), (3, 4, "tulip"), (5, 6, "rose")])
    x, y = file_data.csv_data(path, "kind", None, classes=True)
    assert x.tolist() == [[1, 2], [3, 4], [5, 6]] and y.tolist() == [0, 1, 0]
    assert file_data.csv_classes(path, "kind") == ["rose", "tulip"]
    x, y = file_data.csv_data(path, "b", ["a"], classes=False)
    assert x.shape == (3, 1) and y.tolist() == [[2.0], [4.0], [6.0]]


def idx_bytes(array: np.ndarray, code: int) -> bytes:
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


def test_mnist_idx_files_plain_and_gzipped(tmp_path):
    images = np.arange(2 * 4 * 4, dtype=np.uint8).reshape(2, 4, 4)
    (tmp_path / "images.idx").write_bytes(idx_bytes(images, 8))
    with gzip.open(tmp_path / "labels.idx.gz", "wb") as stream:
        stream.write(idx_bytes(np.array([3, 7], dtype=np.uint8), 8))
    x, y = file_data.mnist_idx_data(tmp_path / "images.idx", tmp_path / "labels.idx.gz")
    assert x.shape == (2, 1, 4, 4) and y.tolist() == [3, 7]
    assert x[0, 0, 0, 1] == pytest.approx(1 / 255)


def test_npz_arrays(tmp_path):
    np.savez(tmp_path / "d.npz", x=np.ones((5, 3)), y=np.arange(5.0))
    x, y = file_data.npz_data(tmp_path / "d.npz", "x", "y")
    assert x.dtype == torch.float32 and y.shape == (5, 1)


def make_image_folder(root, classes=("cat", "dog"), per_class=6, size=(10, 12)):
    for index, name in enumerate(classes):
        (root / name).mkdir(parents=True)
        for k in range(per_class):
            pixels = np.full((*size, 3), 40 * index + k, dtype=np.uint8)
            Image.fromarray(pixels).save(root / name / f"{k}.png")


@pytest.mark.slow
def test_image_folder_trains_a_small_cnn(tmp_path):
    make_image_folder(tmp_path / "pets")
    d = Design()
    x = d.add("Input", shape=(1, 8, 8))
    h = d.add("Flatten", d.add("Conv2d", x, out_channels=4, kernel_size=3))
    d.add("Output", d.add("Linear", h, out_features=2))
    d.set_training(task="classification", epochs=2, batch_size=4,
                   data={"source": "image_folder", "path": str(tmp_path / "pets"),
                         "flip": True, "rotate": 10.0, "validation_split": 0.25})
    events, final = train(d)
    assert final.kind == "finished", getattr(final, "reason", "")
    started = of_kind(events, "started")[0]
    assert started.data["labels"] == ["cat", "dog"] and started.data["input_shape"] == [1, 8, 8]
    assert started.data["train_samples"] == 9 and started.data["val_samples"] == 3


# ---------------------------------------------------------------------------- refusals

def failure(design):
    _, final = train(design)
    assert final.kind == "failed"
    return final


def test_input_shape_that_does_not_fit_the_data_is_refused():
    final = failure(classifier(inputs=10, classes=10, data={"source": "digits"}))
    assert final.error == "design"  # the check finds it before any data loads
    assert "shape (64)" in final.reason and "'features'" in final.reason
    assert "set the Input's shape to [64], the shape of one digits sample" in final.reason


def test_more_classes_than_output_scores_is_refused():
    final = failure(classifier(inputs=64, classes=5, data={"source": "digits"}))
    assert "10 classes" in final.reason and "5 scores" in final.reason
    assert "set out_features of 'scores' to 10" in final.reason


def test_regression_targets_must_match_the_output():
    final = failure(regressor(inputs=2, data={"source": "two_moons"}))
    assert "class ids" in final.reason and "'classification'" in final.reason


def test_a_missing_file_is_refused(tmp_path):
    final = failure(classifier(data={"source": "csv", "path": str(tmp_path / "no.csv"),
                                     "target": "y"}))
    assert "there is no file" in final.reason and "no.csv" in final.reason


def test_a_text_column_among_the_features_is_refused(tmp_path):
    path = tmp_path / "data.csv"
    write_csv(path, [("a", "colour", "y")] + [(i, "red" if i == 1 else 2, i % 2)
                                              for i in range(8)])
    final = failure(classifier(inputs=2, classes=2, batch_size=4,
                               data={"source": "csv", "path": str(path), "target": "y"}))
    assert final.error == "data"
    assert "line 3" in final.reason and "'colour'" in final.reason and "'red'" in final.reason


def test_an_unreadable_image_is_refused(tmp_path):
    make_image_folder(tmp_path / "pets")
    (tmp_path / "pets" / "dog" / "broken.png").write_bytes(b"not a picture at all")
    d = Design()
    x = d.add("Input", shape=(3, 8, 8))
    d.add("Output", d.add("Linear", d.add("Flatten", x), out_features=2))
    d.set_training(batch_size=4, data={"source": "image_folder", "path": str(tmp_path / "pets")})
    final = failure(d)
    assert "broken.png cannot be read as an image" in final.reason


def test_token_ids_beyond_the_embedding_are_refused():
    d = Design()
    x = d.add("Input", shape=(8,), dtype="long", name="tokens")
    e = d.add("Embedding", x, num_embeddings=5, embedding_dim=4, name="embed")
    d.add("Output", d.add("Linear", d.add("Flatten", e), out_features=2))
    d.set_training(data={"source": "token_match", "length": 8, "tokens": 10, "samples": 64})
    final = failure(d)
    assert "num_embeddings to at least 10" in final.reason


def test_batch_larger_than_the_data_is_refused():
    final = failure(classifier(batch_size=1000))
    assert "batch size (1000)" in final.reason


def test_image_folder_needs_an_image_input(tmp_path):
    make_image_folder(tmp_path / "pets")
    final = failure(classifier(data={"source": "image_folder", "path": str(tmp_path / "pets")}))
    assert "[1, height, width]" in final.reason


def test_preview_shows_what_a_run_would_see_without_training():
    from engine.training.data import preview

    shown = preview(classifier(inputs=64, classes=10, data={"source": "digits"}))
    assert shown.problem is None
    assert shown.data["labels"] == [str(i) for i in range(10)]
    assert shown.inputs.shape == (16, 64) and shown.targets.shape == (16,)
    assert shown.cost["parameters"] == 64 * 32 + 32 + 32 * 10 + 10
    refused = preview(classifier(inputs=64, classes=4, data={"source": "digits"}))
    assert "10 classes" in refused.problem
