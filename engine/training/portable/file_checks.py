"""Checks of the user's data files, shared by loading them (file_data) and by describing them
for the design check, so both find the same problems. No torch here.

Each problem is a ValueError that names the file and, where it helps, the line, column or
array. A message quotes the file's own text only as a short escaped excerpt (`quoted`), so a
file that is not what it should be never fills a message with its content.
"""

import csv
import errno
import gzip
import itertools
import math
import os
import stat
import zipfile
import zlib
from pathlib import Path

import numpy as np

from .machine import memory_bytes

QUOTE_LIMIT = 40  # characters of a file's text a message quotes at most
IDX_KINDS = {8: np.uint8, 9: np.int8, 11: ">i2", 12: ">i4", 13: ">f4", 14: ">f8"}
ZIP_STARTS = (b"PK\x03\x04", b"PK\x05\x06")  # a zip archive with members, an empty one
NUMBER_KINDS = "biuf"  # booleans, whole numbers, unsigned whole numbers, floats
ARCHIVE_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError)
LARGEST_VALUE = float(np.finfo(np.float32).max)  # the run reads numbers as 32-bit floats
IMAGE_SUFFIXES = {".bmp", ".gif", ".jpeg", ".jpg", ".png", ".ppm", ".tif", ".tiff", ".webp"}
IDX_HEADER_BYTES = 4 + 4 * 255  # the longest IDX header: 255 dimensions
SPECIAL_FILES = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
    (stat.S_ISSOCK, "a socket"),
)


def quoted(text, limit=QUOTE_LIMIT):
    """`text` escaped (as repr does) and cut to `limit` characters, for a message."""
    text = str(text)
    return repr(text[:limit]) + ("..." if len(text) > limit else "")


def listed(names, count=8):
    """The first `count` names, quoted, for "it has ..." in a message."""
    shown = ", ".join(quoted(name) for name in list(names)[:count])
    more = len(names) - count
    return shown + (f" and {more} more" if more > 0 else "") if names else "nothing"


def path_problem(path, folder=False):
    """Why `path` is not the regular file (with `folder`: the folder) a data setting needs,
    naming it: "there is no file ...", "... is a folder", "... is a link loop", "... is a
    named pipe (FIFO), not a regular file"; None when it is. Nothing is opened: reading a
    named pipe or a device would wait, or read, forever."""
    try:
        found = os.stat(path)
    except OSError as err:
        if err.errno == errno.ELOOP:
            return f"{path} is a link loop (a symbolic link that leads back to itself)"
        if os.path.islink(path):
            return f"{path} is a link to {os.readlink(path)}, which does not exist"
        if isinstance(err, FileNotFoundError):
            return f"there is no {'folder' if folder else 'file'} {path}"
        return f"{path} cannot be read ({err.strerror})"
    if stat.S_ISDIR(found.st_mode):
        return None if folder else f"{path} is a folder, not a file"
    if stat.S_ISREG(found.st_mode):
        return f"{path} is a file, not a folder" if folder else None
    kind = next((name for test, name in SPECIAL_FILES if test(found.st_mode)), "a special file")
    return f"{path} is {kind}, not a regular file"


def image_folder_counts(folder):
    """(class folders, images) of an image folder, found as the image loader finds them (every
    subfolder a class, links followed); a ValueError naming the folder when it holds no class
    folders, or a class folder holds no images."""
    classes = sorted(entry.path for entry in os.scandir(folder) if entry.is_dir())
    if not classes:
        raise ValueError(
            f"{folder} holds no class folders; put the images in one subfolder per class "
            f"(for example {Path(folder) / 'cat' / '1.png'})"
        )
    images = 0
    for place in classes:
        found = sum(1 for _, _, names in os.walk(place, followlinks=True) for name in names
                    if Path(name).suffix.lower() in IMAGE_SUFFIXES)
        if not found:
            raise ValueError(
                f"the class folder {place} holds no images "
                f"({', '.join(sorted(IMAGE_SUFFIXES))}); add some or remove the folder"
            )
        images += found
    return len(classes), images


# ---------------------------------------------------------------------------- CSV files


