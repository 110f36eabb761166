"""Reading a data file a block of rows at a time, or only its first rows, so that neither
the design check nor the Setup tab's preview holds a whole file in memory. Each read makes
the checks loading makes (portable.file_checks), so a bad file is the same DataError here.
No torch here.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

import numpy as np

from engine.training.portable import file_checks as checks

BLOCK_BYTES = 16 * 2**20  # what one block of rows takes at most (one row may take more)


@contextmanager
def _npz_values(path: str, key: str) -> Iterator[tuple[IO[bytes], tuple[int, ...], np.dtype,
                                                       bool]]:
    """(a stream at the array's first value, its shape, dtype and Fortran order) for the
    array `key` of an .npz file, its header checked as loading checks it; a damaged
    archive found while reading is a ValueError naming the file and the array."""
    with checks.open_npz(path) as arrays:
        shape, dtype = checks.npz_header(path, arrays, key)
        try:
            with arrays.zip.open(checks.npz_member(arrays, key)) as stream:
                fortran = checks.read_npy_header(stream)[1]
                yield stream, shape, dtype, fortran
        except checks.ARCHIVE_ERRORS as err:
            raise checks.unreadable_array(path, key, err) from None


def _rows(stream: IO[bytes], shape: tuple[int, ...], dtype: np.dtype, count: int,
          fortran: bool) -> np.ndarray:
    """The next `count` rows of an array (stored column after column, rows are whole only
    at its end: all of it is read)."""
    if fortran:
        return np.frombuffer(stream.read(), dtype).reshape(shape, order="F")[:count]
    values = math.prod(shape[1:])
    data = stream.read(count * values * dtype.itemsize)
    return np.frombuffer(data, dtype, count=count * values).reshape(count, *shape[1:])


def npz_blocks(path: str, key: str) -> Iterator[tuple[int, np.ndarray]]:
    """(first row, rows) of the array `key` of an .npz file, about BLOCK_BYTES at a time
    (at least one block, empty for an array without rows)."""
    with _npz_values(path, key) as (stream, shape, dtype, fortran):
        row_bytes = math.prod(shape[1:]) * dtype.itemsize
        per_block = shape[0] if fortran else max(1, BLOCK_BYTES // max(row_bytes, 1))
        for first in range(0, shape[0] or 1, max(per_block, 1)):
            yield first, _rows(stream, shape, dtype, min(per_block, shape[0] - first), fortran)


def npz_checked(path: str, key: str) -> int | None:
    """Check every value of the array `key` as loading does (ids from 0, other numbers
    finite), a block at a time; the largest id of a whole-number array, else None."""
    largest = None
    for first, rows in npz_blocks(path, key):
        checks.check_numbers(path, f"the array {checks.quoted(key)}", rows, first)
        if np.issubdtype(rows.dtype, np.integer) and rows.size:
            largest = max(largest or 0, int(rows.max()))
    return largest


def npz_first_rows(path: str, key: str, count: int) -> np.ndarray:
    """The first `count` rows (at most) of the array `key` of an .npz file."""
    with _npz_values(path, key) as (stream, shape, dtype, fortran):
        return _rows(stream, shape, dtype, min(count, shape[0]), fortran)


def idx_first_rows(path: str, count: int) -> np.ndarray:
    """The first `count` rows (at most) of an IDX file, gzip-compressed or not."""
    shape, kind, start = checks.idx_header(
        path, checks.read_idx_bytes(path, checks.IDX_HEADER_BYTES))
    count = min(count, shape[0])
    values = count * math.prod(shape[1:])
    data = checks.read_idx_bytes(path, start + values * kind.itemsize)
    if len(data) < start + values * kind.itemsize:
        raise ValueError(f"{path} holds {len(data) - start} bytes of values, fewer than its "
                         f"header promises (the shape {shape}); it is cut short or damaged")
    return np.frombuffer(data, kind, count=values, offset=start).reshape(count, *shape[1:])
