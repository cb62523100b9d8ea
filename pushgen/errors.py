"""The exception root and the located diagnostics that bad input turns into.

Scanners never raise for bad input: they return :class:`Diagnostic` values and the
caller decides what is fatal (``--strict``). Exceptions are for situations where
pushgen cannot go on at all (an unreadable config, a manifest that fails to load),
and they all derive from :class:`PushgenError`.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "BuildError",
    "ConfigError",
    "Diagnostic",
    "Location",
    "ManifestError",
    "NoManifestError",
    "Position",
    "PushgenError",
    "Severity",
    "counted",
    "did_you_mean",
]

Severity = Literal["error", "warning"]


def counted(n: int, noun: str) -> str:
    """``1 page``, ``2 pages``: a count in a message."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def did_you_mean(word: str, choices: Iterable[str], *, listed: bool = False) -> str:
    """``; did you mean 'style'?`` for a mistyped ``word``, or "" when none is close.

    With ``listed``, no close choice lists them all (``; valid keys: a, b``).
    """
    known = sorted(choices) if not isinstance(choices, (list, tuple)) else list(choices)
    close = difflib.get_close_matches(word, known, n=1)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f"; valid keys: {', '.join(known)}" if listed else ""


@dataclass(frozen=True, slots=True)
class Position:
    """A place in a text: 1-based line and column (0: unknown), as diagnostics count them."""

    line: int
    column: int


@dataclass(frozen=True, slots=True)
class Location:
    """A place in a file, as a diagnostic gives it: file, line and column (0: unknown)."""

    file: str
    line: int
    column: int = 0


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """A problem in user input, located as precisely as the input allows.

    ``line`` and ``column`` are 1-based; 0 means "unknown" and is left out of the
    rendered location.
    """

    file: str
    line: int
    column: int
    message: str
    severity: Severity = "warning"

    def __str__(self) -> str:
        where = self.file
        if self.line:
            where += f":{self.line}"
            if self.column:
                where += f":{self.column}"
        text = f"{where}: {self.severity}: {self.message}"
        # File names that are not UTF-8 reach here as surrogate escapes (PEP 383);
        # show their bytes as \xNN instead of failing to print.
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


class PushgenError(Exception):
    """Root of every exception pushgen raises on purpose."""


class ConfigError(PushgenError):
    """``pushgen.yaml`` (or a keyword argument standing in for it) is invalid."""

    def __init__(self, message: str, *, file: str = "", line: int = 0, column: int = 0) -> None:
        self.file, self.line, self.column = file, line, column
        where = file + (f":{line}" if line else "") + (f":{column}" if line and column else "")
        super().__init__(f"{where}: {message}" if where else message)


class ManifestError(PushgenError):
    """A push manifest cannot be used; ``diagnostics`` says every place that is wrong."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        super().__init__("\n".join(str(d) for d in diagnostics))


class NoManifestError(PushgenError):
    """A command reads a manifest that no build or scan has written yet.

    ``writers`` are the commands that would write it, each with the kind of site it
    is for ("" when the kind is known), for the message to name.
    """

    def __init__(self, path: str, writers: tuple[tuple[str, str], ...]) -> None:
        self.path, self.writers = path, writers
        if len(writers) == 1:
            how = f"`{writers[0][0]}` writes it"
        else:
            how = "it is written by " + ", ".join(f"`{w}` for {kind}" for w, kind in writers)
        super().__init__(f"no manifest at {path} yet: {how}")


class RoutePatternError(PushgenError):
    """A rule's ``match`` is not a route, a glob or a Quart rule pushgen can match."""

    def __init__(self, pattern: str, reason: str) -> None:
        self.pattern, self.reason = pattern, reason
        super().__init__(reason)


class LinkFieldError(PushgenError):
    """An entry's ``type`` or ``media`` holds characters a Link header field cannot carry."""

    def __init__(self, field: str, value: str) -> None:
        self.field, self.value = field, value
        super().__init__(f"{field} {value!r} contains characters a Link header cannot carry")


class UnknownFormatError(PushgenError):
    """``pushgen export`` was asked for a format it has no writer for."""

    def __init__(self, name: str, known: tuple[str, ...]) -> None:
        self.name, self.known = name, known
        super().__init__(f"unknown format {name!r}; choose one of {', '.join(known)}")


class BuildError(PushgenError):
    """The build could not produce an output (a template that does not compile, say)."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        super().__init__("\n".join(str(d) for d in diagnostics))
