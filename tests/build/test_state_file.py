"""The incremental state is plain data that cannot run code; a bad one means a full build
(issue 11, item 6)."""

from __future__ import annotations

import json
import os
import pickle
import re
import shutil
from pathlib import Path

import pytest

from pushgen.build import build_site
from pushgen.build.incremental import BuildState, StateDamage, load_state
from pushgen.config import load_config
from tests.sites import SMALL_SITE, write_site


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = write_site(tmp_path / "site", SMALL_SITE)
    build_site(load_config(root), jobs=1)
    build_site(load_config(root), jobs=1)  # a spare too
    return root


def state_file(site: Path) -> Path:
    return site / "._site.state"


def snapshot(site: Path) -> dict[str, bytes]:
    out = {
        str(p.relative_to(site)): p.read_bytes()
        for p in sorted((site / "_site").rglob("*"))
        if p.is_file()
    }
    out["manifest"] = (site / "push-manifest.yaml").read_bytes()
    return out


def full_build_of_a_copy(site: Path, tmp_path: Path) -> dict[str, bytes]:
    fresh = tmp_path / "fresh" / "site"
    shutil.copytree(site, fresh, ignore=shutil.ignore_patterns("_site", "._site*", "push-*"))
    build_site(load_config(fresh), jobs=1, full=True)
    return snapshot(fresh)


def part_file(site: Path, name: str) -> Path:
    """The file of the state's part ``name`` (see incremental.save_state)."""
    parts = header(site)["parts"]
    assert isinstance(parts, dict)
    return site / "._site.state.d" / str(parts[name])


def header(site: Path) -> dict[str, object]:
    line = state_file(site).read_bytes().partition(b"\n")[0]
    value = json.loads(line)
    assert isinstance(value, dict)
    return value


def rewrite_header(site: Path, **changes: object) -> None:
    data = state_file(site).read_bytes()
    line, _, rest = data.partition(b"\n")
    state_file(site).write_bytes(
        json.dumps({**json.loads(line), **changes}).encode() + b"\n" + rest
    )


class _Payload:
    """What an attacker who can write the output's parent folder leaves as the state."""

    def __init__(self, proof: Path) -> None:
        self.proof = proof

    def __reduce__(self) -> tuple[object, ...]:
        return (os.mkdir, (str(self.proof),))


def test_the_state_is_json_and_loads(site: Path) -> None:
    assert header(site)["format"]
    state = load_state(load_config(site))
    assert isinstance(state, BuildState)
    assert set(state.pages) == {"index.html", "about.html", "docs/index.html"}


def test_a_pickle_put_in_place_of_the_state_runs_nothing(site: Path, tmp_path: Path) -> None:
    proof = tmp_path / "code-ran"
    state_file(site).write_bytes(pickle.dumps(_Payload(proof)))
    result = build_site(load_config(site), jobs=1)  # on main: os.mkdir ran here
    assert not proof.exists()
    assert result.rendered == 3  # no state: a full build
    assert snapshot(site) == full_build_of_a_copy(site, tmp_path)


@pytest.mark.parametrize(
    "damage",
    [
        "truncated",
        "garbage",
        "empty",
        "spare outside",
        "bad part lengths",
        "wrong types",
        "escaping static path",
        "asset index out of range",
        "deep nesting",
    ],
)
def test_a_state_that_fails_to_validate_means_a_full_build(
    site: Path, tmp_path: Path, damage: str
) -> None:
    path = state_file(site)
    data = path.read_bytes()
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("keep")
    if damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        path.write_bytes(b"\x80\x04not json")
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "spare outside":
        rewrite_header(site, spare="../../victim")
    elif damage == "bad part lengths":
        rewrite_header(site, parts=[["templates", 10**9]])
    elif damage == "wrong types":
        part = part_file(site, "page_files")
        part.write_bytes(re.sub(rb"\[(\d+),", rb'["\1",', part.read_bytes(), count=1))
    elif damage == "escaping static path":
        part = part_file(site, "static")
        part.write_bytes(
            part.read_bytes().replace(
                b'"static/css/site.css"', b'"static/../../../victim/keep.txt"'
            )
        )
    elif damage == "asset index out of range":
        part_file(site, "assets").write_bytes(b"[]")
    else:
        path.write_bytes(b"[" * 100_000 + b"]" * 100_000)
    assert isinstance(load_state(load_config(site)), StateDamage)
    (site / "pages" / "about.html").write_text("<p>changed</p>")
    result = build_site(load_config(site), jobs=1)
    assert result.rendered == 3
    assert (victim / "keep.txt").read_text() == "keep"
    assert snapshot(site) == full_build_of_a_copy(site, tmp_path)
    assert isinstance(load_state(load_config(site)), BuildState)  # written anew


def test_pages_sharing_a_layout_share_its_references_in_the_state() -> None:
    # Issue 27 (100,000 pages): each page's compact scan held a tuple of its own
    # for every reference; the state holds each distinct reference once, whichever
    # form the scan came in (a worker's tuples or the serial render's ScanResult).
    from pushgen.build.state import AssetTable, PageState, scan_tuple
    from pushgen.scan.html import scan_html
    from pushgen.urls import document_url

    layout = '<!doctype html><link rel=stylesheet href="/site.css"><script src="/app.js"></script>'
    table = AssetTable()
    pages = []
    for i in range(40):
        html = f'{layout}<img src="/img/{i}.png">'
        scan = scan_html(html, document_url(f"/p{i}/index.html"), filename=f"p{i}.html")
        given = scan if i % 2 else scan_tuple(scan)
        pages.append(PageState.make(given, [], set(), (), table))
    held = [ref for page in pages for ref in page.saved_scan()[0]]  # type: ignore[index]
    assert len(held) == 120
    assert len({id(ref) for ref in held}) == len(set(held)) == 42
