"""``pushgen scan`` hints the chunks a webpack runtime loads for the page's route; explain says why.

The folder is a Docusaurus build in miniature (tests/scan/test_chunks.py's bundles,
served at /). On a real Docusaurus 3.10 build Chromium fetched exactly the chunks
the manifest hints, per route (issue 25 item 6); here the manifest and the explanation.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pushgen.cli import main
from pushgen.manifest import load_manifest
from tests.scan.test_chunks import MAIN, RUNTIME
from tests.sources.test_folder_pages_scan import write

PAGE = (
    "<!doctype html><html><head>"
    '<script src="/assets/js/runtime~main.1.js" defer></script>'
    '<script src="/assets/js/main.2.js" defer></script>'
    "</head><body></body></html>"
)
SCRIPTS = ["/assets/js/runtime~main.1.js", "/assets/js/main.2.js"]


def site(root: Path) -> Path:
    return write(
        root,
        {
            "index.html": PAGE,
            "docs/intro/index.html": PAGE,
            "docs/tags/index.html": PAGE,
            "assets/js/runtime~main.1.js": RUNTIME.replace('r.p="/docs/"', 'r.p="/"'),
            "assets/js/main.2.js": MAIN,
            "assets/js/a94703ab.34cdc97a.js": "",
            "assets/js/17896441.8f74e9ae.js": "",
            "assets/js/237.53077b45.js": "",
            "assets/js/named.ffff.js": "",
        },
    )


def test_scan_hints_the_chunks_of_each_route_and_explain_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = site(tmp_path / "build")
    manifest = tmp_path / "m.yaml"
    assert main(["scan", str(folder), "-m", str(manifest)]) == 0
    routes = load_manifest(manifest).routes
    assert [a.path for a in routes["/"]] == SCRIPTS  # its chunk is in the main bundle
    intro = routes["/docs/intro/"]
    assert [a.path for a in intro] == [
        *SCRIPTS,
        "/assets/js/a94703ab.34cdc97a.js",  # the /docs layout's
        "/assets/js/17896441.8f74e9ae.js",  # the page's (chunk 869 has no file)
        "/assets/js/237.53077b45.js",
    ]
    assert all(a.hint and not a.push and a.destination == "script" for a in intro[2:])
    assert [a.path for a in routes["/docs/tags/"]] == [*SCRIPTS, "/assets/js/named.ffff.js"]
    capsys.readouterr()
    assert main(["explain", "/docs/intro/", "-m", str(manifest), "--site", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "differs" not in out
    assert (
        "hint only: the webpack runtime /assets/js/runtime~main.1.js loads it when the page"
        " runs (the route table of /assets/js/main.2.js names it for this route)"
    ) in out
    assert "docs/intro/index.html:1 -> /assets/js/237.53077b45.js" in out


def test_without_a_route_table_nothing_is_added_and_explain_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = site(tmp_path / "build")
    (folder / "assets/js/main.2.js").write_text("console.log(1)", encoding="utf-8")
    manifest = tmp_path / "m.yaml"
    assert main(["scan", str(folder), "-m", str(manifest)]) == 0
    assert [a.path for a in load_manifest(manifest).routes["/docs/intro/"]] == SCRIPTS
    capsys.readouterr()
    assert main(["explain", "/docs/intro/", "-m", str(manifest), "--site", str(folder)]) == 0
    assert (
        "! the webpack runtime /assets/js/runtime~main.1.js loads chunks when the page runs"
        " (4 in its map); no route table a scan can read says which this page loads"
    ) in capsys.readouterr().out
