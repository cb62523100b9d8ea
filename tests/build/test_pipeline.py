"""Builds of small sites in a temporary folder: output, manifest, diagnostics, atomicity."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pushgen.build import BuildLockHeld, build_site
from pushgen.config import load_config
from pushgen.errors import BuildError, PushgenError
from pushgen.fsutil import OutputFolderError
from pushgen.manifest import load_manifest
from pushgen.model import Asset
from tests.sites import SMALL_SITE, write_site


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return write_site(tmp_path / "site", SMALL_SITE)


def paths(assets: tuple[Asset, ...]) -> list[str]:
    return [a.path for a in assets]


def test_build_writes_pages_static_files_and_manifest(site: Path) -> None:
    result = build_site(load_config(site), jobs=1)
    out = site / "_site"
    assert (out / "index.html").read_text().startswith("<!doctype html>")
    assert (out / "docs" / "index.html").is_file()
    assert (out / "about.html").is_file()
    assert (out / "static" / "fonts" / "f.woff2").read_bytes() == b"wOF2 fake font"
    assert not (out / "base.html").exists()  # templates are never output
    manifest = load_manifest(site / "push-manifest.yaml")
    assert manifest == result.manifest
    assert set(manifest.routes) == {"/", "/about.html", "/docs/"}
    assert result.warnings == []


def test_assets_come_in_the_order_the_page_needs_them(site: Path) -> None:
    manifest = build_site(load_config(site), jobs=1).manifest
    assert manifest.routes["/"] == (
        Asset("/static/css/site.css", "style"),
        Asset("/static/css/base.css", "style"),
        Asset("/static/css/print.css", "style", media="print", push=False),
        Asset("/static/fonts/f.woff2", "font", type="font/woff2", crossorigin="anonymous"),
        Asset("/static/js/app.js", "script", crossorigin="anonymous", module=True),
        Asset("/static/js/lib/a.js", "script", crossorigin="anonymous", module=True),
        # import("./lazy.js"): listed, neither pushed nor hinted (it may never run),
        # its imports not followed.
        Asset(
            "/static/js/lazy.js",
            "script",
            crossorigin="anonymous",
            module=True,
            push=False,
            hint=False,
        ),
        Asset("/static/js/lib/b.js", "script", crossorigin="anonymous", module=True),
        # A defer script: the first render does not wait for it (issue 15).
        Asset("/static/js/classic.js", "script", push=False),
        # An <img src> with a srcset is one candidate among others; a stylesheet's
        # image is fetched only where a rule matches: listed, not hinted.
        Asset("/static/img/hero.png", "image", push=False, hint=False),
        Asset("/static/img/hero@2x.png", "image", push=False, hint=False),
        Asset("/static/img/bg.png", "image", push=False, hint=False),
    )
    # The relative stylesheet of the page in a subfolder resolves against /docs/.
    assert "/static/css/docs.css" in paths(manifest.routes["/docs/"])
    # Dynamic import() is lazy: never pushed nor hinted (listed); the woff fallback
    # is never in the manifest.
    everything = [a for assets in manifest.routes.values() for a in assets]
    assert not any(a.push for a in everything if a.path == "/static/js/lazy.js")
    assert "/static/fonts/f.woff" not in {a.path for a in everything}


def test_building_an_unchanged_site_twice_is_byte_identical(site: Path) -> None:
    build_site(load_config(site), jobs=1)
    first = (site / "push-manifest.yaml").read_bytes()
    first_mtime = os.stat(site / "push-manifest.yaml").st_mtime_ns
    build_site(load_config(site), jobs=1)
    assert (site / "push-manifest.yaml").read_bytes() == first
    assert os.stat(site / "push-manifest.yaml").st_mtime_ns == first_mtime  # not even rewritten


def test_parallel_build_matches_serial_build(tmp_path: Path) -> None:
    files = dict(SMALL_SITE)
    for i in range(260):  # above the threshold where workers start
        files[f"pages/p/{i:03d}.html"] = (
            '{% extends "base.html" %}{% block body %}<p>' + str(i) + "</p>{% endblock %}"
        )
    one = write_site(tmp_path / "one", files)
    two = write_site(tmp_path / "two", files)
    serial = build_site(load_config(one), jobs=1)
    parallel = build_site(load_config(two), jobs=2)
    assert (one / "push-manifest.yaml").read_bytes() == (two / "push-manifest.yaml").read_bytes()
    assert len(serial.pages) == len(parallel.pages) == 263
    assert (two / "_site" / "p" / "259.html").read_text().count("<p>259</p>") == 1


def test_missing_files_are_located_warnings_and_errors_under_strict(site: Path) -> None:
    (site / "pages" / "about.html").write_text(
        '{% extends "base.html" %}{% block body %}\n<img src="/static/img/nope.png">{% endblock %}\n'
    )
    (site / "static" / "css" / "docs.css").write_text('\n\n@import "gone.css";\n')
    result = build_site(load_config(site), jobs=1)
    messages = [str(d) for d in result.warnings]
    assert any(
        m.startswith("pages/about.html:") and "/static/img/nope.png" in m for m in messages
    ), messages
    assert any(
        m.startswith("static/css/docs.css:3: warning:") and "gone.css" in m for m in messages
    ), messages
    before = (site / "push-manifest.yaml").read_bytes()
    (site / "static" / "css" / "docs.css").write_text('@import "still-gone.css";\n')
    with pytest.raises(BuildError) as info:
        build_site(load_config(site), jobs=1, strict=True)
    assert all(d.severity == "error" for d in info.value.diagnostics)
    # A failed strict build leaves the previous output and manifest in place.
    assert (site / "push-manifest.yaml").read_bytes() == before
    assert "gone.css" in (site / "_site" / "static" / "css" / "docs.css").read_text()
    assert "still-gone" not in (site / "_site" / "static" / "css" / "docs.css").read_text()


def test_template_errors_name_the_template_and_line_and_keep_the_old_output(site: Path) -> None:
    build_site(load_config(site), jobs=1)
    before = (site / "_site" / "index.html").read_bytes()
    (site / "templates" / "partials" / "nav.html").write_text("<nav>\n{% if %}\n</nav>\n")
    with pytest.raises(BuildError) as info:
        build_site(load_config(site), jobs=1)
    first = info.value.diagnostics[0]
    assert (first.file, first.line) == ("templates/partials/nav.html", 2)
    assert (site / "_site" / "index.html").read_bytes() == before
    assert not list(site.glob("._site.staging-*"))


def test_runtime_errors_in_templates_are_located(site: Path) -> None:
    (site / "pages" / "about.html").write_text("line one\n{{ url_for('nowhere') }}\n")
    with pytest.raises(BuildError) as info:
        build_site(load_config(site), jobs=1)
    diagnostic = info.value.diagnostics[0]
    assert (diagnostic.file, diagnostic.line) == ("pages/about.html", 2)
    assert "no page or endpoint named 'nowhere'" in diagnostic.message


def test_missing_template_is_an_error_naming_the_page(site: Path) -> None:
    (site / "pages" / "about.html").write_text('{% extends "nope.html" %}\n')
    with pytest.raises(
        BuildError, match=r"pages/about.html:1: error: template not found: nope.html"
    ):
        build_site(load_config(site), jobs=1)


def test_a_page_in_a_legacy_charset_is_read_and_written_in_it(site: Path) -> None:
    page = '<!doctype html><meta charset="iso-8859-1"><title>Caf\u00e9</title><p>{{ "\u00e9t\u00e9" }}</p>\n'
    (site / "pages" / "latin.html").write_bytes(page.encode("latin-1"))
    build_site(load_config(site), jobs=1)
    out = (site / "_site" / "latin.html").read_bytes()
    assert out == page.replace('{{ "\u00e9t\u00e9" }}', "\u00e9t\u00e9").encode("latin-1")


def test_base_path_prefixes_routes_and_urls(site: Path) -> None:
    (site / "pushgen.yaml").write_text("base_path: /blog\ncontext: {title: T}\n")
    manifest = build_site(load_config(site), jobs=1).manifest
    assert set(manifest.routes) == {"/blog/", "/blog/about.html", "/blog/docs/"}
    assert manifest.routes["/blog/"][0] == Asset("/blog/static/css/site.css", "style")


def test_pretty_urls(site: Path) -> None:
    (site / "pushgen.yaml").write_text("pretty_urls: true\ncontext: {title: T}\n")
    manifest = build_site(load_config(site), jobs=1).manifest
    assert set(manifest.routes) == {"/", "/about", "/docs/"}


def test_check_mode_writes_nothing(site: Path) -> None:
    result = build_site(load_config(site), write=False, jobs=1)
    assert not result.written
    assert not (site / "_site").exists()
    assert not (site / "push-manifest.yaml").exists()
    assert "/static/css/site.css" in result.manifest_text


def test_output_cannot_be_the_site_itself(site: Path) -> None:
    with pytest.raises(PushgenError, match="contains the site's sources"):
        build_site(load_config(site, output=site), jobs=1)


def test_a_second_concurrent_build_is_refused(site: Path) -> None:
    import fcntl

    lock = site / "._site.lock"
    with open(lock, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        held.write("4242")
        held.flush()
        with pytest.raises(
            BuildLockHeld, match=r"another build is writing .* \(pid 4242\)"
        ) as held_by:
            build_site(load_config(site), jobs=1)
    # "Retry later", which a caller can tell from "fix your setup" (OutputFolderError).
    assert (held_by.value.holder, held_by.value.output) == ("4242", site / "_site")
    assert isinstance(held_by.value, PushgenError)
    assert not isinstance(held_by.value, OutputFolderError)


def test_a_layouts_decoding_warning_reaches_serial_parallel_and_incremental_builds(
    tmp_path: Path,
) -> None:
    # The layout is decoded once per process (Jinja2 caches it), in each worker of a
    # parallel build; the warning must still come back with the pages' outcomes, and
    # an incremental build that renders nothing again keeps it from the saved state.
    files = dict(SMALL_SITE)
    # A windows-1252 byte in a layout that declares UTF-8, on line 3.
    base = str(SMALL_SITE["templates/base.html"]).encode()
    files["templates/base.html"] = base.replace(b"<title>", b"\n<title>caf\xe9 ", 1)
    for i in range(260):  # above the threshold where workers start
        files[f"pages/p/{i:03d}.html"] = '{% extends "base.html" %}'
    one = write_site(tmp_path / "one", files)
    two = write_site(tmp_path / "two", files)
    expected = [("templates/base.html", 3, 11)]
    for root, jobs in ((one, 1), (two, 2), (two, 2)):
        result = build_site(load_config(root), jobs=jobs)
        assert [(d.file, d.line, d.column) for d in result.warnings] == expected, jobs
        assert "U+FFFD" in result.warnings[0].message
    assert result.rendered == 0  # the last build was incremental
