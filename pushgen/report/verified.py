"""The result of ``pushgen verify --json``, read for ``pushgen report --verify``.

The format is the one ``pushgen/verify/result.py`` writes (version 1: per route
the misses, needless entries, duplicates, what the 103 served and everything the
browser fetched). Until that module is on main, this reader stands in for its
``VerifyResult.read``: its values carry the same names (``RouteVerdict``,
``Miss``, ``Needless``, ``Duplicate``, a fetched request's ``resource_type`` and
``encoded_bytes``), so that switching is an import. It takes only what the report
draws, ignores keys it does not know, and says where a file is not such a result:
``RESULT.json: routes[2].misses[0]: path is not a string``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import PushgenError

__all__ = [
    "Duplicate",
    "Fetched",
    "Miss",
    "Needless",
    "RouteVerdict",
    "VerifyResult",
    "VerifyResultError",
    "read_verify_result",
]

_VERSION = 1


class VerifyResultError(PushgenError):
    """A ``--verify`` file is not a result of ``pushgen verify --json``; says where."""

    def __init__(self, file: str, where: str, message: str) -> None:
        self.file, self.where, self.message = file, where, message
        place = f"{file}: {where}" if where else file
        super().__init__(
            f"{place}: {message} (expected the output of `pushgen verify --json`, version 1)"
        )


@dataclass(frozen=True, slots=True)
class Miss:
    """A render-blocking asset the page fetched that the manifest neither pushes nor hints."""

    path: str
    type: str
    why: str


@dataclass(frozen=True, slots=True)
class Needless:
    """An entry the manifest pushes or hints that the page never fetched."""

    path: str
    state: str
    why: str


@dataclass(frozen=True, slots=True)
class Duplicate:
    """A URL the browser fetched more than once."""

    path: str
    count: int


@dataclass(frozen=True, slots=True)
class Fetched:
    """One request of the page load, as the browser made it."""

    path: str
    resource_type: str
    initiator: str
    from_early_hints: bool
    encoded_bytes: int
    render_blocking: str


@dataclass(frozen=True, slots=True)
class RouteVerdict:
    """What the browser did for one route."""

    route: str
    status: int
    protocol: str
    ok: bool
    misses: tuple[Miss, ...]
    needless: tuple[Needless, ...]
    duplicates: tuple[Duplicate, ...]
    early_hints: tuple[str, ...]
    preload_warnings: tuple[str, ...]
    fetched: tuple[Fetched, ...]


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """A whole ``pushgen verify --json`` result."""

    manifest: str
    browser: str
    routes: tuple[RouteVerdict, ...]

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.routes)


class _Reader:
    """Typed access to decoded JSON that names the place of anything wrong."""

    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, where: str, message: str) -> VerifyResultError:
        return VerifyResultError(self.file, where, message)

    def obj(self, value: object, where: str) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, "is not an object")
        return value

    def items(self, data: Mapping[str, Any], key: str, where: str) -> list[Any]:
        value = data.get(key, [])
        if not isinstance(value, list):
            raise self.fail(where, f"{key} is not a list")
        return value

    def text(
        self, data: Mapping[str, Any], key: str, where: str, default: str | None = None
    ) -> str:
        value = data.get(key, default)
        if not isinstance(value, str):
            raise self.fail(where, f"{key} is {'missing' if value is None else 'not a string'}")
        return value

    def number(self, data: Mapping[str, Any], key: str, where: str) -> int:
        value = data.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(where, f"{key} is not a whole number")
        return value

    def flag(self, data: Mapping[str, Any], key: str, where: str) -> bool:
        value = data.get(key, False)
        if not isinstance(value, bool):
            raise self.fail(where, f"{key} is not true or false")
        return value

    def strings(self, data: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
        values = self.items(data, key, where)
        for i, value in enumerate(values):
            if not isinstance(value, str):
                raise self.fail(f"{where}.{key}[{i}]", "is not a string")
        return tuple(values)


def _route(read: _Reader, value: object, where: str) -> RouteVerdict:
    data = read.obj(value, where)

    def each(key: str) -> list[tuple[Mapping[str, Any], str]]:
        return [
            (read.obj(item, f"{where}.{key}[{i}]"), f"{where}.{key}[{i}]")
            for i, item in enumerate(read.items(data, key, where))
        ]

    return RouteVerdict(
        route=read.text(data, "route", where),
        status=read.number(data, "status", where),
        protocol=read.text(data, "protocol", where, ""),
        ok=read.flag(data, "ok", where),
        misses=tuple(
            Miss(read.text(m, "path", w), read.text(m, "type", w, ""), read.text(m, "why", w, ""))
            for m, w in each("misses")
        ),
        needless=tuple(
            Needless(
                read.text(n, "path", w), read.text(n, "state", w, ""), read.text(n, "why", w, "")
            )
            for n, w in each("needless")
        ),
        duplicates=tuple(
            Duplicate(read.text(d, "path", w), read.number(d, "count", w))
            for d, w in each("duplicates")
        ),
        early_hints=read.strings(data, "early_hints", where),
        preload_warnings=read.strings(data, "preload_warnings", where),
        fetched=tuple(
            Fetched(
                read.text(f, "path", w),
                read.text(f, "type", w, ""),
                read.text(f, "initiator", w, ""),
                read.flag(f, "from_early_hints", w),
                read.number(f, "bytes", w),
                read.text(f, "render_blocking", w, ""),
            )
            for f, w in each("fetched")
        ),
    )


def read_verify_result(path: str | os.PathLike[str]) -> VerifyResult:
    """Read a ``pushgen verify --json`` file; :class:`VerifyResultError` says what is wrong."""
    name = os.fspath(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise VerifyResultError(name, "", f"cannot be read ({exc})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise VerifyResultError(f"{name}:{exc.lineno}:{exc.colno}", "", exc.msg) from None
    read = _Reader(name)
    top = read.obj(data, "the top level")
    if top.get("version") != _VERSION:
        raise read.fail("version", f"is {top.get('version')!r}, not {_VERSION}")
    return VerifyResult(
        manifest=read.text(top, "manifest", "the top level", ""),
        browser=read.text(top, "browser", "the top level", ""),
        routes=tuple(
            _route(read, item, f"routes[{i}]")
            for i, item in enumerate(read.items(top, "routes", "the top level"))
        ),
    )
