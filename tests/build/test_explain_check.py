"""`pushgen check` and `pushgen explain`, called in-process: exact messages and exit codes.

Each test runs in a temporary folder, so files are named as a person typed them
(``m.yaml``) in every message.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pushgen.build import build_site
from pushgen.cli import main
from pushgen.config import load_config
from pushgen.errors import ManifestError
from pushgen.export import FORMATS, export_manifest
from pushgen.export.registry import _TARGETS
from pushgen.manifest import load_manifest
from pushgen.manifest.check import check_manifest
from tests.sites import SMALL_SITE, write_site

V = "version: 1\n"
ROUTE = V + "routes:\n  /:\n"
RULE = V + "rules:\n  - match: /\n"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def summary(file: str, errors: int, warnings: int) -> str:
    """The last line of `pushgen check` (the noun may be singular or plural)."""
    return rf"{re.escape(file)}: {errors} errors?, {warnings} warnings?"


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


# --- check: every kind of error, as file:line:col ------------------------------------

ERRORS = [
    pytest.param(
        V + "route:\n  /: []\n",
        "m.yaml:2:1: error: unknown key 'route' in the manifest; did you mean 'routes'?",
        id="unknown-top-key",
    ),
    pytest.param(
        "version: 2\nroutes: {}\n",
        "m.yaml:1:10: error: unsupported manifest version; this pushgen reads version 1",
        id="version",
    ),
    pytest.param(V, "m.yaml:1:1: error: the manifest has neither 'routes' nor 'rules'", id="empty"),
    pytest.param(
        "- /a.css\n",
        "m.yaml:1:1: error: a manifest is a mapping with 'version' and 'routes'",
        id="not-a-mapping",
    ),
    pytest.param(
        ROUTE + "    - {path: /a.css, as: style, pusj: false}\n",
        "m.yaml:4:33: error: unknown key 'pusj' in an entry of route '/'; did you mean 'push'?",
        id="unknown-entry-key",
    ),
    pytest.param(
        ROUTE + "    - {path: /a.css, as: stylesheet}\n",
        "m.yaml:4:26: error: 'stylesheet' is not a Fetch destination; did you mean 'style'?",
        id="as",
    ),
    pytest.param(
        ROUTE + "    - {path: /a.css, as: css}\n",
        "m.yaml:4:26: error: 'css' is not a Fetch destination",
        id="as-nothing-close",
    ),
    pytest.param(
        ROUTE + "    - {path: static/a.css, as: style}\n",
        "m.yaml:4:14: error: path 'static/a.css' must be an absolute URL path on this site, "
        "starting with one '/'",
        id="relative-path",
    ),
    pytest.param(
        ROUTE + "    - {path: //cdn.example/a.css, as: style}\n",
        "m.yaml:4:14: error: path '//cdn.example/a.css' must be an absolute URL path on this site, "
        "starting with one '/'",
        id="other-host",
    ),
    pytest.param(
        ROUTE + "    - {path: /static/../../etc/passwd, as: style}\n",
        "m.yaml:4:14: error: path '/static/../../etc/passwd' leaves the site root ('.' or '..' segment)",
        id="dot-dot",
    ),
    pytest.param(
        ROUTE + "    - {path: /static/%2e%2E/x.css, as: style}\n",
        "m.yaml:4:14: error: path '/static/%2e%2E/x.css' leaves the site root ('.' or '..' segment)",
        id="encoded-dot-dot",
    ),
    pytest.param(
        ROUTE + "    - {path: /a b.css, as: style}\n",
        "m.yaml:4:14: error: path '/a b.css' contains a space, control character, '\\' or '#'; "
        "percent-encode it",
        id="space",
    ),
    pytest.param(
        ROUTE + "    - {path: /caf\u00e9.css, as: style}\n",
        "m.yaml:4:14: error: path '/caf\u00e9.css' must be ASCII; percent-encode it (HTTP/2 paths are ASCII)",
        id="non-ascii",
    ),
    pytest.param(
        ROUTE + "    - {path: /a.css, as: style}\n    - {path: /a.css, as: style, push: false}\n",
        "m.yaml:5:7: error: /a.css is listed twice for route '/' (first on line 4)",
        id="duplicate-entry",
    ),
    pytest.param(
        ROUTE + "    - {path: /a.css, as: style}\n  /:\n    - {path: /b.css, as: style}\n",
        "m.yaml:5:3: error: route '/' appears twice (first on line 3)",
        id="duplicate-route",
    ),
    pytest.param(
        V + "routes:\n  docs/:\n    - {path: /a.css, as: style}\n",
        "m.yaml:3:3: error: route 'docs/' must be a URL path starting with '/'",
        id="route-not-a-path",
    ),
    pytest.param(
        ROUTE + "    - {path: /f.woff2, as: font, crossorigin: anon}\n",
        "m.yaml:4:47: error: crossorigin must be 'anonymous' or 'use-credentials', not 'anon'",
        id="crossorigin",
    ),
    pytest.param(
        ROUTE + "    - {path: /a.css, as: style, push: no-thanks}\n",
        "m.yaml:4:39: error: 'push' must be true or false",
        id="not-a-boolean",
    ),
    pytest.param(
        ROUTE + "    - {path: /a.css, as: style, media: [print]}\n",
        "m.yaml:4:40: error: 'media' must be a string",
        id="not-a-string",
    ),
    pytest.param(
        ROUTE + "    - {path: /a.css}\n",
        "m.yaml:4:7: error: entry of route '/' is missing 'as'",
        id="missing-as",
    ),
    pytest.param(
        ROUTE + "    - /a.css\n",
        "m.yaml:4:7: error: entry '/a.css' of route '/' needs a mapping with 'path' and 'as'",
        id="bare-path",
    ),
    pytest.param(
        V + "routes:\n  /: /a.css\n",
        "m.yaml:3:6: error: route '/' must have a list of entries",
        id="entries-not-a-list",
    ),
    pytest.param(
        V + "rules: {match: /}\n",
        "m.yaml:2:8: error: 'rules' must be a list of rules, each starting with 'match:'",
        id="rules-not-a-list",
    ),
    pytest.param(
        RULE + "    remvoe: [/a.css]\n",
        "m.yaml:4:5: error: unknown key 'remvoe' in a rule; did you mean 'remove'?",
        id="unknown-rule-key",
    ),
    pytest.param(
        V + "rules:\n  - remove: [/a.css]\n",
        "m.yaml:3:5: error: a rule needs 'match': a route, a glob like /blog/*, or a rule like /blog/<slug>",
        id="rule-without-match",
    ),
    pytest.param(
        RULE,
        "m.yaml:3:5: error: this rule does nothing: give it 'add', 'set', 'remove' or 'policy'",
        id="rule-does-nothing",
    ),
    pytest.param(
        V + "rules:\n  - {match: blog/*, remove: [/a.css]}\n",
        "m.yaml:3:13: error: match 'blog/*' must be a route starting with '/', or '*' for every route",
        id="match-not-a-route",
    ),
    pytest.param(
        V + "rules:\n  - {match: '/u/<integer:id>', remove: [/a.css]}\n",
        "m.yaml:3:13: error: unknown converter 'integer' in '/u/<integer:id>'; "
        "use one of any, default, float, int, path, string, uuid",
        id="converter",
    ),
    pytest.param(
        V + "rules:\n  - {match: '/u/<id', remove: [/a.css]}\n",
        "m.yaml:3:13: error: malformed variable in '/u/<id'; write it like <slug> or <int:id>",
        id="malformed-variable",
    ),
    pytest.param(
        RULE + "    add: [{path: /a.css, as: stlye}]\n",
        "m.yaml:4:30: error: 'stlye' is not a Fetch destination; did you mean 'style'?",
        id="add-entry",
    ),
    pytest.param(
        RULE + "    set: [{path: /a.css}]\n",
        "m.yaml:4:11: error: a 'set' item of the rule on line 3 changes nothing; add e.g. 'push: false'",
        id="set-changes-nothing",
    ),
    pytest.param(
        RULE + "    set: [{path: /a.css, hnit: false}]\n",
        "m.yaml:4:26: error: unknown key 'hnit' in a 'set' item of the rule on line 3; did you mean 'hint'?",
        id="set-unknown-key",
    ),
    pytest.param(
        RULE + "    set: [{push: false}]\n",
        "m.yaml:4:11: error: a 'set' item of the rule on line 3 needs 'path' "
        "(a path or a glob like /static/img/*)",
        id="set-without-path",
    ),
    pytest.param(
        RULE + "    set: [{path: /a.css, as: css}]\n",
        "m.yaml:4:30: error: 'css' is not a Fetch destination",
        id="set-as",
    ),
    pytest.param(
        RULE + "    remove: [a.css]\n",
        "m.yaml:4:14: error: path 'a.css' must be an absolute URL path on this site, starting with one '/'",
        id="remove-relative",
    ),
    pytest.param(
        RULE + "    policy: {max_push: 2}\n",
        "m.yaml:4:14: error: unknown key 'max_push' in a policy; did you mean 'max_pushes'?",
        id="policy-unknown-key",
    ),
    pytest.param(
        RULE + "    policy: {push: [style, fonts]}\n",
        "m.yaml:4:28: error: 'fonts' is not a Fetch destination",
        id="policy-destination",
    ),
    pytest.param(
        RULE + "    policy: {push: style}\n",
        "m.yaml:4:20: error: 'push' must be a list of destinations like [style, script, font]",
        id="policy-push-not-a-list",
    ),
    pytest.param(
        RULE + "    policy: 4\n",
        "m.yaml:4:13: error: 'policy' must be a mapping like {push: [style, font], max_pushes: 4}",
        id="policy-not-a-mapping",
    ),
    pytest.param(
        RULE + "    policy: {max_pushes: -1, max_bytes: 1.5}\n",
        "m.yaml:4:26: error: 'max_pushes' must be a whole number, 0 or more\n"
        "m.yaml:4:41: error: 'max_bytes' must be a whole number, 0 or more",
        id="budgets",
    ),
]


@pytest.mark.parametrize(("text", "expected"), ERRORS)
def test_each_check_error_is_file_line_col_and_exit_1(
    here: Path, capsys: pytest.CaptureFixture[str], text: str, expected: str
) -> None:
    (here / "m.yaml").write_text(text, encoding="utf-8")
    code, out, err = run(["check", "m.yaml"], capsys)
    *lines, last = err.splitlines()
    assert (code, out) == (1, "")
    assert lines == expected.splitlines()
    assert re.fullmatch(summary("m.yaml", len(lines), 0), last), last


@pytest.mark.parametrize(("text", "expected"), ERRORS)
def test_the_runtime_loader_raises_the_same_diagnostics(
    here: Path, text: str, expected: str
) -> None:
    (here / "m.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ManifestError) as info:
        load_manifest("m.yaml")
    assert [str(d) for d in info.value.diagnostics] == expected.splitlines()
    assert info.value.diagnostics == check_manifest("m.yaml")


def test_every_problem_of_a_file_is_reported_at_once_in_line_order(
    here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (here / "m.yaml").write_text(
        V
        + "rules:\n"
        + "  - match: /blog/<slug>\n"
        + "    add:\n"
        + "      - {path: /static/css/blog.css, as: styel}\n"
        + "    sett: []\n"
        + "routes:\n"
        + "  /:\n"
        + "    - {path: /a.css, as: style, pusj: false}\n"
        + "    - {path: a.css, as: style}\n"
    )
    code, _, err = run(["check", "m.yaml"], capsys)
    assert code == 1
    assert err.splitlines()[:-1] == [
        "m.yaml:5:42: error: 'styel' is not a Fetch destination; did you mean 'style'?",
        "m.yaml:6:5: error: unknown key 'sett' in a rule; did you mean 'set'?",
        "m.yaml:9:33: error: unknown key 'pusj' in an entry of route '/'; did you mean 'push'?",
        "m.yaml:10:14: error: path 'a.css' must be an absolute URL path on this site, starting with one '/'",
    ]


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        (ROUTE + "    - {path: /a.css, as: style}\n  /b: [\n", 6, 1),
        (ROUTE + "\t- {path: /a.css, as: style}\n", 4, 1),
        (V + "routes:\n  /: {path: /a.css\n", 4, 1),
    ],
    ids=["unclosed-list", "tab", "unclosed-mapping"],
)
def test_yaml_syntax_errors_are_located(
    here: Path, capsys: pytest.CaptureFixture[str], text: str, line: int, column: int
) -> None:
    (here / "m.yaml").write_text(text)
    code, _, err = run(["check", "m.yaml"], capsys)
    # The wording after "invalid YAML:" is the YAML parser's.
    assert code == 1
    assert re.match(rf"m\.yaml:{line}:{column}: error: invalid YAML: \S", err), err


def test_a_valid_manifest_passes_with_exit_0(
    here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (here / "m.yaml").write_text(
        V
        + "rules:\n"
        + "  - match: /blog/<slug>\n"
        + "    add: [{path: /static/css/site.css, as: style}]\n"
        + "    policy: {push: [style], max_pushes: 4, max_bytes: 100_000}\n"
        + "routes:\n"
        + "  /:\n"
        + "    - {path: /static/css/site.css, as: style}\n"
    )
    code, out, err = run(["check", "m.yaml"], capsys)
    assert (code, out) == (0, "")
    assert re.fullmatch(summary("m.yaml", 0, 0) + "\n", err)


def test_a_missing_manifest_is_an_error(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["check", "nope.yaml"], capsys)
    assert code == 1
    assert err.splitlines() == [
        "error: no manifest at nope.yaml yet: it is written by `pushgen build -m nope.yaml` for a"
        " site with pages/, `pushgen scan DIR -m nope.yaml` for a folder another generator built,"
        " `pushgen build --app MODULE:APP -m nope.yaml` for a Quart app"
    ]


# --- check --site OUT: files, headers, stale rules ------------------------------------

CHECKED = """\
version: 1
rules:
  - match: /
    add:
      - {path: /static/css/gone.css, as: style}
    set:
      - {path: /static/img/*.gif, push: false}
    remove: [/static/js/nothing.js]
  - match: /blog/<slug>
    remove: [/static/js/nothing.js]
routes:
  /:
    - {path: /static/css/site.css, as: style}
    - {path: /static/css/missing.css, as: style}
    - {path: /static/img/hero.png, as: image, type: "image/png\\u00e9"}
    - {path: /static/leak.txt, as: fetch}
  /docs/: []
"""


@pytest.fixture
def built(here: Path) -> Path:
    """SMALL_SITE built in the current folder, with a file in its output that leads out of it."""
    write_site(here, SMALL_SITE)
    assert main(["build", "."]) == 0
    (here / "secret.txt").write_text("not for the web\n")
    (here / "_site" / "static" / "leak.txt").symlink_to(here / "secret.txt")
    return here


def test_check_with_the_output_finds_missing_files_and_bad_headers(
    built: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (built / "m.yaml").write_text(CHECKED)
    code, _, err = run(["check", "m.yaml", "--site", "_site"], capsys)
    *lines, last = err.splitlines()
    assert code == 1
    assert lines == [
        "m.yaml:5:9: error: rule adds /static/css/gone.css, which is not in the output "
        "(_site/static/css/gone.css is missing)",
        "m.yaml:7:9: warning: /static/img/*.gif matches no entry of the routes this rule applies to",
        "m.yaml:8:14: warning: /static/js/nothing.js matches no entry of the routes this rule applies to",
        "m.yaml:14:7: error: entry /static/css/missing.css is not in the output "
        "(_site/static/css/missing.css is missing)",
        "m.yaml:15:7: error: /static/img/hero.png: type 'image/png\u00e9' contains characters a Link "
        "header cannot carry",
        "m.yaml:16:7: error: entry /static/leak.txt leads outside _site (a symlink)",
    ]
    assert re.fullmatch(summary("m.yaml", 4, 2), last)


def test_without_the_output_only_what_the_file_says_is_checked(
    built: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (built / "m.yaml").write_text(CHECKED)
    code, _, err = run(["check", "m.yaml"], capsys)
    assert code == 1
    assert [line for line in err.splitlines() if "not in" in line or "outside" in line] == []
    assert "m.yaml:15:7: error: /static/img/hero.png: type" in err


def test_an_output_folder_that_is_not_there(
    built: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(["check", "push-manifest.yaml", "--site", "nowhere"], capsys)
    assert code == 1
    assert (
        err.splitlines()[0]
        == "nowhere: error: the output folder does not exist; run `pushgen build` first"
    )


def test_warnings_alone_exit_0(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (built / "push-manifest.yaml").read_text()
    text = text.replace("rules: []\n", "rules:\n  - {match: /, remove: [/static/img/*.gif]}\n")
    (built / "push-manifest.yaml").write_text(text)
    code, _, err = run(["check", "push-manifest.yaml", "--site", "_site"], capsys)
    assert code == 0
    line = text.splitlines().index("  - {match: /, remove: [/static/img/*.gif]}") + 1
    column = text.splitlines()[line - 1].index("/static/img/*.gif") + 1
    assert err.splitlines()[0] == (
        f"push-manifest.yaml:{line}:{column}: warning: /static/img/*.gif matches no entry of the "
        "routes this rule applies to"
    )


def test_check_defaults_to_the_manifest_and_base_path_of_the_site_here(
    here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_site(here, {**SMALL_SITE, "pushgen.yaml": "base_path: /shop/\ncontext: {title: T}\n"})
    assert main(["build", "."]) == 0
    code, _, err = run(["check", "--site", "_site"], capsys)
    assert code == 0, err
    assert re.fullmatch(summary(str(here.resolve() / "push-manifest.yaml"), 0, 0) + "\n", err)
    # Without the site's base path, every /shop/... entry is outside the output.
    code, _, err = run(
        ["check", "push-manifest.yaml", "--site", "_site", "--base-path", "/"], capsys
    )
    assert code == 1
    assert "error: entry /shop/static/css/site.css is not in the output" in err


def test_an_entry_added_twice_by_a_rule_is_a_duplicate(here: Path) -> None:
    (here / "m.yaml").write_text(
        RULE
        + "    add:\n      - {path: /a.css, as: style}\n      - {path: /a.css, as: style, push: false}\n"
    )
    assert [str(d) for d in check_manifest("m.yaml")] == [
        "m.yaml:6:9: error: /a.css is listed twice for the rule on line 3 (first on line 5)"
    ]


def test_file_errors_have_a_column_too(built: Path) -> None:
    (built / "m.yaml").write_text(ROUTE + "    - {path: /static/css/missing.css, as: style}\n")
    [diagnostic] = check_manifest("m.yaml", output="_site")
    assert diagnostic.column > 0


# --- explain ---------------------------------------------------------------------------

RULES = """\
rules:
  - match: /
    add:
      - {path: /static/img/hero@2x.png, as: image, push: true}
    set:
      - {path: /static/js/classic.js, push: false}
    remove: [/static/css/print.css]
  - match: /docs/*
    policy: {max_pushes: 2}
  - match: /blog/<slug>
    add: [{path: /static/css/site.css, as: style}]
"""


@pytest.fixture
def explained(here: Path) -> Path:
    """SMALL_SITE built here, with RULES in its manifest."""
    write_site(here, SMALL_SITE)
    assert main(["build", "."]) == 0
    manifest = here / "push-manifest.yaml"
    manifest.write_text(manifest.read_text().replace("rules: []\n", RULES))
    assert main(["build", "."]) == 0
    return here


def rule_line(site: Path, match: str) -> int:
    lines = (site / "push-manifest.yaml").read_text().splitlines()
    return lines.index(f"  - match: {match}") + 1


def test_explain_gives_the_chain_and_the_reason_for_each_entry(
    explained: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["explain", "/", "-m", "push-manifest.yaml", "--site", "."], capsys)
    at = f"rule at push-manifest.yaml:{rule_line(explained, '/')} (match /)"
    assert code == 0
    assert out == (
        "/ (pages/index.html; routes written by pushgen build): 12 entries: 7 pushed, 1 hinted only, 3 listed only, 1 removed\n"
        "   1. push    style  /static/css/site.css\n"
        "      via templates/base.html:3 -> /static/css/site.css\n"
        "   2. push    style  /static/css/base.css\n"
        "      via templates/base.html:3 -> static/css/site.css:1 -> /static/css/base.css\n"
        "   3. removed style  /static/css/print.css\n"
        "      via templates/base.html:4 -> /static/css/print.css\n"
        f"      removed by {at}\n"
        "   4. push    font   /static/fonts/f.woff2\n"
        "      via templates/base.html:3 -> static/css/site.css:1 -> static/css/base.css:1 -> /static/fonts/f.woff2\n"
        "   5. push    script /static/js/app.js\n"
        "      via templates/base.html:9 -> /static/js/app.js\n"
        "   6. push    script /static/js/lib/a.js\n"
        "      via templates/base.html:9 -> static/js/app.js:1 -> /static/js/lib/a.js\n"
        "   7. listed  script /static/js/lazy.js\n"
        "      via templates/base.html:9 -> static/js/app.js:2 -> /static/js/lazy.js\n"
        "      not hinted: fetched by a script through a literal URL, maybe never "
        "(hint it: push policy script_fetches: hint, or a rule's set)\n"
        "   8. push    script /static/js/lib/b.js\n"
        "      via templates/base.html:9 -> static/js/app.js:1 -> static/js/lib/a.js:1 -> /static/js/lib/b.js\n"
        "   9. hint    script /static/js/classic.js\n"
        "      via templates/base.html:10 -> /static/js/classic.js\n"
        f"      push: false by {at}\n"
        "  10. listed  image  /static/img/hero.png\n"
        "      via pages/index.html:1 -> /static/img/hero.png\n"
        "      not hinted: one candidate of a srcset\n"
        "  11. push    image  /static/img/hero@2x.png\n"
        "      via pages/index.html:1 -> /static/img/hero@2x.png\n"
        f"      added by {at}\n"
        "  12. listed  image  /static/img/bg.png\n"
        "      via templates/base.html:3 -> static/css/site.css:1 -> static/css/base.css:2 -> /static/img/bg.png\n"
        "      not hinted: a stylesheet image, fetched only where a rule matches\n"
    )


def test_explain_shows_a_rule_budget_and_finds_the_route_without_its_slash(
    explained: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["explain", "/docs", "-m", "push-manifest.yaml", "--site", "."], capsys)
    lines = out.splitlines()
    assert code == 0
    assert lines[0] == (
        "/docs/ (pages/docs/index.html; routes written by pushgen build): 11 entries: 2 pushed, 7 hinted only, 2 listed only, 0 removed"
    )
    assert lines[8:11] == [
        "   4. hint    style  /static/css/docs.css",
        "      via pages/docs/index.html:1 -> /static/css/docs.css",
        "      hint only: over the budget of 2 pushes",
    ]
    # Not the defer script nor lazy.js: the build held them back (issue 15).
    assert out.count("hint only: over the budget of 2 pushes") == 5


def test_explain_a_route_only_a_quart_rule_names(
    explained: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        ["explain", "/blog/hello", "-m", "push-manifest.yaml", "--site", "."], capsys
    )
    line = rule_line(explained, "/blog/<slug>")
    assert code == 0
    assert out == (
        "/blog/hello (no page: a route of the manifest only; routes written by pushgen build): 1 entry: 1 pushed, "
        "0 hinted only, 0 listed only, 0 removed\n"
        "  1. push    style  /static/css/site.css\n"
        f"     added by rule at push-manifest.yaml:{line} (match /blog/<slug>)\n"
    )


def test_explain_the_site_push_policy(explained: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (explained / "pushgen.yaml").write_text(
        "context: {title: T}\npush: {destinations: [style, font], max_bytes: 30}\n"
    )
    assert main(["build", "."]) == 0
    code, out, _ = run(
        ["explain", "/about.html", "-m", "push-manifest.yaml", "--site", "."], capsys
    )
    assert code == 0
    # site.css is 42 bytes and base.css 192: over 30. The 14-byte font fits.
    assert out == (
        "/about.html (pages/about.html; routes written by pushgen build): 10 entries: 1 pushed, 7 hinted only, 2 listed only, 0 removed\n"
        "   1. hint    style  /static/css/site.css\n"
        "      via templates/base.html:3 -> /static/css/site.css\n"
        "      hint only: over the budget of 30 pushed bytes (42 more)\n"
        "   2. hint    style  /static/css/base.css\n"
        "      via templates/base.html:3 -> static/css/site.css:1 -> /static/css/base.css\n"
        "      hint only: over the budget of 30 pushed bytes (192 more)\n"
        "   3. hint    style  /static/css/print.css\n"
        "      via templates/base.html:4 -> /static/css/print.css\n"
        "      hint only: stylesheet for media 'print', which screens do not use\n"
        "   4. push    font   /static/fonts/f.woff2\n"
        "      via templates/base.html:3 -> static/css/site.css:1 -> static/css/base.css:1 -> /static/fonts/f.woff2\n"
        "   5. hint    script /static/js/app.js\n"
        "      via templates/base.html:9 -> /static/js/app.js\n"
        "      hint only: script is not a pushed destination (push: font, style)\n"
        "   6. hint    script /static/js/lib/a.js\n"
        "      via templates/base.html:9 -> static/js/app.js:1 -> /static/js/lib/a.js\n"
        "      hint only: script is not a pushed destination (push: font, style)\n"
        "   7. listed  script /static/js/lazy.js\n"
        "      via templates/base.html:9 -> static/js/app.js:2 -> /static/js/lazy.js\n"
        "      not hinted: fetched by a script through a literal URL, maybe never "
        "(hint it: push policy script_fetches: hint, or a rule's set)\n"
        "   8. hint    script /static/js/lib/b.js\n"
        "      via templates/base.html:9 -> static/js/app.js:1 -> static/js/lib/a.js:1 -> /static/js/lib/b.js\n"
        "      hint only: script is not a pushed destination (push: font, style)\n"
        "   9. hint    script /static/js/classic.js\n"
        "      via templates/base.html:10 -> /static/js/classic.js\n"
        "      hint only: defer script: the first render does not wait for it\n"
        "  10. listed  image  /static/img/bg.png\n"
        "      via templates/base.html:3 -> static/css/site.css:1 -> static/css/base.css:2 -> /static/img/bg.png\n"
        "      not hinted: a stylesheet image, fetched only where a rule matches\n"
    )


def test_explain_with_only_a_manifest(
    explained: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    code, out, _ = run(["explain", "/about.html", "-m", "../push-manifest.yaml"], capsys)
    assert code == 0
    assert out.splitlines()[:5] == [
        "/about.html (no page: a route of the manifest only; routes written by pushgen build): 10 entries: 6 pushed, 2 hinted only, "
        "2 listed only, 0 removed",
        "   1. push    style  /static/css/site.css",
        "      generated by pushgen build",
        "   2. push    style  /static/css/base.css",
        "      generated by pushgen build",
    ]


def test_explain_a_route_nothing_names(explained: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["explain", "/nowhere", "-m", "push-manifest.yaml"], capsys)
    assert code == 1
    assert out == (
        "/nowhere (no page and no route of the manifest; routes written by pushgen build): 0 entries: 0 pushed, 0 hinted only, "
        "0 listed only, 0 removed\n"
        "  ! no route or rule of push-manifest.yaml matches /nowhere\n"
    )


def test_explain_says_when_the_manifest_is_behind_the_site(
    explained: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (explained / "static" / "css" / "site.css").write_text(
        '@import "base.css";\n@import "new.css";\n'
    )
    (explained / "static" / "css" / "new.css").write_text("p {}\n")
    _, out, _ = run(["explain", "/", "-m", "push-manifest.yaml", "--site", "."], capsys)
    assert (
        out.splitlines()[1]
        == "  ! the manifest differs from the site as it is now; run `pushgen build`"
    )


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["explain", "docs"], 2, "Error: ROUTE is a URL path like / or /docs/, not 'docs'"),
        (
            ["explain", "/", "--site", "missing"],
            2,
            "Error: site folder missing does not exist",
        ),
    ],
)
def test_explain_usage_errors_exit_2(
    here: Path, capsys: pytest.CaptureFixture[str], argv: list[str], code: int, message: str
) -> None:
    got, _, err = run(argv, capsys)
    assert got == code
    assert err.splitlines()[-1] == message


def test_explain_with_a_broken_manifest_prints_its_errors_and_exits_1(
    here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (here / "m.yaml").write_text(ROUTE + "    - {path: /a.css, as: styel}\n")
    code, out, err = run(["explain", "/", "-m", "m.yaml"], capsys)
    assert (code, out) == (1, "")
    assert err == "m.yaml:4:26: error: 'styel' is not a Fetch destination; did you mean 'style'?\n"


def test_explain_does_not_contradict_the_state_it_prints(
    explained: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = run(["explain", "/", "-m", "push-manifest.yaml", "--site", "."], capsys)
    entry = out.split("  11. ", 1)[1].split("  12. ", 1)[0]
    assert entry.startswith("push    image  /static/img/hero@2x.png")
    assert "not hinted" not in entry


def test_a_rule_policy_keeps_the_site_budget_it_does_not_override(
    explained: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (explained / "pushgen.yaml").write_text("context: {title: T}\npush: {max_pushes: 2}\n")
    manifest = explained / "push-manifest.yaml"
    manifest.write_text(
        manifest.read_text().replace(
            "  - match: /docs/*\n    policy: {max_pushes: 2}\n",
            "  - match: /docs/*\n    policy: {push: [style, script, font, image]}\n",
        )
    )
    assert main(["build", "."]) == 0
    _, out, _ = run(["explain", "/docs/", "-m", "push-manifest.yaml", "--site", "."], capsys)
    assert ": 2 pushed, " in out.splitlines()[0], out.splitlines()[0]


# --- a route no server can hold (issue 22, item 8b) -------------------------------------

ROUTES = [
    ("/a%0Ab.html", "holds U+000A once percent-decoded"),
    ("/a%0db.html", "holds U+000D once percent-decoded"),
    ("/a%C2%85b.html", "holds U+0085 once percent-decoded"),  # NEL
    ("/a%E2%80%A8b.html", "holds U+2028 once percent-decoded"),  # a YAML 1.1 line break
    ("/a%C2%A0b.html", "holds U+00A0 once percent-decoded"),
    ("/a%20b.html", None),
    ("/caf%C3%A9.html", None),
    ("/a%250Ab.html", None),  # %0A once decoded: printable
]


@pytest.mark.parametrize(("written", "why"), ROUTES)
def test_check_flags_a_route_the_exports_refuse_and_only_those(
    here: Path, capsys: pytest.CaptureFixture[str], written: str, why: str | None
) -> None:
    (here / "m.yaml").write_text(
        V + "routes:\n  /: []\n  " + written + ":\n    - {path: /a.css, as: style}\n"
    )
    code, _, err = run(["check", "m.yaml"], capsys)
    manifest = load_manifest("m.yaml")
    refused = [f for f in FORMATS if not export_manifest(manifest, f, root="/srv").ok]
    if why is None:
        assert (code, refused) == (0, [])
        return
    assert code == 1
    assert err.splitlines()[0] == (
        f"m.yaml:4:3: error: route {written} {why}, which no server configuration can"
        " hold: the nginx, Apache, h2o and _headers exports refuse the manifest; rename the"
        " page's path (pushgen scan leaves such a page out)"
    )
    # The same rule: every text export refuses the manifest, for this route.
    assert refused == [name for name, target in _TARGETS.items() if target.text]


def test_check_flags_an_exact_rule_the_exports_refuse(here: Path) -> None:
    (here / "m.yaml").write_text(
        V + "rules:\n  - match: /a%0Ab\n    add: [{path: /a.css, as: style}]\n"
    )
    [error] = check_manifest("m.yaml")
    assert (error.line, error.column, error.severity) == (3, 12, "error")
    assert error.message.startswith("route /a%0Ab holds U+000A once percent-decoded")
    assert "rename the rule's path" in error.message


# --- the build writes only what check accepts (issue 22, item 9b) --------------------------


def test_the_build_and_check_agree_on_link_field_values(tmp_path: Path) -> None:
    # One rule (links.check_link_fields): visible ASCII, space and tab.
    # Whitespace runs become one space (the same query on one line); a value with
    # anything else is left out with a located warning, where main wrote it and
    # check flagged it (or the loader refused the whole manifest, for U+0001).
    page = (
        "<!doctype html>\n"
        '<link rel=stylesheet media="\U0001f600" href="/static/a.css">\n'
        '<link rel=stylesheet media="print&#1;" href="/static/b.css">\n'
        '<link rel=stylesheet media="screen and\n  (min-width: 600px)" href="/static/c.css">\n'
        '<link rel=preload as=font type="font/w\u00f6ff2" href="/static/f.woff2" crossorigin>\n'
        '<link rel=stylesheet media="screen" href="/static/d.css">\n'
    )
    files = {f"static/{name}": "p {}\n" for name in ("a.css", "b.css", "c.css", "d.css")}
    site = write_site(tmp_path, {"pages/index.html": page, **files, "static/f.woff2": "wOF2"})
    result = build_site(load_config(site), jobs=1)
    assert [str(d) for d in result.warnings] == [
        f"pages/index.html:{line}: warning: {path}: {field} {value!r} contains characters a"
        " Link header cannot carry: left out of the manifest; write the attribute in ASCII"
        for line, path, field, value in [
            (2, "/static/a.css", "media", "\U0001f600"),
            (3, "/static/b.css", "media", "print\x01"),
            (6, "/static/f.woff2", "type", "font/w\u00f6ff2"),
        ]
    ]
    assert [(a.path, a.media) for a in result.manifest.routes["/"]] == [
        ("/static/c.css", "screen and (min-width: 600px)"),
        ("/static/d.css", "screen"),
    ]
    assert check_manifest(site / "push-manifest.yaml", output=site / "_site") == []
