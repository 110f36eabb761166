"""Issue 12, items 11 and 13: every malformed data file is a DataError that names the
file (and, where it helps, the line, column or array), the same in the run, the Setup tab's
preview and the check where it describes the file; messages quote a file only in short,
escaped excerpts; paths read from a run folder stay inside it.

The CASES below write one broken file of each kind we know of; each is put through the
run (the trainer, which loads with the portable code), the preview and the check.
"""

from __future__ import annotations

import gzip
import io
import json
import shutil
import signal
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from test_training_support import train

from engine import Design, check
from engine.errors import DesignError
from engine.runs import RunRecord, load_models
from engine.training.checkpoint import load_checkpoint, write_checkpoint
from engine.training.data import preview
from engine.training.portable import file_checks

ROWS = 12


@dataclass(frozen=True)
class Malformed:
    """One broken data file: `write` makes it in a folder and returns the design's data
    settings; the messages name `file` and hold each of `details`."""

    name: str
    write: Callable[[Path], dict]
    file: str                       # the file (or image) the message names, in the folder
    details: tuple[str, ...]
    described: bool = True          # the check reads this far into the file


# ---------------------------------------------------------------------------- CSV files

def _csv(folder: Path, text: str | bytes, name: str = "data.csv") -> dict:
    path = folder / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return {"source": "csv", "path": str(path), "target": "y"}


def _rows(*replace: tuple[int, str]) -> str:
    """A good CSV (columns a, b, y) with some lines (numbered as in an editor) replaced."""
    lines = ["a,b,y"] + [f"{i},{2 * i},{i % 2}" for i in range(ROWS)]
    for number, line in replace:
        lines[number - 1] = line
    return "\n".join(lines) + "\n"


CSV_CASES = [
    Malformed("csv field over the csv module's limit",
              lambda f: _csv(f, _rows((3, "1," + "9" * 140_000 + ",0"))), "data.csv",
              ("line 3", "field larger than field limit")),
    Malformed("csv in Latin-1", lambda f: _csv(f, _rows((4, "1,2,caf\xe9")).encode("latin-1")),
              "data.csv", ("line 4", "0xe9", "UTF-8")),
    Malformed("csv with nan", lambda f: _csv(f, _rows((5, "nan,2,0"))), "data.csv",
              ("line 5", "'a'", "'nan'", "not a finite number")),
    Malformed("csv with inf", lambda f: _csv(f, _rows((6, "1,-inf,0"))), "data.csv",
              ("line 6", "'b'", "'-inf'")),
    Malformed("csv with a word among numbers", lambda f: _csv(f, _rows((3, "1,red,0"))),
              "data.csv", ("line 3", "'b'", "'red'", "not a number")),
    Malformed("csv with a short row", lambda f: _csv(f, _rows((7, "1,0"))), "data.csv",
              ("line 7", "2 fields, not 3")),
    Malformed("csv with a NUL byte", lambda f: _csv(f, _rows((2, "1,\0,0"))), "data.csv",
              ("line 2", "'\\x00'", "not a number")),
    Malformed("empty csv", lambda f: _csv(f, ""), "data.csv", ("header line",)),
    Malformed("csv of a header alone", lambda f: _csv(f, "a,b,y\n"), "data.csv",
              ("header line",)),
    Malformed("csv of NUL bytes alone", lambda f: _csv(f, b"\0" * 5000), "data.csv",
              ("header line",)),
    Malformed("csv with a number beyond float32", lambda f: _csv(f, _rows((4, "1e39,2,0"))),
              "data.csv", ("line 4", "'a'", "'1e39'", "32-bit float")),
    Malformed("csv without the target column",
              lambda f: _csv(f, _rows().replace("a,b,y", "a,b,kind")), "data.csv",
              ("no column 'y'", "'kind'")),
]


# ---------------------------------------------------------------------------- npz files

def _npz(folder: Path, name: str = "data.npz", **arrays) -> dict:
    arrays = arrays or {"x": np.ones((ROWS, 2), np.float32), "y": np.arange(ROWS) % 2}
    np.savez(folder / name, **arrays)
    return {"source": "npz", "path": str(folder / name)}


def _npz_bytes(folder: Path, data: bytes) -> dict:
    (folder / "data.npz").write_bytes(data)
    return {"source": "npz", "path": str(folder / "data.npz")}


