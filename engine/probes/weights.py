"""Loading weights into a probed network: a .safetensors file, or a run's folder (its weights
for that network, as Predict loads them). A file that does not fit says which keys differ."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.errors import DesignError
from engine.runs import RUN_FILE, RunStore

SHOWN_KEYS = 5   # keys named in a message before "and N more"


def weights_path(source: str | Path, network: str) -> Path:
    """The weights file for `network`: `source` itself, or the run in folder `source`'s."""
    path = Path(source)
    if path.is_dir():
        if not (path / RUN_FILE).is_file():
            raise DesignError(f"{path} is a folder but not a run (it has no {RUN_FILE}); give "
                              "a .safetensors file or a run's folder")
        files = RunStore(path.parent).get(path.name).weight_files()
        if network not in files:
            held = ", ".join(sorted(files)) or "none"
            raise DesignError(f"run {path.name} has no weights for network {network!r} "
                              f"(it has weights for: {held})")
        return files[network]
    if not path.is_file():
        raise DesignError(f"there is no weights file {path}")
    return path


def load_weights(model: Any, network: str, source: str | Path) -> Path:
    """Load the weights into `model` (built from `network`); return the file read."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = weights_path(source, network)
    try:
        state = load_file(path)
    except (OSError, SafetensorError) as err:
        raise DesignError(f"{path} cannot be read as weights (.safetensors): {err}") from None
    problems = mismatches(model.state_dict(), state)
    if problems:
        raise DesignError(f"the weights {path} do not fit network {network!r}: "
                          + "; ".join(problems), problems)
    model.load_state_dict(state, strict=True)
    return path


def mismatches(expected: dict[str, Any], found: dict[str, Any]) -> list[str]:
    """What keeps `found` from loading where `expected` is: keys missing, keys the network
    does not have, and tensors of another shape, each naming the keys."""
    missing = [key for key in expected if key not in found]
    unexpected = [key for key in found if key not in expected]
    reshaped = [f"{key} {list(found[key].shape)} (the network's is "
                f"{list(expected[key].shape)})" for key in expected
                if key in found and found[key].shape != expected[key].shape]
    return [f"{what}: {_listed(keys)}" for what, keys in (
        ("missing from the file", missing), ("not in the network", unexpected),
        ("of another shape", reshaped)) if keys]


def _listed(keys: list[str]) -> str:
    more = len(keys) - SHOWN_KEYS
    return ", ".join(keys[:SHOWN_KEYS]) + (f" and {more} more" if more > 0 else "")
