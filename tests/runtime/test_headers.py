"""Golden tests of the pure header building: Link values, route plans, route aliases."""

from __future__ import annotations

import pytest

from pushgen.errors import LinkFieldError
from pushgen.links import link_value, normalise_base_path, route_aliases
from pushgen.manifest import Manifest, parse_manifest
from pushgen.model import Asset
from pushgen.runtime.headers import RoutePlan, RouteTable, build_route_table, plan_route
from pushgen.urls import wire_path


@pytest.mark.parametrize(
    ("asset", "expected"),
    [
        (Asset("/a.css", "style"), "</a.css>; rel=preload; as=style"),
        (
            Asset("/f.woff2", "font", type="font/woff2", crossorigin="anonymous"),
            '</f.woff2>; rel=preload; as=font; type="font/woff2"; crossorigin',
        ),
        (
            Asset("/f.woff2", "font", crossorigin="use-credentials"),
            "</f.woff2>; rel=preload; as=font; crossorigin=use-credentials",
        ),
        (Asset("/app.js", "script", module=True), "</app.js>; rel=modulepreload"),
        (
            Asset(
                "/app.js", "script", module=True, crossorigin="anonymous", type="text/javascript"
            ),
            "</app.js>; rel=modulepreload",
        ),
        (
            Asset("/app.js", "script", module=True, crossorigin="use-credentials"),
            "</app.js>; rel=modulepreload; crossorigin=use-credentials",
        ),
        (Asset("/w.js", "worker", module=True), "</w.js>; rel=modulepreload; as=worker"),
        (Asset("/p.css", "style", media="print"), '</p.css>; rel=preload; as=style; media="print"'),
        (
            Asset("/p.css", "style", media='(min-width: 40em) and "x"\\'),
            r'</p.css>; rel=preload; as=style; media="(min-width: 40em) and \"x\"\\"',
        ),
        (Asset("/h.png", "image", push=False), "</h.png>; rel=preload; as=image"),
        (Asset("/d.json", "json"), "</d.json>; rel=preload; as=json"),
        (Asset("/a?b=<c>", "fetch"), "</a?b=%3Cc%3E>; rel=preload; as=fetch"),
        (Asset("/caf%C3%A9.svg", "image"), "</caf%C3%A9.svg>; rel=preload; as=image"),
        (
            Asset("/s.css", "style", crossorigin="anonymous", integrity="sha256-AB+/= sha384-C"),
            '</s.css>; rel=preload; as=style; crossorigin; integrity="sha256-AB+/= sha384-C"',
        ),
        (
            Asset("/m.js", "script", module=True, integrity="sha512-x"),
            '</m.js>; rel=modulepreload; integrity="sha512-x"',
        ),
    ],
)
def test_link_value(asset: Asset, expected: str) -> None:
    assert link_value(asset) == expected


@pytest.mark.parametrize(
    "asset",
    [
        Asset("/a.js", "script", hint=False),
        Asset("/v.mp4", "video"),  # not a preload destination: a browser would ignore it
        Asset("/doc.html", "document"),
    ],
)
def test_link_value_none_when_not_hinted(asset: Asset) -> None:
    assert link_value(asset) is None


@pytest.mark.parametrize("field", ["type", "media"])
@pytest.mark.parametrize("bad", ["print\r\nSet-Cookie: x=1", "caf\u00e9", "a\x00b"])
def test_link_value_rejects_what_a_header_cannot_carry(field: str, bad: str) -> None:
    with pytest.raises(LinkFieldError, match=field) as info:
        link_value(Asset("/a.css", "style", **{field: bad}))  # type: ignore[arg-type]
    assert (info.value.field, info.value.value) == (field, bad)


ASSETS = (
    Asset("/a.css", "style"),
    Asset("/b.woff2", "font", type="font/woff2", crossorigin="anonymous"),
    Asset("/c.png", "image", push=False),
    Asset("/d.js", "script", hint=False),
    Asset("/e.js", "script", module=True),
)


def test_plan_route_orders_pushes_and_links_as_the_manifest() -> None:
    plan = plan_route("/", ASSETS)
    assert plan == RoutePlan(
        route="/",
        push_paths=("/a.css", "/b.woff2", "/d.js", "/e.js"),
        links=(
            b"</a.css>; rel=preload; as=style",
            b'</b.woff2>; rel=preload; as=font; type="font/woff2"; crossorigin',
            b"</c.png>; rel=preload; as=image",
            b"</e.js>; rel=modulepreload",
        ),
        link_header='</a.css>; rel=preload; as=style, </b.woff2>; rel=preload; as=font; type="font/woff2"; '
        "crossorigin, </c.png>; rel=preload; as=image, </e.js>; rel=modulepreload",
    )


@pytest.mark.parametrize(
    ("cap", "pushed"), [(0, ()), (1, ("/a.css",)), (3, ("/a.css", "/b.woff2", "/d.js"))]
)
def test_plan_route_caps_pushes_not_links(cap: int, pushed: tuple[str, ...]) -> None:
    plan = plan_route("/", ASSETS, max_pushes=cap)
    assert plan.push_paths == pushed
    assert len(plan.links) == 4


def test_plan_route_of_no_assets_is_empty() -> None:
    assert plan_route("/x/", ()) == RoutePlan("/x/")