def _good_npz_bytes() -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, x=np.ones((ROWS, 2)), y=np.arange(ROWS) % 2)
    return buffer.getvalue()


def _labels(wrong_at: int, value: int) -> np.ndarray:
    labels = np.arange(ROWS) % 2
    labels[wrong_at] = value
    return labels


def _nan_at(row: int) -> np.ndarray:
    inputs = np.ones((ROWS, 2), np.float32)
    inputs[row, 1] = np.nan
    return inputs


def _npy_named_npz(folder: Path) -> dict:
    np.save(folder / "data.npy", np.ones((ROWS, 2)))
    (folder / "data.npy").rename(folder / "data.npz")
    return {"source": "npz", "path": str(folder / "data.npz")}


def _npz_promising_rows(folder: Path, rows: int) -> dict:
    """An .npz whose array 'x' has a header promising `rows` rows and holds 8 bytes."""
    header = f"{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, 2), }}"
    header = header.ljust(117) + "\n"
    member = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode()
    labels = io.BytesIO()
    np.save(labels, np.arange(ROWS) % 2)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("x.npy", member + bytes(8))
        archive.writestr("y.npy", labels.getvalue())
    return _npz_bytes(folder, buffer.getvalue())


NPZ_CASES = [
    Malformed("npz of strings",
              lambda f: _npz(f, x=np.array([["a", "b"]] * ROWS), y=np.arange(ROWS) % 2),
              "data.npz", ("'x'", "not numbers")),
    Malformed("npz of 0-d arrays", lambda f: _npz(f, x=np.float32(1.0), y=np.int64(0)),
              "data.npz", ("'x'", "single value")),
    Malformed("npz with the label -1",
              lambda f: _npz(f, x=np.ones((ROWS, 2)), y=_labels(5, -1)), "data.npz",
              ("'y'", "-1 at row 5", "start at 0")),
    Malformed("cut-off npz", lambda f: _npz_bytes(f, _good_npz_bytes()[:300]), "data.npz",
              ("cut-off",)),
    Malformed("random bytes named .npz",
              lambda f: _npz_bytes(f, np.random.default_rng(0).bytes(600)), "data.npz",
              ("not a NumPy .npz file",)),
    Malformed("a .npy named .npz", _npy_named_npz, "data.npz", ("not a NumPy .npz file",)),
    Malformed("npz without the named array",
              lambda f: _npz(f, inputs=np.ones((ROWS, 2)), labels=np.arange(ROWS) % 2),
              "data.npz", ("no array 'x'", "'inputs', 'labels'")),
    Malformed("npz of Python objects",
              lambda f: _npz(f, x=np.array([{}] * ROWS, dtype=object), y=np.arange(ROWS) % 2),
              "data.npz", ("'x'",)),
    Malformed("npz with fewer labels than rows",
              lambda f: _npz(f, x=np.ones((ROWS, 2)), y=np.arange(ROWS - 2) % 2),
              "data.npz", ("must match",)),
    Malformed("npz with a NaN input",
              lambda f: _npz(f, x=_nan_at(7), y=np.arange(ROWS) % 2), "data.npz",
              ("'x'", "nan at row 7"), described=False),
    Malformed("npz with a number beyond float32",
              lambda f: _npz(f, x=np.full((ROWS, 2), 1e40), y=np.arange(ROWS) % 2), "data.npz",
              ("'x'", "1e+40 at row 0", "3.4e+38"), described=False),
    Malformed("npz whose header promises 10^12 rows", lambda f: _npz_promising_rows(f, 10**12),
              "data.npz", ("'x'", "holds 8 bytes", "(1000000000000, 2)")),
]


# ---------------------------------------------------------------------------- IDX files

def _idx(array: np.ndarray, code: int = 8) -> bytes:
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


GOOD_IMAGES = _idx(np.zeros((ROWS, 4, 4), np.uint8))
GOOD_LABELS = _idx((np.arange(ROWS) % 2).astype(np.uint8))


