"""The result of ``pushgen verify``: every route's verdict, as text and as JSON (version 1).

The JSON (``pushgen verify --json``, read back by ``pushgen report --verify``) is
:meth:`VerifyResult.to_json`; :func:`schema` is its JSON Schema
(``pushgen/verify/schema.json``, documented in docs/verify.md), and
:meth:`VerifyResult.from_json` reads it back, checked against that schema.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import PushgenError, counted
from .browser import Fetched
from .compare import Duplicate, Miss, Needless, RouteVerdict

__all__ = ["RESULT_VERSION", "VerifyResult", "VerifyResultError", "render_verdict", "schema"]

RESULT_VERSION = 1
TOOL = "pushgen verify"
_SCHEMA = Path(__file__).with_name("schema.json")


class VerifyResultError(PushgenError):
    """A verify result file that is not JSON or does not follow the schema; ``file`` names it."""

    def __init__(self, file: str, message: str) -> None:
        self.file = file
        super().__init__(f"{file}: {message}")


@functools.cache
def schema() -> Mapping[str, Any]:
    """The JSON Schema (draft 2020-12) of :meth:`VerifyResult.to_json`."""
    loaded: Mapping[str, Any] = json.loads(_SCHEMA.read_text(encoding="utf-8"))
    return loaded


def _fetched_json(f: Fetched) -> dict[str, Any]:
    return {
        "path": f.path,
        "type": f.resource_type,
        "initiator": f.initiator,
        "from_early_hints": f.from_early_hints,
        "bytes": f.encoded_bytes,
        "render_blocking": f.render_blocking,
    }


def _route_json(v: RouteVerdict) -> dict[str, Any]:
    return {
        "route": v.route,
        "status": v.status,
        "protocol": v.protocol,
        "ok": v.ok,
        "misses": [{"path": m.path, "type": m.type, "why": m.why} for m in v.misses],
        "needless": [{"path": n.path, "state": n.state, "why": n.why} for n in v.needless],
        "duplicates": [{"path": d.path, "count": d.count} for d in v.duplicates],
        "early_hints": list(v.early_hints),
        "preload_warnings": list(v.preload_warnings),
        "fetched": [_fetched_json(f) for f in v.fetched],
    }


def _route_from_json(data: Mapping[str, Any]) -> RouteVerdict:
    return RouteVerdict(
        route=data["route"],
        status=data["status"],
        protocol=data["protocol"],
        misses=tuple(Miss(m["path"], m["type"], m["why"]) for m in data["misses"]),
        needless=tuple(Needless(n["path"], n["state"], n["why"]) for n in data["needless"]),
        duplicates=tuple(Duplicate(d["path"], d["count"]) for d in data["duplicates"]),
        early_hints=tuple(data["early_hints"]),
        preload_warnings=tuple(data["preload_warnings"]),
        fetched=tuple(
            Fetched(
                path=f["path"],
                resource_type=f["type"],
                initiator=f["initiator"],
                initiator_url="",
                status=0,
                render_blocking=f["render_blocking"],
                from_early_hints=f["from_early_hints"],
                encoded_bytes=f["bytes"],
            )
            for f in data["fetched"]
        ),
    )


def _schema_problem(data: Any) -> str | None:
    """The first way ``data`` breaks :func:`schema`, or None.

    jsonschema is not a dependency of pushgen: without it only the version is
    checked here, and a missing key is caught while reading.
    """
    if not isinstance(data, dict) or data.get("version") != RESULT_VERSION:
        found = data.get("version") if isinstance(data, dict) else None
        return f"its version is {json.dumps(found)}, this pushgen reads version {RESULT_VERSION}"
    try:
        import jsonschema  # type: ignore[import-untyped]
    except ImportError:
        return None
    errors = sorted(
        jsonschema.Draft202012Validator(schema()).iter_errors(data),
        key=lambda e: [str(p) for p in e.absolute_path],
    )
    if not errors:
        return None
    first = errors[0]
    where = "/".join(str(p) for p in first.absolute_path) or "(top)"
    return f"at {where}: {first.message}"


def _plural(n: int, noun: str) -> str:
    if noun == "miss":
        return f"{n} miss" if n == 1 else f"{n} misses"
    return f"{n} {noun}" if noun == "needless" else counted(n, noun)


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """Every verified route of one manifest, in the order loaded."""

    manifest: str
    browser: str
    routes: tuple[RouteVerdict, ...]
    # Filled by `--timing` (pushgen/verify/timing.py): medians in round trips.
    timing: Mapping[str, Any] | None = field(default=None)

    @property
    def ok(self) -> bool:
        return all(v.ok for v in self.routes)

    def counts(self) -> dict[str, int]:
        """Findings over every route: misses, needless entries, duplicates, preload warnings."""
        return {
            "misses": sum(len(v.misses) for v in self.routes),
            "needless": sum(len(v.needless) for v in self.routes),
            "duplicates": sum(len(v.duplicates) for v in self.routes),
            "preload_warnings": sum(len(v.preload_warnings) for v in self.routes),
        }

    def summary(self) -> str:
        """``6 routes, 0 misses, 0 needless, 0 duplicates, 0 preload warnings``."""
        counts = self.counts()
        nouns = (
            ("misses", "miss"),
            ("needless", "needless"),
            ("duplicates", "duplicate"),
            ("preload_warnings", "preload warning"),
        )
        found = ", ".join(_plural(counts[key], noun) for key, noun in nouns)
        return f"{counted(len(self.routes), 'route')}, {found}"

    def to_json(self) -> dict[str, Any]:
        """The result as the JSON contract (version 1) describes it."""
        return {
            "version": RESULT_VERSION,
            "tool": TOOL,
            "manifest": self.manifest,
            "browser": self.browser,
            "routes": [_route_json(v) for v in self.routes],
            "summary": {
                "routes": len(self.routes),
                **{k: v for k, v in self.counts().items() if k != "preload_warnings"},
                "ok": self.ok,
            },
            "timing": dict(self.timing) if self.timing is not None else None,
        }

    @classmethod
    def from_json(cls, data: Any, *, file: str = "verify result") -> VerifyResult:
        """Read :meth:`to_json`'s output back; :class:`VerifyResultError` when it does not fit."""
        problem = _schema_problem(data)
        if problem is None:
            try:
                return cls(
                    manifest=data["manifest"],
                    browser=data["browser"],
                    routes=tuple(_route_from_json(r) for r in data["routes"]),
                    timing=data["timing"],
                )
            except (KeyError, TypeError, AttributeError) as exc:
                problem = f"a key is missing or of the wrong kind: {exc}"
        raise VerifyResultError(
            file,
            f"not a pushgen verify result (version {RESULT_VERSION}): {problem};"
            " write it with `pushgen verify --json`",
        )

    @classmethod
    def read(cls, path: str | Path) -> VerifyResult:
        """:meth:`from_json` of a file; a file that is missing or not JSON is a located error."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise VerifyResultError(str(path), f"cannot read it: {exc.strerror or exc}") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            line = f"{exc.lineno}:{exc.colno}: " if isinstance(exc, json.JSONDecodeError) else ""
            raise VerifyResultError(f"{path}", f"{line}not JSON: {exc}") from None
        return cls.from_json(data, file=str(path))

    def render(self) -> str:
        """The per-route report ``pushgen verify`` prints on standard error."""
        return "".join(render_verdict(v) for v in self.routes)


def render_verdict(v: RouteVerdict) -> str:
    """One route's lines of the report: a head line, then each finding on a line of its own."""
    found = [
        (len(v.misses), "miss"),
        (len(v.needless), "needless"),
        (len(v.duplicates), "duplicate"),
        (len(v.preload_warnings), "preload warning"),
    ]
    problems = ", ".join(_plural(n, noun) for n, noun in found if n)
    state = "ok" if v.ok else "FAILED"
    status = "" if v.status == 200 else f"; the page answered {v.status or 'nothing'}"
    head = (
        f"{v.route} ({v.protocol or '?'}): {state}{status}; {len(v.fetched)} fetched, "
        f"{len(v.early_hints)} from the 103" + (f"; {problems}" if problems else "")
    )
    lines = [head]
    lines.extend(f"  miss      {m.type:<6} {m.path}: {m.why}" for m in v.misses)
    lines.extend(f"  needless  {n.state:<6} {n.path}: {n.why}" for n in v.needless)
    lines.extend(
        f"  duplicate        {d.path}: requested {d.count} times (a hint whose as, crossorigin"
        " or URL form differs from the page's request?)"
        for d in v.duplicates
    )
    lines.extend(f"  warning          {w}" for w in v.preload_warnings)
    return "\n".join(lines) + "\n"
