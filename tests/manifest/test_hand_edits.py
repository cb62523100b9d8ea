"""The manifest as a file people edit: build -> hand edit -> rebuild, and what survives.

Every test builds SMALL_SITE, edits the manifest the way a person would (rules,
comments), builds again and looks at the bytes of the file and at what the
runtime would send (``Manifest.assets``). The tests run inside the site folder,
so the manifest is named ``push-manifest.yaml`` in every message.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from pathlib import Path

import pytest

from pushgen.build import BuildResult, build_site
from pushgen.cli import main
from pushgen.config import load_config
from pushgen.errors import BuildError
from pushgen.manifest import Manifest, load_manifest
from pushgen.model import Asset
from tests.sites import SMALL_SITE, write_site

NAME = "push-manifest.yaml"
EXAMPLE = Path(__file__).resolve().parents[2] / "site_example"

CSS = "/static/css/site.css"
BASE_CSS = "/static/css/base.css"
PRINT_CSS = "/static/css/print.css"
DOCS_CSS = "/static/css/docs.css"
FONT = "/static/fonts/f.woff2"
APP = "/static/js/app.js"
CLASSIC = "/static/js/classic.js"
HERO = "/static/img/hero.png"
BG = "/static/img/bg.png"
BASE_HTML = str(SMALL_SITE["templates/base.html"])
CLASSIC_TAG = "<script defer src=\"{{ url_for('static', filename='js/classic.js') }}\"></script>\n"


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = write_site(tmp_path / "site", SMALL_SITE)
    monkeypatch.chdir(root)
    build(root)
    return root


def build(site: Path, **options: object) -> BuildResult:
    return build_site(load_config(site), jobs=1, **options)  # type: ignore[arg-type]


def read(site: Path) -> str:
    return (site / NAME).read_text(encoding="utf-8")


def write(site: Path, text: str) -> None:
    (site / NAME).write_text(text, encoding="utf-8")


def split(text: str) -> tuple[str, str]:
    """(everything before the generated ``routes:`` line, the line and its block)."""
    head, sep, tail = text.partition("\nroutes:")
    assert sep, text
    return head + "\n", "routes:" + tail


def with_rules(site: Path, rules: str) -> str:
    """Replace the empty ``rules: []`` of a fresh manifest with ``rules``; return the text."""
    text = read(site)
    assert text.count("rules: []\n") == 1
    text = text.replace("rules: []\n", rules)
    write(site, text)
    return text


def line_of(text: str, needle: str) -> int:
    """The 1-based line of the only line (not a comment) containing ``needle``."""
    found = [
        n
        for n, line in enumerate(text.splitlines(), 1)
        if needle in line and not line.lstrip().startswith("#")
    ]
    assert len(found) == 1, (needle, found)
    return found[0]


def assets(site: Path, route: str) -> tuple[Asset, ...]:
    return load_manifest(site / NAME).assets(route)


def paths(entries: tuple[Asset, ...]) -> list[str]:
    return [a.path for a in entries]


def rebuild_is_identical(site: Path) -> BuildResult:
    """Build again; the file must keep its bytes and not even be rewritten."""
    before = (site / NAME).read_bytes()
    mtime = os.stat(site / NAME).st_mtime_ns
    result = build(site)
    assert (site / NAME).read_bytes() == before
    assert os.stat(site / NAME).st_mtime_ns == mtime
    return result


# --- the generated file -------------------------------------------------------------


def test_a_new_manifest_has_a_modeline_an_empty_rules_list_and_a_checksummed_block(
    site: Path,
) -> None:
    text = read(site)
    head, block = split(text)
    assert head.startswith("# yaml-language-server: $schema=push-manifest.schema.json\n")
    assert "\nversion: 1\nrules: []\n# rules:\n#   - match: /blog/<slug>\n" in head
    first, body = block.split("\n", 1)
    digest = hashlib.sha256(body.encode()).hexdigest()[:12]
    assert first == (
        f"routes:  # written by pushgen build; hand edits go in rules (writer 2, sha256:{digest})"
    )
    assert body.startswith("  /:\n    - {path: /static/css/site.css, as: style}\n")
    assert load_manifest(site / NAME).rules == ()


def test_an_unchanged_site_rebuilds_to_the_same_bytes(site: Path) -> None:
    rebuild_is_identical(site)


# --- each kind of hand edit survives a rebuild ----------------------------------------


def test_a_add_an_entry_to_a_route(site: Path) -> None:
    with_rules(
        site,
        "rules:\n"
        "  - match: /about.html\n"
        "    add:\n"
        "      - {path: /static/img/hero.png, as: image}\n"
        "      - {path: /static/css/docs.css, as: style, push: false}\n",
    )
    assert rebuild_is_identical(site).warnings == []
    about = assets(site, "/about.html")
    assert about[-2:] == (Asset(HERO, "image"), Asset(DOCS_CSS, "style", push=False))
    assert HERO not in paths(assets(site, "/docs/"))


def test_a_add_an_entry_the_build_already_has_changes_it_in_place(site: Path) -> None:
    with_rules(
        site,
        "rules:\n  - match: /\n    add: [{path: /static/img/hero.png, as: image, type: image/png}]\n",
    )
    rebuild_is_identical(site)
    home = assets(site, "/")
    generated = load_manifest(site / NAME).routes["/"]
    assert paths(home) == paths(generated)
    assert home[paths(home).index(HERO)] == Asset(HERO, "image", type="image/png")


def test_b_stop_a_push_stop_a_hint_or_drop_an_entry(site: Path) -> None:
    with_rules(
        site,
        "rules:\n"
        "  - match: '*'\n"
        "    set:\n"
        "      - {path: /static/fonts/f.woff2, push: false}   # pushed: hinted only\n"
        "      - {path: /static/img/bg.png, hint: false}      # hinted: listed only\n"
        "  - match: /docs/\n"
        "    remove: [/static/js/classic.js]                  # neither pushed nor hinted\n",
    )
    rebuild_is_identical(site)
    for route in ("/", "/about.html", "/docs/"):
        by_path = {a.path: a for a in assets(site, route)}
        assert by_path[FONT] == Asset(
            FONT, "font", type="font/woff2", crossorigin="anonymous", push=False
        )
        assert by_path[BG] == Asset(BG, "image", push=False, hint=False)
    assert CLASSIC in paths(assets(site, "/"))
    assert CLASSIC not in paths(assets(site, "/docs/"))
    assert CLASSIC in paths(load_manifest(site / NAME).routes["/docs/"])  # generated part as built


def test_c_change_attributes_of_entries(site: Path) -> None:
    with_rules(
        site,
        "rules:\n"
        "  - match: /docs/\n"
        "    set:\n"
        '      - {path: /static/css/docs.css, media: "(min-width: 40em)"}\n'
        "      - {path: /static/js/*.js, crossorigin: use-credentials}\n"
        "      - {path: /static/img/bg.png, as: fetch, type: image/png, push: true, hint: true}\n",
    )
    rebuild_is_identical(site)
    docs = {a.path: a for a in assets(site, "/docs/")}
    assert docs[DOCS_CSS] == Asset(DOCS_CSS, "style", media="(min-width: 40em)")
    assert docs[APP] == Asset(APP, "script", crossorigin="use-credentials", module=True)
    # A defer script: hinted, not pushed, whatever its crossorigin (issue 15).
    assert docs[CLASSIC] == Asset(CLASSIC, "script", crossorigin="use-credentials", push=False)
    assert docs["/static/js/lib/a.js"].crossorigin == "anonymous"  # '*' stays in one segment
    assert docs[BG] == Asset(BG, "fetch", type="image/png")
    assert {a.path: a for a in assets(site, "/")}[APP].crossorigin == "anonymous"


def test_d_rules_for_patterns_of_routes_and_for_routes_the_build_never_saw(site: Path) -> None:
    write_site(site, {"pages/docs/guide.html": SMALL_SITE["pages/about.html"]})
    build(site)
    with_rules(
        site,
        "rules:\n"
        "  - match: /docs/*                  # glob: /docs/ and /docs/guide.html\n"
        "    remove: [/static/css/print.css]\n"
        "  - match: /**                      # glob: every route\n"
        "    set: [{path: /static/js/**, push: false}]\n"
        "  - match: /blog/<slug>             # Quart rule: routes of the app, never built\n"
        "    add:\n"
        "      - {path: /static/css/site.css, as: style}\n"
        "      - {path: /static/css/docs.css, as: style}\n"
        "  - match: /shop/<int:item>\n"
        "    add: [{path: /static/img/hero.png, as: image}]\n",
    )
    rebuild_is_identical(site)
    manifest = load_manifest(site / NAME)
    assert [rule.match.kind for rule in manifest.patterns] == ["glob", "glob", "rule", "rule"]
    for route in ("/docs/", "/docs/guide.html"):
        assert PRINT_CSS not in paths(manifest.assets(route))
    assert PRINT_CSS in paths(manifest.assets("/about.html"))
    assert [
        a.path for a in manifest.assets("/") if a.path.startswith("/static/js/") and a.push
    ] == []
    assert manifest.assets("/blog/hello-world") == (Asset(CSS, "style"), Asset(DOCS_CSS, "style"))
    assert manifest.assets("/blog/a/b") == ()
    assert manifest.assets("/shop/12") == (Asset(HERO, "image"),)
    assert manifest.assets("/shop/twelve") == ()
    assert "/blog/hello-world" not in manifest.routes


def test_e_comments_and_blank_lines_outside_the_generated_block_are_kept(site: Path) -> None:
    text = read(site)
    text = "# Owned by the web team; ask #frontend before changing.\n\n" + text
    text = text.replace(
        "rules: []\n",
        "\n"
        "# Hand edits.\n"
        "rules:\n"
        "  # The about page shows the hero too.\n"
        "  - match: /about.html   # exact route\n"
        "    add:\n"
        "      - {path: /static/img/hero.png, as: image}  # pushed on purpose\n"
        "\n"
        "  # Print styles are never needed first.\n"
        "  - {match: '*', remove: [/static/css/print.css]}\n"
        "\n",
    )
    write(site, text)
    rebuild_is_identical(site)
    assert paths(assets(site, "/about.html"))[-1] == HERO
    assert PRINT_CSS not in paths(assets(site, "/"))


def test_rules_written_after_the_routes_block_are_kept(site: Path) -> None:
    head, block = split(read(site))
    text = (
        head.replace("rules: []\n", "")
        + block
        + "\n# Hand edits, kept below the generated block.\n"
        + "rules:\n  - {match: /, remove: [/static/js/classic.js]}\n"
    )
    write(site, text)
    rebuild_is_identical(site)
    (site / "static" / "css" / "docs.css").write_text('@import "more.css";\n')
    (site / "static" / "css" / "more.css").write_text("p {}\n")
    build(site)
    after = read(site)
    assert after.endswith(
        "    - {path: /static/css/more.css, as: style}\n"
        "    - {path: /static/fonts/f.woff2, as: font, type: font/woff2, crossorigin: anonymous}\n"
        "    - {path: /static/js/app.js, as: script, crossorigin: anonymous, module: true}\n"
        "    - {path: /static/js/lib/a.js, as: script, crossorigin: anonymous, module: true}\n"
        "    - {path: /static/js/lazy.js, as: script, crossorigin: anonymous, module: true,"
        " push: false, hint: false}\n"
        "    - {path: /static/js/lib/b.js, as: script, crossorigin: anonymous, module: true}\n"
        "    - {path: /static/js/classic.js, as: script, push: false}\n"
        "    - {path: /static/img/bg.png, as: image, push: false, hint: false}\n"
        "\n# Hand edits, kept below the generated block.\n"
        "rules:\n  - {match: /, remove: [/static/js/classic.js]}\n"
    )
    assert after.startswith(head.replace("rules: []\n", ""))
    assert CLASSIC not in paths(assets(site, "/"))


def test_a_hand_written_manifest_with_rules_only_gets_routes_appended(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_site(tmp_path / "fresh", SMALL_SITE)
    monkeypatch.chdir(root)
    rules = "# Written before the first build.\nversion: 1\nrules:\n  - {match: /, remove: [/static/img/*]}\n"
    write(root, rules)
    build(root)
    text = read(root)
    # The build adds the schema modeline once, and keeps every other byte.
    modeline = "# yaml-language-server: $schema=push-manifest.schema.json\n"
    assert text.startswith(modeline + rules + "routes:  # written by pushgen build;")
    assert [a.destination for a in assets(root, "/")].count("image") == 0
    rebuild_is_identical(root)


# --- a changed site: generated parts change, hand parts stay ---------------------------


ALL_EDITS = (
    "# Hand edits: kept by every build.\n"
    "rules:\n"
    "  - match: /about.html\n"
    "    add: [{path: /static/img/hero.png, as: image}]   # (a)\n"
    "  - match: '*'\n"
    "    set: [{path: /static/fonts/f.woff2, push: false}] # (b)\n"
    "  - match: /docs/*\n"
    "    set: [{path: /static/css/docs.css, media: screen}] # (c)\n"
    "  - match: /blog/<slug>\n"
    "    add: [{path: /static/css/site.css, as: style}]   # (d)\n"
)


def test_after_a_site_change_only_the_generated_block_changes(site: Path) -> None:
    with_rules(site, ALL_EDITS)
    build(site)
    before_head, before_block = split(read(site))
    # The site changes: a new page under /docs/, a new import, a script gone.
    write_site(
        site,
        {
            "pages/docs/new.html": SMALL_SITE["pages/docs/index.html"],
            "static/css/site.css": '@import "extra.css";\n'
            + str(SMALL_SITE["static/css/site.css"]),
            "static/css/extra.css": "p { margin: 0 }\n",
            "templates/base.html": BASE_HTML.replace(CLASSIC_TAG, ""),
        },
    )
    result = build(site)
    assert result.warnings == []
    after_head, after_block = split(read(site))
    assert after_head == before_head  # every hand-written byte, comments included
    assert after_block != before_block
    first, body = after_block.split("\n", 1)
    assert first.endswith(f"(writer 2, sha256:{hashlib.sha256(body.encode()).hexdigest()[:12]})")
    manifest = load_manifest(site / NAME)
    assert set(manifest.routes) == {"/", "/about.html", "/docs/", "/docs/new.html"}
    assert CLASSIC not in {p for entries in manifest.routes.values() for p in paths(entries)}
    assert "/static/css/extra.css" in paths(manifest.routes["/"])
    # The hand edits apply to what the build found now, the new page included.
    assert {a.path: a for a in manifest.assets("/docs/new.html")}[DOCS_CSS].media == "screen"
    assert {a.path: a for a in manifest.assets("/docs/new.html")}[FONT].push is False
    assert paths(manifest.assets("/about.html"))[-1] == HERO
    rebuild_is_identical(site)


def test_hand_edits_that_now_point_at_nothing_are_warnings_with_their_line(site: Path) -> None:
    write_site(site, {"static/img/extra.png": b"PNG"})
    build(site)
    text = with_rules(
        site,
        "rules:\n"
        "  - match: /about.html\n"
        "    set: [{path: /static/css/print.css, push: true}]\n"
        "  - match: /docs/\n"
        "    add:\n"
        "      - {path: /static/img/extra.png, as: image}\n"
        "      - {path: /static/img/gone.png, as: image}\n"
        "    remove:\n"
        "      - /static/js/classic.js\n"
        "      - /static/img/*.gif\n",
    )
    result = rebuild_is_identical(site)
    gone = line_of(text, "gone.png")
    gif = line_of(text, "*.gif")
    assert [str(d) for d in result.warnings] == [
        f"{NAME}:{gone}:9: warning: rule adds /static/img/gone.png, which is not in the output",
        f"{NAME}:{gif}:9: warning: /static/img/*.gif matches no entry of the routes this rule applies to",
    ]
    # The site changes under the rules: the about page, the classic script, extra.png go.
    (site / "pages" / "about.html").unlink()
    (site / "templates" / "base.html").write_text(BASE_HTML.replace(CLASSIC_TAG, ""))
    (site / "static" / "img" / "extra.png").unlink()
    result = build(site)
    assert [str(d) for d in result.warnings] == [
        f"{NAME}:{line_of(text, 'match: /about.html')}: warning: rule matches /about.html, "
        "which is not a page of the site",
        f"{NAME}:{line_of(text, 'extra.png')}:9: warning: rule adds /static/img/extra.png, which is not in the output",
        f"{NAME}:{gone}:9: warning: rule adds /static/img/gone.png, which is not in the output",
        f"{NAME}:{line_of(text, '- /static/js/classic.js')}:9: warning: /static/js/classic.js matches no "
        "entry of the routes this rule applies to",
        f"{NAME}:{gif}:9: warning: /static/img/*.gif matches no entry of the routes this rule applies to",
    ]
    assert split(read(site))[0] == split(text)[0]  # warned about, and kept as written


def test_strict_makes_stale_hand_edits_errors_and_writes_nothing(site: Path) -> None:
    text = with_rules(site, "rules:\n  - {match: /, remove: [/static/js/nothing.js]}\n")
    with pytest.raises(BuildError) as info:
        build(site, strict=True)
    assert [str(d) for d in info.value.diagnostics] == [
        f"{NAME}:{line_of(text, 'nothing.js')}:25: error: /static/js/nothing.js matches no entry "
        "of the routes this rule applies to"
    ]
    assert read(site) == text


# --- edits inside the generated block -------------------------------------------------


def test_an_edit_inside_the_generated_block_stops_the_build_at_its_line(site: Path) -> None:
    text = read(site)
    edited = text.replace(
        "    - {path: /static/img/hero.png, as: image, push: false, hint: false}\n",
        "    - {path: /static/img/hero.png, as: image}\n",
    )
    assert edited != text
    write(site, edited)
    page = (site / "_site" / "index.html").read_bytes()
    (site / "pages" / "index.html").write_text("<p>changed</p>\n")
    with pytest.raises(BuildError) as info:
        build(site)
    assert [str(d) for d in info.value.diagnostics] == [
        f"{NAME}:{line_of(edited, 'hero.png')}:1: error: the generated routes were edited by hand; "
        "`pushgen build` would overwrite them. Move the edit into `rules:` (docs/manifest.md), "
        "or run `pushgen build` with --force to discard it"
    ]
    assert read(site) == edited  # nothing written: not the manifest, not the output
    assert (site / "_site" / "index.html").read_bytes() == page
    # --force discards the edit (the build's line comes back) and keeps the rest.
    (site / "pages" / "index.html").write_text(str(SMALL_SITE["pages/index.html"]))
    build(site, force=True)
    assert read(site) == text


def test_an_added_line_inside_the_block_is_refused_too(site: Path) -> None:
    text = read(site)
    edited = text.replace(
        "  /about.html:\n", "  /about.html:\n    - {path: /static/img/hero.png, as: image}\n"
    )
    write(site, edited)
    with pytest.raises(BuildError) as info:
        build(site)
    [diagnostic] = info.value.diagnostics
    assert (diagnostic.file, diagnostic.line, diagnostic.column) == (
        NAME,
        line_of(edited, "hero.png, as: image}"),
        1,
    )


def test_routes_written_by_hand_without_a_checksum_are_not_overwritten(site: Path) -> None:
    edited = "version: 1\nroutes:\n  /:\n    - {path: /static/css/site.css, as: style}\n"
    write(site, edited)
    with pytest.raises(BuildError) as info:
        build(site)
    assert [str(d) for d in info.value.diagnostics] == [
        f"{NAME}:4:1: error: these routes were not written by pushgen build; `pushgen build` "
        "would overwrite them. Move the edit into `rules:` (docs/manifest.md), or run "
        "`pushgen build` with --force to discard it"
    ]
    assert read(site) == edited
    build(site, force=True)
    assert read(site).startswith(
        "# yaml-language-server: $schema=push-manifest.schema.json\n"
        "version: 1\nroutes:  # written by pushgen build;"
    )


def test_the_cli_refuses_an_inline_edit_with_exit_1_and_force_takes_it(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(
        site,
        read(site).replace(
            "/static/img/bg.png, as: image, push: false, hint: false}",
            "/static/img/bg.png, as: image}",
            1,
        ),
    )
    capsys.readouterr()
    assert main(["build", "."]) == 1
    err = capsys.readouterr().err
    assert "error: the generated routes were edited by hand" in err
    assert err.endswith("build failed: 1 error; previous output left as it was\n")
    assert main(["build", ".", "--force"]) == 0
    assert main(["build", ".", "--check"]) == 0


# --- a broken manifest ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("rules", "pattern"),
    [
        # The wording of a YAML syntax error is the YAML parser's (libyaml's or PyYAML's).
        (
            "rules:\n  - match: /\n    add: [{path: /x.css, as: style}\n",
            r"{name}:{end}:1: error: invalid YAML: .*','.*'\]'",
        ),
        (
            "rules:\n  - match: /\n    ad: [{path: /x.css, as: style}]\n",
            r"{name}:{end_2}:5: error: unknown key 'ad' in a rule; did you mean 'add'\?",
        ),
    ],
    ids=["yaml", "key"],
)
def test_a_broken_manifest_stops_the_build_and_is_left_untouched(
    site: Path, rules: str, pattern: str
) -> None:
    head, block = split(read(site))
    # The half-written rule is the last thing in the file, as when someone is typing it.
    text = head.replace("rules: []\n", "") + block + rules
    write(site, text)
    end = len(text.splitlines())
    page = (site / "_site" / "index.html").read_bytes()
    (site / "pages" / "index.html").write_text("<p>changed</p>\n")
    with pytest.raises(BuildError) as info:
        build(site, force=True)  # not even --force overwrites it
    [message] = [str(d) for d in info.value.diagnostics]
    assert re.fullmatch(pattern.format(name=NAME, end=end + 1, end_2=end), message), message
    assert read(site) == text
    assert (site / "_site" / "index.html").read_bytes() == page
    assert not list(site.glob("._site.staging-*"))


def test_check_mode_accepts_hand_edits_and_reports_a_stale_block(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with_rules(site, ALL_EDITS)
    assert main(["build", ".", "--check"]) == 0
    (site / "static" / "css" / "docs.css").write_text('@import "extra.css";\n')
    (site / "static" / "css" / "extra.css").write_text("p {}\n")
    capsys.readouterr()
    assert main(["build", ".", "--check"]) == 1
    out = capsys.readouterr().out
    changed = [
        line for line in out.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")
    ]
    assert changed[0].startswith("-routes:  # written by pushgen build;")
    assert changed[1].startswith("+routes:  # written by pushgen build;")
    assert changed[2:] == ["+    - {path: /static/css/extra.css, as: style}"]


# --- what the issue-4 review found (fixed; each test pins its fix) ----------------------


def test_a_comment_after_the_generated_block_is_kept(site: Path) -> None:
    write(site, read(site) + "# end of the manifest\n")
    rebuild_is_identical(site)


def test_a_manifest_with_crlf_line_ends_rebuilds_keeping_them(site: Path) -> None:
    # A Windows checkout: every line of the file ends in CRLF, hand edits included.
    with_rules(site, ALL_EDITS)
    build(site)
    lf = read(site)
    crlf = lf.replace("\n", "\r\n").encode()
    (site / NAME).write_bytes(crlf)
    # An unchanged site: the routes are still pushgen's (no hand edit is reported),
    # and the file is left as it is.
    rebuild_is_identical(site)
    # A changed site: the block is rewritten, with CRLF like the rest of the file.
    (site / "static" / "css" / "extra.css").write_text("p { margin: 0 }\n")
    (site / "static" / "css" / "docs.css").write_text('@import "extra.css";\n')
    result = build(site)
    assert result.warnings == []
    data = (site / NAME).read_bytes()
    assert data.count(b"\n") == data.count(b"\r\n") > 0
    text = data.decode().replace("\r\n", "\n")
    assert split(text)[0] == split(lf)[0]  # every hand-written byte, in CRLF
    assert text.count("    - {path: /static/css/extra.css, as: style}\n") == 1
    # Its checksum is of the block as written (LF), so the next build takes it as its own.
    first, body = split(text)[1].split("\n", 1)
    assert first.endswith(f"sha256:{hashlib.sha256(body.encode()).hexdigest()[:12]})")
    rebuild_is_identical(site)
    assert "/static/css/extra.css" in paths(assets(site, "/docs/"))


def test_the_refusal_points_at_the_hand_edit_even_when_the_site_changed(site: Path) -> None:
    edited = read(site).replace(
        "    - {path: /static/js/classic.js, as: script, push: false}\n"
        "    - {path: /static/img/bg.png, as: image, push: false, hint: false}\n  /docs/:",
        "    - {path: /static/js/classic.js, as: script, push: false}\n"
        "    - {path: /static/img/bg.png, as: image}\n  /docs/:",
    )
    write(site, edited)
    (site / "static" / "css" / "site.css").write_text('@import "base.css";\n@import "extra.css";\n')
    (site / "static" / "css" / "extra.css").write_text("p {}\n")
    with pytest.raises(BuildError) as info:
        build(site)
    assert info.value.diagnostics[0].line == line_of(edited, "bg.png, as: image}")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            '{"version": 1, "rules": [{"match": "/", "remove": ["/static/js/classic.js"]}]}\n',
            "the manifest is one flow mapping ({...}, as JSON)",
        ),
        (
            'version: 1\nrules:\n  - {match: /, remove: [/static/js/classic.js]}\n"routes": {}\n',
            "its 'routes' key is quoted or indented",
        ),
    ],
    ids=["json", "quoted-key"],
)
def test_a_manifest_whose_routes_cannot_be_replaced_is_refused_and_kept(
    site: Path, text: str, problem: str
) -> None:
    write(site, text)
    with pytest.raises(BuildError) as info:
        build(site)
    assert [str(d) for d in info.value.diagnostics] == [
        f"{NAME}:1:1: error: {problem}, so the build cannot replace its generated routes; "
        "write it in block style with `routes:` at the start of a line (docs/manifest.md)"
    ]
    assert read(site) == text


def test_the_shipped_example_manifest_has_the_modeline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "example"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("_site", ".*"))
    monkeypatch.chdir(root)
    build(root)
    assert read(root).startswith("# yaml-language-server: $schema=push-manifest.schema.json\n")


def test_manifest_model_exposes_the_generated_and_hand_parts(site: Path) -> None:
    with_rules(site, ALL_EDITS)
    manifest = load_manifest(site / NAME)
    assert isinstance(manifest, Manifest)
    assert [rule.line for rule in manifest.rules] == [
        line_of(read(site), "match: /about.html"),
        line_of(read(site), "match: '*'"),
        line_of(read(site), "match: /docs/*"),
        line_of(read(site), "match: /blog/<slug>"),
    ]
    assert [rule.match.text for rule in manifest.patterns] == ["*", "/docs/*", "/blog/<slug>"]