def _idx_pair(folder: Path, images: bytes = GOOD_IMAGES, labels: bytes = GOOD_LABELS,
              images_name: str = "images.idx") -> dict:
    (folder / images_name).write_bytes(images)
    (folder / "labels.idx").write_bytes(labels)
    return {"source": "mnist_idx", "images": str(folder / images_name),
            "labels": str(folder / "labels.idx")}


def _garbled_gzip() -> bytes:
    data = bytearray(gzip.compress(GOOD_IMAGES))
    for i in range(12, len(data) - 8):
        data[i] ^= 0x5A
    return bytes(data)


IDX_CASES = [
    Malformed("IDX with a short header", lambda f: _idx_pair(f, bytes([0, 0, 8, 3, 0, 0, 0])),
              "images.idx", ("cut short inside its IDX header",)),
    Malformed("IDX with 0 dimensions", lambda f: _idx_pair(f, bytes([0, 0, 8, 0]) + b"\0" * 16),
              "images.idx", ("no dimensions",)),
    Malformed("cut-off .idx.gz",
              lambda f: _idx_pair(f, gzip.compress(GOOD_IMAGES)[:-12], images_name="i.idx.gz"),
              "i.idx.gz", ("cut-off gzip",)),
    Malformed("garbled .idx.gz", lambda f: _idx_pair(f, _garbled_gzip(), images_name="i.idx.gz"),
              "i.idx.gz", ("damaged or cut-off gzip",)),
    Malformed("not an IDX file", lambda f: _idx_pair(f, b"hello, I am text\n"), "images.idx",
              ("not an IDX file",)),
    Malformed("IDX labels cut short", lambda f: _idx_pair(f, labels=GOOD_LABELS[:-3]),
              "labels.idx", ("cut short",)),
    Malformed("IDX with the label -1",
              lambda f: _idx_pair(f, labels=_idx(_labels(3, -1).astype(np.int8), 9)),
              "labels.idx", ("-1 at row 3", "start at 0")),
    Malformed("IDX labels of floats",
              lambda f: _idx_pair(f, labels=_idx(np.zeros(ROWS, ">f4"), 13)), "labels.idx",
              ("not whole-number labels",)),
]


# ---------------------------------------------------------------------------- image folders

