"""Manifest rules as pure functions: route patterns, resolving a route, push policy and budgets."""

from __future__ import annotations

from dataclasses import replace

import pytest

from pushgen.errors import RoutePatternError
from pushgen.manifest.rules import (
    EntryChange,
    RoutePattern,
    Rule,
    glob_matches,
    resolve_route,
)
from pushgen.manifest.werkzeug_rule import RouteVariable
from pushgen.model import Asset
from pushgen.push_policy import Decision, Policy, apply_policy, media_matches_screen, push_refusal

CSS = Asset("/static/css/site.css", "style")
PRINT = Asset("/static/css/print.css", "style", media="print", push=False)
FONT = Asset("/static/fonts/f.woff2", "font", type="font/woff2", crossorigin="anonymous")
APP = Asset("/static/js/app.js", "script", crossorigin="anonymous", module=True)
HERO = Asset("/static/img/hero.png", "image", push=False)
GENERATED = (CSS, PRINT, FONT, APP, HERO)


def rule(match: str, line: int = 3, **parts: object) -> Rule:
    return Rule(RoutePattern.parse(match), line, **parts)  # type: ignore[arg-type]


def states(decisions: list[Decision]) -> list[tuple[str, bool, bool, bool]]:
    """(path, push, hint, removed) of each decision, in order."""
    return [(d.asset.path, d.asset.push, d.asset.hint, d.removed) for d in decisions]


def no_size(_path: str) -> int | None:
    return None


# --- route patterns ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("match", "kind", "matching", "not_matching"),
    [
        ("/docs/", "exact", ["/docs/"], ["/docs", "/docs/index.html", "/docs/a"]),
        (
            "/blog/*",
            "glob",
            ["/blog/", "/blog/a", "/blog/a.html"],
            ["/blog", "/blog/a/b", "/x/blog/a"],
        ),
        ("/docs/**", "glob", ["/docs/", "/docs/a", "/docs/a/b/c.html"], ["/docs", "/doc/a"]),
        ("/a?c", "glob", ["/abc", "/a.c"], ["/a/c", "/ac", "/abbc"]),
        ("*", "glob", ["/", "/a/b/c"], []),
        ("**", "glob", ["/", "/a/b/c"], []),
        (
            "/blog/<slug>",
            "rule",
            ["/blog/a", "/blog/hello-world"],
            ["/blog/", "/blog/a/b", "/blog/a/"],
        ),
        ("/blog/<string:slug>", "rule", ["/blog/a"], ["/blog/a/b"]),
        ("/u/<int:id>", "rule", ["/u/1", "/u/42"], ["/u/x", "/u/-1", "/u/1.5", "/u/"]),
        ("/p/<float:x>", "rule", ["/p/1.5"], ["/p/1", "/p/x"]),
        ("/f/<path:rest>", "rule", ["/f/a", "/f/a/b/c.txt"], ["/f/", "/f"]),
        (
            "/o/<uuid:id>",
            "rule",
            ["/o/12345678-1234-1234-1234-123456789abc"],
            ["/o/12345678", "/o/x"],
        ),
        ("/<lang>/docs/<int:page>", "rule", ["/en/docs/3"], ["/en/docs/x", "/docs/3"]),
        ("/a.b/<x>", "rule", ["/a.b/1"], ["/aXb/1"]),  # the literal part is not a regex
    ],
)
def test_route_patterns(
    match: str, kind: str, matching: list[str], not_matching: list[str]
) -> None:
    pattern = RoutePattern.parse(match)
    assert pattern.kind == kind
    assert [route for route in matching if pattern.matches(route)] == matching
    assert [route for route in not_matching if pattern.matches(route)] == []


