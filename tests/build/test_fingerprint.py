"""``fingerprint: true``: content-hashed static names, references rewritten leaves first, incremental renames."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import pytest

from pushgen.build import build_site
from pushgen.build.fingerprint import content_hash, hashed_name, plan_fingerprints
from pushgen.config import load_config
from pushgen.runtime.encodings import fingerprinted
from tests.sites import SMALL_SITE, write_site

HASHED = re.compile(r"\.[0-9a-f]{8,64}\.")

# --- the pure functions -------------------------------------------------------------


def test_hash_is_recognised_by_the_runtime_even_when_the_digest_starts_with_digits() -> None:
    """The runtime needs a digit and a letter; an 8-digit prefix is made longer until it has both."""
    digits = next(
        data
        for data in (str(i).encode() for i in range(5000))
        if hashlib.sha256(data).hexdigest()[:8].isdigit()
    )
    digest = content_hash(digits)
    assert len(digest) > 8 and hashlib.sha256(digits).hexdigest().startswith(digest)
    assert fingerprinted(hashed_name("static/css/site.css", digest))
    assert fingerprinted(hashed_name("static/css/site.css", content_hash(b"body{}")))
    assert hashed_name("static/js/app.min.js", "3f2a9c1e") == "static/js/app.min.3f2a9c1e.js"


def test_references_are_rewritten_and_a_file_is_hashed_after_its_references() -> None:
    files = {
        "static/css/site.css": b'@import "base.css";\n@import url(print.css) print;\n'
        b'@font-face { font-family: F; src: url("../fonts/f.woff2?v=2#x") }\n'
        b"h1 { background: url(../img/a%20b.png) }\n",
        "static/css/base.css": b"p { color: red }",
        "static/css/print.css": b"p { color: black }",
        "static/fonts/f.woff2": b"font",
        "static/img/a b.png": b"png",
        "static/js/app.js": b'import { x } from "./lib.js";\nexport * from "/static/js/lib.js";\n'
        b'import("./lazy.mjs");\nconst s = "./lib.js"; fetch("./data.json");\n',
        "static/js/lib.js": b"export const x = 1;",
        "static/js/lazy.mjs": b"export default 1;",
        "static/data.json": b"{}",
        "static/css/site.css.br": b"shipped by the site",
    }
    plan = plan_fingerprints(files)
    names = plan.names
    assert set(names) == set(files) - {"static/css/site.css.br"}
    assert plan.diagnostics == ()
    site = plan.rewritten[names["static/css/site.css"]].decode()
    base = Path(names["static/css/base.css"]).name
    assert f'@import "{base}";' in site
    assert f"@import url({Path(names['static/css/print.css']).name}) print;" in site
    assert f'url("../fonts/{Path(names["static/fonts/f.woff2"]).name}?v=2#x")' in site
    png = Path(names["static/img/a b.png"]).name.replace(" ", "%20")
    assert f"url(../img/{png})" in site
    app = plan.rewritten[names["static/js/app.js"]].decode()
    lib = Path(names["static/js/lib.js"]).name
    assert f'from "./{lib}";' in app and f'from "/static/js/{lib}";' in app
    assert f'import("./{Path(names["static/js/lazy.mjs"]).name}")' in app
    # A string that is no import, and fetch(), are left as written.
    assert 'const s = "./lib.js"; fetch("./data.json");' in app
    # Each name is the hash of the bytes as written out, references rewritten.
    for rel, hashed in names.items():
        data = plan.rewritten.get(hashed, files[rel])
        assert hashed == hashed_name(rel, content_hash(data))
    # A file with nothing to rewrite keeps its bytes (not stored again).
    assert names["static/css/base.css"] not in plan.rewritten


def test_a_change_renames_what_names_it_transitively_and_nothing_else() -> None:
    files = {
        "static/css/site.css": b'@import "base.css";',
        "static/css/base.css": b'@font-face { font-family: F; src: url("../fonts/f.woff2") }',
        "static/css/other.css": b"p { color: red }",
        "static/fonts/f.woff2": b"font 1",
    }
    before = plan_fingerprints(files).names
    after = plan_fingerprints({**files, "static/fonts/f.woff2": b"font 2"}).names
    changed = {rel for rel in files if before[rel] != after[rel]}
    assert changed == {"static/fonts/f.woff2", "static/css/base.css", "static/css/site.css"}


def test_a_cycle_is_hashed_together() -> None:
    files = {
        "static/css/a.css": b'@import "b.css";\na { color: red }',
        "static/css/b.css": b"@import url(a.css);\nb { color: red }",
        "static/css/c.css": b'@import "a.css";',
        "static/js/self.js": b'import "./self.js";',
    }
    plan = plan_fingerprints(files)
    a, b = (Path(plan.names[f"static/css/{n}.css"]).name for n in "ab")
    assert (
        plan.rewritten[plan.names["static/css/a.css"]]
        == f'@import "{b}";\na {{ color: red }}'.encode()
    )
    assert (
        plan.rewritten[plan.names["static/css/b.css"]]
        == f"@import url({a});\nb {{ color: red }}".encode()
    )
    assert f'@import "{a}";'.encode() == plan.rewritten[plan.names["static/css/c.css"]]
    selfname = Path(plan.names["static/js/self.js"]).name
    assert plan.rewritten[plan.names["static/js/self.js"]] == f'import "./{selfname}";'.encode()
    # A change to either member renames both (and what imports them).
    changed = plan_fingerprints({**files, "static/css/b.css": b"@import url(a.css);\nb{}"}).names
    assert all(changed[f"static/css/{n}.css"] != plan.names[f"static/css/{n}.css"] for n in "abc")
    assert changed["static/js/self.js"] == plan.names["static/js/self.js"]


def test_a_name_a_bundler_hashed_is_kept_unless_a_reference_inside_it_was_renamed() -> None:
    files = {
        "static/js/app.4f3a1c9b.js": b'import "./vendor-B2xY3z_a.js";\n',
        "static/js/vendor-B2xY3z_a.js": b"export default 1;",
        "static/css/main.4f3a1c9b.css": b"p { background: url(logo.png) }",
        "static/css/logo.png": b"png",
        "static/img/photo.5e0d2a7c.png": b"jpeg",
    }
    plan = plan_fingerprints(files)
    # No app.4f3a1c9b.<hash>.js: the bundler's names are content hashes already.
    assert "static/js/app.4f3a1c9b.js" not in plan.names
    assert "static/js/vendor-B2xY3z_a.js" not in plan.names
    assert "static/img/photo.5e0d2a7c.png" not in plan.names
    # A reference inside it renamed: its bytes are not what the bundler hashed.
    main = plan.names["static/css/main.4f3a1c9b.css"]
    assert re.fullmatch(r"static/css/main\.4f3a1c9b\.[0-9a-f]{8,64}\.css", main)
    logo = Path(plan.names["static/css/logo.png"]).name
    assert plan.rewritten[main] == f"p {{ background: url({logo}) }}".encode()


def test_a_missing_reference_is_left_as_written_with_a_located_warning() -> None:
    files = {
        "static/css/site.css": b"p { color: red }\nh1 {\n  background: url(../img/gone.png);\n}\n",
        "static/js/app.js": b'\nimport { x } from "./nowhere.js";\n',
    }
    plan = plan_fingerprints(files)
    assert plan.rewritten == {}
    assert [(str(d.file), d.line, d.column) for d in plan.diagnostics] == [
        ("static/css/site.css", 3, 15),
        ("static/js/app.js", 2, 19),
    ]
    assert "/static/img/gone.png names no file under static/: left as written" in str(
        plan.diagnostics[0]
    )


# --- builds -------------------------------------------------------------------------

LONE = (
    "<!doctype html><title>lone</title>"
    "<link rel=stylesheet href=\"{{ url_for('static', filename='css/print.css') }}\">\n"
)


def _site(tmp_path: Path) -> Path:
    files = {
        **SMALL_SITE,
        "pushgen.yaml": "fingerprint: true\ncontext:\n  title: Small\n",
        "pages/lone.html": LONE,
    }
    return write_site(tmp_path / "site", files)


def _links(page: Path) -> list[str]:
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', page.read_text())


def test_build_writes_hashed_files_and_the_manifest_lists_only_hashed_urls(tmp_path: Path) -> None:
    root = _site(tmp_path)
    result = build_site(load_config(root), jobs=1)
    out = root / "_site"
    links = _links(out / "index.html")
    assert links and all(HASHED.search(link) for link in links)
    for link in links:
        assert (out / link.lstrip("/")).is_file()
    # The plain names stay too, byte for byte the site's own.
    assert (out / "static/css/site.css").read_bytes() == (root / "static/css/site.css").read_bytes()
    routes = (root / "push-manifest.yaml").read_text().split("\nroutes:", 1)[1]
    paths = set(re.findall(r"path: (/static/\S+?),", routes))
    # Written by hand (docs/index.html's link, index.html's srcset) too: every name is hashed.
    plain = {p for p in paths if not fingerprinted(p)}
    assert len(paths) > 10 and plain == set(), plain
    assert not [d for d in result.diagnostics if d.severity == "error"]


def test_a_font_change_renames_the_stylesheets_naming_it_and_renders_only_their_pages(
    tmp_path: Path,
) -> None:
    root = _site(tmp_path)
    build_site(load_config(root), jobs=1)
    out = root / "_site"
    index_before, lone_before = _links(out / "index.html"), _links(out / "lone.html")
    (root / "static/fonts/f.woff2").write_bytes(b"wOF2 another font")
    result = build_site(load_config(root), jobs=1)
    index_after, lone_after = _links(out / "index.html"), _links(out / "lone.html")
    site_before = next(link for link in index_before if "/site." in link)
    site_after = next(link for link in index_after if "/site." in link)
    assert site_before != site_after
    assert not (out / site_before.lstrip("/")).exists()  # the old name is gone
    assert lone_after == lone_before  # print.css kept its name: its page was not rendered
    assert result.rendered == 3  # the three pages naming site.css, not lone.html
    manifest = (root / "push-manifest.yaml").read_text()
    assert site_after in manifest and site_before not in manifest
    _assert_same_as_full_build(root, tmp_path / "fresh")
    # Again, from the spare the last build left: docs.css is named by hand by
    # docs/index.html only (rewritten to its hashed name), which alone is rendered again.
    docs_before = (out / "docs/index.html").read_text()
    (root / "static/css/docs.css").write_text("pre { font-family: serif }\n")
    assert build_site(load_config(root), jobs=1).rendered == 1
    assert (out / "docs/index.html").read_text() != docs_before
    _assert_same_as_full_build(root, tmp_path / "fresh2")
    # print.css is named by every page (lone.html, and base.html for the others).
    (root / "static/css/print.css").write_text("body { color: gray }\n")
    assert build_site(load_config(root), jobs=1).rendered == 4
    assert _links(out / "lone.html") != lone_after
    _assert_same_as_full_build(root, tmp_path / "fresh3")


def _assert_same_as_full_build(root: Path, fresh: Path) -> None:
    """The output and manifest of ``root`` are those of a full build of a copy of it."""
    shutil.copytree(root, fresh, ignore=shutil.ignore_patterns("_site", "._site*"))
    build_site(load_config(fresh), jobs=1, full=True)
    assert _tree(root / "_site") == _tree(fresh / "_site")
    manifest = (root / "push-manifest.yaml").read_text()
    assert manifest == (fresh / "push-manifest.yaml").read_text()


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    }


def test_missing_reference_is_reported_by_the_build(tmp_path: Path) -> None:
    root = _site(tmp_path)
    (root / "static/css/print.css").write_text("body {\n  background: url(gone.png) }\n")
    result = build_site(load_config(root), jobs=1)
    said = [str(d) for d in result.diagnostics if "left as written" in d.message]
    assert said == [
        "static/css/print.css:2:15: warning: /static/css/gone.png names no file under static/:"
        " left as written (no hashed name)"
    ], said


@pytest.mark.parametrize("value", ["1", '"true"'])
def test_fingerprint_must_be_a_flag(tmp_path: Path, value: str) -> None:
    root = write_site(
        tmp_path / "s", {"pushgen.yaml": f"fingerprint: {value}\n", "pages/i.html": ""}
    )
    with pytest.raises(Exception, match="'fingerprint' must be true or false"):
        load_config(root)


def test_a_build_with_an_import_cycle_names_both_members(tmp_path: Path) -> None:
    root = _site(tmp_path)
    (root / "static/css/print.css").write_text('@import "cycle.css";\nbody { color: black }\n')
    (root / "static/css/cycle.css").write_text('@import "print.css";\n')
    build_site(load_config(root), jobs=1)
    routes = (root / "push-manifest.yaml").read_text().split("\nroutes:", 1)[1]
    lone = set(re.findall(r"path: (/static/css/(?:print|cycle)\S*?),", routes))
    assert len(lone) == 2 and all(fingerprinted(p) for p in lone), lone
    for path in lone:
        text = (root / "_site" / path.lstrip("/")).read_text()
        other = next(p for p in lone if p != path)
        assert f'@import "{Path(other).name}";' in text


def test_a_page_naming_a_file_by_hand_is_rendered_again_when_the_file_gets_its_name(
    tmp_path: Path,
) -> None:
    root = _site(tmp_path)
    (root / "pages/new.html").write_text(
        '<!doctype html><title>new</title><img src="static/img/new.png" alt="">\n'
    )
    build_site(load_config(root), jobs=1)
    out = root / "_site"
    assert 'src="static/img/new.png"' in (out / "new.html").read_text()  # no such file yet
    (root / "static/img/new.png").write_bytes(b"\x89PNG new")
    assert build_site(load_config(root), jobs=1).rendered == 1
    assert re.search(r'src="static/img/new\.[0-9a-f]{8,64}\.png"', (out / "new.html").read_text())
    _assert_same_as_full_build(root, tmp_path / "fresh")
    # And when it changes: the page names its hashed name, which went away.
    (root / "static/img/new.png").write_bytes(b"\x89PNG newer")
    assert build_site(load_config(root), jobs=1).rendered == 1
    _assert_same_as_full_build(root, tmp_path / "fresh2")
