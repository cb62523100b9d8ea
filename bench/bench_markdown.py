"""Writing a benchmark's table into docs/performance.md between its own markers."""

from __future__ import annotations

from pathlib import Path


def put_block(path: Path, name: str, body: str, *, missing: str = "") -> None:
    """Put ``body`` between ``<!-- NAME:begin -->`` and ``<!-- NAME:end -->`` in ``path``.

    Everything outside the markers is left as it is, so each benchmark rewrites only
    its own table. Without the markers (or the file), ``missing`` and the block are
    appended.
    """
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    block = f"{begin}\n{body}\n{end}"
    doc = path.read_text() if path.exists() else ""
    if begin in doc and end in doc:
        doc = doc.split(begin)[0] + block + doc.split(end, 1)[1]
    else:
        doc = doc.rstrip("\n") + ("\n\n" if doc else "") + missing + block + "\n"
    path.write_text(doc)
