"""Safe, readable, unique Python identifiers from names the user typed (like torch.fx's _Namespace).

Whatever a node is called (quotes, newlines, unicode, keywords, `torch`, `self`), the result is a
plain ASCII identifier that cannot shadow anything the generated code relies on.
"""

from __future__ import annotations

import builtins
import keyword
import re
import unicodedata

# Names the generated code itself uses, plus nn.Module's public attributes (which a submodule
# attribute must not shadow). tests/test_codegen_naming.py checks this list against torch.
NN_MODULE_ATTRIBUTES = frozenset({
    "T_destination", "add_module", "apply", "bfloat16", "buffers", "call_super_init", "children",
    "compile", "cpu", "cuda", "double", "dump_patches", "eval", "extra_repr", "float", "forward",
    "get_buffer", "get_extra_state", "get_parameter", "get_submodule", "half", "ipu",
    "load_state_dict", "modules", "mtia", "named_buffers", "named_children", "named_modules",
    "named_parameters", "parameters", "register_backward_hook", "register_buffer",
    "register_forward_hook", "register_forward_pre_hook", "register_full_backward_hook",
    "register_full_backward_pre_hook", "register_load_state_dict_post_hook",
    "register_load_state_dict_pre_hook", "register_module", "register_parameter",
    "register_state_dict_post_hook", "register_state_dict_pre_hook", "requires_grad_",
    "set_extra_state", "set_submodule", "share_memory", "smart_apply", "state_dict", "to",
    "to_empty", "train", "training", "type", "xpu", "zero_grad",
})
GENERATED_CODE_NAMES = frozenset({
    "self", "torch", "nn", "F", "np", "math", "forward", "main", "model", "args", "parser",
    "device", "optimizer", "loss", "batch", "safetensors", "argparse", "os", "sys", "Path",
    "_", "h_n",
})
_SOFT_KEYWORDS = frozenset(getattr(keyword, "softkwlist", ())) | {"match", "case", "type", "_"}
_RESERVED = (frozenset(keyword.kwlist) | _SOFT_KEYWORDS | frozenset(dir(builtins))
             | GENERATED_CODE_NAMES)


def sanitise(text: str, fallback: str = "x") -> str:
    """Reduce any text to [A-Za-z0-9_], not starting with a digit; `fallback` if nothing is left."""
    ascii_text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    name = re.sub(r"[^0-9a-zA-Z_]+", "_", ascii_text).strip("_")
    name = re.sub(r"_+", "_", name)
    if not name:
        name = fallback
    if name[0].isdigit():
        name = f"_{name}"
    return name


class Namespace:
    """Hands out unique identifiers; the same object always gets the same name."""

    def __init__(self, reserved: frozenset[str] = _RESERVED) -> None:
        self._reserved = reserved
        self._used: set[str] = set()
        self._by_key: dict[object, str] = {}

    def name(self, text: str, key: object | None = None, fallback: str = "x") -> str:
        if key is not None and key in self._by_key:
            return self._by_key[key]
        base = sanitise(text, fallback)
        if base in self._reserved:
            base = f"{base}_"
        candidate, k = base, 1
        while candidate in self._used or candidate in self._reserved:
            k += 1
            candidate = f"{base}_{k}"
        self._used.add(candidate)
        if key is not None:
            self._by_key[key] = candidate
        return candidate

    def reserve(self, name: str) -> None:
        self._used.add(name)


def class_name(network: str) -> str:
    """`model` -> `Model`, `my generator` -> `MyGenerator`."""
    words = re.split(r"_+", sanitise(network, "network"))
    name = "".join(w[:1].upper() + w[1:] for w in words if w) or "Network"
    if name[0].isdigit():
        name = f"Net{name}"
    return f"{name}Net" if name in _RESERVED else name
