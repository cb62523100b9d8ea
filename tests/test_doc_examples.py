"""The manifests shown in README.md and docs/manifest.md are what a build of site_example writes.

A fenced block right after ``<!-- build-output: site_example -->`` is a part of
the manifest the first build writes: its runs of lines between ``...`` lines
appear in the built file, in order. After ``<!-- build-entries: site_example
-->``, every entry line (``    - {...}``) of the block is one the build writes.
So an example cannot drift from the writer (issue 12 item 6: the docs showed
entries as hinted that the build writes with ``hint: false``).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from pushgen.build import build_site
from pushgen.config import load_config

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", ROOT / "docs" / "manifest.md"]
_BLOCK = re.compile(
    r"<!-- build-(?P<kind>output|entries): site_example -->\n```[a-z]*\n(?P<body>.*?)```",
    re.DOTALL,
)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> str:
    site = tmp_path_factory.mktemp("doc") / "site_example"
    shutil.copytree(
        ROOT / "site_example",
        site,
        ignore=shutil.ignore_patterns("_site", "push-manifest.yaml", ".*"),
    )
    return build_site(load_config(site)).manifest_text


def blocks() -> list[tuple[str, str, str]]:
    found = []
    for doc in DOCS:
        for match in _BLOCK.finditer(doc.read_text(encoding="utf-8")):
            found.append((doc.name, match.group("kind"), match.group("body")))
    return found


def test_the_docs_have_examples_from_builds() -> None:
    kinds = {(name, kind) for name, kind, _ in blocks()}
    assert kinds >= {("README.md", "entries"), ("manifest.md", "output")}


@pytest.mark.parametrize(("doc", "kind", "body"), blocks())
def test_a_doc_example_is_what_the_build_writes(built: str, doc: str, kind: str, body: str) -> None:
    if kind == "entries":
        entries = [line for line in body.splitlines() if line.lstrip().startswith("- {")]
        assert entries
        written = set(built.splitlines())
        assert [line for line in entries if line not in written] == []
        return
    position = 0
    for run in re.split(r"(?m)^ *\.\.\.\n", body):
        if not run:
            continue
        found = built.find(run, position)
        assert found >= 0, f"{doc}: not in the built manifest:\n{run}"
        position = found + len(run)


def test_the_example_manifest_is_what_the_build_writes(built: str) -> None:
    assert (ROOT / "site_example" / "push-manifest.yaml").read_text(encoding="utf-8") == built
