"""The `.ncnet` file: JSON with a format tag and schema version, validated, migrated, saved atomically.

Loading never runs code from the file (no pickle, no eval): it parses JSON, checks every field
against the layer catalogue and reports each problem with its JSON path.
"""

from __future__ import annotations

import json
import os
import secrets
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.blocks.definitions import ModuleClass, argument_from_json, expr_from_json
from engine.design import Design
from engine.errors import DesignError
from engine.fields import Param, unknown_key_problem
from engine.layers import get_layer
from engine.layers.block_node import BLOCK_TYPE
from engine.limits import (
    LONGEST_NAME,
    LONGEST_TEXT,
    MOST_BLOCKS,
    MOST_NETWORKS,
    MOST_NODES,
    MOST_NODES_IN_DESIGN,
    count_problem,
    out_index_problem,
    port_problem,
    position_problem,
    text_problem,
    text_value_problem,
)
from engine.quoting import excerpt, json_kind
from engine.training.settings import problems_in as training_problems

FORMAT_TAG = "neuralcanvas.design"
SCHEMA_VERSION = 3  # 2: block definitions ("blocks") and block nodes; 3: edges from a
# node's other outputs ("out"), which an app reading schema 2 would take for its first
EXTENSION = ".ncnet"
LISTED_PROBLEMS = 20  # a broken file's message lists this many problems and counts the rest

# MIGRATIONS[v] turns a schema-v document into a schema-(v+1) one. Add one per format change.
# Schema 1 had no blocks, schema 2 no "out": both read as they are.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: dict, 2: dict}
EDGE_KEYS = ("src", "dst", "port", "out")  # "port" and "out" are 0 when absent


def save_design(design: Design, path: str | os.PathLike) -> None:
    """Write the design atomically: a crash mid-save leaves the previous file intact."""
    save_description(design.to_dict(), path)


def save_description(description: dict[str, Any], path: str | os.PathLike) -> None:
    """Write a design's `to_dict()` atomically: taken on one thread (a consistent snapshot,
    cheap) and written on another (encoding and the disk are the slow part)."""
    from engine import __version__

    document = {"format": FORMAT_TAG, "schema_version": SCHEMA_VERSION,
                "app_version": __version__, **description}
    try:
        text = json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
        text.encode("utf-8")  # a lone surrogate: refused here, before the old file is touched
    except ValueError as err:
        raise DesignError(f"cannot save {path}: {err}", file=str(path)) from None
    write_atomically(Path(path), text)


def write_atomically(path: Path, text: str, durable: bool = True) -> None:
    """Write to a temporary file beside `path`, flush it to disk, then replace `path`.

    `durable=False` skips waiting for the disk (fsync) for files rewritten often, such as a
    run's record while the window is live: still whole or not at all, but a power cut may
    lose the last update."""
    handle, temporary = temporary_beside(path)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            if durable:
                stream.flush()
                os.fsync(stream.fileno())
        os.replace(temporary, path)
    except OSError as err:   # a write to a full disk names no file: name the one written
        temporary.unlink(missing_ok=True)
        if err.filename:
            raise
        raise OSError(err.errno, err.strerror, str(path)) from err
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def temporary_beside(path: Path) -> tuple[int, Path]:
    """Create an empty temporary file next to `path`, to be renamed over it once written.

    Returns its open descriptor and its path. Its mode is the one `path` will keep: the
    existing file's, else what a new file gets from the umask (not mkstemp's 0600, which
    would hide saved designs and exported code from the user's group)."""
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    try:
        kept_mode: int | None = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        kept_mode = None
    flags = (os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
             | getattr(os, "O_NOFOLLOW", 0))
    while True:
        temporary = directory / f".{path.name}.{secrets.token_hex(4)}.tmp"
        try:
            handle = os.open(temporary, flags, 0o666)  # the kernel applies the umask
        except FileExistsError:
            continue
        break
    if kept_mode is not None:
        try:
            os.chmod(temporary, kept_mode)
        except BaseException:
            os.close(handle)
            temporary.unlink(missing_ok=True)
            raise
    return handle, temporary


