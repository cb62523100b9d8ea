"""``pushgen scan`` on folders whose .html files are not all pages, or built for a sub-path.

tests/scan/test_page_kind.py and tests/build/test_folder_pages.py test the rules
themselves; here the command, on small folders the test writes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pushgen.cli import main
from pushgen.manifest import load_manifest

PAGE = '<!doctype html><html><head><link rel="stylesheet" href="{css}"></head><body></body></html>'
# As sphinx-book-theme and pydata-sphinx-theme ship them in _static/: Jinja macros.
MACROS = (
    "<!-- auto-generated -->\n{% macro head_pre_bootstrap() %}\n"
    '  <link href="{{ pathto(\'_static/styles/theme.css\', 1) }}" rel="stylesheet">\n'
    "{% endmacro %}\n"
)


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


def test_a_template_is_not_a_route_and_the_summary_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write(
        tmp_path / "html",
        {
            "index.html": PAGE.format(css="_static/theme.css"),
            "_static/theme.css": "body{}",
            "_static/webpack-macros.html": MACROS,
            "_static/sbt-webpack-macros.html": MACROS,
        },
    )
    manifest = tmp_path / "m.yaml"
    assert main(["scan", str(folder), "-m", str(manifest)]) == 0
    err = capsys.readouterr().err
    assert list(load_manifest(manifest).routes) == ["/"]
    assert ": warning:" not in err
    assert "1 page, 1 asset, 1 route, 0 warnings, 0 errors" in err
    assert "skipped 2 .html files that are templates, not pages" in err


def test_exclude_leaves_pages_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write(
        tmp_path / "html",
        {
            "index.html": PAGE.format(css="/theme.css"),
            "theme.css": "body{}",
            # A fragment a script inserts: no template markup, so only --exclude can tell.
            "partials/nav.html": '<link rel="stylesheet" href="/nav.css">',
            "partials/deep/footer.html": '<link rel="stylesheet" href="/footer.css">',
            "drafts.html": PAGE.format(css="/theme.css"),
        },
    )
    manifest = tmp_path / "m.yaml"
    args = ["scan", str(folder), "-m", str(manifest), "--exclude", "partials/**"]
    assert main([*args, "--exclude", "draft?.html"]) == 0
    assert list(load_manifest(manifest).routes) == ["/"]
    assert ": warning:" not in capsys.readouterr().err
    assert main(["scan", str(folder), "-m", str(manifest), "--exclude", "partials/*"]) == 0
    assert "/partials/deep/footer.html" in load_manifest(manifest).routes  # '*' is one folder


def test_a_folder_built_for_a_sub_path_stops_with_the_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # As VitePress builds with base: '/docs/': every URL absolute, under /docs/.
    page = PAGE.format(css="/docs/assets/style.css").replace(
        "</head>", '<script type="module" src="/docs/assets/app.js"></script></head>'
    )
    folder = write(
        tmp_path / "dist",
        {
            "index.html": page,
            "guide/index.html": page,
            "assets/style.css": "body{}",
            "assets/app.js": "",
        },
    )
    manifest = tmp_path / "m.yaml"
    assert main(["scan", str(folder), "-m", str(manifest)]) == 1
    err = capsys.readouterr().err
    assert "error: the site was built to be served at /docs/" in err
    assert "scan it with --base-path /docs/" in err
    assert "nothing written" in err
    assert not manifest.exists()
    assert main(["scan", str(folder), "-m", str(manifest), "--base-path", "/docs/"]) == 0
    routes = load_manifest(manifest).routes
    assert [a.path for a in routes["/docs/"]] == ["/docs/assets/style.css", "/docs/assets/app.js"]


def test_a_broken_link_is_not_a_sub_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write(
        tmp_path / "html",
        {"index.html": PAGE.format(css="/docs/gone.css"), "style.css": "body{}"},
    )
    assert main(["scan", str(folder), "-m", str(tmp_path / "m.yaml")]) == 0
    err = capsys.readouterr().err
    assert "stylesheet /docs/gone.css is not in the output" in err
    assert "--base-path" not in err


def test_explain_finds_the_pages_of_a_folder_scanned_for_a_sub_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write(
        tmp_path / "dist",
        {
            "index.html": PAGE.format(css="/docs/assets/style.css"),
            "guide/index.html": PAGE.format(css="/docs/assets/style.css"),
            "assets/style.css": "body{background:url(bg.png)}",
            "assets/bg.png": "png",
        },
    )
    manifest = tmp_path / "m.yaml"
    assert main(["scan", str(folder), "-m", str(manifest), "--base-path", "/docs/"]) == 0
    capsys.readouterr()
    # Explained without --base-path: the manifest's routes say where the pages are.
    assert main(["explain", "/docs/guide/", "-m", str(manifest), "--site", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "no page" not in out
    assert "/guide/index.html; routes written by pushgen scan" in out
    assert "! the manifest's routes are under /docs/: explained as --base-path /docs/" in out
    assert "guide/index.html:1 -> /docs/assets/style.css" in out
    assert "guide/index.html:1 -> assets/style.css:1 -> /docs/assets/bg.png" in out
    assert "not hinted: a stylesheet image, fetched only where a rule matches" in out


def test_a_folder_at_the_root_is_explained_at_the_root(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write(
        tmp_path / "html",
        {"index.html": PAGE.format(css="/s.css"), "docs/index.html": PAGE.format(css="/s.css")},
    )
    (folder / "s.css").write_text("body{}")
    manifest = tmp_path / "m.yaml"
    assert main(["scan", str(folder), "-m", str(manifest)]) == 0
    capsys.readouterr()
    assert main(["explain", "/docs/", "-m", str(manifest), "--site", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "docs/index.html:1 -> /s.css" in out
    assert "explained as --base-path" not in out