@pytest.mark.parametrize(
    ("route", "pretty", "aliases"),
    [
        ("/", False, ("/", "/index.html")),
        ("/docs/", False, ("/docs/", "/docs/index.html", "/docs")),
        ("/docs/index.html", False, ("/docs/index.html", "/docs/", "/docs")),
        ("/index.html", False, ("/index.html", "/")),
        ("/about.html", False, ("/about.html",)),
        ("/about.html", True, ("/about.html", "/about")),
        ("/about", False, ("/about", "/about.html")),
        ("/feed.xml", True, ("/feed.xml",)),
        ("/blog/", False, ("/blog/", "/blog/index.html", "/blog")),
    ],
)
def test_route_aliases(route: str, pretty: bool, aliases: tuple[str, ...]) -> None:
    assert route_aliases(route, pretty_urls=pretty) == aliases


@pytest.mark.parametrize(
    ("given", "expected"),
    [("/", "/"), ("", "/"), ("blog", "/blog/"), ("/blog", "/blog/"), ("/a/b/", "/a/b/")],
)
def test_normalise_base_path(given: str, expected: str) -> None:
    assert normalise_base_path(given) == expected


def _manifest(routes: dict[str, tuple[Asset, ...]]) -> Manifest:
    return Manifest(routes=routes)


def test_table_maps_every_alias_to_one_plan() -> None:
    table = build_route_table(_manifest({"/": ASSETS[:1], "/docs/": ASSETS[1:2]}))
    home, docs = table.plans["/"], table.plans["/docs/"]
    assert table.lookup("/index.html") is home
    assert table.lookup("/docs") is docs
    assert table.lookup("/docs/index.html") is docs
    assert table.lookup("/static/a.css") is None
    assert table.lookup("/nope/") is None
    assert table.routes == 2


def test_exact_route_wins_over_an_alias() -> None:
    table = build_route_table(_manifest({"/docs": ASSETS[:1], "/docs/": ASSETS[1:2]}))
    assert table.lookup("/docs").route == "/docs"  # type: ignore[union-attr]
    assert table.lookup("/docs/").route == "/docs/"  # type: ignore[union-attr]
    assert table.lookup("/docs.html").route == "/docs"  # type: ignore[union-attr]


def test_keys_are_percent_decoded_like_an_asgi_path() -> None:
    table = build_route_table(_manifest({"/caf%C3%A9/": ASSETS[:1]}))
    assert table.lookup("/café/") is not None
    assert table.lookup("/café") is not None


def test_lookup_strips_the_root_path_when_the_full_path_is_not_a_route() -> None:
    table = build_route_table(_manifest({"/": ASSETS[:1], "/docs/": ASSETS[1:2]}))
    assert table.lookup("/mnt/docs/", "/mnt") is table.plans["/docs/"]
    assert table.lookup("/mnt", "/mnt") is table.plans["/"]
    assert table.lookup("/mnt/", "/mnt") is table.plans["/"]
    assert table.lookup("/other/docs/", "/mnt") is None


def test_routes_outside_the_base_path_are_relative_to_it() -> None:
    table = build_route_table(
        _manifest({"/": ASSETS[:1], "/blog/docs/": ASSETS[1:2]}), base_path="/blog"
    )
    assert table.lookup("/blog/") is table.plans["/blog/"]
    assert table.lookup("/blog") is table.plans["/blog/"]
    assert table.lookup("/blog/docs/") is not None
    assert table.lookup("/") is None


def test_pretty_urls_alias_html_routes() -> None:
    plain = build_route_table(_manifest({"/about.html": ASSETS[:1]}))
    pretty = build_route_table(_manifest({"/about.html": ASSETS[:1]}), pretty_urls=True)
    assert plain.lookup("/about") is None
    assert pretty.lookup("/about") is not None


def test_max_pushes_applies_to_every_route() -> None:
    table = build_route_table(_manifest({"/": ASSETS, "/x/": ASSETS}), max_pushes=2)
    assert {len(plan.push_paths) for plan in table.plans.values()} == {2}


def test_a_value_that_cannot_be_a_header_loses_its_hint_and_is_reported() -> None:
    text = (
        "version: 1\nroutes:\n  /:\n"
        "    - {path: /a.css, as: style}\n"
        '    - {path: /p.css, as: style, media: "print\\u00e9"}\n'
    )
    table = build_route_table(parse_manifest(text, "m.yaml"), filename="m.yaml")
    plan = table.lookup("/")
    assert plan is not None
    assert plan.push_paths == ("/a.css", "/p.css")
    assert plan.links == (b"</a.css>; rel=preload; as=style",)
    [problem] = table.diagnostics
    assert str(problem).startswith("m.yaml:3: warning: route '/': /p.css: media")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/static/a.css", "/static/a.css"),
        ("/caf%C3%A9.svg", "/caf%C3%A9.svg"),
        ("/café.svg", "/caf%C3%A9.svg"),
        ("/a b/<x>.js", "/a%20b/%3Cx%3E.js"),
        ("/q?x=1&y=a:b", "/q?x=1&y=a:b"),
        ("/~user/(1)!.css", "/~user/(1)!.css"),
    ],
)
def test_wire_path_is_ascii_and_keeps_escapes(path: str, expected: str) -> None:
    assert wire_path(path) == expected


def test_non_ascii_asset_paths_are_pushed_and_linked_percent_encoded() -> None:
    plan = plan_route("/", [Asset("/img/café.svg", "image")])
    assert plan.push_paths == ("/img/caf%C3%A9.svg",)
    assert plan.links == (b"</img/caf%C3%A9.svg>; rel=preload; as=image",)


def test_empty_table() -> None:
    assert RouteTable().lookup("/") is None
