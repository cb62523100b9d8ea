"""What an export returns: the text, what the target could not carry, the errors."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import Diagnostic
from .text import comment

__all__ = ["Cut", "ExportResult"]


@dataclass(frozen=True, slots=True)
class Cut:
    """Something of the manifest the target could not carry, and why.

    ``route`` is the manifest route or the rule's ``match`` text; ``path`` is the
    entry left out (or pushed no more), or None when the cut is the route's or
    rule's as a whole (it was left out, or the Link budget left out some of its
    entries: one cut names how many); ``line`` is where the route or rule is in the manifest (0 unknown).
    """

    route: str
    path: str | None
    reason: str
    line: int = 0
    # True when ``route`` is a rule's pattern (a glob or a Quart rule).
    pattern: bool = False

    def __str__(self) -> str:
        # Routes and paths escaped as in comments: a warning is one line on a terminal.
        route = comment(self.route)
        where = f"rule `match: {route}`" if self.pattern else f"route {route}"
        return where + (f": {comment(self.path)}" if self.path else "") + f": {self.reason}"


@dataclass(frozen=True, slots=True)
class ExportResult:
    """The exported text, what was cut, and the errors that stopped the export.

    When ``errors`` is not empty, ``text`` is empty: the manifest holds something
    the target cannot express at all (a route pattern it has no syntax for).
    """

    format: str
    text: str
    cuts: tuple[Cut, ...] = ()
    errors: tuple[Diagnostic, ...] = ()
    filename: str = "manifest"

    @property
    def ok(self) -> bool:
        """True when the export produced a text (perhaps with cuts)."""
        return not self.errors

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        """One warning per cut, located at the route's or rule's line in the manifest."""
        return tuple(
            Diagnostic(self.filename, cut.line, 0, str(cut), "warning") for cut in self.cuts
        )

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]:
        """Errors, then warnings."""
        return self.errors + self.warnings
