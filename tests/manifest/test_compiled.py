"""The compiled manifest (.push-manifest.yaml.pgc): the same manifest as the YAML, or the YAML.

Each test compares what the compiled form gives with what the YAML gives when
parsed (the loader every other test covers): every route's entries and
decisions, every line, and the runtime's answer for every path a route answers
to. A damaged, foreign or stale compiled file must be passed over for the YAML,
said in the log, never raised.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from pushgen.build import build_site
from pushgen.build.from_source import scan_folder
from pushgen.cli import main
from pushgen.config import load_config
from pushgen.errors import ManifestError
from pushgen.links import route_aliases
from pushgen.manifest import Manifest, parse_manifest, update_manifest_text
from pushgen.manifest.compiled import (
    _written_block,
    compile_manifest,
    compiled_path,
    load_compiled,
    read_manifest,
    write_compiled,
)
from pushgen.model import Asset
from pushgen.runtime.headers import build_route_table
from pushgen.runtime.lazy_table import lazy_route_table
from pushgen.runtime.manifest_state import ManifestState
from pushgen.runtime.options import Options
from pushgen.sources.folder import folder_config
from tests.runtime.test_rules_at_runtime import MANIFEST as HAND_MANIFEST
from tests.sites import write_site

REPO = Path(__file__).resolve().parents[2]
SITE_EXAMPLE = REPO / "site_example" / "push-manifest.yaml"

STYLE = Asset("/static/css/site.css", "style")
FONT = Asset("/static/fonts/f.woff2", "font", type="font/woff2", crossorigin="anonymous")
# Routes of every shape the runtime's aliases treat differently, a query
# string and a non-ASCII one (quoted keys), a percent-encoded one, a Quart rule
# the build wrote (/blog/<slug>), and one with no entries.
ODD_ROUTES: dict[str, tuple[Asset, ...]] = {
    "/": (STYLE, FONT),
    "/index.html": (STYLE,),
    "/docs/": (STYLE, FONT, Asset("/static/js/app.js", "script", module=True)),
    "/docs/intro/index.html": (FONT,),
    "/about.html": (STYLE, Asset("/static/img/a.png", "image", push=False)),
    "/about": (FONT,),
    "/contact": (STYLE,),
    "/search?q=1": (STYLE,),
    "/caf%C3%A9/": (FONT, STYLE),
    "/café/": (STYLE,),
    "/blog/<slug>": (STYLE, Asset("/static/css/blog.css", "style")),
    "/shop/1": (STYLE, FONT, Asset("/static/css/shop.css", "style")),
    "/empty/": (),
    # A media query no Link field can carry: its hint is dropped, and said at load.
    "/print/": (STYLE, Asset("/static/css/print.css", "style", media="écran")),
}


def rules_heavy_text() -> str:
    """The hand-written rules of test_rules_at_runtime, with routes the writer wrote."""
    return update_manifest_text(HAND_MANIFEST, ODD_ROUTES, force=True)


def compiled(text: str, tmp_path: Path) -> Manifest:
    """The manifest ``text`` written to ``tmp_path`` with its compiled form, loaded from that."""
    path = tmp_path / "push-manifest.yaml"
    path.write_text(text, encoding="utf-8")
    assert write_compiled(path, text).current
    loaded = load_compiled(path.read_bytes(), str(path))
    assert loaded.manifest is not None, loaded
    return loaded.manifest


def assert_same(yaml: Manifest, fast: Manifest) -> None:
    assert list(fast.routes) == list(yaml.routes)
    assert fast.rules == yaml.rules
    for route in sorted(yaml.all_routes | {"/blog/hello", "/docs/x/y", "/nowhere"}):
        assert fast.generated(route) == yaml.generated(route), route
        assert fast.decisions(route) == yaml.decisions(route), route
        assert fast.lines.get(route) == yaml.lines.get(route), route
    for key in yaml.entry_lines:
        assert fast.entry_lines.get(key) == yaml.entry_lines[key], key
        assert fast.entry_columns.get(key) == yaml.entry_columns.get(key), key


def assert_same_table(yaml: Manifest, fast: Manifest, **options: object) -> None:
    eager = build_route_table(yaml, **options)  # type: ignore[arg-type]
    lazy = lazy_route_table(fast, **options)  # type: ignore[arg-type]
    paths = set(eager.plans)
    for route in yaml.all_routes:
        paths.update(route_aliases(route, pretty_urls=True))
        paths.update(route_aliases("/base" + route, pretty_urls=True))
    paths |= {"/blog/hello", "/blog/hello/", "/shop/2", "/docs/a/b", "/x", "/", "/base"}
    for path in sorted(paths):
        assert lazy.lookup(path) == eager.lookup(path), path
        assert lazy.lookup(path, "/base") == eager.lookup(path, "/base"), path
    assert dict(lazy.plans) == dict(eager.plans)
    assert lazy.routes == eager.routes
    # Said at load, both: the hints no header can carry, the routes the budget cuts.
    assert lazy.diagnostics == eager.diagnostics


@pytest.mark.parametrize("name", ["site_example", "rules_heavy"])
def test_compiled_gives_what_the_yaml_gives(name: str, tmp_path: Path) -> None:
    text = SITE_EXAMPLE.read_text("utf-8") if name == "site_example" else rules_heavy_text()
    yaml = parse_manifest(text, str(tmp_path / "push-manifest.yaml"))
    fast = compiled(text, tmp_path)
    assert_same(yaml, fast)
    for options in (
        {},
        {"pretty_urls": True},
        {"base_path": "/base/", "max_pushes": 2},
        {"max_link_bytes": 120},
    ):
        assert_same_table(yaml, fast, **options)


def test_a_hand_written_manifest_is_compiled_from_its_parse(tmp_path: Path) -> None:
    # No checksum on its routes: read as YAML, the same manifest all the same.
    yaml = parse_manifest(HAND_MANIFEST, str(tmp_path / "push-manifest.yaml"))
    fast = compiled(HAND_MANIFEST, tmp_path)
    assert_same(yaml, fast)
    assert_same_table(yaml, fast, pretty_urls=True)


def test_an_edited_routes_block_is_read_as_yaml_with_its_lines(tmp_path: Path) -> None:
    # A hand edit inside the block breaks its checksum: the lines are the parse's.
    text = rules_heavy_text().replace(
        "  /contact:\n", "  # moved here\n  /contact:\n    - {path: /x.css, as: style}\n"
    )
    yaml = parse_manifest(text, str(tmp_path / "push-manifest.yaml"))
    assert_same(yaml, compiled(text, tmp_path))


def test_check_and_explain_read_the_compiled_form(tmp_path: Path) -> None:
    text = rules_heavy_text()
    fast = compiled(text, tmp_path)
    path = tmp_path / "push-manifest.yaml"
    manifest = read_manifest(path)
    assert type(manifest.routes) is type(fast.routes)  # the compiled tables, not a dict
    assert_same(parse_manifest(text, str(path)), manifest)
    path.write_text(text + "# edited\n", encoding="utf-8")  # stale now: the YAML
    assert isinstance(read_manifest(path).routes, dict)


def damaged_files(good: bytes) -> dict[str, bytes]:
    header, _, body = good.partition(b"\n")
    return {
        "truncated": good[: len(good) // 2],
        "header only": header + b"\n",
        "empty": b"",
        "garbage": bytes(range(256)) * 10,
        "foreign JSON": header + b"\n" + b'{"routes": 1}',
        "wrong arrays": header + b"\n" + body.replace(b'"refs":"', b'"refs":"AAAA'),
        "not JSON": header + b"\n" + b"\x80\x81{{",
    }


@pytest.mark.parametrize("kind", list(damaged_files(b"x\ny")))
def test_a_damaged_compiled_file_falls_back_to_the_yaml(
    kind: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    text = rules_heavy_text()
    compiled(text, tmp_path)
    manifest = tmp_path / "push-manifest.yaml"
    target = compiled_path(manifest)
    target.write_bytes(damaged_files(target.read_bytes())[kind])
    assert load_compiled(manifest.read_bytes(), str(manifest)).manifest is None
    state = ManifestState(Options(manifest=manifest))
    with caplog.at_level(logging.INFO, logger="pushgen"):
        state.load()
    eager = build_route_table(parse_manifest(text, str(manifest)), filename=str(manifest))
    assert state.table.plans == eager.plans  # the YAML's, planned whole
    slower = [r for r in caplog.records if "the slower path" in r.getMessage()]
    assert len(slower) == 1 and slower[0].levelno == logging.WARNING, caplog.text
    assert "pushgen build" in slower[0].getMessage()


@pytest.mark.anyio
async def test_a_hand_edit_is_said_once_and_the_yaml_read(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    text = rules_heavy_text()
    compiled(text, tmp_path)
    manifest = tmp_path / "push-manifest.yaml"
    edited = text.replace("policy: {max_pushes: 2}", "policy: {max_pushes: 1}")
    manifest.write_text(edited, encoding="utf-8")
    state = ManifestState(Options(manifest=manifest))
    with caplog.at_level(logging.INFO, logger="pushgen"):
        state.load()
        assert await state.reload()
    plan = state.table.lookup("/shop/1")
    assert plan is not None and plan.push_paths == ("/static/css/site.css",)  # the edit
    slower = [r for r in caplog.records if "the slower path" in r.getMessage()]
    assert len(slower) == 1 and "out of date" in slower[0].getMessage(), caplog.text


def _one_page_site(tmp_path: Path) -> Path:
    """A site of one page and its stylesheet."""
    return write_site(
        tmp_path / "site",
        {
            "pages/index.html": '<!doctype html><link rel="stylesheet" href="/static/css/a.css">\n',
            "static/css/a.css": "body { color: black }\n",
        },
    )


def test_a_file_pushgen_did_not_write_is_left_alone(tmp_path: Path) -> None:
    manifest = tmp_path / "push-manifest.yaml"
    text = rules_heavy_text()
    manifest.write_text(text, encoding="utf-8")
    compiled_path(manifest).write_bytes(b"my notes\n")
    written = write_compiled(manifest, text)
    assert not written.current and written.problem is not None
    assert written.problem.file == str(compiled_path(manifest))
    assert "did not write" in written.problem.message
    assert compiled_path(manifest).read_bytes() == b"my notes\n"


def test_a_compiled_form_that_cannot_be_written_is_a_located_warning(tmp_path: Path) -> None:
    # A folder where the compiled file goes: reading and replacing it fail with
    # OSError, as on a full disk. The build and the scan finish, and say so.
    config = load_config(_one_page_site(tmp_path))
    compiled_path(config.manifest).mkdir()
    result = build_site(config, jobs=1)
    said = [d for d in result.diagnostics if d.file == str(compiled_path(config.manifest))]
    assert len(said) == 1 and said[0].severity == "warning", result.diagnostics
    assert "the runtime reads the YAML" in said[0].message
    assert config.manifest.is_file() and (config.output / "index.html").is_file()
    scanned = tmp_path / "scanned.yaml"
    compiled_path(scanned).mkdir()
    scan = scan_folder(folder_config(config.output, scanned), jobs=1)
    said = [d for d in scan.diagnostics if d.file == str(compiled_path(scanned))]
    assert len(said) == 1 and "the runtime reads the YAML" in said[0].message
    assert scanned.is_file()


def test_an_invalid_manifest_is_not_compiled(tmp_path: Path) -> None:
    manifest = tmp_path / "push-manifest.yaml"
    text = "version: 1\nroutes:\n  /: [{path: nope, as: style}]\n"
    manifest.write_text(text, encoding="utf-8")
    assert not write_compiled(manifest, text).current
    assert not compiled_path(manifest).exists()


def test_every_build_and_scan_writes_the_compiled_form(tmp_path: Path) -> None:
    config = load_config(_one_page_site(tmp_path))
    build_site(config, jobs=1)
    text = config.manifest.read_text("utf-8")
    fast = load_compiled(text.encode("utf-8"), str(config.manifest)).manifest
    assert fast is not None and fast.routes["/"] == (Asset("/static/css/a.css", "style"),)
    # A hand edit of the rules, then a build that changes no route: refreshed.
    config.manifest.write_text(
        text.replace("rules: []", "rules:\n  - match: /\n    remove: [/static/css/a.css]")
    )
    build_site(config, jobs=1)
    data = config.manifest.read_bytes()
    fast = load_compiled(data, str(config.manifest)).manifest
    assert fast is not None and fast.assets("/") == ()
    scanned = tmp_path / "scanned.yaml"
    assert main(["scan", str(config.output), "-m", str(scanned), "-q"]) == 0
    assert load_compiled(scanned.read_bytes(), str(scanned)).manifest is not None


def test_the_routes_a_build_holds_compile_as_the_block_is_read(tmp_path: Path) -> None:
    # A build hands the routes it wrote to the compiler (no YAML parse of the
    # entries): the same bytes as reading the block back, whatever the keys
    # (quoted, non-ASCII, a Quart rule, no entries); routes that are not the
    # block's (a hand edit, another build's) are passed over for the text.
    text = rules_heavy_text()
    read_back = compile_manifest(text, "m.yaml")
    assert compile_manifest(text, "m.yaml", routes=ODD_ROUTES) == read_back
    assert _written_block(text, ODD_ROUTES) is not None  # from the routes, not read back
    assert _written_block(text, {**ODD_ROUTES, "/contact": (FONT,)}) is None
    shared = {route: tuple(assets) for route, assets in ODD_ROUTES.items()}
    assert compile_manifest(text, "m.yaml", routes=shared) == read_back
    assert compile_manifest(text, "m.yaml", routes={**ODD_ROUTES, "/a": ()}) == read_back
    fewer = {route: assets for route, assets in ODD_ROUTES.items() if route != "/empty/"}
    assert compile_manifest(text, "m.yaml", routes=fewer) == read_back
    twice = update_manifest_text(HAND_MANIFEST, {"/": (STYLE, STYLE)}, force=True)
    with pytest.raises(ManifestError):  # an entry twice: refused as the loader refuses it
        compile_manifest(twice, "m.yaml", routes={"/": (STYLE, STYLE)})


def test_a_build_writes_the_compiled_form_the_yaml_gives(tmp_path: Path) -> None:
    config = load_config(_one_page_site(tmp_path))
    build_site(config, jobs=1)
    text = config.manifest.read_text("utf-8")
    assert compiled_path(config.manifest).read_bytes() == compile_manifest(
        text, str(config.manifest)
    )


def test_the_compiled_form_is_made_of_the_yaml_bytes(tmp_path: Path) -> None:
    text = rules_heavy_text()
    data = compile_manifest(text, "m.yaml")
    assert data.startswith(b"pushgen-compiled-manifest 1 ")
    assert b"!!python" not in data and data.count(b"\n") == 1  # one header line, then JSON


def test_check_compile_refreshes_the_compiled_form_after_a_hand_edit(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    manifest = tmp_path / "push-manifest.yaml"
    manifest.write_text(HAND_MANIFEST, encoding="utf-8")  # written by hand, never built
    assert main(["check", str(manifest), "--compile", "-q"]) == 0
    assert load_compiled(manifest.read_bytes(), str(manifest)).manifest is not None
    state = ManifestState(Options(manifest=manifest))
    with caplog.at_level(logging.INFO, logger="pushgen"):
        state.load()
    assert "the slower path" not in caplog.text
    plan = state.table.lookup("/shop/1")
    assert plan is not None and len(plan.push_paths) == 2  # the rule's max_pushes: 2
    # A manifest with errors is not compiled: the check fails, the old file stays stale.
    manifest.write_text(HAND_MANIFEST.replace("as: style}", "as: styel}", 1), encoding="utf-8")
    assert main(["check", str(manifest), "--compile", "-q"]) == 1
    assert load_compiled(manifest.read_bytes(), str(manifest)).problem == "stale"


def test_the_compiled_form_is_written_without_whole_copies_of_the_text(tmp_path: Path) -> None:
    """write_compiled hashes the YAML a chunk at a time and writes the JSON a member
    at a time (issue 27: 100,000 pages at <= 1 GB peak RSS). Before, it held the
    text's UTF-8 bytes, the whole JSON body as a str, its bytes and the header joined
    to them at once: 6.0 times the text's size traced at its peak, now 3.6 (the
    tables, made once); allocations counted by tracemalloc, not timed."""
    import tracemalloc

    shared = tuple(Asset(path=f"/static/app-{i}.css", destination="style") for i in range(3))
    routes = {
        f"/section-{n % 50}/page-{n:05d}.html": (
            *shared,
            Asset(path=f"/img/pic-{n:05d}.png", destination="image"),
        )
        for n in range(20000)
    }
    text = update_manifest_text(None, routes)
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        assert write_compiled(tmp_path / "push-manifest.yaml", text, routes=routes).current
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    written = (tmp_path / ".push-manifest.yaml.pgc").read_bytes()
    assert written == compile_manifest(text, os.fspath(tmp_path / "push-manifest.yaml"))
    assert peak < 4.6 * len(text.encode("utf-8"))
