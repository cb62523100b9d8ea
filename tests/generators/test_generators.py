"""Real generators: a Sphinx site (Read the Docs theme: fonts, scripts) and an MkDocs Material site.

Both are built once per session (tests/generators/builders.py, conftest.py) from small sources (a few pages, an
image, code blocks with ``{{ version }}`` and ``<``), by the generators installed
from PyPI with the test extra. Each built folder is scanned as it is, then every
page is loaded cold in headless Chromium (tests/browser_harness.py) from a plain
static server: every stylesheet, script and font the parser fetched must be in the
manifest. Finally ``pushgen serve --folder`` serves the Sphinx folder and nghttp
sees the manifest's pushes and a 103.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser_harness import StaticServer, chromium, compare, load_site
from tests.clients import nghttp
from tests.generators.builders import Built

pytestmark = pytest.mark.timeout(600)


def test_pages_are_scanned_as_built_never_rendered(generated: dict[str, Built]) -> None:
    sphinx, mkdocs = generated["sphinx"], generated["mkdocs"]
    assert {"/", "/guide.html", "/reference/api.html", "/search.html"} <= set(
        sphinx.manifest.routes
    )
    assert {"/", "/guide/", "/reference/api/", "/404.html"} <= set(mkdocs.manifest.routes)
    # The code samples are the generators' escaped text, untouched (no Jinja2 ran;
    # the fixture checked that the scan changed no file).
    assert '{{</span> <span class="pre">version' in (sphinx.folder / "guide.html").read_text()
    assert (
        "{{ version }}&lt;/code&gt; if a &lt; b" in (mkdocs.folder / "guide/index.html").read_text()
    )
    # Assets live where the generators put them, not under /static/.
    sphinx_paths = {a.path.split("?")[0] for a in sphinx.manifest.routes["/reference/api.html"]}
    assert "/_static/css/theme.css" in sphinx_paths
    assert any(p.startswith("/_static/css/fonts/") and p.endswith(".woff2") for p in sphinx_paths)
    assert "/_images/logo.png" in {a.path for a in sphinx.manifest.routes["/"]}
    mkdocs_paths = {a.path for a in mkdocs.manifest.routes["/reference/api/"]}
    assert any(p.startswith("/assets/stylesheets/main.") for p in mkdocs_paths)
    assert any(p.startswith("/assets/javascripts/bundle.") for p in mkdocs_paths)


def test_the_search_index_sphinx_loads_is_listed_on_the_search_page(
    generated: dict[str, Built],
) -> None:
    # The Read the Docs theme's search.html loads it with an inline
    # Search.loadIndex("searchindex.js"): listed (a script fetch), neither pushed
    # nor hinted by default, and only where the page asks for it.
    sphinx = generated["sphinx"].manifest
    index = [a for a in sphinx.routes["/search.html"] if a.path == "/searchindex.js"]
    assert [(a.destination, a.push, a.hint) for a in index] == [("script", False, False)]
    assert not any(
        a.path == "/searchindex.js"
        for route, assets in sphinx.routes.items()
        if route != "/search.html"
        for a in assets
    )


@pytest.mark.parametrize("name", ["sphinx", "mkdocs"])
def test_chromium_fetches_nothing_render_blocking_the_manifest_lacks(
    generated: dict[str, Built], name: str
) -> None:
    site = generated[name]
    manifest = site.manifest
    routes = sorted(manifest.routes)
    with StaticServer(site.folder) as server, chromium() as browser:
        loads = load_site(browser, server.origin, routes)
    report = []
    fonts_fetched: list[int] = []
    for load in loads:
        assert load.status == 200, load.route
        comparison = compare(load, manifest)
        report.append(comparison.report())
        # Every stylesheet, script and font the parser fetched is listed.
        assert comparison.unlisted == frozenset(), (load.route, sorted(comparison.unlisted))
        assert load.needed, load.route  # the page did need something: the check checked
        # Fonts are traced per page (issue 15): the fonts a route pushes or hints are
        # exactly those Chromium fetches for it, the others are listed only.
        fonts = [a for a in manifest.assets(load.route) if a.destination == "font"]
        fetched = {f.path for f in load.fetched if f.resource_type == "Font"}
        assert {a.path for a in fonts if a.hint} == fetched, (load.route, sorted(fetched))
        assert {a.path for a in fonts} >= fetched
        fonts_fetched.append(len(fetched))
    if name == "sphinx":
        # The example: Roboto Slab regular and bold, Lato italic and bold
        # italic were pushed on every route and never fetched.
        for route in routes:
            announced = {a.path for a in manifest.assets(route) if a.hint}
            assert not any("roboto-slab-v7-regular" in p for p in announced), route
            assert not any("lato-bold-italic" in p for p in announced), route
        assert min(fonts_fetched) > 0  # the theme's fonts were traced, not dropped
    print(f"\n{name}:\n" + "\n".join(report))


def test_serve_folder_pushes_and_hints_a_generators_site(
    generated: dict[str, Built], tmp_path: Path, cache_dir: Path
) -> None:
    from tests.browser_harness import pushgen_serve

    site = generated["sphinx"]
    server = pushgen_serve(
        site.folder,
        tmp_path / "serve.log",
        {"XDG_CACHE_HOME": str(cache_dir)},
        ("--folder", "-m", str(site.manifest_path), "--early-hints-delay", "0"),
    )
    try:
        result = nghttp(server.url + "guide.html")
    finally:
        server.stop()
    assert result.returncode == 0, result.output
    expected = [a.path for a in site.manifest.assets("/guide.html") if a.push]
    promised = [f.header(":path") for f in result.frames if f.type == "PUSH_PROMISE"]
    assert promised == expected[: len(promised)] and len(promised) == min(len(expected), 10)
    statuses = [f.status for f in result.received("HEADERS", 13)]
    assert statuses == [103, 200], result.output
    assert "Traceback" not in server.log()
