"""The writer's short cuts for rebuilds: a block of routes that all kept their entries is
copied whole, and the ``routes:`` line is found without splitting the file into lines
(issue 17). Each gives the text writing every route anew gives."""

from __future__ import annotations

import pytest

from pushgen.errors import ManifestError
from pushgen.manifest import dump_manifest, routes_checksum, update_manifest_text
from pushgen.manifest.document import Manifest
from pushgen.manifest.writer import routes_source, same_but_source, source_kind
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


# --- which source wrote the routes -------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "kind"),
    [
        ("pushgen build", "build"),
        ("pushgen build --app app:app", "app"),
        ("pushgen build --app 'app:create_app()'", "app"),
        ("pushgen build --app", "app"),  # before the command named the app
        ("pushgen scan docs/_build/html", "folder"),
        ("pushgen scan", "folder"),  # before the command named the folder
    ],
)
def test_the_routes_line_names_its_source_and_reads_back(command: str, kind: str) -> None:
    text = dump_manifest(Manifest(routes=ROUTES), command=command)
    assert f"routes:  # written by {command}; hand edits go in rules (writer 2, " in text
    assert routes_source(text) == command
    assert source_kind(command) == kind
    assert routes_source(text + HAND) == command


def test_routes_another_source_wrote_are_refused_at_their_line_unless_forced() -> None:
    by_app = dump_manifest(Manifest(routes=ROUTES), command="pushgen build --app app:app")
    line = by_app.splitlines().index(
        next(x for x in by_app.splitlines() if x.startswith("routes:"))
    )
    with pytest.raises(ManifestError) as caught:
        update_manifest_text(by_app, {}, filename="m.yaml")
    (diagnostic,) = caught.value.diagnostics
    assert (diagnostic.file, diagnostic.line, diagnostic.column) == ("m.yaml", line + 1, 1)
    assert diagnostic.message.startswith(
        "these routes were written by `pushgen build --app app:app`, another source than"
        " `pushgen build`"
    )
    forced = update_manifest_text(by_app, {}, force=True)
    assert routes_source(forced) == "pushgen build"
    # The same kind (another spelling of the app), or a kind it accepts: no refusal.
    again = update_manifest_text(by_app, ROUTES, command="pushgen build --app 'app:make()'")
    assert routes_source(again) == "pushgen build --app 'app:make()'"
    accepted = update_manifest_text(by_app, ROUTES, accepts=("build", "app"))
    assert routes_source(accepted) == "pushgen build"
    # Routes with nothing in them lose nothing: any source takes them.
    empty = dump_manifest(Manifest(routes={}), command="pushgen scan html")
    assert routes_source(update_manifest_text(empty, ROUTES)) == "pushgen build"


def test_same_but_source_ignores_only_the_command_on_the_routes_line() -> None:
    a = dump_manifest(Manifest(routes=ROUTES), command="pushgen build")
    b = a.replace("written by pushgen build;", "written by pushgen build --app app:app;")
    assert a != b and same_but_source(a, b)
    assert not same_but_source(a, b.replace("/a.css", "/c.css"))
    assert not same_but_source(a, a.replace("version: 1", "version: 1 # x"))


def test_a_command_with_a_line_break_keeps_the_routes_line_one_line() -> None:
    text = dump_manifest(Manifest(routes=ROUTES), command="pushgen scan 'a\nb'")
    assert routes_source(text) == "pushgen scan"
    assert routes_checksum(text) is not None
