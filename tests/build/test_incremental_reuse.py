"""Rebuilds after a stylesheet edit: fonts traced again only when a font rule or face
changed, and a file that changed only in size re-applies the push budget alone."""

from __future__ import annotations

from pathlib import Path

from pushgen.build import BuildResult, build_site
from pushgen.config import load_config
from tests.build.test_incremental import assert_same_as_full_build, rebuild
from tests.sites import SMALL_SITE, write_site


def built(tmp_path: Path, files: dict[str, str | bytes]) -> Path:
    site = write_site(tmp_path / "site", files)
    first = build_site(load_config(site), jobs=1)
    assert first.traced > 0 or not any(name.endswith(".woff2") for name in files)
    return site


def test_an_edit_that_changes_no_font_rule_traces_no_page_again(tmp_path: Path) -> None:
    site = built(tmp_path, SMALL_SITE)
    manifest = (site / "push-manifest.yaml").read_bytes()
    base = site / "static" / "css" / "base.css"  # its @font-face and font rule stay
    base.write_text(base.read_text() + "\nh1 { color: red; margin: 0 }\n")
    result = rebuild(site)
    assert (result.rendered, result.resolved, result.traced) == (0, 0, 0)
    assert (site / "push-manifest.yaml").read_bytes() == manifest
    assert_same_as_full_build(site, result, tmp_path)


def test_an_edit_that_changes_a_font_rule_traces_its_pages_again(tmp_path: Path) -> None:
    site = built(tmp_path, SMALL_SITE)
    manifest = (site / "push-manifest.yaml").read_text()
    base = site / "static" / "css" / "base.css"
    # No text is set in F any more: its pages no longer push or hint f.woff2.
    base.write_text(base.read_text().replace("font-family: F, sans-serif", "font-family: serif"))
    result = rebuild(site)
    assert result.rendered == 0 and result.traced > 0 and result.resolved > 0
    assert (site / "push-manifest.yaml").read_text() != manifest
    assert_same_as_full_build(site, result, tmp_path)


def test_a_new_face_in_a_sheet_traces_its_pages_again(tmp_path: Path) -> None:
    site = built(tmp_path, SMALL_SITE)
    base = site / "static" / "css" / "base.css"
    base.write_text(
        base.read_text() + '@font-face { font-family: G; src: url("../fonts/f.woff") }\n'
    )
    result = rebuild(site)
    assert result.traced > 0
    assert_same_as_full_build(site, result, tmp_path)


BUDGET_PAGE = (
    '<!doctype html><html><head><link rel="stylesheet" href="/static/a.css">'
    '<link rel="stylesheet" href="/static/b.css"></head><body><p>x</p></body></html>\n'
)


def budget_site(tmp_path: Path) -> Path:
    a, b = "p { margin: 0 }\n", "h1 { margin: 0 }\n"
    limit = len(a) + len(b) + 8  # both pushed, with 8 bytes to spare
    return built(
        tmp_path,
        {
            "pushgen.yaml": f"push:\n  max_bytes: {limit}\n",
            "pages/index.html": BUDGET_PAGE,
            "pages/other.html": BUDGET_PAGE,
            "static/a.css": a,
            "static/b.css": b,
        },
    )


def pushed(result: BuildResult) -> list[str]:
    return [a.path for a in result.manifest.routes["/"] if a.push]


def test_a_sheet_grown_past_the_byte_budget_reapplies_the_budget_alone(tmp_path: Path) -> None:
    site = budget_site(tmp_path)
    assert pushed(rebuild(site)) == ["/static/a.css", "/static/b.css"]
    a = site / "static" / "a.css"
    a.write_text(a.read_text() + "/*12345*/\n")  # 10 bytes: both no longer fit
    result = rebuild(site)
    assert (result.rendered, result.resolved, result.traced) == (0, 0, 0)
    assert pushed(result) == ["/static/a.css"]
    assert_same_as_full_build(site, result, tmp_path)
    # Back within the budget: the budget changed these pages' entries last time, so
    # they are resolved again (what the resolver found is not in the state).
    a.write_text("p { margin: 0 }\n")
    result = rebuild(site)
    assert result.resolved == 2
    assert pushed(result) == ["/static/a.css", "/static/b.css"]
    assert_same_as_full_build(site, result, tmp_path)


def test_a_resized_sheet_within_the_budget_changes_no_page(tmp_path: Path) -> None:
    site = budget_site(tmp_path)
    manifest = (site / "push-manifest.yaml").read_bytes()
    b = site / "static" / "b.css"
    b.write_text(b.read_text() + "/**/\n")
    result = rebuild(site)
    assert (result.rendered, result.resolved) == (0, 0)
    assert (site / "push-manifest.yaml").read_bytes() == manifest
    assert_same_as_full_build(site, result, tmp_path)


# A second face that only the about page's text uses: the other pages' entries of
# it are tracing's "not used" verdict, which a kept trace must keep as it was.
TWO_FACES: dict[str, str | bytes] = {
    **SMALL_SITE,
    "static/css/base.css": str(SMALL_SITE["static/css/base.css"])
    + '@font-face { font-family: G; src: url("../fonts/g.woff2") format("woff2") }\n'
    ".g { font-family: G }\n",
    "static/fonts/g.woff2": b"wOF2 g",
    "pages/about.html": '{% extends "base.html" %}{% block body %}<p class="g">About</p>'
    "{% endblock %}\n",
}


def g_entries(result: BuildResult) -> dict[str, tuple[bool, bool]]:
    return {
        route: (a.push, a.hint)
        for route, assets in result.manifest.routes.items()
        for a in assets
        if a.path == "/static/fonts/g.woff2"
    }


def test_a_new_import_without_fonts_keeps_every_pages_tracing(tmp_path: Path) -> None:
    site = built(tmp_path, TWO_FACES)
    before = g_entries(rebuild(site))
    assert before["/about.html"] == (True, True) and before["/"] == (False, False)
    (site / "static" / "css" / "extra.css").write_text("p { margin: 0 }\n")
    sheet = site / "static" / "css" / "site.css"
    sheet.write_text('@import "extra.css";\n' + sheet.read_text())
    result = rebuild(site)
    # Every page's entries change (extra.css is new); no page is traced again.
    assert result.rendered == 0 and result.resolved == 3 and result.traced == 0
    assert g_entries(result) == before
    assert_same_as_full_build(site, result, tmp_path)


def test_a_new_import_with_a_font_rule_traces_the_pages_again(tmp_path: Path) -> None:
    site = built(tmp_path, TWO_FACES)
    (site / "static" / "css" / "extra.css").write_text("h1 { font-family: G }\n")
    sheet = site / "static" / "css" / "site.css"
    sheet.write_text('@import "extra.css";\n' + sheet.read_text())
    result = rebuild(site)
    assert result.rendered == 0 and result.traced > 0
    assert g_entries(result)["/"] == (True, True)  # the home page's <h1> is set in G now
    assert_same_as_full_build(site, result, tmp_path)
