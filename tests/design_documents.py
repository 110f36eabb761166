"""Design files as JSON documents, for the tests that corrupt them on purpose
(tests/test_fileformat.py, tests/test_i12_design_files.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from engine import Design
from engine.fileformat import FORMAT_TAG, SCHEMA_VERSION


def document_of(design: Design) -> dict:
    """What save_design writes for `design`, as a dict."""
    return {"format": FORMAT_TAG, "schema_version": SCHEMA_VERSION, **design.to_dict()}


def paths_into(document: Any) -> list[tuple]:
    """Every place inside a document, as a tuple of keys and indexes (the root left out)."""
    return [path for path in _walk(document, ()) if path]


def _walk(value: Any, prefix: tuple) -> Iterator[tuple]:
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _walk(child, prefix + (key,))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _walk(child, prefix + (index,))


def parent_at(document: Any, path: tuple) -> Any:
    """The dict or list that holds the last step of `path` (KeyError, IndexError or TypeError
    where the document no longer has that place)."""
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    return parent
