"""``pushgen import`` reads a push_manifest.json in work linear in its keys (issue 22).

Where each key is reported (``line:col``) was found by counting the file's lines
from its start for every key: quadratic. The work is counted, not timed: the
characters the importer's string searches examine, through a ``str`` that tallies
them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import SupportsIndex

import pytest

from pushgen.cli import main
from pushgen.export.push_manifest import import_push_manifest


class _Tallied(str):
    """A ``str`` that adds up the characters its searches and counts are asked to examine."""

    examined = 0

    def _span(self, start: SupportsIndex | None, end: SupportsIndex | None) -> None:
        low, high, _ = slice(start, end).indices(len(self))
        _Tallied.examined += max(0, high - low)

    def count(
        self, sub: str, start: SupportsIndex | None = None, end: SupportsIndex | None = None
    ) -> int:
        self._span(start, end)
        return super().count(sub, start, end)

    def find(
        self, sub: str, start: SupportsIndex | None = None, end: SupportsIndex | None = None
    ) -> int:
        self._span(start, end)
        return super().find(sub, start, end)

    def rfind(
        self, sub: str, start: SupportsIndex | None = None, end: SupportsIndex | None = None
    ) -> int:
        self._span(start, end)
        return super().rfind(sub, start, end)


def _document(routes: int) -> str:
    """A minified push_manifest.json (one line, as build tools write it) of ``routes`` pages."""
    data = {
        f"/page{i}.html": {f"/static/p{i}.css": {"type": "style", "weight": 1}}
        for i in range(routes)
    }
    return json.dumps(data, separators=(",", ":"))


def _examined(routes: int) -> int:
    _Tallied.examined = 0
    result = import_push_manifest(_Tallied(_document(routes)))
    assert result.ok and len(result.routes) == routes
    return _Tallied.examined


def test_four_times_the_keys_is_at_most_four_times_the_work() -> None:
    small, large = _examined(500), _examined(2_000)
    # Linear: 4x (plus the line-counting slack); c19f3c3 examined 16x.
    assert large <= 4.5 * small, (small, large)
    # And no more than a few passes over the text itself.
    assert large <= 4 * len(_document(2_000))


def test_keys_written_with_escapes_are_located(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # JSON may escape '/' (PHP's json_encode does) and any character as \\uXXXX.
    text = (
        "{\n"
        '  "\\/index.html": {"\\/a.css": {"type": "style"}},\n'
        '  "\\/caf\\u00e9.html": {"https:\\/\\/cdn.example\\/x.js": {"type": "script"}}\n'
        "}\n"
    )
    source = tmp_path / "push_manifest.json"
    source.write_text(text)
    code = main(["import", str(source), "-o", str(tmp_path / "push-manifest.yaml")])
    assert code == 0
    err = capsys.readouterr().err
    # The resource on another origin is skipped with a warning at its own line and column.
    assert (
        f"{source}:3:24: warning: resource 'https://cdn.example/x.js' is on another origin" in err
    )
