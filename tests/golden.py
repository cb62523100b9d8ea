"""Golden files: the one check every golden test uses, and the scanners' row format.

``PUSHGEN_UPDATE_GOLDEN=1`` rewrites the files instead of failing; review the diff.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pushgen.model import ScanResult

Row = tuple[str, str, str, int, dict[str, Any]]


def rows(result: ScanResult) -> list[Row]:
    """(path or URL, destination, kind, line, non-default attributes) per reference."""
    out: list[Row] = []
    for ref in result.references:
        extra: dict[str, Any] = {
            key: value
            for key, value in (
                ("type", ref.type),
                ("crossorigin", ref.crossorigin),
                ("media", ref.media),
                ("module", ref.module),
            )
            if value
        }
        out.append((ref.path if ref.local else ref.url, ref.destination, ref.kind, ref.line, extra))
    return out


def golden_text(actual: dict[str, list[Any]]) -> str:
    """The expected-output file: JSON with one reference or diagnostic per line."""
    parts = []
    for key, items in actual.items():
        body = ",\n".join("  " + json.dumps(item, ensure_ascii=False) for item in items)
        parts.append(f' "{key}": [\n{body}\n ]' if items else f' "{key}": []')
    return "{\n" + ",\n".join(parts) + "\n}\n"


def check_golden_text(expected_file: Path, actual: str) -> None:
    """``actual`` must be the file's text (with PUSHGEN_UPDATE_GOLDEN set, it is written first)."""
    if os.environ.get("PUSHGEN_UPDATE_GOLDEN"):
        expected_file.write_text(actual, encoding="utf-8")
    expected = expected_file.read_text(encoding="utf-8")
    assert actual == expected, f"{expected_file.name} differs (PUSHGEN_UPDATE_GOLDEN=1 rewrites it)"


def check_golden(result: ScanResult, found: Sequence[Sequence[Any]], expected_file: Path) -> None:
    """Compare ``found`` (rows of ``result``'s references) and its diagnostics with the file."""
    actual: dict[str, list[Any]] = {
        "references": [list(row) for row in found],
        "diagnostics": [str(d) for d in result.diagnostics],
    }
    check_golden_text(expected_file, golden_text(actual))
