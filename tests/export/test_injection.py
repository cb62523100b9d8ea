"""Hostile values through every exporter: nothing a manifest holds can end a comment,
a string, a directive or a block of the file a server reads (issue 11, item 2).

The manifests are built in code, not loaded, so the exporters are checked on their
own (the loader refuses control characters too, but exporters are public API).
Each output is read back with a reader that follows the target's own parser
(``tests/export_syntax.py``), or with the server's own configuration test where
the server is installed.
"""

from __future__ import annotations

import json
import re
import subprocess
import urllib.request
from pathlib import Path
from urllib.parse import quote, unquote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pushgen.errors import LinkFieldError, RoutePatternError
from pushgen.export import FORMATS, ExportResult, export_manifest
from pushgen.links import link_value, route_aliases
from pushgen.manifest import Manifest
from pushgen.manifest.rules import RoutePattern, Rule
from pushgen.model import Asset
from pushgen.urls import wire_path
from tests import export_syntax
from tests.clients import free_port, wait_for_port
from tests.server_configs import H2O, NGINX, h2o_conf, nginx_conf

TEXT_FORMATS = ("netlify", "cloudflare", "nginx", "h2o", "apache")
ROUTE_LINE = 3
RULE_LINE = 7

# Pieces that end or open something in one target or another.
HOSTILE = [
    "\n", "\r", "\r\n", "\t", "\x00", "\x0b", "\x7f", "\x85", "\u2028", "\u2029", "\ufeff",
    '"', "'", "`", "{", "}", ";", "#", "$", "\\", "#{", "%{", "${", "$uri", "$host", "%",
    "%0A", "%00", "%0d%0a", "%22", " ", "<", ">", "*", "?", ":", "=", "é", "[", "]", "|",
    "location / {", "</LocationMatch>", "=begin", "__END__", "File.write('x', 1)", "\\n",
]  # fmt: skip
hostile_text = st.lists(
    st.one_of(st.sampled_from(HOSTILE), st.text(max_size=3)), min_size=1, max_size=6
).map("".join)


def hostile_manifest(value: str) -> Manifest:
    """A route, a rule pattern and entries that all carry ``value``."""
    route = "/r/" + value
    assets = (
        Asset("/a/" + value + ".css", "style"),
        Asset("/b.css", "style", media=value, push=False),
    )
    rules: tuple[Rule, ...] = ()
    try:
        pattern = RoutePattern.parse("/p/" + value + "/*")
    except RoutePatternError:
        pass
    else:
        rules = (Rule(pattern, RULE_LINE, add=(Asset("/c/" + value + ".js", "script"),)),)
    return Manifest(
        routes={route: assets}, lines={route: ROUTE_LINE}, rules=rules, filename="m.yaml"
    )


def _links(manifest: Manifest) -> set[str]:
    """Every Link value the manifest's entries may be written as."""
    out: set[str] = set()
    assets = [a for route in manifest.routes.values() for a in route]
    assets += [a for rule in manifest.rules for a in rule.add]
    for asset in assets:
        try:
            value = link_value(asset)
        except LinkFieldError:
            continue
        if value is not None:
            out |= {value, value + "; nopush"}
        out.add(f"<{wire_path(asset.path)}>; rel=preload; x-http2-push-only")
    return out


def _paths(manifest: Manifest) -> set[str]:
    assets = [a for route in manifest.routes.values() for a in route]
    assets += [a for rule in manifest.rules for a in rule.add]
    return {wire_path(a.path) for a in assets}


def _aliases(route: str) -> list[str]:
    aliases = list(route_aliases(route))
    return [a for a in aliases if a + "/" not in aliases]


def _sample(manifest: Manifest) -> str | None:
    """A path the manifest's rule pattern matches, if there is a rule."""
    if not manifest.rules:
        return None
    pattern = manifest.rules[0].match
    sample = pattern.text.replace("*", "x")
    return sample if pattern.matches(sample) else None


