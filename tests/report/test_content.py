"""The report's values: every route explained as `pushgen explain` explains it, sizes, budgets,
rules and verify's findings, from the built example site (no browser)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pushgen.build.explain import explain_route
from pushgen.config import load_config
from pushgen.manifest import load_manifest
from pushgen.report import make_report, site_report
from pushgen.report.content import Budget
from pushgen.verify.result import VerifyResult, VerifyResultError
from tests.report.verify_result import write_verify_result

ROUTES = ["/", "/404.html", "/about.html", "/blog.html", "/docs/", "/docs/install.html"]


def test_every_route_in_manifest_order(example: Path) -> None:
    report = site_report(example)
    assert [r.route for r in report.routes] == ROUTES
    assert [r.page for r in report.routes][:2] == ["pages/index.html", "pages/404.html"]
    assert report.summary() == "6 routes, 44 pushed, 26 hinted only, 25 listed only, 3 rules"


@pytest.mark.parametrize("route", ROUTES)
def test_entries_carry_explains_states_chains_and_reasons(example: Path, route: str) -> None:
    config = load_config(example)
    manifest = load_manifest(config.manifest)
    report = make_report(manifest, config=config)
    explained = explain_route(manifest, route, config).entries
    entries = next(r for r in report.routes if r.route == route).entries
    assert [(e.path, e.state, e.chain, e.reasons) for e in entries] == [
        (x.decision.asset.path, x.state, x.chain, x.reasons) for x in explained
    ]
    for entry in entries:
        assert entry.size == (config.output / entry.path.lstrip("/")).stat().st_size


def test_a_font_entry_says_its_chain_and_a_removed_entry_its_rule(example: Path) -> None:
    report = site_report(example)
    home = report.routes[0]
    font = next(e for e in home.entries if e.path == "/static/fonts/dejavu-sans.woff2")
    # The page's link is written by its layout: the chain names the template line.
    assert font.chain == (
        "templates/base.html:9",
        "static/css/site.css:4",
        "static/css/base/typography.css:6",
        "/static/fonts/dejavu-sans.woff2",
    )
    about = report.routes[2]
    removed = next(e for e in about.entries if e.state == "removed")
    assert removed.path == "/static/js/analytics.js"
    assert removed.reasons[-1].startswith("removed by rule at ")
    assert removed.reasons[-1].endswith(":10 (match /about.html)")


def test_budgets_follow_the_site_and_the_rules_policies(example: Path) -> None:
    report = site_report(example)
    assert report.budget == Budget(None, 50000)
    docs = next(r for r in report.routes if r.route == "/docs/")
    assert docs.budget == Budget(4, 50000) and docs.rules == (8,)
    assert len(docs.of("push")) == 4  # the rule's budget holds the rest to hints
    assert docs.budget_use == 1.0
    # The docs routes fill their 4 pushes; the others use about half of 50 kB.
    assert [r.route for r in report.nearest_budget(3)] == ["/docs/", "/docs/install.html", "/"]
    home = report.routes[0]
    assert home.budget_use == home.bytes_of("push") / 50000


def test_budget_use_is_the_larger_share() -> None:
    assert Budget(4, 1000).use(1, 900) == 0.9
    assert Budget(4, 1000).use(3, 100) == 0.75
    assert Budget(None, None).use(30, 10**6) == 0.0


def test_rules_say_what_they_do_and_which_routes_they_matched(example: Path) -> None:
    rules = site_report(example).rules
    assert [(r.line, r.match, r.kind, r.does, r.routes) for r in rules] == [
        (8, "/docs/*", "glob", ("at most 4 pushes",), ("/docs/", "/docs/install.html")),
        (10, "/about.html", "exact", ("removes /static/js/analytics.js",), ("/about.html",)),
        (12, "/blog/<script>", "rule", ("adds /static/css/site.css",), ()),
    ]


def test_verify_findings_sit_beside_the_entries(example: Path, tmp_path: Path) -> None:
    result = write_verify_result(tmp_path / "verify.json")
    report = site_report(example, verify=result)
    assert report.verify is not None and not report.verify.ok
    assert report.summary().endswith("; verify failed")
    home = report.routes[0]
    by_path = {e.path: e for e in home.entries}
    assert by_path["/static/css/print.css"].verdict == "needless"
    assert by_path["/static/js/app.js"].verdict == "duplicate"
    fetched = by_path["/static/css/site.css"].fetched
    assert fetched is not None and fetched.from_early_hints and fetched.encoded_bytes == 3500
    assert [f.path for f in home.unlisted] == ["/static/css/extra.css"]
    docs = next(r for r in report.routes if r.route == "/docs/")
    assert docs.verified is not None and docs.verified.ok and docs.unlisted == ()
    assert report.routes[1].verified is None  # /404.html was not loaded


def test_a_report_without_the_site_keeps_the_manifests_reasons(example: Path) -> None:
    report = make_report(load_manifest(example / "push-manifest.yaml"))
    home = report.routes[0]
    assert home.page is None and all(e.size is None and e.chain == () for e in home.entries)
    assert home.entries[0].reasons == ("generated by pushgen build",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"version": 1, "routes": [}', "1:27: not JSON"),
        ("[]", "its version is null, this pushgen reads version 1"),
        ('{"version": 2}', "its version is 2, this pushgen reads version 1"),
    ],
)
def test_a_bad_verify_result_is_named_where_it_is_wrong(
    tmp_path: Path, text: str, message: str
) -> None:
    # The report reads results through pushgen.verify.result, verify's own reader.
    path = tmp_path / "verify.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(VerifyResultError) as raised:
        VerifyResult.read(path)
    assert str(raised.value).startswith(f"{path}: ")
    assert message in str(raised.value)


def test_a_verify_result_reads_back(tmp_path: Path) -> None:
    result = VerifyResult.read(write_verify_result(tmp_path / "v.json"))
    assert [r.route for r in result.routes] == ["/", "/docs/"]
    assert result.browser == "Chromium 156.0" and result.routes[0].early_hints == (
        "/static/css/site.css",
    )


# What `pushgen verify --json` (the verify helper's command, on its branch) wrote for
# the example site with conftest's rules: the rule removing analytics.js from
# /about.html makes a miss. Only the manifest's folder was renamed.
REAL_RESULT = Path(__file__).with_name("golden") / "verify-site_example.json"


def test_a_real_verify_result_sits_beside_the_entries(example: Path) -> None:
    report = site_report(example, verify=REAL_RESULT)
    assert report.verify is not None and report.verify.browser == "Chromium 156.0.8078.129"
    assert [r.route for r in report.verify.routes] == ROUTES
    assert report.summary().endswith("; verify failed")
    about = report.routes[2]
    assert about.verified is not None and not about.verified.ok
    (miss,) = about.verified.misses
    assert (miss.path, miss.type) == ("/static/js/analytics.js", "script")
    assert miss.why.endswith("removed by rule at push-manifest.yaml:10 (match /about.html)")
    removed = next(e for e in about.entries if e.state == "removed")
    assert removed.path == miss.path and removed.fetched is not None
    assert removed.fetched.initiator == "parser" and not removed.fetched.from_early_hints
    home = report.routes[0]
    assert home.verified is not None and home.verified.ok
    site_css = next(e for e in home.entries if e.path == "/static/css/site.css")
    assert site_css.fetched is not None and site_css.fetched.from_early_hints
    assert site_css.verdict == ""


def test_a_page_changed_since_the_build_is_a_problem_of_its_route(tmp_path: Path) -> None:
    from pushgen.report import render_html
    from tests.report.conftest import build_example

    site = build_example(tmp_path / "site")
    page = site / "pages" / "blog.html"
    page.write_text(
        page.read_text(encoding="utf-8").replace(
            "{% block content %}",
            '{% block head %}<link rel="stylesheet" href="/static/css/docs.css">'
            "{% endblock %}{% block content %}",
            1,
        ),
        encoding="utf-8",
    )
    report = site_report(site)
    blog = next(r for r in report.routes if r.route == "/blog.html")
    expected = "the manifest differs from the site as it is now; run `pushgen build`"
    assert blog.problems == (expected,)
    assert all(r.problems == () for r in report.routes if r is not blog)
    html = render_html(report)
    assert f'<ul class="problems"><li>{expected}</li></ul>' in html