@pytest.mark.parametrize(
    ("match", "message"),
    [
        ("docs/", "match 'docs/' must be a route starting with '/', or '*' for every route"),
        ("", "match '' must be a route starting with '/', or '*' for every route"),
        (
            "/x/<foo:bar>",
            "unknown converter 'foo' in '/x/<foo:bar>'; use one of any, default, float, int, path, string, uuid",
        ),
        ("/a/<slug", "malformed variable in '/a/<slug'; write it like <slug> or <int:id>"),
        ("/a/<1x>", "malformed variable in '/a/<1x>'; write it like <slug> or <int:id>"),
        ("/a/<slug>/<b", "malformed variable in '/a/<slug>/<b'; write it like <slug> or <int:id>"),
        (
            "/u/<int(foo=1):id>",
            "'/u/<int(foo=1):id>' is not a rule Quart accepts: NumberConverter.__init__() "
            "got an unexpected keyword argument 'foo'",
        ),
        ("/u/<int(min=x):id>", "min='x' of <int> in '/u/<int(min=x):id>' must be a number"),
    ],
)
def test_bad_patterns_say_what_to_write(match: str, message: str) -> None:
    with pytest.raises(RoutePatternError) as info:
        RoutePattern.parse(match)
    assert str(info.value) == message
    assert info.value.pattern == match


QUART_RULES = [
    "/c/<any(about, help):page>",
    "/u/<int(min=1):id>",
    "/n/<int(signed=True):n>",
    "/m/<int(max=9, fixed_digits=2):n>",
    "/s/<string(length=2):code>",
    "/t/<string(minlength=3, maxlength=4):word>",
    "/p/<path:rest>",
    "/o/<uuid:id>",
    "/f/<float(signed=True):x>",
    "/d/<slug>/",
    "/<lang>/docs/<int:page>",
]
ROUTES = [
    "/c/about", "/c/help", "/c/other", "/c/about/x", "/u/0", "/u/1", "/u/01", "/u/-1",
    "/n/-3", "/n/3", "/n/x", "/m/05", "/m/5", "/m/10", "/s/ab", "/s/abc", "/s/a",
    "/t/ab", "/t/abc", "/t/abcd", "/t/abcde", "/p/a", "/p/a/b/c.txt", "/p/", "/p",
    "/o/12345678-1234-1234-1234-123456789abc", "/o/12345678", "/f/1.5", "/f/-1.5", "/f/1",
    "/d/x", "/d/x/", "/d//x/", "/en/docs/3", "/en/docs/x", "/docs/3",
]  # fmt: skip


def test_quart_style_rules_match_what_quart_routes() -> None:
    from quart import Quart

    app = Quart(__name__)
    for i, rule in enumerate(QUART_RULES):
        app.add_url_rule(rule, f"e{i}", lambda **_: "")
    adapter = app.url_map.bind("localhost")
    for i, rule in enumerate(QUART_RULES):
        pattern = RoutePattern.parse(rule)
        assert pattern.kind == "rule"
        for route in ROUTES:
            try:
                endpoint, _ = adapter.match(route, method="GET")
            except Exception:  # NotFound, or a redirect Quart would answer with
                endpoint = None
            assert pattern.matches(route) is (endpoint == f"e{i}"), (rule, route)


def test_a_rule_exposes_its_variables_as_werkzeug_parses_them() -> None:
    pattern = RoutePattern.parse("/x/<any(a, 'b c'):k>/<int(min=1, signed=True):id>/<slug>")
    assert pattern.variables == (
        RouteVariable("k", "any", ("a", "b c"), {}),
        RouteVariable("id", "int", (), {"min": 1, "signed": True}),
        RouteVariable("slug", "default", (), {}),
    )
    assert pattern.werkzeug_rule is not None
    assert pattern.werkzeug_rule.rule == "/x/<any(a, 'b c'):k>/<int(min=1, signed=True):id>/<slug>"


@pytest.mark.parametrize(
    ("match", "route", "expected"),
    [
        ("/blog/<slug>/*", "/blog/a/b", True),
        ("/blog/<slug>/*", "/blog/a/b/c", False),
        ("/blog/<slug>/**", "/blog/a/b/c", True),
        ("/blog/<slug>/p?.html", "/blog/a/p1.html", True),
        ("/blog/<slug>/p?.html", "/blog/a/p12.html", False),
        ("/a*/<int:n>/*b", "/ax/3/yb", True),
    ],
)
def test_globs_inside_a_quart_rule(match: str, route: str, expected: bool) -> None:
    assert RoutePattern.parse(match).matches(route) is expected