def _image_folder(folder: Path, broken: bytes) -> dict:
    for name in ("cat", "dog"):
        (folder / "pets" / name).mkdir(parents=True)
        for k in range(ROWS // 2):
            Image.new("RGB", (8, 8), (40 * k, 0, 0)).save(folder / "pets" / name / f"{k}.png")
    (folder / "pets" / "dog" / "broken.png").write_bytes(broken)
    return {"source": "image_folder", "path": str(folder / "pets")}


def _png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims `width` x `height` pixels (its checksum made to match)."""
    buffer = io.BytesIO()
    Image.new("RGB", (1, 1)).save(buffer, "PNG")
    data = bytearray(buffer.getvalue())
    header = b"IHDR" + struct.pack(">II", width, height) + bytes(data[24:29])
    data[12:29] = header
    data[29:33] = struct.pack(">I", zlib.crc32(header))
    return bytes(data)


def _png_cut() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (1, 2, 3)).save(buffer, "PNG")
    return buffer.getvalue()[:30]


IMAGE_CASES = [
    Malformed("PNG claiming 10^10 pixels",
              lambda f: _image_folder(f, _png_claiming(100_000, 100_000)), "pets/dog/broken.png",
              ("cannot be read as an image",), described=False),
    Malformed("cut-off PNG", lambda f: _image_folder(f, _png_cut()), "pets/dog/broken.png",
              ("cannot be read as an image",), described=False),
    Malformed("text named .png", lambda f: _image_folder(f, b"not a picture"),
              "pets/dog/broken.png", ("cannot be read as an image",), described=False),
]

CASES = CSV_CASES + NPZ_CASES + IDX_CASES + IMAGE_CASES


def design_for(data: dict) -> Design:
    """A small classifier of 2 classes whose Input fits the good version of the file."""
    shapes = {"csv": (2,), "npz": (2,), "mnist_idx": (1, 4, 4), "image_folder": (3, 8, 8)}
    design = Design("reader")
    node = design.add("Input", shape=shapes[data["source"]], name="sample")
    if len(shapes[data["source"]]) > 1:
        node = design.add("Flatten", node, name="flat")
    design.add("Output", design.add("Linear", node, out_features=2, name="scores"),
               name="label")
    design.set_training(task="classification", epochs=1, batch_size=4, data=data)
    return design


def assert_names_the_file(message: str, path: Path, case: Malformed) -> None:
    assert str(path) in message, message
    for detail in case.details:
        assert detail in message, f"{detail!r} not in {message!r}"
    assert "unexpected error" not in message and "learning rate" not in message


def test_there_are_over_25_malformed_files():
    assert len(CASES) >= 25


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_a_malformed_file_is_a_data_error_naming_it_in_the_run_preview_and_check(
        case, tmp_path):
    design = design_for(case.write(tmp_path))
    path = tmp_path / case.file

    _, final = train(design)
    assert final.kind == "failed" and final.error == "data", final.reason
    assert_names_the_file(final.reason, path, case)

    shown = preview(design)
    assert shown.problem is not None
    assert_names_the_file(shown.problem, path, case)

    found = [p for p in check(design).errors if str(path) in p.message]
    if case.described:
        assert [p.message for p in found] == [final.reason]
        assert found[0].node is None
    else:
        assert not found  # the check reads no further than the run's own check at start


GOOD = {"csv": lambda f: _csv(f, _rows()), "npz": _npz, "mnist_idx": _idx_pair,
        "image_folder": lambda f: _image_folder(f, _good_png())}


def _good_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (1, 2, 3)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("source", GOOD)
def test_the_good_version_of_each_file_checks_clean_and_previews(source, tmp_path):
    """The broken files above differ from these in the one thing each case breaks."""
    design = design_for(GOOD[source](tmp_path))
    assert check(design).ok, [p.message for p in check(design).errors]
    shown = preview(design)
    assert shown.problem is None and shown.data["train_samples"] > 0


# ---------------------------------------------------------------------------- excerpts

SECRET = "root:x:0:0:" + "S" * 200 + "\n"


@pytest.mark.parametrize("first_line", [SECRET, "\x1b[2J\x1b[31mred " + "!" * 90 + "\n"])
def test_a_file_that_is_no_csv_is_quoted_only_in_a_short_escaped_excerpt(tmp_path, first_line):
    path = tmp_path / "passwd"
    path.write_text(first_line + "daemon:x:1:1::/usr/sbin:/usr/sbin/nologin\n")
    design = design_for({"source": "csv", "path": str(path), "target": "y"})
    _, final = train(design)
    messages = [final.reason, preview(design).problem,
                *[p.message for p in check(design).errors]]
    for message in messages:
        assert str(path) in message and "no column 'y'" in message
        assert first_line.strip()[:file_checks.QUOTE_LIMIT + 1] not in message
        assert "\x1b" not in message  # control characters come escaped


def test_quoted_cuts_and_escapes():
    assert file_checks.quoted("ab") == "'ab'"
    assert file_checks.quoted("x" * 50) == repr("x" * 40) + "..."
    assert file_checks.quoted("a\nb\x00") == "'a\\nb\\x00'"
    assert file_checks.listed([str(i) for i in range(10)], count=2) == "'0', '1' and 8 more"


# ---------------------------------------------------------------------------- run folders

def _run_with_weights(folder: Path) -> RunRecord:
    """A run folder whose last weights, summary.json and checkpoint are as the trainer
    writes them, for the one Linear network `model`."""
    import torch
    from safetensors.torch import save_file

    run = folder / "runs" / "0001"
    (run / "last").mkdir(parents=True)
    model = torch.nn.Linear(2, 2)
    save_file(model.state_dict(), run / "last" / "model.safetensors")
    (run / "summary.json").write_text(json.dumps(
        {"weights": {"model": str(run / "last" / "model.safetensors")}}))
    write_checkpoint(run / "checkpoints", "epoch-0001", {"model": model}, {}, {"epoch": 1})
    (folder / "outside.safetensors").write_bytes((run / "last" / "model.safetensors")
                                                 .read_bytes())
    return RunRecord("0001", run, "first", "2026-01-01T00:00", "completed")


def test_a_runs_own_weight_paths_are_read_inside_it(tmp_path):
    record = _run_with_weights(tmp_path)
    assert record.weight_files() == {"model": record.folder / "last" / "model.safetensors"}
    summary = record.folder / "summary.json"
    summary.write_text(json.dumps({"weights": {"model": "last/model.safetensors"}}))
    assert record.weight_files() == {"model": record.folder / "last" / "model.safetensors"}
    assert set(load_checkpoint(record.latest_checkpoint()).weights) == {"model"}


@pytest.mark.parametrize("pointer", ["{outside}", "../../outside.safetensors", "/etc/passwd"])
def test_summary_json_cannot_point_the_weight_loader_outside_the_run(tmp_path, pointer):
    record = _run_with_weights(tmp_path)
    pointer = pointer.format(outside=tmp_path / "outside.safetensors")
    summary = record.folder / "summary.json"
    summary.write_text(json.dumps({"weights": {"model": pointer}}))
    with pytest.raises(DesignError, match="outside") as refused:
        record.weight_files()
    assert str(summary) in str(refused.value)
    assert record.has_weights  # offered, so that Predict says why it refuses
    with pytest.raises(DesignError, match="outside"):
        load_models(record, design=Design())


@pytest.mark.parametrize("key", ["weights", "best_weights"])
def test_a_checkpoints_record_json_cannot_point_outside_it(tmp_path, key):
    record = _run_with_weights(tmp_path)
    checkpoint = record.latest_checkpoint()
    document = json.loads((checkpoint / "record.json").read_text())
    document[key] = {"model": str(tmp_path / "outside.safetensors")}
    (checkpoint / "record.json").write_text(json.dumps(document))
    with pytest.raises(DesignError, match="outside") as refused:
        load_checkpoint(checkpoint)  # resuming from it
    assert "record.json" in str(refused.value)
    if key == "weights":  # the weight loader's last resort, for a run without last/ files
        (record.folder / "summary.json").unlink()
        shutil.rmtree(record.folder / "last")
        with pytest.raises(DesignError, match="outside"):
            record.weight_files()


def test_an_image_folder_that_links_back_into_itself_is_refused_by_the_check_and_the_run(
        tmp_path):
    from PIL import Image

    from engine.training.portable.file_checks import check_folder_links
    from engine.training.portable.file_data import check_images
    for name in ("cat", "dog"):
        (tmp_path / "pets" / name).mkdir(parents=True)
        for index in range(3):
            Image.new("RGB", (8, 8)).save(tmp_path / "pets" / name / f"{index}.png")
    (tmp_path / "pets" / "dog" / "back").symlink_to(tmp_path / "pets")
    with pytest.raises(ValueError, match="links to .*remove the link"):
        check_images(tmp_path / "pets")
    with pytest.raises(ValueError, match="links to"):
        check_folder_links(tmp_path / "pets")
    design = Design()
    pixels = design.add("Input", shape=(3, 32, 32))
    design.add("Output", design.add("Linear", design.add("Flatten", pixels), out_features=2))
    design.set_training(task="classification", data={"source": "image_folder",
                                                     "path": str(tmp_path / "pets")})
    assert any("links to" in p.message for p in check(design).errors)


# ---------------------------------------------------------------------------- size and memory

def test_a_csv_of_200_000_columns_is_described_without_a_search_per_column(tmp_path):
    """Each column's place is looked up once (it took a search of the header per column:
    minutes for a wide file); the alarm fails a case that hangs instead of the run."""
    header = ",".join(f"c{i}" for i in range(200_000)) + ",y\n"
    data = _csv(tmp_path, header + ("1," * 200_000 + "0\n") * 2)
    previous = signal.signal(signal.SIGALRM, _too_slow)
    signal.alarm(20)
    try:
        found = [p.message for p in check(design_for(data)).errors]
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert any("shape (200000)" in message for message in found), found


def _too_slow(signum, frame):
    raise TimeoutError("the check of a wide CSV ran past 20 s")


@pytest.mark.parametrize("error", [MemoryError("Unable to allocate 1.00 TiB"),
                                   RuntimeError("DefaultCPUAllocator: can't allocate memory")])
def test_data_that_does_not_fit_in_memory_is_named_as_such(error):
    from engine.training.datacheck import unreadable

    message = str(unreadable("npz", {"path": "/data/big.npz"}, error))
    assert "/data/big.npz does not fit in this machine's memory" in message
    assert "fewer samples" in message