def csv_rows(path):
    """The rows of a UTF-8 CSV file as lists of text, one at a time."""
    with open(path, newline="", encoding="utf-8-sig") as file:
        reader = csv.reader(file)
        try:
            yield from reader
        except UnicodeDecodeError:
            raise ValueError(not_utf8(path)) from None
        except csv.Error as err:
            raise ValueError(
                f"{path}, line {reader.line_num}: {err}; is it a CSV file (text, one row a "
                "line, fields separated by commas)?"
            ) from None


def not_utf8(path):
    """Where a file stops being UTF-8 text, in words (read again, only when decoding failed)."""
    data = Path(path).read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        return (
            f"{path}, line {line}: the byte {data[err.start]:#04x} is not UTF-8 text; "
            "save the file as UTF-8"
        )
    return f"{path} is not UTF-8 text; save it as UTF-8"


def csv_too_short(path):
    """The error for a CSV file without a header line and a row of data."""
    return ValueError(f"{path} needs a header line and at least one row of data")


def column_indices(path, header, names):
    """Where each named column is in the header (its first place), or a ValueError naming
    the one missing. One pass over the header: a file may have 100,000 columns."""
    places = {}
    for index, name in enumerate(header):
        places.setdefault(name, index)
    for name in names:
        if name not in places:
            raise ValueError(f"{path} has no column {quoted(name)}; it has {listed(header)}")
    return [places[name] for name in names]


def checked_csv(path, target, features, classes):
    """(feature names, the target's place, the features' places, the data rows) of a CSV
    file. The rows come one at a time, each checked (every field there; numbers where the
    run reads numbers: the features, and the target unless it names `classes`). Loading
    and describing a file both read it here, so they stop at the same first problem: no
    data row, a missing column, then the first bad row."""
    rows = csv_rows(path)
    header, first = next(rows, None), next(rows, None)
    if first is None:
        raise csv_too_short(path)
    features = list(features or [name for name in header if name != target])
    target_at, *places = column_indices(path, header, [target, *features])
    numbers = ([] if classes else [(target, target_at)]) + list(zip(features, places))

    def checked_rows():
        for line, row in enumerate(itertools.chain([first], rows), start=2):
            check_csv_row(path, line, row, header)
            for name, place in numbers:
                csv_number(path, line, name, row[place])
            yield row

    return features, target_at, places, checked_rows()


def check_csv_row(path, line, row, header):
    """A ValueError unless `row` (at `line`) has as many fields as the header."""
    if len(row) != len(header):
        raise ValueError(
            f"{path}, line {line}: {len(row)} fields, not {len(header)} as in "
            "the header; give every row the same columns"
        )


def csv_number(path, line, column, cell):
    """One CSV cell as a finite number, or a ValueError naming its line and column."""
    try:
        value = float(cell)
    except ValueError:
        raise ValueError(
            f"{path}, line {line}: column {quoted(column)} holds {quoted(cell)}, which is "
            "not a number; leave this column out of the features or encode it as numbers"
        ) from None
    if not math.isfinite(value) or abs(value) > LARGEST_VALUE:
        raise ValueError(
            f"{path}, line {line}: column {quoted(column)} holds {quoted(cell)}, which is "
            f"not a finite number within ±{LARGEST_VALUE:.1e} (what a 32-bit float holds); "
            "fill in a real value or remove the row"
        )
    return value


def sorted_classes(names):
    """Distinct class names in the order their ids follow: numeric when they are numbers."""
    try:
        return sorted(names, key=float)
    except ValueError:
        return sorted(names)


# ---------------------------------------------------------------------------- NumPy .npz files


def check_npz_start(path):
    """A ValueError unless the file starts as a .npz archive does."""
    with open(path, "rb") as file:
        start = file.read(4)
    if start not in ZIP_STARTS:
        raise ValueError(
            f"{path} is not a NumPy .npz file (it does not start as one); "
            "save the arrays with numpy.savez"
        )