def test_a_glob_inside_a_quart_rule_is_a_glob_or_an_error() -> None:
    try:
        pattern = RoutePattern.parse("/blog/<slug>/*")
    except RoutePatternError:
        return
    assert pattern.matches("/blog/a/b")


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("/static/img/*", "/static/img/a.png", True),
        ("/static/img/*", "/static/img/sub/a.png", False),
        ("/static/**", "/static/img/sub/a.png", True),
        ("/static/img/*.png", "/static/img/a.svg", False),
        ("/static/js/app.js", "/static/js/app.js", True),
        ("/static/js/app.js", "/static/js/app.jsx", False),
        ("/static/a?.css", "/static/ab.css", True),
    ],
)
def test_entry_path_globs(pattern: str, path: str, expected: bool) -> None:
    assert glob_matches(pattern, path) is expected


@pytest.mark.parametrize(
    ("media", "screen"),
    [
        (None, True),
        ("", True),
        ("all", True),
        ("screen", True),
        ("only screen and (min-width: 40em)", True),
        ("(prefers-color-scheme: dark)", True),
        ("not print", True),
        ("print", False),
        ("PRINT", False),
        ("speech", False),
        ("print, screen", True),
        ("print, speech", False),
    ],
)
def test_media_for_screens(media: str | None, screen: bool) -> None:
    assert media_matches_screen(media) is screen


# --- resolving a route ------------------------------------------------------------


def test_without_rules_the_generated_entries_stand() -> None:
    decisions = resolve_route("/", GENERATED, ())
    assert [d.asset for d in decisions] == list(GENERATED)
    assert {d.reasons for d in decisions} == {("generated by pushgen build",)}


def test_add_appends_a_pinned_entry_and_replaces_one_with_the_same_path() -> None:
    extra = Asset("/static/css/extra.css", "style")
    louder = Asset("/static/img/hero.png", "image", push=True)
    decisions = resolve_route("/", GENERATED, [rule("/", 7, add=(extra, louder))], source="m.yaml")
    assert [d.asset for d in decisions] == [CSS, PRINT, FONT, APP, louder, extra]
    assert decisions[4].reasons == ("added by rule at m.yaml:7 (match /)",)
    assert decisions[4].pinned_push and decisions[5].pinned_push
    assert decisions[5].added_by == 7


def test_set_changes_attributes_of_matching_paths_and_pins_push() -> None:
    decisions = resolve_route(
        "/",
        GENERATED,
        [rule("/", 4, set=(EntryChange("/static/*/*.c?s", {"push": False, "media": "screen"}),))],
        source="m.yaml",
    )
    assert decisions[0].asset == Asset(CSS.path, "style", media="screen", push=False)
    assert decisions[0].reasons == (
        "generated by pushgen build",
        "push: false, media: screen by rule at m.yaml:4 (match /)",
    )
    assert decisions[0].pinned_push
    # hint alone does not pin push: the policy may still decide it.
    hint_only = resolve_route(
        "/", GENERATED, [rule("/", set=(EntryChange(APP.path, {"hint": False}),))]
    )
    assert hint_only[3].asset == Asset(
        APP.path, "script", crossorigin="anonymous", module=True, hint=False
    )
    assert not hint_only[3].pinned_push


def test_remove_keeps_the_entry_marked_so_explain_can_say_why() -> None:
    decisions = resolve_route(
        "/", GENERATED, [rule("/", 9, remove=("/static/js/*", "/static/img/hero.png"))], source="m"
    )
    assert states(decisions) == [
        (CSS.path, True, True, False),
        (PRINT.path, False, True, False),
        (FONT.path, True, True, False),
        (APP.path, True, True, True),
        (HERO.path, False, True, True),
    ]
    assert decisions[3].reasons[-1] == "removed by rule at m:9 (match /)"


