"""What stands where a data file belongs (issue 12, audit of item 11): a folder, a named pipe,
a link to /dev/zero or a link loop was reported as "there is no file"; an image folder without
class folders showed torchvision's own words; a small .idx.gz that inflates to gigabytes was
read whole. Each is now named for what it is, in the check, the preview and the run, and no
named pipe is ever opened (a reader would wait forever)."""

from __future__ import annotations

import gzip
import os
import struct
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from test_i12_data_files import GOOD, GOOD_IMAGES, _idx_pair, design_for
from test_training_support import train
from time_limit import time_limit

from engine import check
from engine.training.data import preview
from engine.training.portable import file_checks


@pytest.fixture(autouse=True)
def no_hang():
    """Opening a named pipe waits for a writer forever: fail after 60 s instead."""
    with time_limit(60, "reading a data file"):
        yield


def _folder(path: Path) -> None:
    path.mkdir()


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _zero_device(path: Path) -> None:
    path.symlink_to("/dev/zero")


def _loop(path: Path) -> None:
    path.symlink_to(path)


def _dangling(path: Path) -> None:
    path.symlink_to(path.parent / "gone")


KINDS: dict[str, tuple[Callable[[Path], None], str]] = {
    "folder": (_folder, "is a folder, not a file"),
    "fifo": (_fifo, "is a named pipe (FIFO), not a regular file"),
    "/dev/zero link": (_zero_device, "is a device, not a regular file"),
    "link loop": (_loop, "is a link loop"),
    "dangling link": (_dangling, "is a link to {folder}/gone, which does not exist"),
}
SOURCES = {"csv": "path", "npz": "path", "mnist_idx": "labels"}


def _everywhere(design) -> list[str]:
    """The message of the check, the preview and the run (all must say the same thing)."""
    _, final = train(design)
    assert final.kind == "failed", final
    return [*(p.message for p in check(design).errors), preview(design).problem, final.reason]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("source", SOURCES)
def test_what_stands_where_a_data_file_belongs_is_named_and_never_opened(kind, source,
                                                                        tmp_path):
    data = GOOD[source](tmp_path)
    path = Path(data[SOURCES[source]])
    path.unlink()
    make, said = KINDS[kind]
    make(path)
    messages = _everywhere(design_for(data))
    assert len(messages) == 3
    for message in messages:
        assert f"{path} {said.format(folder=path.parent)}" in message, message
        assert "there is no file" not in message


def test_a_missing_file_is_still_said_to_be_missing(tmp_path):
    data = GOOD["csv"](tmp_path)
    Path(data["path"]).unlink()
    [error] = check(design_for(data)).errors
    assert f"there is no file {data['path']}" in error.message


def test_a_file_where_an_image_folder_belongs_is_not_a_folder(tmp_path):
    (tmp_path / "pets").write_bytes(b"")
    [error] = check(design_for({"source": "image_folder", "path": str(tmp_path / "pets")})).errors
    assert f"{tmp_path / 'pets'} is a file, not a folder" in error.message


@pytest.mark.parametrize("layout", ["no class folders", "an empty class folder"])
def test_an_image_folder_without_images_in_each_class_is_named_in_our_words(layout, tmp_path):
    data = GOOD["image_folder"](tmp_path)
    pets = Path(data["path"])
    if layout == "no class folders":
        for image in pets.rglob("*.png"):
            image.rename(tmp_path / image.name)
        for folder in pets.iterdir():
            folder.rmdir()
        expected = f"{pets} holds no class folders; put the images in one subfolder per class"
    else:
        (pets / "zebra").mkdir()
        expected = f"the class folder {pets / 'zebra'} holds no images"
    for message in _everywhere(design_for(data)):
        assert expected in message, message
        assert "Couldn't find" not in message and "Found no valid file" not in message


def test_a_named_pipe_among_the_images_is_refused_without_being_opened(tmp_path):
    data = GOOD["image_folder"](tmp_path)
    os.mkfifo(Path(data["path"]) / "cat" / "pipe.png")
    _, final = train(design_for(data))
    assert final.kind == "failed" and final.error == "data"
    assert "pipe.png is a named pipe (FIFO), not a regular file; remove" in final.reason


def _gzipped_idx(folder: Path, shape: tuple[int, ...], values: int) -> dict:
    """A .idx.gz of labels whose header promises `shape` and that holds `values` zero bytes."""
    header = bytes([0, 0, 8, len(shape)]) + struct.pack(f">{len(shape)}I", *shape)
    with gzip.open(folder / "labels.idx.gz", "wb", compresslevel=1) as stream:
        stream.write(header)
        chunk = bytes(1 << 20)
        for start in range(0, values, len(chunk)):
            stream.write(chunk[:min(len(chunk), values - start)])
    data = _idx_pair(folder)
    (folder / "labels.idx").unlink()
    return {**data, "labels": str(folder / "labels.idx.gz")}


def test_an_idx_gz_whose_header_promises_more_than_memory_is_refused_before_reading(tmp_path):
    data = _gzipped_idx(tmp_path, (2**31 - 1, 64, 64), 1 << 20)
    messages = [p.message for p in check(design_for(data)).errors]
    assert len(messages) == 1 and "labels.idx.gz: its IDX header promises the shape" \
        in messages[0] and "more than this machine's memory" in messages[0]


def test_an_idx_gz_that_inflates_past_its_header_is_read_no_further(tmp_path):
    """12 labels promised, 64 MB inside (64 kB compressed): at most the promise is read."""
    data = _gzipped_idx(tmp_path, (12,), 64 << 20)
    assert os.path.getsize(data["labels"]) < 1 << 20
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="holds more than the 12 bytes of values its "
                                             "header promises"):
            file_checks.read_idx_labels(data["labels"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20


def test_an_honest_idx_gz_reads_as_before(tmp_path):
    path = tmp_path / "images.idx.gz"
    path.write_bytes(gzip.compress(GOOD_IMAGES))
    assert file_checks.read_idx(path).shape == (12, 4, 4)
    assert np.all(file_checks.read_idx(path) == 0)


@pytest.mark.parametrize("kind", ["folder", "fifo", "/dev/zero link", "link loop"])
def test_what_stands_where_a_backbones_weights_belong_is_named(kind, tmp_path):
    from test_i12_weights_file import backbone_design, messages_on

    path = tmp_path / "resnet18.pth"
    make, said = KINDS[kind]
    make(path)
    design, node = backbone_design(str(path))
    assert messages_on(design, node) == [f"backbone (Backbone): the weights file {path} {said}"
                                         + ("" if kind != "link loop" else
                                            " (a symbolic link that leads back to itself)")]
