"""Every relative link in README.md and docs/ leads somewhere (issue 23).

A link to a file must name a file of the checkout; a link with ``#anchor`` must
name a heading of its target, spelled as GitHub makes heading anchors (lower
case, punctuation dropped, spaces to ``-``). README once linked
``performance-compress.md``, which never existed.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = sorted(
    [ROOT / "README.md", *(ROOT / "docs").glob("*.md"), *(ROOT / "examples").glob("*/README.md")]
)
# [text](target) outside code spans and fences; images too.
_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
_FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"`[^`\n]*`")
_HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$", re.MULTILINE)


def anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: ``### (c) Change an entry's attributes`` -> ``c-change-an-entrys-attributes``."""
    text = re.sub(r"`", "", heading).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(document: Path) -> set[str]:
    text = _FENCE.sub("", document.read_text(encoding="utf-8"))
    found: set[str] = set()
    for heading in _HEADING.findall(text):
        base = anchor(heading)
        name, n = base, 1
        while name in found:  # GitHub numbers repeated headings: name, name-1, ...
            name, n = f"{base}-{n}", n + 1
        found.add(name)
    return found


def links(document: Path) -> list[str]:
    text = _FENCE.sub("", document.read_text(encoding="utf-8"))
    text = _CODE_SPAN.sub("", text)
    return [
        target
        for target in _LINK.findall(text)
        if not re.match(r"[a-z][a-z0-9+.-]*:", target)  # https:, mailto:
    ]


def test_anchor_spelling() -> None:
    assert anchor("(c) Change an entry's attributes") == "c-change-an-entrys-attributes"
    assert anchor("`pushgen explain ROUTE`") == "pushgen-explain-route"
    assert anchor("Site defaults: pushgen.yaml") == "site-defaults-pushgenyaml"


def test_the_documents_have_links() -> None:
    assert ROOT / "README.md" in DOCUMENTS
    assert sum(len(links(document)) for document in DOCUMENTS) > 20


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(document: Path) -> None:
    broken = []
    for target in links(document):
        path, _, fragment = target.partition("#")
        dest = (document.parent / path).resolve() if path else document
        if not dest.exists():
            broken.append(f"{target}: no file {dest.relative_to(ROOT.resolve())}")
        elif fragment and dest.suffix == ".md" and fragment not in anchors(dest):
            broken.append(f"{target}: no heading #{fragment} in {dest.name}")
    assert broken == []