def test_rules_apply_only_to_the_routes_they_match() -> None:
    rules = [
        rule("/blog/<slug>", remove=("/static/js/app.js",)),
        rule("/docs/*", set=(EntryChange(CSS.path, {"push": False}),)),
    ]
    assert [d.asset for d in resolve_route("/", GENERATED, rules)] == list(GENERATED)
    assert resolve_route("/blog/x", GENERATED, rules)[3].removed
    assert not resolve_route("/blog/x/y", GENERATED, rules)[3].removed
    assert resolve_route("/docs/a.html", GENERATED, rules)[0].asset.push is False


def test_rules_apply_in_file_order() -> None:
    first = rule("/**", 3, set=(EntryChange(HERO.path, {"push": True}),), remove=(APP.path,))
    second = rule("/", 8, set=(EntryChange(HERO.path, {"push": False, "hint": False}),), add=(APP,))
    decisions = resolve_route("/", GENERATED, [first, second], source="m")
    # The later set wins; the later add brings back what the earlier rule removed.
    assert states(decisions)[3:] == [
        (APP.path, True, True, False),
        (HERO.path, False, False, False),
    ]
    # The other way round, the removal wins.
    decisions = resolve_route("/", GENERATED, [second, first], source="m")
    assert states(decisions)[3:] == [(APP.path, True, True, True), (HERO.path, True, False, False)]


def test_a_set_does_not_touch_removed_entries() -> None:
    rules = [
        rule("/", remove=(HERO.path,)),
        rule("/", set=(EntryChange("/static/img/*", {"push": True}),)),
    ]
    decision = resolve_route("/", GENERATED, rules)[4]
    assert decision.removed and decision.asset == HERO


def test_rule_policies_merge_field_by_field_over_the_base() -> None:
    base = Policy(push=frozenset({"style", "script", "font"}), max_pushes=10)
    rules = [
        rule("/**", policy=Policy(max_pushes=1, max_bytes=1000)),
        rule("/", policy=Policy(push=frozenset({"style", "image"}))),
    ]
    decisions = resolve_route("/", GENERATED, rules, policy=base)
    # push: [style, image] from the second rule; max_pushes 1 from the first.
    assert states(decisions) == [
        (CSS.path, True, True, False),
        (PRINT.path, False, True, False),
        (FONT.path, False, True, False),
        (APP.path, False, True, False),
        (HERO.path, False, True, False),
    ]
    assert (
        decisions[2].reasons[-1]
        == "hint only: font is not a pushed destination (push: image, style)"
    )
    assert decisions[4].reasons[-1] == "hint only: over the budget of 1 pushes"


def test_no_policy_leaves_push_as_generated() -> None:
    decisions = resolve_route(
        "/", GENERATED, [rule("/", set=(EntryChange(APP.path, {"hint": False}),))]
    )
    assert [d.asset.push for d in decisions] == [True, False, True, True, False]


# --- policy and budgets -----------------------------------------------------------


def test_policy_over_and_empty() -> None:
    base = Policy(push=frozenset({"style"}), max_pushes=5, max_bytes=100)
    assert Policy(max_pushes=2).over(base) == Policy(
        push=frozenset({"style"}), max_pushes=2, max_bytes=100
    )
    assert Policy().over(base) == base
    assert Policy().empty and not Policy(max_bytes=0).empty


def test_destinations_decide_push_with_a_reason_for_each_hint() -> None:
    hidden = Asset("/static/img/hidden.png", "image", hint=False)
    decisions = apply_policy(
        [Decision(a) for a in (*GENERATED, hidden)],
        Policy(push=frozenset({"style", "image"})),
        no_size,
    )
    assert [(d.asset.push, d.reasons) for d in decisions] == [
        (True, ()),
        (False, ("hint only: stylesheet for media 'print', which screens do not use",)),
        (False, ("hint only: font is not a pushed destination (push: image, style)",)),
        (False, ("hint only: script is not a pushed destination (push: image, style)",)),
        (True, ()),  # an image is pushed once the policy lists images
        (False, ("hint only: not hinted, so not pushed",)),
    ]


