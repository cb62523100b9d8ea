"""``pushgen check`` of entries many routes share: checked once, said at every place (issue 27).

Each distinct entry's problems are found once (the compiled form holds it once;
a parsed YAML's are interned by check), and said at every route that lists it,
at that entry's own line and column, exactly as when each entry was checked on
its own: the same diagnostics from the YAML and from the compiled form.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pushgen.manifest import Manifest, dump_manifest
from pushgen.manifest.check import check_manifest
from pushgen.manifest.compiled import CompiledRoutes, compiled_path, read_manifest, write_compiled
from pushgen.model import Asset

SITE_CSS = Asset("/static/css/site.css", "style")
# A type no Link field can carry (links.check_link_fields): an error wherever listed.
BAD = Asset("/static/img/hero.png", "image", type="image/png\u00e9")
MISSING = Asset("/static/css/missing.css", "style")
BAD_MESSAGE = (
    "/static/img/hero.png: type 'image/png\u00e9' contains characters a Link header cannot carry"
)


def shared_routes() -> dict[str, tuple[Asset, ...]]:
    """30 pages sharing three entries (one bad in every third page), empty ones between."""
    routes: dict[str, tuple[Asset, ...]] = {"/empty-first/": ()}
    for i in range(30):
        routes[f"/p{i}/"] = (SITE_CSS, BAD, MISSING) if i % 3 == 0 else (MISSING, SITE_CSS)
        if i % 10 == 4:
            routes[f"/empty-{i}/"] = ()
    return routes


def write(tmp_path: Path, compiled: bool) -> Path:
    """The manifest of :func:`shared_routes` as the build writes it, with its compiled form or not."""
    path = tmp_path / ("compiled" if compiled else "yaml") / "push-manifest.yaml"
    path.parent.mkdir()
    text = dump_manifest(Manifest(routes=shared_routes()))
    path.write_text(text, encoding="utf-8")
    if compiled:
        assert write_compiled(path, text).current
    loaded = read_manifest(path).routes
    assert isinstance(loaded, CompiledRoutes) == compiled
    assert compiled_path(path).exists() == compiled
    return path


def expected(path: Path, output: Path | None) -> list[str]:
    """One error per listing of BAD (and, with ``output``, of MISSING), at its line, column 7."""
    out = []
    for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if BAD.path in line:
            out.append(f"{path}:{number}:7: error: {BAD_MESSAGE}")
        if MISSING.path in line and output is not None:
            out.append(
                f"{path}:{number}:7: error: entry {MISSING.path} is not in the output"
                f" ({output / 'static/css/missing.css'} is missing)"
            )
    return out


@pytest.fixture
def output(tmp_path: Path) -> Path:
    """A built output holding site.css and hero.png, not missing.css."""
    site = tmp_path / "_site"
    for name in ("static/css/site.css", "static/img/hero.png"):
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_text("x\n")
    return site


@pytest.mark.parametrize("compiled", [False, True], ids=["yaml", "compiled"])
def test_a_shared_bad_entry_is_an_error_at_each_route_that_lists_it(
    tmp_path: Path, compiled: bool
) -> None:
    path = write(tmp_path, compiled)
    found = check_manifest(path)
    assert [str(d) for d in found] == expected(path, None)
    assert len(found) == 10  # every third of 30 pages
    lines = path.read_text("utf-8").splitlines()
    # The first is /p0/'s second entry, its route two lines above.
    assert lines[found[0].line - 3] == "  /p0/:"


@pytest.mark.parametrize("compiled", [False, True], ids=["yaml", "compiled"])
def test_with_the_output_each_missing_file_is_said_where_each_route_lists_it(
    tmp_path: Path, output: Path, compiled: bool
) -> None:
    path = write(tmp_path, compiled)
    said = [str(d) for d in check_manifest(path, output=output)]
    assert said == expected(path, output)
    assert len(said) == 10 + 30


def test_the_yaml_and_the_compiled_form_say_the_same(tmp_path: Path, output: Path) -> None:
    yaml, fast = write(tmp_path, False), write(tmp_path, True)
    for where in (None, output):
        from_yaml = [(d.line, d.column, d.message) for d in check_manifest(yaml, output=where)]
        from_fast = [(d.line, d.column, d.message) for d in check_manifest(fast, output=where)]
        assert from_yaml == from_fast


def test_a_route_over_the_link_budget_is_found_from_the_shared_entries(tmp_path: Path) -> None:
    # 90 hinted stylesheets of 100-byte paths pass the 8192-byte budget; the
    # 30 shared pages do not, whatever they share with /big/.
    sheets = tuple(Asset(f"/static/css/{i:03}-{'x' * 80}.css", "style") for i in range(90))
    for compiled in (False, True):
        path = tmp_path / f"{compiled}" / "push-manifest.yaml"
        path.parent.mkdir()
        routes = {**shared_routes(), "/big/": (SITE_CSS, *sheets)}
        text = dump_manifest(Manifest(routes=routes))
        path.write_text(text, encoding="utf-8")
        assert not compiled or write_compiled(path, text).current
        assert isinstance(read_manifest(path).routes, CompiledRoutes) == compiled
        warnings = [d for d in check_manifest(path) if d.severity == "warning"]
        line = text.splitlines().index("  /big/:") + 1
        assert [(d.line, d.column) for d in warnings] == [(line, 3)]
        assert warnings[0].message.startswith("route '/big/': its 91 hints take 11,475 bytes")