def load_design(path: str | os.PathLike) -> Design:
    """Read, validate and migrate a design file; every problem is a DesignError naming it."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DesignError(f"{name}: no such file", file=name) from None
    except UnicodeDecodeError as err:
        raise DesignError(f"{name}: not a text file ({err.reason} at byte {err.start})",
                          file=name) from None
    except OSError as err:
        raise DesignError(f"{name}: cannot be read ({err.strerror})", file=name) from None
    return design_from_json(text, name)


def design_from_json(text: str, file: str = "<text>") -> Design:
    """Parse and validate a design document given as JSON text."""
    try:
        document = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as err:
        raise DesignError(f"{file}: not valid JSON at line {err.lineno}, column {err.colno}: "
                          f"{err.msg}", file=file) from None
    except (ValueError, RecursionError) as err:
        raise DesignError(f"{file}: not valid JSON: {err}", file=file) from None
    return design_from_document(document, file)


def design_from_document(document: Any, file: str = "<document>") -> Design:
    """Validate a parsed document (migrating older schema versions) and build the design."""
    document = _migrated(document, file)
    problems = _unstorable_texts(document) or _validate(document)
    if problems:
        listing = [f"{file}: {path}: {message}" for path, message in problems]
        shown = listing[:LISTED_PROBLEMS]
        if len(listing) > len(shown):
            shown.append(f"... and {len(listing) - len(shown):,} more")
        summary = listing[0] if len(listing) == 1 else (
            f"{file} is not a valid design ({len(listing):,} problems):\n  " + "\n  ".join(shown))
        raise DesignError(summary, listing, file=file, path=problems[0][0])
    try:
        return Design.from_dict(document)
    except DesignError as err:  # what only the whole design shows: a block that uses itself
        raise DesignError(f"{file}: {err}", file=file) from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in a design file")


def _migrated(document: Any, file: str) -> Any:
    if not isinstance(document, dict):
        raise DesignError(f"{file}: $: a design file holds a JSON object, not "
                          f"{json_kind(document)}", file=file, path="$")
    if document.get("format") != FORMAT_TAG:
        raise DesignError(f"{file}: $.format: expected {FORMAT_TAG!r}, found "
                          f"{excerpt(document.get('format'))}; this is not a NeuralCanvas "
                          "design", file=file, path="$.format")
    version = document.get("schema_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise DesignError(f"{file}: $.schema_version: expected a whole number from 1, found "
                          f"{excerpt(version)}", file=file, path="$.schema_version")
    if version > SCHEMA_VERSION:
        made_by = excerpt(document.get("app_version", "unknown version"))
        raise DesignError(f"{file}: $.schema_version: the file uses schema {excerpt(version)}, "
                          f"made by a newer NeuralCanvas ({made_by}); "
                          f"this version reads up to schema {SCHEMA_VERSION}. Update NeuralCanvas "
                          "to open it.", file=file, path="$.schema_version")
    while version < SCHEMA_VERSION:
        document = MIGRATIONS[version](dict(document))
        version += 1
        document["schema_version"] = version
    return document


def _validate(doc: dict[str, Any]) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    add = problems.append
    for key, what, longest in (("name", "the design's name", LONGEST_NAME),
                               ("description", "the description", LONGEST_TEXT)):
        _validate_text(doc.get(key, ""), f"$.{key}", what, longest, add)
    card = doc.get("card", {})
    if not isinstance(card, dict):
        add(("$.card", f"expected an object of texts, found {json_kind(card)}"))
    else:
        for key, value in card.items():
            where = _member("$.card", key)
            if _validate_text(key, where, "a card section's title", LONGEST_NAME, add):
                _validate_text(value, where, "a card section", LONGEST_TEXT, add)
    networks = doc.get("networks")
    if not isinstance(networks, dict) or not networks:
        add(("$.networks", ("expected an object with at least one network, found "
             f"{json_kind(networks)}")))
        return problems
    sizes = _size_problems(networks, doc.get("blocks", {}))
    if sizes:  # nothing more is read of a file that holds too much
        return problems + sizes
    seen_ids: set[str] = set()
    blocks = _validate_block_arguments(doc.get("blocks", {}), add)
    scopes = [("$.blocks", name, content, blocks) for name, content in
              (doc["blocks"].items() if blocks else ())]
    scopes += [("$.networks", name, content, None) for name, content in networks.items()]
    for section, scope, content, in_block in scopes:
        path = _member(section, scope, brackets=True)
        kind = "a network" if in_block is None else "a block"
        if not scope:
            add((path, f"{kind} needs a non-empty name"))
        _validate_text(scope, path, f"{kind}'s name", LONGEST_NAME, add)
        if scope in networks and in_block is not None:
            add((path, f"{excerpt(scope)} names a network and a block; names must differ"))
        if not isinstance(content, dict):
            add((path, f"expected an object with nodes and edges, found {json_kind(content)}"))
            continue
        context = _NodeContext(blocks or {}, in_block is not None, seen_ids)
        ids = _validate_nodes(content.get("nodes"), f"{path}.nodes", context, add)
        _validate_edges(content.get("edges"), f"{path}.edges", ids, add)
    for sub, message in training_problems(doc.get("training", {})):
        add((f"$.training{sub}", message))
    return problems


def _size_problems(networks: dict[str, Any], blocks: Any) -> list[tuple[str, str]]:
    """More networks, block definitions or nodes than a design may hold (engine.limits)."""
    problems: list[tuple[str, str]] = []
    total = 0
    for section, scopes, most, things, kind in (
            ("$.networks", networks, MOST_NETWORKS, "networks", "network"),
            ("$.blocks", blocks, MOST_BLOCKS, "block definitions", "block")):
        if not isinstance(scopes, dict):
            continue
        problem = count_problem(len(scopes), most, things, "the design")
        if problem:
            problems.append((section, problem))
            continue
        for name, content in scopes.items():
            nodes = content.get("nodes") if isinstance(content, dict) else None
            count = len(nodes) if isinstance(nodes, list) else 0
            total += count
            problem = count_problem(count, MOST_NODES, "nodes", f"{kind} {excerpt(name)}")
            if problem:
                problems.append((f"{_member(section, name, brackets=True)}.nodes", problem))
    problem = count_problem(total, MOST_NODES_IN_DESIGN, "nodes", "the design")
    return problems or ([("$", problem)] if problem else [])


def _unstorable_texts(document: Any) -> list[tuple[str, str]]:
    """Every text, key or value, anywhere in the document that no UTF-8 file can hold (a lone
    surrogate from a JSON escape such as "\\ud800"): a design holding one would open but
    could never be saved, printed or exported. Walked without recursion: files nest deeply."""
    problems: list[tuple[str, str]] = []
    pending: list[tuple[str, Any]] = [("$", document)]
    while pending:
        path, value = pending.pop()
        if isinstance(value, dict):
            for key, child in value.items():
                if _storable(key):
                    where = _member(path, key)
                else:
                    where = f"{path}[{excerpt(key)}]"
                    problems.append((where, text_problem(key, "this key", len(key))))
                pending.append((where, child))
        elif isinstance(value, list):
            pending.extend((f"{path}[{index}]", child) for index, child in enumerate(value))
        elif isinstance(value, str) and not _storable(value):
            problems.append((path, text_problem(value, "this text", len(value))))
    return sorted(problems)


def _storable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@dataclass(frozen=True)
class _NodeContext:
    """What checking a node needs beyond the node: the design's blocks and their arguments
    (a block node's parameters), whether the node lies inside a definition (where values may be
    expressions), and the ids seen so far in the whole file."""

    blocks: dict[str, tuple[Param, ...]]
    in_block: bool
    seen_ids: set[str]


def _validate_block_arguments(blocks: Any, add) -> dict[str, tuple[Param, ...]] | None:
    """Each definition's arguments, read from the file (problems added); None when the file
    has no blocks, or `blocks` is not an object of definitions."""
    if blocks == {}:
        return None
    if not isinstance(blocks, dict):
        add(("$.blocks", f"expected an object of block definitions, found {json_kind(blocks)}"))
        return None
    found: dict[str, tuple[Param, ...]] = {}
    for name, content in blocks.items():
        path = _member("$.blocks", name, brackets=True)
        listed = content.get("arguments", []) if isinstance(content, dict) else []
        if not isinstance(listed, list):
            add((f"{path}.arguments", f"expected a list of arguments, found {json_kind(listed)}"))
            listed = []
        arguments = []
        for index, document in enumerate(listed):
            try:
                arguments.append(argument_from_json(document))
            except DesignError as err:
                add((f"{path}.arguments[{index}]", str(err)))
        found[name] = tuple(arguments)
        if isinstance(content, dict) and "class" in content:
            try:
                ModuleClass.from_json(content["class"])
            except DesignError as err:
                add((f"{path}.class", str(err)))
    return found


def _validate_nodes(nodes: Any, path: str, context: _NodeContext, add) -> dict[str, Any]:
    """Check each node; return id -> layer spec of the valid ones."""
    seen_ids = context.seen_ids
    specs: dict[str, Any] = {}
    if not isinstance(nodes, list):
        add((path, f"expected a list of nodes, found {json_kind(nodes)}"))
        return specs
    for index, node in enumerate(nodes):
        where = f"{path}[{index}]"
        if not isinstance(node, dict):
            add((where, f"expected a node object, found {json_kind(node)}"))
            continue
        node_id = node.get("id")
        if not isinstance(node_id, str) or not node_id:
            add((f"{where}.id", f"expected a non-empty text, found {json_kind(node_id)}"))
            continue
        if not _validate_text(node_id, f"{where}.id", "a node's id", LONGEST_NAME, add):
            continue
        if node_id in seen_ids:
            add((f"{where}.id", f"the id {excerpt(node_id)} is used twice"))
            continue
        seen_ids.add(node_id)
        name = node.get("name")
        if not isinstance(name, str) or not name.strip():
            add((f"{where}.name", f"expected a non-empty text, found {json_kind(name)}"))
        else:
            _validate_text(name, f"{where}.name", "a node's name", LONGEST_NAME, add)
        if position_problem(node.get("pos")):
            add((f"{where}.pos", position_problem(node.get("pos"))))
        layer_type = node.get("type")
        if not isinstance(layer_type, str):
            add((f"{where}.type", f"expected a layer type name, found {json_kind(layer_type)}"))
            continue
        try:
            spec = get_layer(layer_type)
        except DesignError as err:
            add((f"{where}.type", str(err)))
            continue
        specs[node_id] = spec
        _validate_params(node.get("params", {}), f"{where}.params", spec, context, add)
    return specs


def _validate_params(params: Any, path: str, spec, context: _NodeContext, add) -> None:
    if not isinstance(params, dict):
        add((path, f"expected an object, found {json_kind(params)}"))
        return
    fields = dict(spec.param_index)
    if spec.name == BLOCK_TYPE:
        block = params.get("block")
        if block not in context.blocks:
            add((f"{path}.block", (f"{excerpt(block)} is not one of the design's blocks "
                 f"({', '.join(context.blocks) or 'none'})")))
            return
        fields.update((argument.name, argument) for argument in context.blocks[block])
    for key, value in params.items():
        param = fields.get(key)
        if param is None:
            add((_member(path, key), unknown_key_problem(spec.name, "parameter", key, fields)))
            continue
        try:
            if context.in_block and key != "block" and expr_from_json(value) is not None:
                continue
            param.coerce(value)
        except (TypeError, DesignError) as err:
            add((_member(path, key), str(err)))


def _validate_edges(edges: Any, path: str, specs: dict[str, Any], add) -> None:
    if not isinstance(edges, list):
        add((path, f"expected a list of edges, found {json_kind(edges)}"))
        return
    seen = set()
    for index, edge in enumerate(edges):
        where = f"{path}[{index}]"
        if not isinstance(edge, dict):
            add((where, f"expected an edge object, found {json_kind(edge)}"))
            continue
        src, dst, port = edge.get("src"), edge.get("dst"), edge.get("port", 0)
        for key in edge:
            if key not in EDGE_KEYS:
                add((_member(where, key), unknown_key_problem("an edge", "key", key, EDGE_KEYS)))
        for key, value in (("src", src), ("dst", dst)):
            if not isinstance(value, str) or value not in specs:
                add((f"{where}.{key}", f"{excerpt(value)} is not a valid node of this network"))
        if out_index_problem(edge.get("out", 0)):
            add((f"{where}.out", out_index_problem(edge.get("out", 0))))
        if port_problem(port):
            add((f"{where}.port", port_problem(port)))
            continue
        if not (isinstance(src, str) and src in specs and isinstance(dst, str) and dst in specs):
            continue
        if not specs[src].has_output:
            add((f"{where}.src", f"{excerpt(src)} is an Output and has nothing to pass on"))
        maximum = specs[dst].max_inputs
        if maximum is not None and port >= maximum:
            add((f"{where}.port", f"{excerpt(dst)} ({specs[dst].name}) has no input {port}"))
        if (src, dst, port) in seen:
            add((where, "this connection appears twice"))
        seen.add((src, dst, port))


def _validate_text(value: Any, path: str, what: str, longest: int, add) -> bool:
    """Add the problem of a text field (not a text, or too long); True when it is fine."""
    problem = text_value_problem(value, what, longest)
    if problem:
        add((path, problem))
    return problem is None


def _member(path: str, key: str, brackets: bool = False) -> str:
    """The JSON path of an object's member: `path.key`, or `path["key"]` for keys that are
    not plain words (or when asked); a long key is cut short, so paths stay one line."""
    if not brackets and key.isidentifier() and len(key) <= LONGEST_NAME:
        return f"{path}.{key}"
    shown = json.dumps(key[:LONGEST_NAME])
    return f"{path}[{shown if len(key) <= LONGEST_NAME else shown[:-1] + '…' + shown[-1]}]"