def test_max_pushes_counts_in_document_order() -> None:
    decisions = apply_policy([Decision(a) for a in GENERATED], Policy(max_pushes=2), no_size)
    assert [d.asset.push for d in decisions] == [True, False, True, False, False]
    assert decisions[3].reasons == ("hint only: over the budget of 2 pushes",)
    # An entry that was not pushed anyway gets no budget reason.
    assert decisions[4].reasons == ()


def test_max_pushes_zero_pushes_nothing() -> None:
    decisions = apply_policy([Decision(a) for a in GENERATED], Policy(max_pushes=0), no_size)
    assert not any(d.asset.push for d in decisions)


def test_max_bytes_counts_known_sizes_in_document_order() -> None:
    sizes = {CSS.path: 300, FONT.path: 500, APP.path: 100}
    decisions = apply_policy([Decision(a) for a in GENERATED], Policy(max_bytes=450), sizes.get)
    # 300 fits; the 500-byte font would make 800; the 100-byte script still fits (400).
    assert [d.asset.push for d in decisions] == [True, False, False, True, False]
    assert decisions[2].reasons == ("hint only: over the budget of 450 pushed bytes (500 more)",)


def test_an_entry_of_unknown_size_is_pushed_and_counts_no_bytes() -> None:
    sizes = {CSS.path: 450}
    decisions = apply_policy([Decision(a) for a in GENERATED], Policy(max_bytes=450), sizes.get)
    assert [d.asset.push for d in decisions] == [True, False, True, True, False]


def test_pinned_entries_keep_push_but_use_up_the_budget() -> None:
    pinned = Decision(replace(HERO, push=True), ("added",), pinned_push=True)
    decisions = apply_policy(
        [pinned, *(Decision(a) for a in (CSS, FONT, APP))],
        Policy(push=frozenset({"font"}), max_pushes=2),
        no_size,
    )
    assert [d.asset.push for d in decisions] == [True, False, True, False]
    assert decisions[0] is pinned
    assert decisions[3].reasons == ("hint only: script is not a pushed destination (push: font)",)


def test_added_entries_are_pinned_even_over_budget() -> None:
    # By design: an entry a person added keeps the push they wrote.
    extra = (Asset("/a.css", "style"), Asset("/b.css", "style"), Asset("/c.css", "style"))
    decisions = resolve_route("/x", (), [rule("/x", add=extra, policy=Policy(max_pushes=1))])
    assert [d.asset.push for d in decisions] == [True, True, True]


def test_removed_entries_use_no_budget() -> None:
    decisions = resolve_route(
        "/", GENERATED, [rule("/", remove=(CSS.path,), policy=Policy(max_pushes=1))]
    )
    assert states(decisions)[:3] == [
        (CSS.path, True, True, True),
        (PRINT.path, False, True, False),
        (FONT.path, True, True, False),
    ]
    assert decisions[3].asset.push is False


@pytest.mark.parametrize(
    ("destination", "media", "hint", "expected"),
    [
        ("style", None, True, None),
        ("image", None, True, "hint only: image is not a pushed destination (push: font, style)"),
        (
            "style",
            "print",
            True,
            "hint only: stylesheet for media 'print', which screens do not use",
        ),
        ("font", None, False, "hint only: not hinted, so not pushed"),
    ],
)
def test_the_push_verdict_has_one_wording(
    destination: str, media: str | None, hint: bool, expected: str | None
) -> None:
    push = frozenset({"style", "font"})
    assert push_refusal(destination, media, push, hint=hint) == expected
    # The rules' decision says the same words as the verdict.
    asset = Asset("/a", destination, media=media, hint=hint)
    [decision] = apply_policy([Decision(asset)], Policy(push=push), lambda _path: None)
    assert decision.asset.push is (expected is None)
    assert list(decision.reasons) == ([expected] if expected else [])