def _joined(value: str, links: set[str]) -> bool:
    """Whether ``value`` is some of ``links`` joined with ", " (a value may hold ", " too)."""
    for link in links:
        rest = value[len(link) :]
        if value.startswith(link) and (
            rest == "" or (rest[:2] == ", " and _joined(rest[2:], links))
        ):
            return True
    return False


def _fullmatch(expression: str, path: str) -> bool:
    """Whether the anchored ``^...$`` ``expression`` matches all of ``path``."""
    assert expression.startswith("^") and expression.endswith("$"), expression
    return re.fullmatch(expression[1:-1], path) is not None


def check_nginx(manifest: Manifest, text: str) -> None:
    [route] = manifest.routes
    links, paths = _links(manifest), _paths(manifest)
    exact: set[str] = set()
    for directive in export_syntax.nginx(text):
        assert directive.words[0] == "location" and directive.block is not None
        if directive.words[1] == "=":
            exact.add(directive.words[2])
        else:
            assert directive.words[1] == "~" and len(directive.words) == 3
            sample = _sample(manifest)
            if sample is not None:
                assert _fullmatch(directive.words[2], unquote(sample))
        for inner in directive.block:
            name = inner.words[0]
            if name == "add_header":
                assert inner.words[1] == "Link" and inner.words[2] in links, inner.words
                assert len(inner.words) == 3
            elif name == "http2_push":
                assert inner.words[1:] in [(p,) for p in paths]
            else:
                assert inner.words in (
                    ("http2_push_preload", "on"),
                    ("try_files", "$uri", "$uri.html", "=404"),
                ), inner.words
    assert not exact or exact == {unquote(a) for a in _aliases(route)}


def check_apache(manifest: Manifest, text: str) -> None:
    [route] = manifest.routes
    links, paths = _links(manifest), _paths(manifest)
    sections = 0
    for directive in export_syntax.apache(text):
        assert directive.block is not None
        if directive.words == ("IfModule", "mod_http2.c"):
            assert [d.words for d in directive.block] == [("H2EarlyHints", "on")]
            continue
        assert directive.words[0] == "LocationMatch" and len(directive.words) == 2
        sections += 1
        expression = directive.words[1]
        targets = [unquote(a) for a in _aliases(route)]
        sample = _sample(manifest)
        assert all(_fullmatch(expression, t) for t in targets) or (
            sample is not None and _fullmatch(expression, unquote(sample))
        ), expression
        for inner in directive.block:
            if inner.words[0] == "Header":
                assert inner.words[:3] == ("Header", "add", "Link") and len(inner.words) == 4
                assert inner.words[3].replace("%%", "%") in links
            else:
                assert inner.words == ("IfModule", "mod_http2.c") and inner.block is not None
                for push in inner.block:
                    assert push.words[:2] == ("H2PushResource", "add")
                    assert push.words[2:] in [(p,) for p in paths]
    assert sections <= 2


def check_headers(manifest: Manifest, text: str) -> None:
    links = _links(manifest)
    rules = export_syntax.headers_file(text)
    assert len(rules) <= 2
    for path, headers in rules.items():
        assert path.startswith("/")
        for name, value in headers:
            assert name == "Link"
            assert _joined(value, links)


def check_h2o(manifest: Manifest, text: str) -> None:
    [route] = manifest.routes
    paths = export_syntax.h2o(text)
    links = _links(manifest)
    allowed = {k for a in _aliases(route) for k in (a, unquote(a))}
    assert set(paths.keys) <= allowed
    assert all(v in links for values in paths.keys.values() for v in values)
    assert len(paths.patterns) <= 1
    for expression, values in paths.patterns:
        assert expression.startswith("\\A") and expression.endswith("\\z")
        sample = _sample(manifest)
        if sample is not None:
            assert _fullmatch("^" + expression[2:-2] + "$", unquote(sample))
        assert all(v in links for v in values)
    assert paths.root == "/srv/site"


