"""One export as it runs: the target format, the options, and what it cut or refused.

A :class:`Format` is a registry entry (name, title, writer, what its syntax is);
a :class:`Context` carries one export through its writer and collects the cuts
and errors that become the :class:`~pushgen.export.result.ExportResult`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import Diagnostic
from ..hint_budget import DEFAULT_MAX_LINK_BYTES
from ..manifest import Manifest
from ..manifest.rules import RoutePattern
from ..push_policy import NO_POLICY, Policy
from .patterns import Token
from .result import Cut, ExportResult
from .text import comment

__all__ = [
    "Block",
    "Context",
    "ExportOptions",
    "Format",
    "Hint",
]


@dataclass(frozen=True, slots=True)
class Format:
    """A target format: its ``--format`` name, what it is, and its writer.

    ``text`` formats are lines of a configuration language (comments, directives,
    blocks, strings): a value that holds a line break or another control character
    could end a comment or a directive and start one of its own, so such values are
    refused. JSON formats escape every character instead (json.dumps with
    ensure_ascii). ``regex`` formats write route patterns as regular expressions.
    """

    name: str
    title: str
    write: Callable[[Context], str]
    text: bool = True
    regex: bool = False


@dataclass(frozen=True, slots=True)
class ExportOptions:
    """What the caller asked for (see :func:`pushgen.export.export_manifest`)."""

    root: str | None = None
    pretty_urls: bool = False
    push: bool = True
    max_pushes: int | None = None
    skip_patterns: bool = False
    # The site's push policy (pushgen.yaml) under the rules' own, as the runtime applies it.
    policy: Policy = NO_POLICY
    # The bytes of Link values a route may send (pushgen.hint_budget), as the runtime's bound.
    max_link_bytes: int = DEFAULT_MAX_LINK_BYTES


@dataclass(frozen=True, slots=True)
class Hint:
    """One entry as the target sees it: its wire path, its Link value (if hinted), push.

    ``rank`` is how important its Link value is (:func:`pushgen.hint_budget.importance`),
    for the cuts a bound on the Link field makes.
    """

    path: str
    link: str | None
    push: bool
    rank: int = 2


@dataclass(frozen=True, slots=True)
class Block:
    """An exact route, or a pattern rule that adds entries, with what it sends.

    ``sample`` is a path the pattern matches (the route itself for an exact route).
    """

    route: str
    line: int
    hints: tuple[Hint, ...]
    pattern: RoutePattern | None = None
    sample: str = ""
    # The pattern's pieces, parsed once (empty for an exact route).
    tokens: tuple[Token, ...] = ()

    @property
    def links(self) -> list[str]:
        return [h.link for h in self.hints if h.link is not None]


def _no_size(_path: str) -> int | None:
    return None


@dataclass
class Context:
    """Collects cuts and errors while one export runs."""

    manifest: Manifest
    format: Format
    options: ExportOptions = ExportOptions()
    size_of: Callable[[str], int | None] = _no_size
    cuts: list[Cut] = field(default_factory=list)
    errors: list[Diagnostic] = field(default_factory=list)

    @property
    def filename(self) -> str:
        return self.manifest.filename

    @property
    def title(self) -> str:
        return self.format.title

    def cut(self, block: Block, path: str | None, reason: str) -> None:
        self.cuts.append(Cut(block.route, path, reason, block.line, block.pattern is not None))

    def error(self, line: int, message: str) -> None:
        """An error at ``line`` of the manifest (0: the manifest as a whole)."""
        self.errors.append(Diagnostic(self.filename, line, 0, message, "error"))

    def refuse(self, route: str, line: int, reason: str, *, detail: str = "") -> None:
        """A pattern rule the target cannot express: an error, or a cut with ``skip_patterns``.

        ``route`` is the rule's ``match``; ``detail`` is said only in the error.
        """
        if self.options.skip_patterns:
            self.cuts.append(Cut(route, None, f"left out: {reason}", line, pattern=True))
            return
        self.error(
            line,
            f"rule `match: {comment(route)}`: {reason}{detail}; remove the rule, rewrite its match, or "
            "export with --skip-patterns to leave it out",
        )

    def result(self, text: str) -> ExportResult:
        """The export's result: ``text`` unless an error stopped it."""
        return ExportResult(
            format=self.format.name,
            text="" if self.errors else text,
            cuts=tuple(self.cuts),
            errors=tuple(self.errors),
            filename=self.filename,
        )
