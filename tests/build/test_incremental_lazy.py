"""A rebuild decodes the saved scans only of the pages it resolves again, and checks
them then: a forged scan that fails is refused there, and the build starts again as
a full one (issue 17; issue 11 for why the state is checked at all)."""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import pytest

from pushgen.build import BuildResult, build_site
from pushgen.build.incremental import _PAGE_SHARDS, load_state, state_path
from pushgen.config import load_config
from tests.build.test_incremental import MORE_PAGES, assert_same_as_full_build
from tests.sites import SMALL_SITE, write_site

ALL_PAGES = 3 + len(MORE_PAGES)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = write_site(tmp_path / "site", {**SMALL_SITE, **MORE_PAGES})
    build_site(load_config(root), jobs=1)
    build_site(load_config(root), jobs=1)  # a spare too
    return root


def rebuild(site: Path) -> BuildResult:
    return build_site(load_config(site), jobs=1)


def read_state(site: Path) -> tuple[dict[str, object], dict[str, bytes]]:
    data = state_path(load_config(site)).read_bytes()
    line, _, rest = data.partition(b"\n")
    header = json.loads(line)
    blobs = {}
    offset = 0
    for name, length in header["parts"]:
        blobs[name] = rest[offset : offset + length]
        offset += length
    return header, blobs


def plant_scans(site: Path, shards: list[int], scan: object) -> None:
    """Give every page of ``shards`` the scan ``scan``, with the lengths and CRCs
    the header must have (as someone who writes the state file can)."""
    header, blobs = read_state(site)
    sums = list(header["scan_sums"])  # type: ignore[call-overload]
    for i in shards:
        pages = json.loads(blobs[f"scans-{i}"])
        blobs[f"scans-{i}"] = json.dumps({source: scan for source in pages}).encode()
        sums[i] = zlib.crc32(blobs[f"scans-{i}"])
    header["scan_sums"] = sums
    header["parts"] = [[name, len(blob)] for name, blob in blobs.items()]
    state_path(load_config(site)).write_bytes(
        json.dumps(header).encode() + b"\n" + b"".join(blobs.values())
    )


def shard_of(site: Path, source: str) -> int:
    state = load_state(load_config(site))
    assert state is not None
    return next(i for i, pages in enumerate(state._shards) if source in pages)


FORGED = [[["not", "a", "reference"]], [], 42]


def every_shard(site: Path) -> list[int]:
    header, _ = read_state(site)
    return list(range(len(header["scan_sums"])))  # type: ignore[arg-type]


def test_a_rebuild_that_changed_nothing_decodes_no_saved_scan(site: Path, tmp_path: Path) -> None:
    plant_scans(site, every_shard(site), FORGED)
    before = read_state(site)[1]
    result = rebuild(site)
    # A forged scan fails the moment it is decoded: none was.
    assert result.rendered == 0
    assert_same_as_full_build(site, result, tmp_path)
    after = read_state(site)[1]
    assert {k: v for k, v in after.items() if k.startswith("scans-")} == {
        k: v for k, v in before.items() if k.startswith("scans-")
    }


def test_a_damaged_scan_shard_is_no_state(site: Path) -> None:
    _, blobs = read_state(site)
    path = state_path(load_config(site))
    data = path.read_bytes()
    scans = (
        blobs["scans-0"]
        if blobs["scans-0"] != b"{}"
        else next(v for k, v in blobs.items() if k.startswith("scans-") and v != b"{}")
    )
    path.write_bytes(data.replace(scans, scans.replace(b"stylesheet", b"stylesheeT")))
    assert load_state(load_config(site)) is None  # its CRC no longer matches


def test_a_forged_scan_used_by_a_rebuild_means_a_full_build(site: Path, tmp_path: Path) -> None:
    plant_scans(site, every_shard(site), FORGED)
    assert load_state(load_config(site)) is not None  # the scans are checked when used
    # New references in docs.css: the pages that use it are resolved again from
    # their saved scans (not rendered), and those fail their checks.
    (site / "static" / "css" / "docs.css").write_text('@import "extra.css";\n')
    (site / "static" / "css" / "extra.css").write_text("p { margin: 0 }\n")
    result = rebuild(site)
    assert result.rendered == ALL_PAGES
    assert "/static/css/extra.css" in [a.path for a in result.manifest.routes["/plain.html"]]
    assert_same_as_full_build(site, result, tmp_path)
    state = load_state(load_config(site))
    assert state is not None  # written anew, and every scan in it checks
    assert all(page.scan for page in state.pages.values())


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
    assert_same_as_full_build(site, result, tmp_path)
    assert not state_path(load_config(site)).exists()
    assert rebuild(site).rendered == ALL_PAGES + 1  # the neighbour too


def test_an_asset_table_with_an_entry_twice_is_no_state(site: Path) -> None:
    header, blobs = read_state(site)
    assets = json.loads(blobs["assets"])
    blobs["assets"] = json.dumps([*assets, assets[0]]).encode()
    header["parts"] = [[name, len(blob)] for name, blob in blobs.items()]
    state_path(load_config(site)).write_bytes(
        json.dumps(header).encode() + b"\n" + b"".join(blobs.values())
    )
    assert load_state(load_config(site)) is None
