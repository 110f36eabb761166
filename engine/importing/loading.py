"""Reading `PYFILE:CLASS` and `3,224,224` from the command line into a module and an input."""

from __future__ import annotations

import importlib.util
import sys
import traceback
from pathlib import Path
from typing import Any

from engine.errors import DesignError


def load_module_class(reference: str) -> type:
    """The nn.Module subclass named by "path/to/file.py:ClassName" (the file is run)."""
    file, separator, name = reference.rpartition(":")
    if not separator or not file or not name.isidentifier():
        raise DesignError(f"{reference!r} is not PYFILE:CLASS, e.g. models.py:Net")
    module = _run_file(file)
    cls = getattr(module, name, None)
    if cls is None:
        raise DesignError(f"{file} defines no {name}", file=file)
    import torch

    if not (isinstance(cls, type) and issubclass(cls, torch.nn.Module)):
        raise DesignError(f"{file}: {name} is not an nn.Module class", file=file)
    return cls


def module_class_names(file: str) -> list[str]:
    """The nn.Module subclasses a Python file defines, in the order it defines them."""
    import torch

    module = _run_file(file)
    return [name for name, value in vars(module).items()
            if isinstance(value, type) and issubclass(value, torch.nn.Module)
            and value.__module__ == module.__name__]


def _run_file(file: str) -> Any:
    """Run a Python file as a module; any failure is a DesignError naming the file and line."""
    path = Path(file)
    if not path.is_file():
        raise DesignError(f"{file}: no such file", file=file)
    spec = importlib.util.spec_from_file_location(f"neuralcanvas_import_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise DesignError(f"{file}: not a Python file", file=file)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.resolve().parent))  # the file may import its neighbours
    try:
        spec.loader.exec_module(module)
    except Exception as err:  # noqa: BLE001 - any error in the user's file is reported
        raise DesignError(f"{file}: running it failed{_line(err, path)}: "
                          f"{type(err).__name__}: {err}", file=file) from None
    finally:
        sys.path.remove(str(path.resolve().parent))
    return module


def instantiate(cls: type) -> Any:
    """`cls()`: the class must build its layers without arguments."""
    try:
        return cls()
    except Exception as err:  # noqa: BLE001 - the user's constructor fails: reported
        raise DesignError(f"{cls.__name__}() failed: {type(err).__name__}: {err} (the class "
                          "must be constructible without arguments)") from None


def parse_shape(text: str) -> tuple[int, ...]:
    """"3,224,224" -> (3, 224, 224): one sample's shape, without the batch dimension."""
    try:
        shape = tuple(int(part) for part in text.replace(" ", "").split(","))
    except ValueError:
        shape = ()
    if not shape or any(size < 1 for size in shape):
        raise DesignError(f"{text!r} is not a shape; give positive sizes separated by commas, "
                          "e.g. 3,224,224")
    return shape


def example_input(shapes: list[tuple[int, ...]], dtype: str, batch: int = 2) -> Any:
    """Random float inputs, or zero token ids for dtype long, with a batch of `batch`."""
    import torch

    generator = torch.Generator().manual_seed(0)
    if dtype == "long":
        tensors = tuple(torch.zeros((batch, *shape), dtype=torch.long) for shape in shapes)
    else:
        tensors = tuple(torch.randn((batch, *shape), generator=generator) for shape in shapes)
    return tensors[0] if len(tensors) == 1 else tensors


def _line(err: BaseException, path: Path) -> str:
    for frame in reversed(traceback.extract_tb(err.__traceback__)):
        if Path(frame.filename).resolve() == path.resolve():
            return f" at line {frame.lineno}"
    if isinstance(err, SyntaxError) and err.lineno:
        return f" at line {err.lineno}"
    return ""