def check_json(manifest: Manifest, fmt: str, text: str) -> None:
    [route] = manifest.routes
    document = json.loads(text)
    links = _links(manifest)
    if fmt == "json":
        assert set(document) <= {route}
        assert all(_joined(value, links) for value in document.values())
    elif fmt == "firebase":
        for header in document["hosting"]["headers"]:
            assert set(header) in ({"source", "headers"}, {"regex", "headers"})
            [link] = header["headers"]
            assert link["key"] == "Link"
            assert _joined(link["value"], links)
            if "source" in header:
                assert header["source"] in {route} | {r.match.text for r in manifest.rules}
            else:
                sample = _sample(manifest)
                assert _fullmatch(header["regex"], route) or (
                    sample is not None and _fullmatch(header["regex"], sample)
                )
    else:
        assert set(document) <= {route}


def check(manifest: Manifest, fmt: str, result: ExportResult) -> None:
    if not result.ok:
        assert result.text == ""
        for error in result.errors:
            assert error.line in (ROUTE_LINE, RULE_LINE), error
            assert "\n" not in error.message and "\r" not in error.message
        return
    if fmt == "nginx":
        check_nginx(manifest, result.text)
    elif fmt == "apache":
        check_apache(manifest, result.text)
    elif fmt in ("netlify", "cloudflare"):
        check_headers(manifest, result.text)
    elif fmt == "h2o":
        check_h2o(manifest, result.text)
    else:
        check_json(manifest, fmt, result.text)


@pytest.mark.parametrize("fmt", list(FORMATS))
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=hostile_text)
def test_hostile_values_read_back_as_the_intended_directives(fmt: str, value: str) -> None:
    manifest = hostile_manifest(value)
    result = export_manifest(manifest, fmt, root="/srv/site", skip_patterns=True)
    check(manifest, fmt, result)
    unsafe = any(not c.isprintable() for c in value + unquote(value))
    if fmt in TEXT_FORMATS and unsafe:
        # Refused where the value stands: the route's line, and the rule's when it has one.
        assert not result.ok
        expected = {ROUTE_LINE} | ({RULE_LINE} if manifest.rules else set())
        assert {e.line for e in result.errors} == expected, result.errors


@pytest.mark.parametrize("fmt", TEXT_FORMATS)
@pytest.mark.parametrize("value", ["\n", "\r", "\x00", "\u2028", "\x85", "%0A", "%00"])
def test_control_characters_are_refused_at_the_routes_line(fmt: str, value: str) -> None:
    manifest = hostile_manifest("x" + value + "y")
    result = export_manifest(manifest, fmt, root="/srv/site")
    assert result.text == ""
    assert {e.line for e in result.errors} == {ROUTE_LINE, RULE_LINE}
    route_error = next(e for e in result.errors if e.line == ROUTE_LINE)
    assert "U+00" in route_error.message or "U+2028" in route_error.message
    assert "remove it" in route_error.message
    assert str(route_error).startswith(f"m.yaml:{ROUTE_LINE}: error: route /r/x")


@pytest.mark.parametrize("fmt", ["json", "firebase", "push-manifest"])
def test_json_formats_escape_control_characters(fmt: str) -> None:
    manifest = Manifest(
        routes={"/r/a\nb\u2028": (Asset("/a.css", "style"),)}, lines={"/r/a\nb\u2028": 3}
    )
    result = export_manifest(manifest, fmt)
    assert result.ok and "\u2028" not in result.text
    check(manifest, fmt, result)


# --- the attacks, on the real servers -------------------------------------------------

PASSWD_ATTACK = "/x\nlocation = /passwd { alias /etc/passwd; }\n#"


def _attack_manifest(match: str) -> Manifest:
    rule = Rule(RoutePattern.parse(match), 4, add=(Asset("/static/css/site.css", "style"),))
    return Manifest(routes={}, rules=(rule,), filename="push-manifest.yaml")


