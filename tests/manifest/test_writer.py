"""The writer's short cuts for rebuilds: a block of routes that all kept their entries is
copied whole, and the ``routes:`` line is found without splitting the file into lines
(issue 17). Each gives the text writing every route anew gives."""

from __future__ import annotations

import pytest

from pushgen.manifest import dump_manifest, routes_checksum, update_manifest_text
from pushgen.manifest.model import Manifest
from pushgen.model import Asset

ROUTES = {
    "/": (Asset("/a.css", "style"), Asset("/a.js", "script", module=True)),
    "/a b": (Asset("/q.css?x=1", "style"),),  # a key written quoted
    "/b": (Asset("/b.css", "style"),),
    "/empty": (),
    "/z": (Asset("/z.css", "style"), Asset("/z.js", "script")),
}
HAND = "# a note a person wrote after the routes\nextra_key: 1\n"


def written() -> str:
    """A manifest a build wrote, with hand lines after its routes."""
    return update_manifest_text(dump_manifest(Manifest(routes=ROUTES)), ROUTES) + HAND


def test_a_block_whose_routes_all_kept_their_entries_is_kept_as_written() -> None:
    old = written()
    new = update_manifest_text(old, ROUTES, unchanged=set(ROUTES), written=routes_checksum(old))
    assert new == old
    assert new == update_manifest_text(old, ROUTES)  # every route written anew


@pytest.mark.parametrize(
    "routes",
    [
        {k: v for k, v in ROUTES.items() if k != "/b"},  # a route the block has is gone
        {**ROUTES, "/c": ()},  # a route the block lacks
    ],
    ids=["fewer", "more"],
)
def test_a_block_that_is_not_the_routes_is_not_copied_whole(
    routes: dict[str, tuple[Asset, ...]],
) -> None:
    old = written()
    unchanged = set(routes) & set(ROUTES)
    new = update_manifest_text(old, routes, unchanged=unchanged, written=routes_checksum(old))
    assert new == update_manifest_text(old, routes)


NEW = (Asset("/new.css", "style"),)


@pytest.mark.parametrize(
    "changes",
    [
        {"/": NEW},  # the first route
        {"/z": NEW},  # the last
        {"/a b": ()},  # quoted, now empty
        {"/empty": NEW},  # empty, now not
        {"/": (), "/b": NEW, "/z": ROUTES["/z"][:1]},
        {"/b": ROUTES["/b"]},  # claimed changed, the same entries
    ],
    ids=["first", "last", "quoted", "was empty", "several", "same"],
)
def test_a_few_changed_routes_are_spliced_into_the_block_as_written(
    changes: dict[str, tuple[Asset, ...]],
) -> None:
    old = written()
    routes = {**ROUTES, **changes}
    unchanged = set(ROUTES) - set(changes)
    new = update_manifest_text(old, routes, unchanged=unchanged, written=routes_checksum(old))
    assert new == update_manifest_text(old, routes)


def test_a_renamed_route_is_not_spliced() -> None:
    old = written()
    routes = {k: v for k, v in ROUTES.items() if k != "/b"} | {"/c": NEW}
    unchanged = set(ROUTES) - {"/b"}
    new = update_manifest_text(old, routes, unchanged=unchanged, written=routes_checksum(old))
    assert new == update_manifest_text(old, routes)


def test_many_changed_routes_are_written_anew() -> None:
    many = {f"/p{i}": (Asset(f"/p{i}.css", "style"),) for i in range(100)}
    old = update_manifest_text(dump_manifest(Manifest(routes=many)), many) + HAND
    routes = {k: NEW for k in many}
    new = update_manifest_text(old, routes, unchanged=set(), written=routes_checksum(old))
    assert new == update_manifest_text(old, routes)
    assert new.count("/new.css") == 100


def test_claiming_every_route_unchanged_against_another_block_writes_them_anew() -> None:
    old = written()
    new = update_manifest_text(old, ROUTES, unchanged=set(ROUTES), written="0" * 12)
    assert new == update_manifest_text(old, ROUTES)


def _checksum_by_lines(text: str) -> str | None:
    """routes_checksum as it was: the first of str.splitlines' lines starting with ``routes:``."""
    import re

    for line in text.splitlines():
        if line.startswith("routes:"):
            marker = re.search(r"sha256:(?P<sum>[0-9a-f]{12})\)", line)
            return marker.group("sum") if marker else None
    return None


@pytest.mark.parametrize(
    "text",
    [
        "",
        "routes: {}  # (writer 2, sha256:0123456789ab)\n",
        "version: 1\nroutes:  # (writer 2, sha256:0123456789ab)\n  /: []\n",
        "version: 1\r\nroutes:  # (writer 2, sha256:0123456789ab)\r\n",
        "version: 1\rroutes:  # (sha256:0123456789ab)\r",
        "x: 1\x0croutes:  # (sha256:0123456789ab)\x0cy: 2\n",
        "x: 1\u2028routes: (sha256:0123456789ab)\u2028\n",
        "x: routes: (sha256:0123456789ab)\nroutes: (sha256:ba9876543210)\n",
        "routes:\n  /: []\nroutes: (sha256:ba9876543210)\n",
        " routes: (sha256:0123456789ab)\n",
    ],
)
def test_routes_checksum_reads_the_line_splitlines_would(text: str) -> None:
    assert routes_checksum(text) == _checksum_by_lines(text)
