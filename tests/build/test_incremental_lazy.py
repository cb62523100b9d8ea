"""A rebuild decodes the saved scans only of the pages it resolves again, and checks
them then: a forged scan that fails is refused there, and the build starts again as
a full one (issue 17; issue 11 for why the state is checked at all)."""

from __future__ import annotations

import json
import zlib
from pathlib import Path
from typing import Any

import pytest

from pushgen.build import BuildResult, build_site
from pushgen.build.incremental import (
    _PAGE_SHARDS,
    BuildState,
    StateDamage,
    load_state,
    state_path,
)
from pushgen.build.state_files import part_file
from pushgen.config import load_config
from tests.build.test_incremental import MORE_PAGES, assert_same_as_full_build
from tests.sites import SMALL_SITE, write_site

ALL_PAGES = 3 + len(MORE_PAGES)

# The warning of a rebuild whose saved scan failed its checks where it was used.
BUILT_EVERYTHING = "this build built everything"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = write_site(tmp_path / "site", {**SMALL_SITE, **MORE_PAGES})
    build_site(load_config(root), jobs=1)
    build_site(load_config(root), jobs=1)  # a spare too
    return root


def rebuild(site: Path) -> BuildResult:
    return build_site(load_config(site), jobs=1)


def header_of(site: Path) -> dict[str, Any]:
    value = json.loads(state_path(load_config(site)).read_bytes())
    assert isinstance(value, dict)
    return value


def part_path(site: Path, name: str) -> Path:
    return site / "._site.state.d" / str(header_of(site)["parts"][name])


def put_part(site: Path, name: str, blob: bytes) -> None:
    """Make ``blob`` the part ``name``, in a file named as save_state names it (as
    someone who can write the state's folder can)."""
    header = header_of(site)
    file = part_file(name, blob)
    (site / "._site.state.d" / file).write_bytes(blob)
    header["parts"][name] = file
    state_path(load_config(site)).write_bytes(json.dumps(header).encode())


def plant_scans(site: Path, shards: list[int], scan: object) -> None:
    """Give every page of ``shards`` the scan ``scan``."""
    for i in shards:
        pages = json.loads(part_path(site, f"scans-{i}").read_bytes())
        put_part(site, f"scans-{i}", json.dumps({source: scan for source in pages}).encode())


def shard_of(site: Path, source: str) -> int:
    state = load_state(load_config(site))
    assert isinstance(state, BuildState)
    return next(i for i, pages in enumerate(state._shards) if source in pages)


FORGED = [[["not", "a", "reference"]], [], 42]


def every_shard(site: Path) -> list[int]:
    return list(range(_PAGE_SHARDS))


def scan_files(site: Path) -> dict[str, str]:
    return {k: v for k, v in header_of(site)["parts"].items() if k.startswith("scans-")}


def test_a_rebuild_that_changed_nothing_decodes_no_saved_scan(site: Path, tmp_path: Path) -> None:
    plant_scans(site, every_shard(site), FORGED)
    before = scan_files(site)
    result = rebuild(site)
    # A forged scan fails the moment it is decoded: none was.
    assert result.rendered == 0
    assert_same_as_full_build(site, result, tmp_path)
    assert scan_files(site) == before


def test_a_damaged_scan_file_is_refused_when_used(site: Path, tmp_path: Path) -> None:
    # A byte changed that still decodes and checks: its hash no longer matches its name.
    path = part_path(site, f"scans-{shard_of(site, 'plain.html')}")
    data = path.read_bytes()
    assert b"docs.css" in data
    path.write_bytes(data.replace(b"docs.css", b"docs.cs5"))
    assert isinstance(load_state(load_config(site)), BuildState)
    (site / "static" / "css" / "docs.css").write_text('@import "extra.css";\n')
    (site / "static" / "css" / "extra.css").write_text("p { margin: 0 }\n")
    result = rebuild(site)
    assert result.rendered == ALL_PAGES
    assert_same_as_full_build(site, result, tmp_path, state_warning=BUILT_EVERYTHING)


def test_a_part_file_named_outside_the_folder_is_no_state(site: Path) -> None:
    header = header_of(site)
    header["parts"]["outputs"] = "../../outputs." + "0" * 24
    state_path(load_config(site)).write_bytes(json.dumps(header).encode())
    assert isinstance(load_state(load_config(site)), StateDamage)


