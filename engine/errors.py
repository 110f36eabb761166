"""The one exception type the engine raises for anything the user can fix."""

from __future__ import annotations


class DesignError(Exception):
    """A design, a file or an edit the engine cannot accept.

    `problems` lists every individual issue (each a short sentence), so that callers such as
    the CLI and the GUI can show all of them at once instead of only the first.
    """

    def __init__(self, message: str, problems: list[str] | None = None,
                 file: str | None = None, path: str | None = None) -> None:
        self.problems = list(problems) if problems else [message]
        self.file = file
        self.path = path
        super().__init__(message)


class UntrainableDesign(DesignError):
    """A design that checks and builds but that training cannot feed (a network with several
    Inputs): it still exports, as its classes without a training part."""


class ShapeError(Exception):
    """Raised by a layer's shape rule: the node cannot accept its incoming tensors."""

    def __init__(self, message: str, fix: str | None = None) -> None:
        self.fix = fix
        super().__init__(message)