def test_a_newline_in_a_match_is_refused_with_the_rules_line() -> None:
    result = export_manifest(_attack_manifest(PASSWD_ATTACK), "nginx")
    assert result.text == ""
    [error] = result.errors
    assert str(error).startswith(
        "push-manifest.yaml:4: error: route /x\\x0alocation = /passwd { alias /etc/passwd; }\\x0a#:"
    )


@pytest.mark.timeout(60)
@pytest.mark.skipif(NGINX is None, reason="needs nginx")
def test_nginx_does_not_serve_etc_passwd_through_an_exported_route(tmp_path: Path) -> None:
    result = export_manifest(_attack_manifest(PASSWD_ATTACK), "nginx")
    include = tmp_path / "pushgen-links.conf"
    include.write_text(result.text)
    port = free_port()
    conf = _nginx_conf(tmp_path, port, include)
    process = subprocess.Popen(
        [str(NGINX), "-c", str(conf), "-p", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port("127.0.0.1", port, timeout=15)
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/passwd", timeout=20) as response:
                body = response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            body = f"HTTP {exc.code}"
    finally:
        process.terminate()
        process.wait(20)
    assert "root:" not in body
    assert body == "HTTP 404"


def _nginx_conf(tmp: Path, port: int, include: Path) -> Path:
    (tmp / "root").mkdir(exist_ok=True)
    return nginx_conf(tmp, f"listen 127.0.0.1:{port}; root {tmp / 'root'}; include {include};")


# Values every server must take as they are: quotes, braces, semicolons, comment and
# variable signs, Ruby interpolation, backslashes, non-ASCII.
ESCAPABLE = [
    "/q'\"{};#$x\\",
    "/r#{File.open('MARKER', 'w') { |f| f.write('ran') }}",
    "/s%{x}${HOME}$uri\\'",
    "/caf\u00e9/\\",
]


@pytest.mark.timeout(60)
@pytest.mark.skipif(NGINX is None, reason="needs nginx")
def test_nginx_config_test_reads_exactly_the_intended_locations(tmp_path: Path) -> None:
    routes = {route: (Asset("/static/a.css", "style"),) for route in ESCAPABLE}
    rules = (Rule(RoutePattern.parse("/t/*;{}#'\"\\"), 9, add=(Asset("/b.js", "script"),)),)
    result = export_manifest(Manifest(routes=routes, rules=rules), "nginx")
    assert result.ok, result.errors
    include = tmp_path / "pushgen-links.conf"
    include.write_text(result.text)
    conf = _nginx_conf(tmp_path, free_port(), include)
    done = subprocess.run(
        [str(NGINX), "-t", "-c", str(conf), "-p", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    locations = [d.words for d in export_syntax.nginx(result.text)]
    expected = {("location", "=", unquote(a)) for r in ESCAPABLE for a in _aliases(r)}
    assert set(locations) == expected | {("location", "~", r"^/t/[^/]*\;\{\}\#\'\"\\$")}
    # The dump of the configuration nginx loaded holds the include as written.
    dump = subprocess.run(
        [str(NGINX), "-T", "-c", str(conf), "-p", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert dump.returncode == 0 and result.text in dump.stdout


def _h2o_check(tmp: Path, text: str) -> subprocess.CompletedProcess[str]:
    fragment = tmp / "pushgen-paths.yaml"
    fragment.write_text(text)
    conf = h2o_conf(tmp, fragment, free_port())
    return subprocess.run(
        [str(H2O), "-t", "-c", str(conf)], capture_output=True, text=True, timeout=30, cwd=tmp
    )


# A route comment line ends; the next line is a hash entry whose value is Ruby that runs.
H2O_ATTACK = "/x\n    k: File.open('MARKER', 'w') { |f| f.write('ran') },\n    #"


@pytest.mark.timeout(60)
@pytest.mark.skipif(H2O is None, reason="needs h2o")
def test_h2o_config_test_runs_no_injected_ruby(tmp_path: Path) -> None:
    attack = export_manifest(_attack_manifest(H2O_ATTACK), "h2o", root=str(tmp_path))
    if attack.ok:
        _h2o_check(tmp_path, attack.text)
    assert not (tmp_path / "MARKER").exists()
    assert not attack.ok and attack.errors[0].line == 4
    # Values h2o's YAML and Ruby must both take as they are.
    routes = {route: (Asset("/static/a.css", "style"),) for route in ESCAPABLE}
    rules = (Rule(RoutePattern.parse("/t/*#{x}'\\"), 9, add=(Asset("/b.js", "script"),)),)
    result = export_manifest(Manifest(routes=routes, rules=rules), "h2o", root=str(tmp_path))
    assert result.ok, result.errors
    done = _h2o_check(tmp_path, result.text)
    assert done.returncode == 0, done.stdout + done.stderr
    assert not (tmp_path / "MARKER").exists()
    paths = export_syntax.h2o(result.text)
    expected = {k for r in ESCAPABLE for a in _aliases(r) for k in (a, unquote(a))}
    assert set(paths.keys) == expected
    assert [p for p, _ in paths.patterns] == ["\\A/t/[^/]*\\#\\{x\\}\\'\\\\\\z"]


def test_apache_reads_exactly_the_intended_sections() -> None:
    routes = {route: (Asset("/static/a.css", "style", media="${HOME}"),) for route in ESCAPABLE}
    routes["/u"] = (Asset("/static/u.css", "style"),)
    result = export_manifest(Manifest(routes=routes), "apache")
    sections = [d.words for d in export_syntax.apache(result.text) if d.words[0] != "IfModule"]
    assert len(sections) == len(ESCAPABLE) + 1
    for (name, expression), route in zip(sections, sorted(routes), strict=True):
        assert name == "LocationMatch"
        assert all(_fullmatch(expression, unquote(a)) for a in _aliases(route))
    # '${' cannot be written: httpd would expand it.
    assert {(c.route, c.reason) for c in result.cuts} == {
        (r, "not hinted: Apache httpd would expand '${' in it") for r in ESCAPABLE
    }


def test_comments_escape_what_would_end_them() -> None:
    manifest = Manifest(routes={"/a\\": (Asset("/a.css", "style"),)}, filename="dir/m\nx.yaml")
    for fmt in ("nginx", "apache", "netlify"):
        text = export_manifest(manifest, fmt).text
        assert "m\\x0ax.yaml" in text
        assert not any(line.endswith("\\") for line in text.splitlines() if line.startswith("#"))


def test_netlify_refuses_a_space_in_a_patterns_literal() -> None:
    rule = Rule(RoutePattern.parse("/a b/*"), 5, add=(Asset("/a.css", "style"),))
    result = export_manifest(Manifest(rules=(rule,)), "netlify")
    [error] = result.errors
    assert error.line == 5 and "holds a space, which ends the path" in error.message


def test_percent_encoded_quotes_stay_encoded_in_links() -> None:
    path = "/s/" + quote('"') + ".css"
    result = export_manifest(Manifest(routes={"/": (Asset(path, "style"),)}), "nginx")
    assert f'add_header Link "<{path}>; rel=preload; as=style";' in result.text


@pytest.mark.parametrize("fmt", ["json", "firebase", "push-manifest"])
def test_warnings_about_hostile_routes_are_one_line(fmt: str) -> None:
    # JSON formats carry any route (escaped), and their cuts still reach a terminal.
    route = "/a\nb\x1b[31m"
    entries = (Asset("/x.css", "style", push=False), Asset("/z.css", "style", media="\x01"))
    result = export_manifest(Manifest(routes={route: entries}, lines={route: 3}), fmt)
    assert result.ok and result.warnings
    for warning in result.warnings:
        assert str(warning).startswith("manifest:3: warning: route /a\\x0ab\\x1b[31m")
        assert "\n" not in str(warning) and "\x1b" not in str(warning)