def open_npz(path):
    """A .npz file opened for reading its arrays (no pickled objects), or a ValueError."""
    check_npz_start(path)
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, *ARCHIVE_ERRORS) as err:
        raise ValueError(
            f"{path} is a damaged or cut-off .npz file ({err}); save the arrays "
            "again with numpy.savez"
        ) from None


def check_array_kind(path, key, shape, dtype):
    """A ValueError unless the array `key` holds numbers, one row per sample."""
    if np.dtype(dtype).kind not in NUMBER_KINDS:
        raise ValueError(
            f"{path}: the array {quoted(key)} holds {np.dtype(dtype)} values, "
            "not numbers; store numbers (text as whole-number ids)"
        )
    if len(shape) == 0:
        raise ValueError(
            f"{path}: the array {quoted(key)} is a single value, not one row "
            "per sample; store an array whose first dimension counts the samples"
        )


def check_numbers(path, what, array, first_row=0):
    """Whole numbers are ids (from 0), other numbers finite: see check_ids, check_finite."""
    check = check_ids if np.issubdtype(array.dtype, np.integer) else check_finite
    check(path, what, array, first_row)


def check_ids(path, what, array, first_row=0):
    """A ValueError for a negative value in an array of class or token ids, naming its row
    (counted from `first_row`: the array may be a block of a larger one)."""
    _first_wrong(path, what, array, array < 0, "class and token ids start at 0", first_row)


def check_finite(path, what, array, first_row=0):
    """A ValueError for a NaN or infinite value in an array of numbers, or one too large for
    the 32-bit floats a run reads (it would become infinite), naming its row (as check_ids)."""
    with np.errstate(invalid="ignore"):
        wrong = ~np.isfinite(array) | (np.abs(array) > LARGEST_VALUE)
    fix = f"replace NaN, infinite values and values beyond ±{LARGEST_VALUE:.1e}"
    _first_wrong(path, what, array, wrong, fix, first_row)


def _first_wrong(path, what, array, wrong, fix, first_row):
    if wrong.any():
        place = tuple(int(i) for i in np.argwhere(wrong)[0])
        found = f"{what} holds {array[place]} at row {first_row + place[0]}"
        raise ValueError(f"{path}: {found}; {fix}")


def check_npz_key(path, keys, key):
    """A ValueError unless the .npz file has an array named `key` (it has `keys`)."""
    if key not in keys:
        raise ValueError(f"{path} has no array {quoted(key)}; it has {listed(keys)}")


def npz_header(path, arrays, key):
    """(shape, dtype) of the array `key` of an opened .npz file, from its header alone,
    checked: numbers, one row per sample."""
    check_npz_key(path, arrays.files, key)
    member = npz_member(arrays, key)
    try:
        with arrays.zip.open(member) as stream:
            shape, _, dtype = read_npy_header(stream)
            header_bytes = stream.tell()
    except (ValueError, *ARCHIVE_ERRORS) as err:
        raise unreadable_array(path, key, err) from None
    check_array_kind(path, key, shape, dtype)
    promised = math.prod(shape) * np.dtype(dtype).itemsize
    held = arrays.zip.getinfo(member).file_size - header_bytes
    if promised != held:  # checked before reading: a header may promise terabytes
        raise ValueError(
            f"{path}: the array {quoted(key)} holds {held} bytes of values, but its header "
            f"promises the shape {tuple(shape)}: {promised} bytes; save the arrays again "
            "with numpy.savez"
        )
    return tuple(shape), np.dtype(dtype)


def npz_member(arrays, key):
    """The name of the array `key`'s member in an opened .npz file."""
    return key + ".npy" if key + ".npy" in arrays.zip.namelist() else key


def read_npy_header(stream):
    """(shape, fortran order, dtype) from the .npy header at the start of `stream`."""
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(stream)
    return np.lib.format.read_array_header_2_0(stream)


def unreadable_array(path, key, err):
    """The error for an array of an .npz file that cannot be read."""
    return ValueError(
        f"{path}: the array {quoted(key)} cannot be read ({err}); save the arrays again "
        "with numpy.savez"
    )


