"""Bounds on what a design may hold, so that no file or edit can hang, crash or flood the app.

Names and texts have a length limit, and a design holds a bounded number of networks, block
definitions and nodes, each far above any real model so that checking stays quick
(both checked when a file loads and when the Design API edits); whole-number layer parameters
have a largest value unless they declare a tighter one; and a model's parameters and tensors
must fit in this machine's memory (checked by `check`, before anything is built).
"""

from __future__ import annotations

import math
from decimal import Decimal
from functools import cache
from numbers import Real
from typing import Any

from engine.quoting import excerpt

LONGEST_NAME = 255           # a node's, a network's or the design's name: as long as a file name
LONGEST_TEXT = 20_000        # the description and each section of a template's card
LONGEST_PATH = 4_096         # a text parameter such as a weights file's path (PATH_MAX)
LARGEST_WHOLE_NUMBER = 2**31 - 1   # any layer size, index or count: what int32 holds
LARGEST_ELEMENT_COUNT = 2**63 - 1  # values one tensor can hold (torch counts them in int64)
LARGEST_FLOAT32 = 3.4028234663852886e38  # a float layer parameter: what float32 holds
LONGEST_LIST = 64            # numbers in a list parameter (a shape, a list of dims)
LARGEST_STEP = 1_024         # a convolution's stride or dilation: oneDNN crashes far beyond it
MOST_INPUTS = 1_000          # inputs of one node (an Add or a Concat of many branches)
MOST_OUTPUTS = 1_000         # outputs of one node (a Chunk into many pieces)
MOST_NODES = 20_000          # nodes in one network or block definition (imports: ~1,100)
MOST_NODES_IN_DESIGN = 100_000  # nodes in all networks and block definitions together
MOST_NETWORKS = 100          # networks in one design (a GAN has two)
MOST_BLOCKS = 1_000          # block definitions in one design (an import makes a few dozen)
FARTHEST_POSITION = 1e7      # a card's distance from the canvas's origin, in scene units
BYTES_PER_VALUE = 4          # float32, what parameters and activations are made of


def text_problem(text: str, what: str, longest: int) -> str | None:
    """Why `text` cannot be `what`: too long, or holding a lone UTF-16 surrogate (JSON's
    "\\ud800" escape reads as one), which no UTF-8 file or terminal can take, so the design
    could be opened but never saved or printed. None when it is fine."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as err:
        return (f"{what} holds {excerpt(err.object[err.start:err.end])} at character "
                f"{err.start + 1:,}, half of a character pair, which no file can store")
    return length_problem(text, what, longest)


def text_value_problem(value: Any, what: str, longest: int) -> str | None:
    """Why `value` cannot be `what` (a name, a description): not a text, or `text_problem`."""
    if not isinstance(value, str):
        return f"{what} must be a text, not {excerpt(value)}"
    return text_problem(value, what, longest)


def position_problem(pos: Any) -> str | None:
    """Why `pos` cannot be a card's place on the canvas: two finite numbers, each within
    FARTHEST_POSITION of the origin. None when it can."""
    if isinstance(pos, (list, tuple)) and len(pos) == 2:
        numbers = [finite_float(value) for value in pos]
        if all(n is not None and abs(n) <= FARTHEST_POSITION for n in numbers):
            return None
    return (f"a position must be two numbers (x, y) from {-FARTHEST_POSITION:,.0f} to "
            f"{FARTHEST_POSITION:,.0f}, not {excerpt(pos)}")


def count_problem(count: int, most: int, things: str, holder: str) -> str | None:
    """Why `holder` (e.g. "network 'model'") cannot hold `count` `things` (e.g. "nodes"): more
    than `most`, which keeps every check quick. None when it can."""
    if count <= most:
        return None
    return f"{count:,} {things} in {holder}; at most {most:,} are allowed"


def port_problem(port: Any) -> str | None:
    """Why `port` cannot be the number of a node's input, or None."""
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port < MOST_INPUTS:
        return (f"an input port must be a whole number from 0 to {MOST_INPUTS - 1}, not "
                f"{excerpt(port)}")
    return None


def out_index_problem(out: Any) -> str | None:
    """Why `out` cannot be the number of a node's output, or None."""
    if isinstance(out, bool) or not isinstance(out, int) or not 0 <= out < MOST_OUTPUTS:
        return (f"an output must be a whole number from 0 to {MOST_OUTPUTS - 1}, not "
                f"{excerpt(out)}")
    return None


def length_problem(text: str, what: str, longest: int) -> str | None:
    """Why `text` is too long to be `what` (e.g. "a node's name"), or None when it fits."""
    if len(text) <= longest:
        return None
    return (f"{what} is {len(text):,} characters long ({excerpt(text)}); at most {longest:,} "
            "are allowed")


def finite_float(value: Any) -> float | None:
    """`value` as a finite float, or None when it is not a number or no float can hold it
    (true/false, text, nan, infinity, or a whole number beyond 1.8e308)."""
    if isinstance(value, bool) or not isinstance(value, Real):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


@cache
def physical_memory() -> int | None:
    """This machine's total memory in bytes, or None where the system does not say."""
    try:
        import psutil
    except ImportError:
        pass
    else:
        return int(psutil.virtual_memory().total)
    from engine.training.portable.machine import memory_bytes

    return memory_bytes()


def byte_size(count: int) -> str:
    """A number of bytes as people read it: '3.6 TB', '24 GB', '512 bytes' (powers of 1024)."""
    if count >= 1000 << 60:
        return f"{big_number(count)} bytes"
    for unit, size in (("EB", 1 << 60), ("PB", 1 << 50), ("TB", 1 << 40), ("GB", 1 << 30),
                       ("MB", 1 << 20), ("kB", 1 << 10)):
        if count >= size:
            scaled = count / size
            return f"{scaled:.1f} {unit}" if scaled < 10 else f"{scaled:.0f} {unit}"
    return f"{count} bytes"


def big_number(count: int) -> str:
    """A count that may be astronomically large: '1,234,567' up to a billion, else '1.0e12'."""
    if count < 10**9:
        return f"{count:,}"
    return format(Decimal(count), ".1e").replace("e+", "e")
