"""Safe, readable, unique Python identifiers from names the user typed (like torch.fx's _Namespace).

Whatever a node is called (quotes, newlines, unicode, keywords, `torch`, `self`), the result is a
plain ASCII identifier that cannot shadow anything the generated code relies on. Every name in a
scope comes from that scope's `Namespace`: variables, the temporaries layers need (`fresh`) and,
at module level, class names.
"""

from __future__ import annotations

import builtins
import hashlib
import keyword
import re
import unicodedata
from collections.abc import Iterable

# Every attribute an nn.Module has, public or private: the names in dir(torch.nn.Module) (less
# the dunders, which a module key never is) plus the instance attributes nn.Module.__init__ sets.
# A submodule registered under one of them breaks the model (`_modules`: "attribute already
# exists"; `_call_impl`: endless recursion). The list is static so that code generation does
# not import torch; tests/test_i12_names.py checks it against the installed torch.
NN_MODULE_ATTRIBUTES = frozenset({
    "add_module", "_apply", "apply", "_backward_hooks", "_backward_pre_hooks", "bfloat16",
    "_buffers", "buffers", "_call_impl", "call_super_init", "children", "compile",
    "_compiled_call_impl", "cpu", "cuda", "double", "dump_patches", "eval", "extra_repr",
    "float", "forward", "_forward_hooks", "_forward_hooks_always_called",
    "_forward_hooks_with_kwargs", "_forward_pre_hooks", "_forward_pre_hooks_with_kwargs",
    "_get_backward_hooks", "_get_backward_pre_hooks", "get_buffer", "get_extra_state",
    "_get_name", "get_parameter", "get_submodule", "half", "ipu", "_is_full_backward_hook",
    "_load_from_state_dict", "load_state_dict", "_load_state_dict_post_hooks",
    "_load_state_dict_pre_hooks", "_maybe_warn_non_full_backward_hook", "_modules", "modules",
    "mtia", "named_buffers", "named_children", "_named_members", "named_modules",
    "named_parameters", "_non_persistent_buffers_set", "_parameters", "parameters",
    "register_backward_hook", "register_buffer", "register_forward_hook",
    "register_forward_pre_hook", "register_full_backward_hook",
    "register_full_backward_pre_hook", "register_load_state_dict_post_hook",
    "_register_load_state_dict_pre_hook", "register_load_state_dict_pre_hook",
    "register_module", "register_parameter", "_register_state_dict_hook",
    "register_state_dict_post_hook", "register_state_dict_pre_hook",
    "_replicate_for_data_parallel", "requires_grad_", "_save_to_state_dict", "set_extra_state",
    "set_submodule", "share_memory", "_slow_forward", "smart_apply", "state_dict",
    "_state_dict_hooks", "_state_dict_pre_hooks", "T_destination", "to", "to_empty", "train",
    "training", "type", "_version", "_wrapped_call_impl", "xpu", "zero_grad",
})
# What nn.ModuleDict adds to nn.Module: every key below the top level is an attribute of one
# (a level of index keys only is an nn.ModuleList, and an index is never a name).
MODULE_DICT_ATTRIBUTES = frozenset({"clear", "items", "keys", "pop", "update", "values"})
# What the network `build_model` compiles adds to nn.Module (engine.compiler).
COMPILED_NETWORK_ATTRIBUTES = frozenset({"node_of_module", "forward_source"})
# The module-level names the network classes read, each with the import that binds it.
CLASS_CODE_IMPORTS = {"torch": "import torch", "nn": "from torch import nn",
                      "F": "import torch.nn.functional as F",
                      "OrderedDict": "from collections import OrderedDict"}
MAX_IDENTIFIER_LENGTH = 40
_SOFT_KEYWORDS = frozenset(getattr(keyword, "softkwlist", ())) | {"match", "case", "type", "_"}
PYTHON_NAMES = frozenset(keyword.kwlist) | _SOFT_KEYWORDS | frozenset(dir(builtins))


# Module keys the network's own attributes (top level) and a container's keys (below) avoid;
# keywords too, so that every name key reads `.key`. Real models never use these names, so an
# imported model keeps its keys.
_KEYWORDS = frozenset(keyword.kwlist)
NETWORK_KEY_RESERVED = NN_MODULE_ATTRIBUTES | COMPILED_NETWORK_ATTRIBUTES | _KEYWORDS
CONTAINER_KEY_RESERVED = NN_MODULE_ATTRIBUTES | MODULE_DICT_ATTRIBUTES | _KEYWORDS
_PLAIN_FILE_STEM = re.compile(r"[a-z0-9][a-z0-9_]*")
_PLAIN_KEY = re.compile(r"(?!__)[A-Za-z_][A-Za-z0-9_]*|0|[1-9][0-9]*|\w+(-\w+)+", re.ASCII)


def sanitise(text: str, fallback: str = "x") -> str:
    """Reduce any text to [A-Za-z0-9_], not starting with a digit; `fallback` if nothing is left.

    Long texts are cut to MAX_IDENTIFIER_LENGTH characters so that generated lines stay short.
    """
    ascii_text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    name = re.sub(r"[^0-9a-zA-Z_]+", "_", ascii_text).strip("_")
    name = re.sub(r"_+", "_", name)[:MAX_IDENTIFIER_LENGTH].rstrip("_")
    if not name:
        name = fallback
    if name[0].isdigit():
        name = f"_{name}"
    return name


