"""``pushgen scan``: a folder another generator built, as it is; ``pushgen serve --folder``.

The folders here are written by the test (small, exact); tests/generators/test_generators.py
does the same against real Sphinx and MkDocs output.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import pytest

from pushgen.cli import main
from pushgen.manifest import load_manifest
from pushgen.sources.folder import page_route

PAGE = """<!doctype html>
<html><head>
<link rel="stylesheet" href="{up}_static/theme.css">
<script src="{up}_static/app.js"></script>
</head><body><code>{{{{ version }}}} &lt;b&gt;</code><img src="{up}_images/logo.png"></body></html>
"""


def make_folder(root: Path) -> Path:
    """A built site as Sphinx lays one out: no /static/, pages in subfolders, relative URLs."""
    files = {
        "index.html": PAGE.format(up=""),
        "guide/index.html": PAGE.format(up="../"),
        "guide/install.html": PAGE.format(up="../"),
        "_static/theme.css": '@import "fonts.css";\nbody { color: black }\n',
        "_static/fonts.css": '@font-face { font-family: L; src: url("fonts/lato.woff2") }\n'
        "code { font-family: L }\n",
        "_static/fonts/lato.woff2": "woff2",
        "_static/app.js": "console.log(1)\n",
        "_images/logo.png": "png",
        ".buildinfo": "not served",
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


def snapshot(root: Path) -> dict[str, str]:
    """Every file under ``root`` (links not followed) and its content hash."""
    out = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            out[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
        elif path.is_symlink():
            out[str(path.relative_to(root))] = "-> " + os.readlink(path)
    return out


@pytest.mark.parametrize(
    ("relpath", "base", "route"),
    [
        ("index.html", "/", "/"),
        ("guide/index.html", "/", "/guide/"),
        ("guide/install.html", "/", "/guide/install.html"),
        ("index.html", "/docs/", "/docs/"),
        ("a b/café.html", "/", "/a%20b/caf%C3%A9.html"),
        ("404.html", "/", "/404.html"),
    ],
)
def test_a_page_is_at_the_url_a_static_server_gives_it(relpath: str, base: str, route: str) -> None:
    assert page_route(relpath, base) == route


def test_scan_finds_assets_anywhere_and_writes_only_the_manifest(tmp_path: Path) -> None:
    folder = make_folder(tmp_path / "html")
    before = snapshot(folder)
    manifest = tmp_path / "push-manifest.yaml"
    assert main(["scan", str(folder), "-m", str(manifest)]) == 0
    assert snapshot(folder) == before  # nothing written into the folder, nothing rendered
    assert "{{ version }}" in (folder / "index.html").read_text()
    routes = load_manifest(manifest).routes
    assert sorted(routes) == ["/", "/guide/", "/guide/install.html"]
    expected = [
        ("/_static/theme.css", "style", True),
        ("/_static/fonts.css", "style", True),
        ("/_static/fonts/lato.woff2", "font", True),
        ("/_static/app.js", "script", True),
        ("/_images/logo.png", "image", False),
    ]
    for route in routes:
        assert [(a.path, a.destination, a.push) for a in routes[route]] == expected, route


def test_a_base_path_prefixes_routes_and_assets(tmp_path: Path) -> None:
    folder = make_folder(tmp_path / "html")
    manifest = tmp_path / "m.yaml"
    assert main(["scan", str(folder), "-m", str(manifest), "--base-path", "docs"]) == 0
    routes = load_manifest(manifest).routes
    assert sorted(routes) == ["/docs/", "/docs/guide/", "/docs/guide/install.html"]
    assert routes["/docs/guide/"][0].path == "/docs/_static/theme.css"


def test_hand_rules_are_kept_byte_for_byte_and_check_reports_staleness(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = make_folder(tmp_path / "html")
    manifest = tmp_path / "m.yaml"
    hand = (
        "# my notes\nversion: 1\nrules:\n"
        "  - match: /guide/*   # the guide\n"
        "    set: [{path: /_static/app.js, push: false}]\n"
    )
    manifest.write_text(hand)
    assert main(["scan", str(folder), "-m", str(manifest)]) == 0
    text = manifest.read_text()
    assert hand.split("rules:")[1] in text and text.startswith(
        "# yaml-language-server"
    )  # the modeline, then the hand part as it was
    assert main(["scan", str(folder), "-m", str(manifest), "--check"]) == 0
    (folder / "guide" / "new.html").write_text(PAGE.format(up="../"))
    capsys.readouterr()
    assert main(["scan", str(folder), "-m", str(manifest), "--check"]) == 1
    out, err = capsys.readouterr()
    assert "+  /guide/new.html:" in out and "stale:" in err and "pushgen scan" in err
    assert manifest.read_text() == text  # --check writes nothing
    # explain works on a scanned folder's manifest (no pages/ to recover chains from)
    assert main(["explain", "/guide/install.html", "-m", str(manifest), "--site", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "/_static/app.js" in out


def test_symlinks_leaving_the_folder_are_not_followed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = make_folder(tmp_path / "html")
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "key.css").write_text("x")
    (folder / "_static" / "outside").symlink_to(secret)
    (folder / "_static" / "loop").symlink_to(folder / "_static")  # a loop inside: walked once
    (folder / "index.html").write_text(
        PAGE.format(up="").replace(
            "</head>", '<link rel=stylesheet href="_static/outside/key.css"></head>'
        )
    )
    manifest = tmp_path / "m.yaml"
    assert main(["scan", str(folder), "-m", str(manifest)]) == 0
    err = capsys.readouterr().err
    assert "_static/outside: warning: a symbolic link to" in err and "not followed" in err
    assert "stylesheet /_static/outside/key.css is not in the output" in err
    paths = {a.path for a in load_manifest(manifest).routes["/"]}
    assert "/_static/outside/key.css" not in paths
    assert main(["scan", str(folder), "-m", str(manifest), "--strict"]) == 1
    assert "nothing written" in capsys.readouterr().err


def test_a_manifest_inside_the_folder_is_not_an_asset_and_no_schema_is_added(
    tmp_path: Path,
) -> None:
    folder = make_folder(tmp_path / "html")
    manifest = folder / "push-manifest.yaml"
    assert main(["scan", str(folder), "-m", str(manifest)]) == 0
    assert main(["scan", str(folder), "-m", str(manifest), "--check"]) == 0
    assert not (folder / "push-manifest.schema.json").exists()
    assert {p.name for p in folder.iterdir()} == {
        "index.html", "guide", "_static", "_images", ".buildinfo", "push-manifest.yaml"
    }  # fmt: skip


def test_bad_input_is_a_located_diagnostic(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the manifest names the scan's folder as given
    folder = make_folder(tmp_path / "html")
    (folder / "broken.html").write_bytes(b"<link rel=stylesheet href='nope.css'>\xff\xfe")
    manifest = tmp_path / "m.yaml"
    manifest.write_text("version: 1\nroutes:\n  /: [{path: /x.css, as: style}]\n")
    before = manifest.read_text()
    assert main(["scan", str(folder), "-m", str(manifest)]) == 1  # not pushgen's routes
    err = capsys.readouterr().err
    assert (
        "m.yaml:3:1: error: these routes were not written by pushgen scan html; `pushgen scan html`"
        " would overwrite them. Move the edit into `rules:` (docs/manifest.md), or run"
        " `pushgen scan html` with --force to discard it"
    ) in err
    assert manifest.read_text() == before
    assert main(["scan", str(folder), "-m", str(manifest), "--force"]) == 0
    err = capsys.readouterr().err
    assert "broken.html:1: warning: stylesheet /nope.css is not in the output" in err
    assert main(["scan", str(tmp_path / "missing"), "-m", str(manifest)]) == 2


def test_the_walk_is_the_builds_links_to_folders_are_not_walked_special_files_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # fsutil.walk_sources's rules, as for a site's static/ (tests/test_fsutil.py):
    # a FIFO is reported, never opened (it would block the scan forever).
    folder = make_folder(tmp_path / "html")
    (folder / "latest").symlink_to(folder / "guide", target_is_directory=True)
    (folder / "_static" / "alias.css").symlink_to("theme.css")
    os.mkfifo(folder / "_static" / "pipe.css")
    manifest = tmp_path / "m.yaml"
    assert main(["scan", str(folder), "-m", str(manifest)]) == 0
    err = capsys.readouterr().err
    assert "_static/pipe.css: warning: not a regular file (a FIFO, device or socket)" in err
    assert sorted(load_manifest(manifest).routes) == ["/", "/guide/", "/guide/install.html"]
    assert main(["scan", str(folder), "-m", str(manifest), "--strict"]) == 1
    os.unlink(folder / "_static" / "pipe.css")
    assert main(["scan", str(folder), "-m", str(manifest), "--strict"]) == 0


def test_one_and_several_worker_processes_write_the_same_manifest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Enough pages for several chunks per worker; warnings met on many pages (a missing
    # stylesheet, a stylesheet's missing font): each worker meets them first on its own
    # pages, one process once. The manifest and the warnings must not tell them apart.
    folder = make_folder(tmp_path / "html")
    (folder / "_static" / "broken.css").write_text('@font-face{font-family:X;src:url("x.woff2")}')
    for i in range(70):
        extra = '<link rel="stylesheet" href="../_static/broken.css">' if i % 3 else ""
        missing = f'<script src="../_static/gone-{i % 4}.js"></script>' if i % 5 else ""
        (folder / "many" / f"{i:02d}.html").parent.mkdir(exist_ok=True)
        (folder / "many" / f"{i:02d}.html").write_text(
            PAGE.format(up="../").replace("</head>", f"{extra}{missing}</head>")
        )
    outputs = {}
    for jobs in (1, 2, 3):
        manifest = tmp_path / f"m{jobs}.yaml"
        assert main(["scan", str(folder), "-m", str(manifest), "-j", str(jobs)]) == 0
        err = capsys.readouterr().err.replace(f"m{jobs}.yaml", "m.yaml")
        outputs[jobs] = (manifest.read_bytes(), re.sub(r" in [0-9.]+s$", "", err, flags=re.M))
    assert outputs[2] == outputs[1] and outputs[3] == outputs[1]
    assert len(load_manifest(tmp_path / "m1.yaml").routes) == 73
    err = outputs[1][1]
    assert err.count("font /_static/x.woff2 is not in the output") == 1  # the stylesheet's line
    assert err.count("is not in the output") == 1 + 56  # and each page's missing script


def test_the_manifest_names_pushgen_scan_as_the_writer_of_its_routes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    folder = make_folder(tmp_path / "html")
    manifest = tmp_path / "m.yaml"
    assert main(["scan", str(folder), "-m", str(manifest)]) == 0
    text = manifest.read_text()
    assert "# `routes` is rewritten by every `pushgen scan html`;" in text
    assert "routes:  # written by pushgen scan html;" in text and "pushgen build" not in text
    # The routes a build wrote are another source's: the scan refuses to replace
    # them, naming the command that wrote them, and --force takes them over.
    built = text.replace("pushgen scan html", "pushgen build")
    manifest.write_text(built)
    capsys.readouterr()
    assert main(["scan", str(folder), "-m", str(manifest)]) == 1
    assert (
        "m.yaml:14:1: error: these routes were written by `pushgen build`"
        in capsys.readouterr().err
    )
    assert manifest.read_text() == built
    assert main(["scan", str(folder), "-m", str(manifest), "--force"]) == 0
    assert "routes:  # written by pushgen scan html;" in manifest.read_text()


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("a\nb.html", "holds U+000A once percent-decoded"),
        ("a\rb.html", "holds U+000D once percent-decoded"),
        ("a\u2028b.html", "holds U+2028 once percent-decoded"),  # a YAML 1.1 line break
        ("a\u00a0b.html", "holds U+00A0 once percent-decoded"),
        ("sub\x7f/index.html", "holds U+007F once percent-decoded"),
    ],
)
def test_a_page_no_server_can_route_is_a_warning_and_left_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, why: str
) -> None:
    # issue 22, item 8b: main wrote the route, check took it, every export refused it.
    folder = make_folder(tmp_path / "html")
    (folder / name).parent.mkdir(exist_ok=True)
    (folder / name).write_text(PAGE.format(up=""))
    manifest = tmp_path / "m.yaml"
    assert main(["scan", str(folder), "-m", str(manifest), "-j", "1"]) == 0
    warning = next(line for line in capsys.readouterr().err.splitlines() if "left out" in line)
    route = page_route(name)
    assert warning.endswith(
        f"html/{ascii(name)[1:-1]}: warning: the page's URL {route} {why}, which no"
        " server configuration can hold (the exports refuse it): left out of the manifest;"
        " rename the file"
    )
    assert sorted(load_manifest(manifest).routes) == ["/", "/guide/", "/guide/install.html"]
    assert main(["check", str(manifest)]) == 0
    for target in ("nginx", "apache", "h2o", "netlify"):
        export = ["export", "-m", str(manifest), "-f", target, "--root", "/srv"]
        assert main([*export, "-o", str(tmp_path / target)]) == 0
