"""Exporting manifests to CDNs and web servers, and push_manifest.json interop.

Golden files in ``tests/export/golden/``: one manifest exported to every format
(the text and the cuts it reported), and a polymer-style ``push_manifest.json``
imported. ``PUSHGEN_UPDATE_GOLDEN=1`` rewrites them; review the diff. The other
tests pin one behaviour each: refusals, limits, how overlapping rules are laid
out for each kind of target, and the CLI.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from pushgen.cli import main
from pushgen.errors import UnknownFormatError
from pushgen.export import (
    CLOUDFLARE_MAX_LINE,
    CLOUDFLARE_MAX_RULES,
    FORMATS,
    Cut,
    ExportResult,
    export_manifest,
)
from pushgen.export.push_manifest import export_push_manifest, import_push_manifest
from pushgen.links import link_value
from pushgen.manifest import Manifest, load_manifest, parse_manifest
from pushgen.model import Asset
from tests.golden import check_golden_text

GOLDEN = Path(__file__).parent / "golden"

# Format -> golden file name (the name the target gives the file, where it has one).
OUTPUTS = {
    "netlify": "netlify._headers",
    "cloudflare": "cloudflare._headers",
    "firebase": "firebase.json",
    "nginx": "nginx.conf",
    "h2o": "h2o.yaml",
    "apache": "apache.conf",
    "json": "json.json",
    "push-manifest": "push_manifest.json",
}


def golden_manifest() -> Manifest:
    text = (GOLDEN / "manifest.yaml").read_text(encoding="utf-8")
    return parse_manifest(text, "manifest.yaml")


def manifest(text: str) -> Manifest:
    return parse_manifest("version: 1\n" + text, "m.yaml")


def cut_lines(result: ExportResult) -> str:
    return "".join(f"{d}\n" for d in result.diagnostics)


# --- golden files ---------------------------------------------------------------------------


def test_every_format_has_a_golden_file() -> None:
    assert set(OUTPUTS) == set(FORMATS)


@pytest.mark.parametrize("fmt", list(OUTPUTS))
def test_golden_export(fmt: str) -> None:
    result = export_manifest(golden_manifest(), fmt, root="/srv/www/site", skip_patterns=True)
    assert result.ok, cut_lines(result)
    check_golden_text(GOLDEN / OUTPUTS[fmt], result.text)
    check_golden_text(GOLDEN / f"{OUTPUTS[fmt]}.cuts", cut_lines(result))


def _links(m: Manifest, route: str) -> str:
    """The Link value the runtime sends for ``route``: its hinted entries, in order."""
    return ", ".join(v for a in m.assets(route) if (v := link_value(a)) is not None)


@pytest.mark.parametrize("fmt", ["firebase", "json", "push-manifest"])
def test_json_outputs_carry_what_the_runtime_sends_for_each_route(fmt: str) -> None:
    m = golden_manifest()
    document = json.loads(export_manifest(m, fmt, skip_patterns=True).text)
    routes = sorted(m.all_routes)
    if fmt == "json":
        assert document == {route: _links(m, route) for route in routes}
    elif fmt == "firebase":
        exact = {
            h["source"]: h["headers"]
            for h in document["hosting"]["headers"]
            if h.get("source") in m.all_routes
        }
        assert exact == {r: [{"key": "Link", "value": _links(m, r)}] for r in routes}
    else:
        # push_manifest.json lists what is pushed (hint: false entries too), not hints.
        assert {route: list(document[route]) for route in document} == {
            route: [a.path for a in m.assets(route) if a.push] for route in routes
        }


def test_h2o_output_is_yaml_with_a_handler_and_the_root() -> None:
    result = export_manifest(golden_manifest(), "h2o", root="/srv/www/site")
    paths = yaml.safe_load(result.text)
    assert list(paths) == ["/"]
    assert paths["/"]["file.dir"] == "/srv/www/site"
    assert "Proc.new do |env|" in paths["/"]["mruby.handler"]


def test_golden_import() -> None:
    source = GOLDEN / "push_manifest.in.json"
    result = import_push_manifest(source.read_bytes(), filename="push_manifest.in.json")
    assert result.ok
    check_golden_text(GOLDEN / "imported.yaml", result.text)
    check_golden_text(
        GOLDEN / "imported.yaml.diagnostics", "".join(f"{d}\n" for d in result.diagnostics)
    )
    parse_manifest(result.text)


# --- what every format shares ---------------------------------------------------------------


def test_only_hinted_entries_become_links_and_rules_are_applied() -> None:
    m = manifest(
        "rules:\n"
        "  - match: /\n"
        "    remove: [/b.css]\n"
        "routes:\n"
        "  /:\n"
        "    - {path: /a.css, as: style}\n"
        "    - {path: /b.css, as: style}\n"
        "    - {path: /c.js, as: script, hint: false}\n"
    )
    result = export_manifest(m, "json")
    assert json.loads(result.text) == {"/": "</a.css>; rel=preload; as=style"}


def test_unknown_format_is_a_pushgen_error_naming_the_formats() -> None:
    with pytest.raises(UnknownFormatError, match="unknown format 'iis'") as info:
        export_manifest(Manifest(), "iis")
    assert info.value.name == "iis"
    assert "nginx" in info.value.known


def test_a_value_no_header_can_carry_is_cut_not_fatal() -> None:
    m = Manifest(
        routes={"/": (Asset("/f.woff2", "font", type="font/wöff2"), Asset("/a.css", "style"))}
    )
    result = export_manifest(m, "netlify")
    assert result.ok
    assert "</a.css>; rel=preload; as=style" in result.text
    assert "wöff2" not in result.text
    [cut] = result.cuts
    assert cut.path == "/f.woff2" and "not hinted" in cut.reason


def test_cut_and_diagnostic_wording() -> None:
    cut = Cut("/docs/*", "/x.js", "left out: because", 7, pattern=True)
    assert str(cut) == "rule `match: /docs/*`: /x.js: left out: because"
    result = ExportResult("json", "{}", (cut,), filename="m.yaml")
    assert [str(d) for d in result.diagnostics] == [
        "m.yaml:7: warning: rule `match: /docs/*`: /x.js: left out: because"
    ]


# --- patterns -------------------------------------------------------------------------------

PATTERNS = (
    "rules:\n"
    "  - match: /items/<int:id>\n"
    "    add: [{path: /item.css, as: style}]\n"
    "  - match: /blog/*.html\n"
    "    add: [{path: /blog.css, as: style}]\n"
    "  - match: /docs/*\n"
    "    set: [{path: /x.css, hint: false}]\n"
)


@pytest.mark.parametrize("fmt", ["netlify", "cloudflare", "json", "push-manifest"])
def test_patterns_a_format_cannot_express_are_refused_with_the_rules_line(fmt: str) -> None:
    result = export_manifest(manifest(PATTERNS), fmt)
    assert not result.ok and result.text == ""
    lines = sorted(d.line for d in result.errors)
    assert lines == [3, 5], result.errors  # the rule that only sets entries is not refused
    assert all("--skip-patterns" in d.message for d in result.errors)


def test_netlify_refusals_say_why() -> None:
    errors = [d.message for d in export_manifest(manifest(PATTERNS), "netlify").errors]
    assert (
        "placeholders match any segment, with no equivalent of the <int:...> converter" in errors[0]
    )
    assert "inside a path segment" in errors[1]


@pytest.mark.parametrize("fmt", ["nginx", "apache", "firebase", "h2o"])
def test_regex_targets_express_every_pattern(fmt: str) -> None:
    result = export_manifest(manifest(PATTERNS), fmt, root="/srv")
    assert result.ok, result.errors
    # <int:id>: Werkzeug's own expression (ASCII digits in PCRE, RE2 and Onigmo).
    assert ("\\\\d+" if fmt == "firebase" else "\\d+") in result.text
    # /blog/*.html: a glob where the target has globs, else a regex.
    assert ('"/blog/*.html"' if fmt == "firebase" else "/blog/[^/]*") in result.text


def test_skip_patterns_turns_refusals_into_cuts() -> None:
    result = export_manifest(manifest(PATTERNS), "netlify", skip_patterns=True)
    assert result.ok
    assert [c.route for c in result.cuts] == ["/items/<int:id>", "/blog/*.html"]
    assert all(c.pattern and c.path is None for c in result.cuts)


@pytest.mark.parametrize(
    ("match", "netlify"),
    [
        ("/blog/<slug>", "/blog/:slug"),
        ("/blog/<string:slug>/comments", "/blog/:slug/comments"),
        ("/files/<path:rest>", "/files/*"),
        ("/docs/**", "/docs/*"),
        ("/docs/*", "/docs/:p1"),
        ("/a/*/b/*", "/a/:p1/b/:p2"),
        ("/a/<x>/b/<y>", "/a/:x/b/:y"),
        ("*", "/*"),
    ],
)
def test_netlify_splats_and_placeholders(match: str, netlify: str) -> None:
    m = manifest(f'rules:\n  - match: "{match}"\n    add: [{{path: /p.css, as: style}}]\n')
    result = export_manifest(m, "netlify")
    assert result.ok, result.errors
    assert f"\n{netlify}\n  Link: </p.css>; rel=preload; as=style\n" in result.text


@pytest.mark.parametrize(
    "match", ["/docs/**/intro", "/v<int:n>/x", "/files/<path:rest>/raw", "/a?c", "/x/:y/<slug>"]
)
def test_netlify_refuses_what_splats_cannot_say(match: str) -> None:
    m = manifest(f'rules:\n  - match: "{match}"\n    add: [{{path: /p.css, as: style}}]\n')
    result = export_manifest(m, "netlify")
    assert not result.ok and result.text == ""
    # The refusal names the rule by its line ("version: 1" is line 1) and its match.
    [error] = result.errors
    assert error.line == 3 and match in error.message, error


def test_merging_targets_do_not_repeat_what_a_pattern_sends() -> None:
    # Netlify applies every matching rule: /docs/a gets the glob's entry from the
    # pattern rule, so its own block must not list it again.
    m = manifest(
        "rules:\n"
        "  - match: /docs/*\n"
        "    add: [{path: /docs.css, as: style}]\n"
        "routes:\n"
        "  /docs/a:\n"
        "    - {path: /site.css, as: style}\n"
    )
    text = export_manifest(m, "netlify").text
    assert "/docs/a\n  Link: </site.css>; rel=preload; as=style\n\n/docs/:p1\n" in text
    assert text.count("docs.css") == 1


def test_merging_targets_report_what_a_pattern_adds_against_a_routes_rules() -> None:
    m = manifest(
        "rules:\n"
        "  - match: /docs/*\n"
        "    add: [{path: /docs.css, as: style}]\n"
        "  - match: /docs/a\n"
        "    remove: [/docs.css]\n"
        "routes:\n"
        "  /docs/a:\n"
        "    - {path: /site.css, as: style}\n"
    )
    result = export_manifest(m, "netlify")
    [cut] = result.cuts
    assert (cut.route, cut.path, cut.line) == ("/docs/a", "/docs.css", 8)
    assert "also applies `/docs/*` to this route, which adds it" in cut.reason


def test_first_match_targets_put_specific_patterns_first() -> None:
    # nginx tries regex locations in order: /blog/x must meet the one that has both
    # entries before the catch-all.
    m = manifest(
        "rules:\n"
        '  - match: "**"\n'
        "    add: [{path: /all.css, as: style}]\n"
        "  - match: /blog/<slug>\n"
        "    add: [{path: /blog.css, as: style}]\n"
    )
    text = export_manifest(m, "nginx").text
    blog = text.index('location ~ "^/blog/[^/]+$"')
    every = text.index('location ~ "^/.*$"')
    assert blog < every
    assert text[blog:every].count("add_header Link") == 2


def test_override_targets_put_routes_last_with_everything() -> None:
    # Firebase: a later rule replaces the Link header of an earlier one.
    m = manifest(
        "rules:\n"
        '  - match: "**"\n'
        "    add: [{path: /all.css, as: style}]\n"
        "routes:\n"
        "  /:\n"
        "    - {path: /site.css, as: style}\n"
    )
    headers = json.loads(export_manifest(m, "firebase").text)["hosting"]["headers"]
    assert [h.get("source") for h in headers] == ["**", "/"]
    assert headers[1]["headers"] == [
        {
            "key": "Link",
            "value": "</site.css>; rel=preload; as=style, </all.css>; rel=preload; as=style",
        }
    ]


def test_firebase_uses_regex_for_glob_characters_and_quart_rules() -> None:
    m = manifest(
        "rules:\n"
        "  - match: /blog/<slug>\n"
        "    add: [{path: /b.css, as: style}]\n"
        "routes:\n"
        "  /a(1).html:\n"
        "    - {path: /a.css, as: style}\n"
    )
    headers = json.loads(export_manifest(m, "firebase").text)["hosting"]["headers"]
    assert [{k: v for k, v in h.items() if k != "headers"} for h in headers] == [
        {"regex": "^/blog/[^/]+$"},
        {"regex": "^/a\\(1\\)\\.html$"},
    ]


# --- limits ---------------------------------------------------------------------------------


def test_cloudflare_keeps_100_rules_and_reports_the_rest() -> None:
    routes = {
        f"/p{i:03}.html": (Asset("/s.css", "style"),) for i in range(CLOUDFLARE_MAX_RULES + 5)
    }
    result = export_manifest(Manifest(routes=routes), "cloudflare")
    assert result.text.count("\n  Link: ") == CLOUDFLARE_MAX_RULES
    assert [c.route for c in result.cuts] == [f"/p{i:03}.html" for i in range(100, 105)]
    assert all("allows 100 rules" in c.reason for c in result.cuts)


def test_cloudflare_cuts_links_past_2000_characters_a_line() -> None:
    assets = tuple(Asset(f"/static/css/{i:04}-{'x' * 40}.css", "style") for i in range(40))
    result = export_manifest(Manifest(routes={"/": assets}), "cloudflare")
    [line] = [x for x in result.text.splitlines() if x.startswith("  Link: ")]
    assert len(line) <= CLOUDFLARE_MAX_LINE
    kept = line.count("rel=preload")
    assert kept + len(result.cuts) == 40 and len(result.cuts) > 0
    # Equal rank (all pushed stylesheets): the first in the manifest are kept.
    assert [c.path for c in result.cuts] == [a.path for a in assets[kept:]]


def test_cloudflare_serves_html_pages_without_their_suffix() -> None:
    m = Manifest(
        routes={
            "/about.html": (Asset("/a.css", "style"),),
            "/docs/index.html": (Asset("/d.css", "style"),),
        }
    )
    text = export_manifest(m, "cloudflare").text
    assert "\n/about\n" in text and "\n/docs/\n" in text and ".html" not in text.split("\n\n", 1)[1]


def test_nginx_caps_pushes_at_its_default_of_ten() -> None:
    assets = tuple(Asset(f"/{i}.css", "style") for i in range(12))
    result = export_manifest(Manifest(routes={"/x.html": assets}), "nginx")
    assert result.text.count("; nopush") == 2
    assert [c.path for c in result.cuts] == ["/10.css", "/11.css"]
    assert (
        "nginx's limit of 10 pushes per response (http2_max_concurrent_pushes)"
        in result.cuts[0].reason
    )


def test_max_pushes_applies_to_other_servers_and_drops_push_only_entries() -> None:
    assets = (Asset("/a.css", "style"), Asset("/b.js", "script", hint=False))
    result = export_manifest(Manifest(routes={"/x.html": assets}), "apache", max_pushes=1)
    assert "H2PushResource" in result.text and "/b.js" not in result.text
    [cut] = result.cuts
    assert cut.path == "/b.js" and cut.reason.startswith(
        "left out (push only): over the limit of 1"
    )


def test_no_push_writes_no_push_instructions_for_nginx() -> None:
    text = export_manifest(golden_manifest(), "nginx", push=False).text
    assert "http2_push" not in text
    # Hints that are not pushes still say nopush, should a server-level setting push.
    assert "; nopush" in text


def test_h2o_needs_the_document_root() -> None:
    result = export_manifest(golden_manifest(), "h2o")
    assert not result.ok and "--root" in result.errors[0].message


def test_apache_doubles_percent_signs_of_its_format_strings() -> None:
    text = export_manifest(golden_manifest(), "apache").text
    assert '"</static/css/100%%25.css>; rel=preload; as=style"' in text
    assert 'H2PushResource add "/static/css/100%25.css"' in text


# --- push_manifest.json ---------------------------------------------------------------------


def test_push_manifest_round_trip_keeps_routes_paths_and_destinations() -> None:
    exported = export_push_manifest(golden_manifest(), skip_patterns=True)
    imported = import_push_manifest(exported.text)
    assert imported.ok
    back = parse_manifest(imported.text)
    original = json.loads(exported.text)
    for route, entries in original.items():
        assets = back.assets(route)
        assert [a.path for a in assets] == list(entries)
        assert [a.destination for a in assets] == [e["type"] for e in entries.values()]
        assert all(a.push and a.hint for a in assets)


def test_import_single_file_form_goes_to_the_given_route() -> None:
    data = '{"/css/app.css": {"type": "style", "weight": 1}, "js/app.js": {"weight": 1}}'
    result = import_push_manifest(data, route="/app/", base_path="/static/")
    assert result.ok
    assert dict(result.routes) == {
        "/app/": (Asset("/css/app.css", "style"), Asset("/static/js/app.js", "script"))
    }


def test_import_relative_keys_use_the_base_path_and_index_html_is_the_folder() -> None:
    data = '{"index.html": {"a.css": {"type": "style"}}, "shop/index.html": {}, "b/c.html": {"/d.js": {"type": "script"}}}'
    result = import_push_manifest(data, base_path="/app")
    assert result.ok
    assert list(result.routes) == ["/app/", "/app/b/c.html"]
    assert result.routes["/app/"] == (Asset("/app/a.css", "style"),)


def test_import_fonts_and_fetches_get_crossorigin() -> None:
    data = '{"/": {"/f.woff2": {"type": "font"}, "/d.json": {}, "/s.css": {"type": "style"}}}'
    result = import_push_manifest(data)
    assert [a.crossorigin for a in result.routes["/"]] == ["anonymous", "anonymous", None]


@pytest.mark.parametrize(
    ("data", "message", "where"),
    [
        ('{"/": {"/x": {"type": "bogus"}}}', "'bogus' is not a Fetch destination", (1, 8)),
        ('{"/": {"/x": {}}}', "has no type and none follows from its name", (1, 8)),
        ('{\n  "/": [1]\n}', "must map to an object of resources", (2, 3)),
        ('["/"]', "a push manifest is a JSON object", (1, 1)),
        ('{\n  "/": {\n', "invalid JSON", (3, 1)),
        ('{"/a*": {"/x.css": {"type": "style"}}}', "would read as a route pattern", (1, 2)),
        ('{"/": {"/x.css": {"type": 3}}}', "type must be a string", (1, 8)),
    ],
)
def test_import_errors_are_located(data: str, message: str, where: tuple[int, int]) -> None:
    result = import_push_manifest(data, filename="p.json")
    assert not result.ok and result.text == ""
    [error] = [d for d in result.diagnostics if d.severity == "error"]
    assert message in error.message
    assert (error.line, error.column) == where


def test_import_warns_about_other_origins_and_unknown_keys() -> None:
    data = '{"/": {"https://cdn.example/x.js": {"type": "script"}, "/a.css": {"type": "style", "nopush": true}}}'
    result = import_push_manifest(data)
    assert result.ok
    assert [d.severity for d in result.diagnostics] == ["warning", "warning"]
    assert result.routes["/"] == (Asset("/a.css", "style"),)


def test_imported_rules_survive_a_build_writing_routes() -> None:
    from pushgen.manifest import update_manifest_text

    text = import_push_manifest('{"/": {"/a.css": {"type": "style"}}}').text
    built = update_manifest_text(
        text, {"/": (Asset("/a.css", "style", push=False), Asset("/b.js", "script"))}
    )
    m = parse_manifest(built)
    assert [(a.path, a.push) for a in m.assets("/")] == [("/a.css", True), ("/b.js", True)]


# --- the CLI --------------------------------------------------------------------------------


def test_cli_export_writes_the_file_and_warns_per_cut(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "links.conf"
    code = main(
        [
            "export",
            "-f",
            "nginx",
            "-m",
            str(GOLDEN / "manifest.yaml"),
            "-o",
            str(out),
            "--site",
            str(tmp_path),
        ]
    )
    assert code == 0
    assert out.read_text() == export_manifest(golden_manifest(), "nginx").text.replace(
        "from manifest.yaml", "from manifest.yaml"
    )
    err = capsys.readouterr().err.splitlines()
    assert err[0].endswith(
        "warning: route /: /static/data/price$list.json: left out: nginx cannot write '$' in a header value"
    )
    assert err[-1].startswith("exported ") and err[-1].endswith(
        ": 1 left out (routes, rules or entries the format cannot carry, named above)"
    )


def test_cli_export_refuses_with_exit_1_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "m.yaml"
    source.write_text("version: 1\n" + PATTERNS)
    out = tmp_path / "_headers"
    assert (
        main(
            ["export", "-f", "netlify", "-m", str(source), "-o", str(out), "--site", str(tmp_path)]
        )
        == 1
    )
    assert not out.exists()
    err = capsys.readouterr().err
    assert f"{source}:3: error: rule `match: /items/<int:id>`" in err
    assert "export failed: 2 errors; nothing written" in err


def test_cli_export_to_standard_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "export",
                "-f",
                "json",
                "-m",
                str(GOLDEN / "manifest.yaml"),
                "--skip-patterns",
                "--site",
                str(tmp_path),
            ]
        )
        == 0
    )
    assert (
        json.loads(capsys.readouterr().out)["/about"]
        == "</static/css/site.css>; rel=preload; as=style"
    )


def test_cli_export_h2o_without_root_fails_saying_what_to_give(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "h2o.conf"
    source = GOLDEN / "manifest.yaml"
    args = ["export", "-f", "h2o", "-m", str(source), "--site", str(tmp_path), "-o", str(out)]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert f"{source}: error: " in err and "give the document root (--root DIR)" in err
    assert "export failed: 1 error; nothing written" in err
    assert not out.exists()


def test_cli_import_then_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "push-manifest.yaml"
    source = GOLDEN / "push_manifest.in.json"
    assert main(["import", str(source), "-o", str(out)]) == 0
    assert "imported " in capsys.readouterr().err
    assert main(["import", str(source), "-o", str(out)]) == 2  # exists: needs --force
    assert main(["import", str(source), "-o", str(out), "--force"]) == 0
    capsys.readouterr()
    assert main(["export", "-f", "json", "-m", str(out), "--site", str(tmp_path)]) == 0
    # Every imported route, carrying what the runtime would send for it.
    imported = load_manifest(out)
    document = json.loads(capsys.readouterr().out)
    assert set(document) == {"/", "/shop/", "/src/my-view1.html"} == set(imported.all_routes)
    assert document == {route: _links(imported, route) for route in document}
    assert document["/shop/"] == (
        "</static/css/app.css>; rel=preload; as=style, "
        "</static/data/prices.json>; rel=preload; as=fetch; crossorigin"
    )


def test_cli_import_errors_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "p.json"
    bad.write_text('{"/": {"/x": {"type": "bogus"}}}')
    assert main(["import", str(bad), "-o", str(tmp_path / "m.yaml")]) == 1
    assert not (tmp_path / "m.yaml").exists()
    assert f"{bad}:1:8: error:" in capsys.readouterr().err