def module_key(text: str, reserved: frozenset[str], fallback: str = "layer") -> str:
    """One level of a module path: kept exactly when it is a plain name, an index ("0") or
    hyphenated words ("block1-0"), so that imported models keep their state_dict keys;
    otherwise sanitised. A key in `reserved` (NETWORK_KEY_RESERVED at the top level,
    CONTAINER_KEY_RESERVED below) gets a trailing underscore."""
    if len(text) <= MAX_IDENTIFIER_LENGTH and _PLAIN_KEY.fullmatch(text):
        key = text
    else:
        key = sanitise(text, fallback)
    return f"{key}_" if key in reserved else key


def file_stem(name: str, fallback: str = "network") -> str:
    """A file name (less its suffix) for `name` that no other name gets, even on a disk that
    ignores case, so that files named after networks never overwrite each other.

    A short lower-case plain name is kept ("generator"); any other is sanitised and tagged
    with a digest of the name ("my net" -> "my_net-<8 hex digits>"): a plain name has no "-".
    """
    if len(name) <= MAX_IDENTIFIER_LENGTH and _PLAIN_FILE_STEM.fullmatch(name):
        return name
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{sanitise(name, fallback)}-{digest}"


class Namespace:
    """Hands out the identifiers of one scope, each once; the same object always gets the
    same name. `taken` are the names the scope has before any is handed out (a function's
    parameters, the module-level names its code reads), avoided like Python's own."""

    def __init__(self, taken: Iterable[str] = ()) -> None:
        self._reserved = PYTHON_NAMES | frozenset(taken)
        self._used: set[str] = set()
        self._by_key: dict[object, str] = {}

    def name(self, text: str, key: object | None = None, fallback: str = "x") -> str:
        """A variable for what the user called `text` ("conv 1" -> conv_1, again -> conv_1_2)."""
        if key is not None and key in self._by_key:
            return self._by_key[key]
        base = sanitise(text, fallback)
        if base in self._reserved:
            base = f"{base}_"
        return self._claim(base, "_", key)

    def fresh(self, hint: str) -> str:
        """A new temporary named after `hint` (`h_n`, then `h_n_2`), for code a layer writes."""
        return self.name(hint)

    def class_name(self, network: str) -> str:
        """The class of a network ("my generator" -> MyGenerator, again -> MyGenerator2)."""
        base = class_name(network)
        if base in self._reserved:
            base = f"{base}Net"
        return self._claim(base, "", ("class", network))

    def _claim(self, base: str, separator: str, key: object | None) -> str:
        candidate, k = base, 1
        while candidate in self._used or candidate in self._reserved:
            k += 1
            candidate = f"{base}{separator}{k}"
        self._used.add(candidate)
        if key is not None:
            self._by_key[key] = candidate
        return candidate


def forward_scope() -> Namespace:
    """The names of a `forward` method: its `self`, and the module-level names it reads."""
    return Namespace(taken={"self", *CLASS_CODE_IMPORTS})


class ModulePaths:
    """Hands out unique module paths such as "layer1.0.conv1" from dotted node names.

    A dot in a name nests the module in containers (so imported models keep keys such as
    `layer1.0.conv1.weight`). A path never runs through a leaf module and no two leaves share
    one: a clash gets a numbered key, and later names with the same prefix follow it.
    """

    def __init__(self) -> None:
        self._children: dict[tuple[str, ...], dict[str, bool]] = {(): {}}  # key -> is container
        self._containers: dict[tuple[tuple[str, ...], str], str] = {}

    def path(self, text: str, fallback: str = "layer") -> str:
        """The dotted path for a node called `text`; each call reserves a new leaf."""
        segments = [part for part in str(text).split(".") if part] or [fallback]
        parent: tuple[str, ...] = ()
        for segment in segments[:-1]:
            parent = self._container(parent, segment)
        key = self._free_key(parent, segments[-1], fallback)
        self._children[parent][key] = False
        return ".".join((*parent, key))

    def _container(self, parent: tuple[str, ...], segment: str) -> tuple[str, ...]:
        chosen = self._containers.get((parent, segment))
        if chosen is None:
            chosen = self._free_key(parent, segment, "layer")
            self._containers[(parent, segment)] = chosen
            self._children[parent][chosen] = True
            self._children[(*parent, chosen)] = {}
        return (*parent, chosen)

    def _free_key(self, parent: tuple[str, ...], segment: str, fallback: str) -> str:
        """A key for `segment` under `parent` that no sibling has and nn.Module does not define;
        names that differ only by sanitising ("a b", "a_b") get numbered keys."""
        reserved = CONTAINER_KEY_RESERVED if parent else NETWORK_KEY_RESERVED
        key = module_key(segment, reserved, fallback)
        taken = self._children[parent]
        # "_" numbered would read "__2", which Python mangles inside the class (`_Model__2`).
        stem = key.rstrip("_") or fallback
        candidate, k = key, 1
        while candidate in taken or candidate in reserved:
            k += 1
            candidate = f"{stem}_{k}"
        return candidate


def class_name(network: str) -> str:
    """`model` -> `Model`, `my generator` -> `MyGenerator` (a class name, never Python's own)."""
    words = re.split(r"_+", sanitise(network, "network"))
    name = "".join(w[:1].upper() + w[1:] for w in words if w) or "Network"
    if name[0].isdigit():
        name = f"Net{name}"
    return f"{name}Net" if name in PYTHON_NAMES else name
