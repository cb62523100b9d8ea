"""pushgen/verify/compare.py and result.py as pure functions: recorded loads in, verdicts out.

The loads are written here by hand the way :func:`pushgen.verify.browser.load_page`
records them (DevTools resource types and initiators); the manifests are real
manifest text with real rules, so each ``why`` is the words ``pushgen explain``
uses for the entry.
"""

from __future__ import annotations

import json
from collections import Counter

import jsonschema  # type: ignore[import-untyped]
import pytest

from pushgen.manifest import parse_manifest
from pushgen.verify import Duplicate, Miss, Needless, RouteVerdict, VerifyResult, compare_route
from pushgen.verify.browser import Fetched, PageLoad
from pushgen.verify.result import VerifyResultError, render_verdict, schema

MANIFEST = """\
version: 1
rules:
  - match: /
    add:
      - {path: /static/fonts/unused.woff2, as: font, type: font/woff2, crossorigin: anonymous}
    remove: [/static/css/site.css]
routes:
  /:
    - {path: /static/css/site.css, as: style}
    - {path: /static/js/app.js, as: script}
    - {path: /static/js/late.js, as: script, push: false, hint: false}
    - {path: /static/img/hero-480.png, as: image, push: false, imagesrcset: "/static/img/hero-480.png 480w, /static/img/hero-1440.png 1440w", imagesizes: 100vw}
    - {path: /static/img/logo.png, as: image, push: false}
  /plain.html:
    - {path: /static/css/site.css, as: style}
"""

DOC = Fetched("/", "Document", "other", "", 200, protocol="h2")


def _fetch(path: str, kind: str, initiator: str = "parser", **more: object) -> Fetched:
    return Fetched(path, kind, initiator, "https://localhost/", 200, protocol="h2", **more)  # type: ignore[arg-type]


def _load(route: str, fetched: list[Fetched], *, console: list[tuple[str, str]] | None = None,
          extra: dict[str, int] | None = None) -> PageLoad:  # fmt: skip
    requests = Counter([route, *(f.path for f in fetched)])
    requests.update(extra or {})
    return PageLoad(route, 200, DOC, "TLS 1.3", fetched, requests, console or [], [], [], [], {})


PLAIN = [
    _fetch("/static/css/site.css", "Stylesheet"),
    _fetch("/static/js/app.js", "Script"),
    _fetch("/static/js/late.js", "Script"),
    _fetch("/static/img/hero-1440.png", "Image"),
    _fetch("/static/img/logo.png", "Image"),
]


def test_a_removed_stylesheet_is_a_miss_and_an_added_unused_font_is_needless() -> None:
    manifest = parse_manifest(MANIFEST, "push-manifest.yaml")
    hinted = _load("/", [*PLAIN[1:], _fetch("/static/css/site.css", "Stylesheet")])
    verdict = compare_route(hinted, _load("/", PLAIN), manifest.decisions("/"))
    assert verdict.misses == (
        Miss(
            "/static/css/site.css",
            "style",
            "fetched by the parser (render-blocking), but removed by rule at"
            " push-manifest.yaml:3 (match /)",
        ),
        Miss(
            "/static/js/late.js",
            "script",
            "fetched by the parser (render-blocking), listed only (neither pushed nor hinted)",
        ),
    )
    assert verdict.needless == (
        Needless(
            "/static/fonts/unused.woff2",
            "push",
            "pushed, never fetched by the page; added by rule at push-manifest.yaml:3 (match /)",
        ),
    )
    # The responsive hero's hint preloads the 1440w candidate: used, not needless.
    assert verdict.duplicates == ()
    assert not verdict.ok


def test_a_route_whose_hints_are_all_used_is_ok() -> None:
    manifest = parse_manifest(MANIFEST, "push-manifest.yaml")
    sheet = _fetch("/static/css/site.css", "Stylesheet", "other", from_early_hints=True)
    hinted = _load("/plain.html", [sheet])
    plain = _load("/plain.html", [_fetch("/static/css/site.css", "Stylesheet")])
    verdict = compare_route(hinted, plain, manifest.decisions("/plain.html"))
    assert verdict == RouteVerdict(
        "/plain.html", 200, "h2", early_hints=("/static/css/site.css",), fetched=(sheet,)
    )
    assert verdict.ok