def test_a_missing_part_file_is_no_state(site: Path) -> None:
    part_path(site, "templates").unlink()
    assert isinstance(load_state(load_config(site)), StateDamage)


def test_files_in_the_state_folder_that_are_not_parts_stay(site: Path) -> None:
    mine = site / "._site.state.d" / "notes.txt"
    mine.write_text("mine")
    (site / "pages" / "about.html").write_text("<p>changed</p>")
    rebuild(site)
    assert mine.read_text() == "mine"


def test_a_forged_scan_used_by_a_rebuild_means_a_full_build(site: Path, tmp_path: Path) -> None:
    plant_scans(site, every_shard(site), FORGED)
    assert isinstance(load_state(load_config(site)), BuildState)  # the scans are checked when used
    # New references in docs.css: the pages that use it are resolved again from
    # their saved scans (not rendered), and those fail their checks.
    (site / "static" / "css" / "docs.css").write_text('@import "extra.css";\n')
    (site / "static" / "css" / "extra.css").write_text("p { margin: 0 }\n")
    result = rebuild(site)
    assert result.rendered == ALL_PAGES
    assert "/static/css/extra.css" in [a.path for a in result.manifest.routes["/plain.html"]]
    assert_same_as_full_build(site, result, tmp_path, state_warning=BUILT_EVERYTHING)
    state = load_state(load_config(site))
    assert isinstance(state, BuildState)  # written anew, and every scan in it checks
    assert all(type(page.saved_scan()) is list for page in state.pages.values())


def test_a_forged_scan_beside_an_edited_page_leaves_no_state(site: Path, tmp_path: Path) -> None:
    # The edited page's shard is written anew with its neighbours' saved scans,
    # which fail their checks then: the output is right, and no state vouches for it.
    def shard(source: str) -> int:
        return zlib.crc32(source.encode()) % _PAGE_SHARDS

    neighbour = next(
        f"n/{i}.html" for i in range(10_000) if shard(f"n/{i}.html") == shard("p/3.html")
    )
    (site / "pages" / neighbour).parent.mkdir()
    (site / "pages" / neighbour).write_text("<link rel=stylesheet href=/static/css/docs.css>")
    rebuild(site)
    plant_scans(site, [shard_of(site, "p/3.html")], FORGED)
    (site / "pages" / "p" / "3.html").write_text("<p>changed</p>")
    result = rebuild(site)
    assert_same_as_full_build(
        site, result, tmp_path, state_warning="the next build will build everything"
    )
    assert not state_path(load_config(site)).exists()
    assert rebuild(site).rendered == ALL_PAGES + 1  # the neighbour too


def test_an_asset_table_with_an_entry_twice_is_no_state(site: Path) -> None:
    assets = json.loads(part_path(site, "assets").read_bytes())
    put_part(site, "assets", json.dumps([*assets, assets[0]]).encode())
    assert isinstance(load_state(load_config(site)), StateDamage)


@pytest.mark.parametrize("names", [[1], "ab", None])
def test_a_template_naming_what_is_not_a_name_is_no_state(site: Path, names: object) -> None:
    templates = json.loads(part_path(site, "templates").read_bytes())
    first = next(iter(templates))
    templates[first][4] = names
    put_part(site, "templates", json.dumps(templates).encode())
    assert isinstance(load_state(load_config(site)), StateDamage)


@pytest.mark.parametrize("touched", [[1], [["static/css/site.css"]], [{"a": 1}]])
def test_a_page_that_looked_at_what_is_not_a_path_is_no_state(site: Path, touched: object) -> None:
    # A page's touched paths are kept as saved (not hashed into a set at load, see
    # PageState.touched): each is checked to be a string there, so that a rebuild
    # that tests them against the files it finds changed never meets anything else.
    shard = next(
        i for i in range(_PAGE_SHARDS) if json.loads(part_path(site, f"pages-{i}").read_bytes())
    )
    pages = json.loads(part_path(site, f"pages-{shard}").read_bytes())
    for entry in pages.values():
        entry[1] = touched
    put_part(site, f"pages-{shard}", json.dumps(pages).encode())
    assert isinstance(load_state(load_config(site)), StateDamage)
    css = site / "static" / "css" / "site.css"
    css.write_text(css.read_text() + "\np { margin: 0 }\n")
    result = rebuild(site)
    assert result.rendered == ALL_PAGES