def check_same_rows(path, x_key, x_rows, y_key, y_rows):
    """A ValueError unless the inputs and the targets have as many rows."""
    if x_rows != y_rows:
        counts = f"{quoted(x_key)} has {x_rows} rows, {quoted(y_key)} {y_rows}"
        raise ValueError(f"{path}: {counts}; they must match")


def npz_array(path, arrays, key):
    """The array `key` of an opened .npz file, checked: numbers, one row per sample, ids
    from 0, no NaN or infinite values."""
    npz_header(path, arrays, key)
    try:
        array = arrays[key]
    except (ValueError, *ARCHIVE_ERRORS) as err:
        raise unreadable_array(path, key, err) from None
    check_numbers(path, f"the array {quoted(key)}", array)
    return array


# ---------------------------------------------------------------------------- IDX files


def read_idx_bytes(path, size):
    """The first `size` bytes (at most) of an IDX file, gzip-compressed or not: a small file
    that inflates to many gigabytes is read no further."""
    if not str(path).endswith(".gz"):
        with open(path, "rb") as file:
            return file.read(size)
    try:
        with gzip.open(path, "rb") as file:
            return file.read(size)
    except (EOFError, zlib.error, gzip.BadGzipFile) as err:
        problem = f"a damaged or cut-off gzip file ({err})"
        raise ValueError(f"{path} is {problem}; copy it again") from None


def idx_header(path, data):
    """(shape, dtype, where the values start) from the IDX header at the start of `data`."""
    if len(data) < 4 or data[:2] != b"\0\0" or data[2] not in IDX_KINDS:
        raise ValueError(f"{path} is not an IDX file (no IDX header at its start)")
    dimensions = data[3]
    if dimensions == 0:
        problem = "its IDX header gives no dimensions"
        raise ValueError(f"{path}: {problem}; a file of samples has at least one")
    end = 4 + 4 * dimensions
    if len(data) < end:
        raise ValueError(
            f"{path} is cut short inside its IDX header ({dimensions} "
            f"dimensions take {end} bytes, the file has {len(data)})"
        )
    shape = tuple(int.from_bytes(data[i : i + 4], "big") for i in range(4, end, 4))
    return shape, np.dtype(IDX_KINDS[data[2]]), end


def read_idx(path):
    """The array in an IDX file (the MNIST format), gzip-compressed or not. The header's size
    is checked against this machine's memory before the values are read, and no more than
    it promises (and one byte) is read."""
    shape, kind, start = idx_header(path, read_idx_bytes(path, IDX_HEADER_BYTES))
    count = math.prod(shape)
    promised = count * kind.itemsize
    memory = memory_bytes()
    if memory is not None and promised > memory:
        raise ValueError(
            f"{path}: its IDX header promises the shape {shape}, {promised:,} bytes of "
            f"values, more than this machine's memory ({memory:,} bytes); use a smaller file"
        )
    data = read_idx_bytes(path, start + promised + 1)
    if len(data) - start > promised:
        raise ValueError(
            f"{path} holds more than the {promised:,} bytes of values its header promises "
            f"(the shape {shape}); it is damaged or more than one file"
        )
    if len(data) - start < promised:
        raise ValueError(
            f"{path} holds {len(data) - start} bytes of values, but its header promises the "
            f"shape {shape}: {promised} bytes; it is cut short or damaged"
        )
    return np.frombuffer(data, dtype=kind, count=count, offset=start).reshape(shape)


def read_idx_labels(path):
    """The class ids in an IDX file of labels: whole numbers from 0."""
    labels = read_idx(path)
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(
            f"{path} holds {labels.dtype} values, not whole-number labels; "
            "give the IDX file of labels"
        )
    check_ids(path, "the label array", labels)
    return labels


def check_folder_links(folder):
    """A ValueError for a link to a folder that contains it: the image loader follows links,
    so such a loop would read the same images again and again under other class names."""
    root = folder.resolve()
    for link in folder.rglob("*"):
        if link.is_symlink() and link.is_dir():
            target = link.resolve()
            if target.is_relative_to(root) or root.is_relative_to(target):
                raise ValueError(
                    f"{link} links to {target}, inside the image folder or above it; the "
                    "images would be read again under other classes: remove the link"
                )