def test_duplicates_are_what_the_hints_added_and_preload_warnings_fail_the_route() -> None:
    manifest = parse_manifest(MANIFEST, "push-manifest.yaml")
    sheet = _fetch("/static/css/site.css", "Stylesheet")
    icon = _fetch("/static/img/icon.svg", "Image")
    warning = (
        "The resource https://localhost/static/css/site.css was preloaded using link preload"
        " but not used within a few seconds from the window's load event."
    )
    # The page itself fetches the icon twice (a <link rel=icon> and an <img>): not a duplicate.
    hinted = _load("/plain.html", [sheet, icon], console=[("warning", warning)],
                   extra={"/static/css/site.css": 1, "/static/img/icon.svg": 1})  # fmt: skip
    plain = _load("/plain.html", [sheet, icon], extra={"/static/img/icon.svg": 1})
    verdict = compare_route(hinted, plain, manifest.decisions("/plain.html"))
    assert verdict.duplicates == (Duplicate("/static/css/site.css", 2),)
    assert verdict.preload_warnings == (warning,)
    assert (verdict.misses, verdict.needless) == ((), ())
    assert not verdict.ok


def test_a_page_that_does_not_answer_200_is_not_ok() -> None:
    manifest = parse_manifest(MANIFEST, "push-manifest.yaml")
    missing = PageLoad("/plain.html", 404, DOC, "", [], Counter(), [], [], [], [], {})
    verdict = compare_route(missing, missing, [])
    assert verdict.status == 404 and not verdict.ok
    assert "the page answered 404" in render_verdict(verdict)
    assert manifest.decisions("/nowhere") == []


def _result() -> VerifyResult:
    manifest = parse_manifest(MANIFEST, "push-manifest.yaml")
    hinted = _load("/", [*PLAIN[1:], _fetch("/static/css/site.css", "Stylesheet")])
    verdict = compare_route(hinted, _load("/", PLAIN), manifest.decisions("/"))
    return VerifyResult("push-manifest.yaml", "Chromium 1.2.3", (verdict,))


def test_the_json_follows_the_shipped_schema_and_reads_back() -> None:
    result = _result()
    data = json.loads(json.dumps(result.to_json()))
    jsonschema.Draft202012Validator.check_schema(schema())
    jsonschema.validate(data, schema())
    assert data["summary"] == {
        "routes": 1,
        "misses": 2,
        "needless": 1,
        "duplicates": 0,
        "ok": False,
    }
    assert data["routes"][0]["misses"][0] == {
        "path": "/static/css/site.css",
        "type": "style",
        "why": "fetched by the parser (render-blocking), but removed by rule at"
        " push-manifest.yaml:3 (match /)",
    }
    again = VerifyResult.from_json(data)
    assert again.to_json() == data
    assert again.summary() == "1 route, 2 misses, 1 needless, 0 duplicates, 0 preload warnings"


def test_the_text_report_names_route_path_and_why() -> None:
    text = _result().render()
    assert text.splitlines() == [
        "/ (h2): FAILED; 5 fetched, 0 from the 103; 2 misses, 1 needless",
        "  miss      style  /static/css/site.css: fetched by the parser (render-blocking), but"
        " removed by rule at push-manifest.yaml:3 (match /)",
        "  miss      script /static/js/late.js: fetched by the parser (render-blocking), listed"
        " only (neither pushed nor hinted)",
        "  needless  push   /static/fonts/unused.woff2: pushed, never fetched by the page; added"
        " by rule at push-manifest.yaml:3 (match /)",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "result.json: 1:2: not JSON"),
        (
            '{"version": 2}',
            "result.json: not a pushgen verify result (version 1): its version is 2, this pushgen reads version 1",
        ),
        ('{"version": 1, "tool": "pushgen verify"}', "at (top): 'manifest' is a required property"),
    ],
)
def test_a_bad_result_file_is_a_located_message(tmp_path: object, text: str, message: str) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "result.json"
    path.write_text(text)
    with pytest.raises(VerifyResultError) as caught:
        VerifyResult.read(path)
    assert message in str(caught.value).replace(str(path.parent) + "/", "")


def test_importing_verify_loads_no_browser_driver() -> None:
    """Playwright is imported when a browser opens, so the report can read results without it."""
    import subprocess
    import sys

    code = "import sys, pushgen.verify; print('playwright' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout == "False\n"


def test_the_routes_verified_are_the_pages_a_browser_can_open() -> None:
    from pushgen.verify.run import select_routes

    manifest = parse_manifest(
        "version: 1\nroutes:\n"
        + "".join(
            f'  "{r}":\n    - {{path: /s.css, as: style}}\n'
            for r in ("/docs/b.html", "/", "/blog/<slug>", "/docs/a.html", "/about.html")
        )
    )
    assert select_routes(manifest) == ["/", "/about.html", "/docs/a.html", "/docs/b.html"]
    assert select_routes(manifest, "/docs/*") == ["/docs/a.html", "/docs/b.html"]
    assert select_routes(manifest, "/docs/*", 1) == ["/docs/a.html"]
    assert select_routes(manifest, None, 2) == ["/", "/about.html"]
    assert select_routes(manifest, "/nothing*") == []
