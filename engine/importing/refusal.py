"""The one message that refuses an import: every problem at once, grouped by cause.

A model that uses `torch.sin` forty times, or a DenseNet whose every layer trips over the same
thing, gets one line per cause with a count and the first few source lines, not one line per
occurrence (nor one problem per retry).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# How many source lines (and module paths) each group shows.
SHOWN = 3
_WHERE = re.compile(r"^ at (?P<file>.+):(?P<line>\d+)(?: \((?P<code>.*)\))?$")


@dataclass(frozen=True)
class Refusal:
    """One operation the design cannot express: what it is (`torch.sin`, `LocalResponseNorm`),
    why, where in the source (" at file:line (code)", or ""), and for a module call its
    path."""

    subject: str
    reason: str
    where: str = ""
    module: str = ""


def grouped(refusals: list[Refusal]) -> list[str]:
    """One sentence per (subject, cause), most frequent first, in order of first use among
    equals: `3 uses of torch.sin: has no NeuralCanvas layer (/src/model.py:12 x = torch.sin(x);
    ...)`. A reason's closing parenthesis is a detail of one use (`does not keep the batch as
    the first dimension (it gives (1, 384, 1, 1) for a batch of 2)`): uses that differ only in
    it are one cause, whose line gives the first few details."""
    groups: dict[tuple[str, str], list[Refusal]] = {}
    for refusal in refusals:
        groups.setdefault((refusal.subject, _cause(refusal.reason)[0]), []).append(refusal)
    ordered = sorted(groups.items(), key=lambda item: -len(item[1]))
    return [_line(subject, _reason(cause, members), members)
            for (subject, cause), members in ordered]


def _cause(reason: str) -> tuple[str, str]:
    """(the reason without its closing parenthesis, what that parenthesis says)."""
    if not reason.endswith(")"):
        return reason, ""
    depth = 0
    for at in range(len(reason) - 1, -1, -1):
        depth += {")": 1, "(": -1}.get(reason[at], 0)
        if depth == 0:
            head = reason[:at].rstrip()
            return (head, reason[at + 1:-1]) if head else (reason, "")
    return reason, ""


def _reason(cause: str, members: list[Refusal]) -> str:
    details = list(dict.fromkeys(_cause(member.reason)[1] for member in members))
    if details == [""]:
        return cause
    more = "; ..." if len(details) > SHOWN else ""
    return f"{cause} ({'; '.join(details[:SHOWN])}{more})"


def refusal_message(name: str, refusals: list[Refusal]) -> tuple[str, list[str]]:
    """The DesignError text for a refused import of class `name`, and its problem lines."""
    lines = grouped(refusals)
    count = len(refusals)
    causes = f", for {len(lines)} reasons" if len(lines) > 1 else ""
    text = (f"cannot import {name}: {count} operation{'s' if count > 1 else ''} without a "
            f"NeuralCanvas equivalent{causes}:\n  - " + "\n  - ".join(lines))
    return text, lines


def _line(subject: str, reason: str, members: list[Refusal]) -> str:
    modules = list(dict.fromkeys(member.module for member in members if member.module))
    if len(members) == 1:
        head = f"{subject} '{modules[0]}'" if modules else subject
    else:
        head = f"{len(members)} uses of {subject}"
        if modules:
            more = ", ..." if len(modules) > SHOWN else ""
            head += f" ({', '.join(repr(path) for path in modules[:SHOWN])}{more})"
    sites = list(dict.fromkeys(_site(member.where) for member in members if member.where))
    shown = "; ".join(sites[:SHOWN]) + ("; ..." if len(sites) > SHOWN else "")
    return f"{head}: {reason}" + (f" ({shown})" if shown else "")


def _site(where: str) -> str:
    """" at /path/model.py:12 (x = torch.sin(x))" -> "/path/model.py:12 x = torch.sin(x)"."""
    match = _WHERE.match(where)
    if match is None:
        return where.strip()
    code = f" {match['code']}" if match["code"] else ""
    return f"{match['file']}:{match['line']}{code}"
