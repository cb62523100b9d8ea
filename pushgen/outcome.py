"""What a command found, for machines: one JSON document, or GitHub Actions workflow commands.

``pushgen build|scan|check --format json`` prints one document on standard output
(its JSON Schema is ``pushgen/outcome.schema.json``, printed by ``pushgen schema
--json-output``; docs/ci.md describes it); ``--format github`` prints each diagnostic as
a workflow command (``::warning file=F,line=L,col=C::message``) that GitHub
Actions shows as an annotation on the line; :func:`summary_line` is the line a
build or a scan ends with in text. Pure functions: the console
(pushgen/console.py) decides where the text goes.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal, Protocol

from .errors import Diagnostic, counted

__all__ = [
    "OUTCOME_SCHEMA_ID",
    "OUTCOME_VERSION",
    "Outcome",
    "Status",
    "Summary",
    "outcome_schema",
    "outcome_schema_text",
    "summary_line",
    "workflow_command",
]

OUTCOME_VERSION = 1
OUTCOME_SCHEMA_ID = "https://pushgen.invalid/schemas/outcome-1.json"

# ok: done, exit 0. errors: done and written, but the input has errors (exit 1).
# failed: nothing written (an error stopped it, or --strict). stale: --check found
# the manifest on disk differs from a fresh build (exit 1).
Status = Literal["ok", "errors", "failed", "stale"]


def summary_line(
    *, pages: int, assets: int, routes: int, warnings: int, errors: int, seconds: float
) -> str:
    """The one line a build or a scan ends with."""
    counts = ((pages, "page"), (assets, "asset"), (routes, "route"))
    problems = ((warnings, "warning"), (errors, "error"))
    listed = ", ".join(counted(n, noun) for n, noun in (*counts, *problems))
    return f"{listed} in {seconds:.2f}s"


class _Result(Protocol):
    """What a build's result (pushgen/build/result.py, for every source) gives a summary."""

    diagnostics: list[Diagnostic]
    seconds: float

    @property
    def manifest(self) -> Any: ...

    @property
    def page_count(self) -> int: ...

    @property
    def asset_count(self) -> int: ...

    @property
    def route_count(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Summary:
    """The counts a command ends with; what it does not count is None (``check`` has no pages)."""

    warnings: int
    errors: int
    pages: int | None = None
    assets: int | None = None
    routes: int | None = None
    seconds: float | None = None

    @classmethod
    def of_diagnostics(cls, diagnostics: list[Diagnostic]) -> Summary:
        errors = sum(d.severity == "error" for d in diagnostics)
        return cls(warnings=len(diagnostics) - errors, errors=errors)

    @classmethod
    def of_result(cls, result: _Result) -> Summary:
        """The summary of a build or a scan, counted as its one-line summary counts it."""
        counts = cls.of_diagnostics(result.diagnostics)
        return cls(
            warnings=counts.warnings,
            errors=counts.errors,
            pages=result.page_count,
            assets=result.asset_count,
            routes=result.route_count,
            seconds=result.seconds,
        )

    def __str__(self) -> str:
        """The closing line: ``3 pages, 4 assets, 3 routes, 0 warnings, 0 errors in 0.12s``."""
        if self.pages is None or self.assets is None or self.routes is None:
            return f"{counted(self.errors, 'error')}, {counted(self.warnings, 'warning')}"
        return summary_line(
            pages=self.pages,
            assets=self.assets,
            routes=self.routes,
            warnings=self.warnings,
            errors=self.errors,
            seconds=self.seconds or 0.0,
        )


@dataclass(frozen=True, slots=True)
class Outcome:
    """One command's outcome, as ``--format json`` prints it."""

    command: str  # "build", "build --app", "scan", "check"
    status: Status
    exit_code: int
    diagnostics: tuple[Diagnostic, ...]
    summary: Summary
    manifest: str | None = None
    written: bool = False
    unchanged: bool = False  # a rebuild that found nothing to do
    diff: str | None = None  # --check: the unified diff when stale
    phases: dict[str, float] | None = None  # a build's phases, in seconds

    def to_json(self) -> dict[str, Any]:
        summary = {k: v for k, v in asdict(self.summary).items() if v is not None}
        if "seconds" in summary:
            summary["seconds"] = round(summary["seconds"], 3)
        return {
            "$schema": OUTCOME_SCHEMA_ID,
            "version": OUTCOME_VERSION,
            "command": self.command,
            "status": self.status,
            "exit_code": self.exit_code,
            "diagnostics": [_diagnostic(d) for d in self.diagnostics],
            "summary": summary,
            "manifest": self.manifest,
            "written": self.written,
            "unchanged": self.unchanged,
            "diff": self.diff,
            "phases": {k: round(v, 3) for k, v in (self.phases or {}).items()},
        }

    def text(self) -> str:
        """The document, one line of JSON and a newline."""
        return json.dumps(self.to_json(), ensure_ascii=False) + "\n"


def _diagnostic(diagnostic: Diagnostic) -> dict[str, Any]:
    return {
        "file": _printable(diagnostic.file),
        "line": diagnostic.line,
        "column": diagnostic.column,
        "severity": diagnostic.severity,
        # Diagnostics carry no code yet; the key is there so a CI config that
        # reads it does not change when they do.
        "code": None,
        "message": _printable(diagnostic.message),
    }


def _printable(text: str) -> str:
    # A file name that is not UTF-8 arrives as surrogate escapes (PEP 383), which
    # no JSON encoder can write as UTF-8: its bytes are shown as \xNN, as Diagnostic does.
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


# Workflow commands: https://docs.github.com/en/actions/reference/workflow-commands-for-github-actions
# A message escapes %, CR and LF; a property also ':' and ',' (the runner's own escaping).
_DATA_ESCAPES = str.maketrans({"%": "%25", "\r": "%0D", "\n": "%0A"})
_PROPERTY_ESCAPES = str.maketrans({"%": "%25", "\r": "%0D", "\n": "%0A", ":": "%3A", ",": "%2C"})


def workflow_command(diagnostic: Diagnostic, title: str = "pushgen") -> str:
    """``::warning file=F,line=L,col=C,title=T::message``: an annotation on the line in GitHub Actions."""
    properties = [("file", _printable(diagnostic.file))]
    if diagnostic.line:
        properties.append(("line", str(diagnostic.line)))
        if diagnostic.column:
            properties.append(("col", str(diagnostic.column)))
    properties.append(("title", title))
    joined = ",".join(f"{key}={value.translate(_PROPERTY_ESCAPES)}" for key, value in properties)
    message = _printable(diagnostic.message).translate(_DATA_ESCAPES)
    return f"::{diagnostic.severity} {joined}::{message}"


@cache
def outcome_schema_text() -> str:
    """The JSON Schema of the ``--format json`` document (shipped as pushgen/outcome.schema.json)."""
    return (resources.files("pushgen") / "outcome.schema.json").read_text(encoding="utf-8")


def outcome_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(outcome_schema_text())
    return schema
