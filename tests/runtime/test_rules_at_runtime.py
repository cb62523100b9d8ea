"""The runtime with a manifest written entirely by hand (no build): rules, patterns, policy.

A Quart app with the extension, driven by Quart's test client over HTTP/2, whose
``push_promises`` are the pushes the app made; ``Link`` headers are the hints.
Expectations are written out by hand, never computed with the code under test.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from quart import Quart

import pushgen.quart
from pushgen.errors import ManifestError
from pushgen.manifest.check import check_manifest
from pushgen.runtime.middleware import EarlyHintsMiddleware
from tests.manifest.test_rule_scale import counting_matches

pytestmark = pytest.mark.anyio

SITE_CSS = "</static/css/site.css>; rel=preload; as=style"
BLOG_CSS = "</static/css/blog.css>; rel=preload; as=style"
FONT = '</static/fonts/f.woff2>; rel=preload; as=font; type="font/woff2"; crossorigin'
APP_JS = "</static/js/app.js>; rel=modulepreload"
COVER = "</static/img/cover.png>; rel=preload; as=image"

MANIFEST = """\
# Written by hand: this app has no pushgen build.
version: 1
rules:
  # The home page: everything it needs, by hand.
  - match: /
    add:
      - {path: /static/css/site.css, as: style}
      - {path: /static/fonts/f.woff2, as: font, type: font/woff2, crossorigin: anonymous}
      - {path: /static/js/app.js, as: script, module: true}
      - {path: /static/js/analytics.js, as: script}
      - {path: /static/img/cover.png, as: image, push: false}
    remove: [/static/js/analytics.js]
  # Every blog post, a dynamic route of the app that no build ever rendered.
  - match: /blog/<slug>
    add:
      - {path: /static/css/site.css, as: style}
      - {path: /static/css/blog.css, as: style}
      - {path: /static/img/cover.png, as: image}
    set:
      - {path: /static/img/*, push: false}       # a hint, not a push
      - {path: /static/css/blog.css, hint: false}  # a push, not a hint
  # Shop items: their entries below, cut down by a budget in document order.
  - match: /shop/<int:item>
    policy: {max_pushes: 2}
  - match: "/docs/**"
    policy: {push: [style]}
routes:
  /shop/1:
    - {path: /static/css/site.css, as: style}
    - {path: /static/css/shop.css, as: style}
    - {path: /static/fonts/f.woff2, as: font, type: font/woff2, crossorigin: anonymous}
    - {path: /static/js/app.js, as: script, module: true}
  /docs/:
    - {path: /static/css/site.css, as: style}
    - {path: /static/fonts/f.woff2, as: font, type: font/woff2, crossorigin: anonymous}
    - {path: /static/js/app.js, as: script, module: true}
"""


def make_app(manifest: Path, **options: Any) -> Quart:
    """Someone's Quart app with static and dynamic routes; pushgen on top."""
    app = Quart(__name__)

    @app.route("/")
    async def home() -> str:
        return "home"

    @app.route("/about.html")
    async def about() -> str:
        return "about"

    @app.route("/blog/<slug>")
    async def post(slug: str) -> str:
        return f"post {slug}"

    @app.route("/blogs/<slug>")
    async def not_a_post(slug: str) -> str:
        return slug

    @app.route("/shop/<int:item>")
    async def item(item: int) -> str:
        return f"item {item}"

    @app.route("/docs/")
    async def docs() -> str:
        return "docs"

    return pushgen.quart.init_app(app, manifest=manifest, reload_interval=0, **options)


async def get(app: Quart, path: str) -> tuple[int, list[str], list[str]]:
    """(status, pushed paths in order, Link values) of a GET over HTTP/2."""
    client = app.test_client()
    response = await client.get(path, http_version="2")
    links = [v for field in response.headers.getlist("Link") for v in field.split(", ")]
    return response.status_code, [p for p, _ in client.push_promises], links


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    path = tmp_path / "push-manifest.yaml"
    path.write_text(MANIFEST, encoding="utf-8")
    return path


async def test_the_hand_written_manifest_is_clean(manifest: Path) -> None:
    assert check_manifest(manifest) == []


async def test_an_exact_route_named_only_by_a_rule(manifest: Path) -> None:
    app = make_app(manifest)
    assert await get(app, "/") == (
        200,
        ["/static/css/site.css", "/static/fonts/f.woff2", "/static/js/app.js"],
        [SITE_CSS, FONT, APP_JS, COVER],  # analytics.js is removed: neither pushed nor linked
    )


@pytest.mark.parametrize("path", ["/blog/hello", "/blog/a-post-from-2031"])
async def test_a_quart_rule_covers_dynamic_routes_the_build_never_saw(
    manifest: Path, path: str
) -> None:
    app = make_app(manifest)
    assert await get(app, path) == (
        200,
        ["/static/css/site.css", "/static/css/blog.css"],  # cover.png: set push: false
        [SITE_CSS, COVER],  # blog.css: set hint: false
    )


@pytest.mark.parametrize("path", ["/blogs/hello", "/about.html"])
async def test_routes_no_rule_matches_get_nothing(manifest: Path, path: str) -> None:
    app = make_app(manifest)
    assert await get(app, path) == (200, [], [])


async def test_a_rule_budget_pushes_the_first_entries_in_document_order(manifest: Path) -> None:
    app = make_app(manifest)
    status, pushed, links = await get(app, "/shop/1")
    assert (status, pushed) == (200, ["/static/css/site.css", "/static/css/shop.css"])
    assert links == [SITE_CSS, "</static/css/shop.css>; rel=preload; as=style", FONT, APP_JS]
    # /shop/2 has no entries of its own: the rule has nothing to budget.
    assert await get(app, "/shop/2") == (200, [], [])


async def test_a_rule_policy_chooses_the_pushed_destinations(manifest: Path) -> None:
    app = make_app(manifest)
    assert await get(app, "/docs/") == (200, ["/static/css/site.css"], [SITE_CSS, FONT, APP_JS])


async def test_the_extension_max_pushes_caps_after_the_rules(manifest: Path) -> None:
    app = make_app(manifest, max_pushes=1)
    assert await get(app, "/") == (200, ["/static/css/site.css"], [SITE_CSS, FONT, APP_JS, COVER])
    assert (await get(app, "/blog/x"))[1] == ["/static/css/site.css"]


async def test_a_byte_budget_uses_the_sizes_of_the_served_files(tmp_path: Path) -> None:
    output = tmp_path / "out"
    for name, size in (("a.css", 600), ("b.css", 600), ("c.css", 300)):
        path = output / "static" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * size)
    manifest = tmp_path / "m.yaml"
    manifest.write_text(
        "version: 1\n"
        "rules:\n"
        "  - {match: /, policy: {max_bytes: 1000}}\n"
        "routes:\n"
        "  /:\n"
        "    - {path: /static/a.css, as: style}\n"
        "    - {path: /static/b.css, as: style}\n"
        "    - {path: /static/c.css, as: style}\n"
    )
    app = make_app(manifest, output=output)
    # 600 fits; 600 more would be 1200; 300 more is 900.
    assert (await get(app, "/"))[1] == ["/static/a.css", "/static/c.css"]


async def test_103_early_hints_for_a_pattern_route(manifest: Path) -> None:
    app = make_app(manifest)
    state = app.extensions["pushgen"]
    sent: list[dict[str, Any]] = []

    async def page(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})

    async def record(message: Any) -> None:
        sent.append(dict(message))

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    middleware = EarlyHintsMiddleware(page, lambda: state.table)
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/blog/hello",
        "root_path": "",
        "extensions": {"http.response.early_hint": {}},
    }
    await middleware(scope, receive, record)
    assert sent[0] == {
        "type": "http.response.early_hint",
        "links": [f"{SITE_CSS}, {COVER}".encode()],
    }
    assert sent[1]["type"] == "http.response.start"


async def test_a_rule_change_is_picked_up_on_reload(manifest: Path) -> None:
    app = make_app(manifest)
    state = app.extensions["pushgen"]
    manifest.write_text(MANIFEST.replace("match: /blog/<slug>", "match: /blogs/<slug>"))
    assert await state.reload()
    assert await get(app, "/blog/hello") == (200, [], [])
    assert (await get(app, "/blogs/hello"))[1] == ["/static/css/site.css", "/static/css/blog.css"]


async def test_the_runtime_refuses_what_check_reports(tmp_path: Path) -> None:
    manifest = tmp_path / "m.yaml"
    manifest.write_text(
        "version: 1\nrules:\n  - match: /blog/<slugg\n    add: [{path: /a.css, as: style}]\n"
        "  - match: /\n    polcy: {max_pushes: 1}\n"
    )
    with pytest.raises(ManifestError) as info:
        make_app(manifest)
    assert info.value.diagnostics == check_manifest(manifest)
    assert [str(d) for d in info.value.diagnostics] == [
        f"{manifest}:3:12: error: malformed variable in '/blog/<slugg'; write it like <slug> or <int:id>",
        f"{manifest}:6:5: error: unknown key 'polcy' in a rule; did you mean 'policy'?",
    ]


async def test_missing_pages_do_not_try_every_pattern_rule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A flood of distinct missing pages tries the rules their prefix names, not all 2,000.

    Every rule was tried for every new path (16,000 glob rules: 32 requests/s instead
    of 705; issue 22 item 7); bench/rules_bench.py --only flood prints the rates.
    """
    rules = "".join(
        f"  - match: /section{i}/*\n    add: [{{path: /static/css/s{i}.css, as: style}}]\n"
        for i in range(2000)
    )
    path = tmp_path / "push-manifest.yaml"
    blog = "  - match: /blog/<slug>\n    add: [{path: /static/css/blog.css, as: style}]\n"
    path.write_text(f"version: 1\nrules:\n{rules}{blog}")
    app = make_app(path)
    tried = counting_matches(monkeypatch)
    for i in range(20):
        assert await get(app, f"/missing/{i}/page") == (404, [], [])
    assert tried == []  # was 20 x 2,001
    assert await get(app, "/blog/hello") == (200, ["/static/css/blog.css"], [BLOG_CSS])
    # Only the one rule under /blog/: asked if it matches, found, confirmed by resolve_route.
    assert tried == ["/blog/hello"] * 3
