"""A page over a bound of pushgen/scan/limits.py in a build and a scan (issue 22, item 6a).

One tag with 1,000,000 attributes hung `pushgen build` and `pushgen scan` (libxml2's
time grows with the square of an element's attributes: 40,000 took 6.5 s, so the
200,000 here would take minutes). Now the page is reported
at the element, not parsed, and every other page is built as before; the bounds
are pushgen.yaml keys and `pushgen scan` options.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pushgen.build import build_site
from pushgen.cli import main
from pushgen.config import load_config
from pushgen.errors import ConfigError
from pushgen.manifest import load_manifest
from tests.sites import write_site

pytestmark = pytest.mark.timeout(120)

# Distinct names: libxml2 compares each attribute with those before it.
HOSTILE = (
    "<!doctype html>\n<p>text</p>\n<div " + "".join(f"a{i} " for i in range(200_000)) + ">x</div>\n"
)
PAGE = '<!doctype html><link rel="stylesheet" href="/static/site.css"><p>ok</p>\n'
MESSAGE = (
    "3:1: error: element <div> has 200,000 attributes (limit 1,000; pushgen.yaml"
    " max_attributes, pushgen scan --max-attributes): the page is not parsed, and its route"
    " gets no entries"
)


def test_a_build_reports_the_element_and_builds_the_other_pages(tmp_path: Path) -> None:
    site = write_site(
        tmp_path,
        {"pages/index.html": PAGE, "pages/x.html": HOSTILE, "static/site.css": "p {}\n"},
    )
    result = build_site(load_config(site), jobs=1)
    assert [str(d) for d in result.error_diagnostics] == [f"pages/x.html:{MESSAGE}"]
    assert [a.path for a in result.manifest.routes["/"]] == ["/static/site.css"]
    assert result.manifest.routes["/x.html"] == ()
    assert (site / "_site" / "x.html").read_text() == HOSTILE  # written, as every page


def test_a_scan_leaves_the_page_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_site(
        tmp_path / "built", {"index.html": PAGE, "x.html": HOSTILE, "static/site.css": "p {}\n"}
    )
    manifest = tmp_path / "push-manifest.yaml"
    assert main(["scan", str(folder), "-m", str(manifest), "-j", "1"]) == 1
    assert f"x.html:{MESSAGE}\n" in capsys.readouterr().err
    assert list(load_manifest(manifest).routes) == ["/"]


def test_the_bounds_are_settings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    many = '<!doctype html><link rel="stylesheet" href="/static/site.css"><div ' + "a " * 2_000
    files = {"pages/x.html": many + ">", "static/site.css": "p {}\n"}
    site = write_site(tmp_path / "site", {**files, "pushgen.yaml": "max_attributes: 2000\n"})
    result = build_site(load_config(site), jobs=1)
    assert result.error_diagnostics == []
    assert [a.path for a in result.manifest.routes["/x.html"]] == ["/static/site.css"]
    (site / "pushgen.yaml").write_text("max_page_bytes: 100\n")
    [error] = build_site(load_config(site), jobs=1).error_diagnostics
    size = (site / "_site" / "x.html").stat().st_size  # as rendered
    assert f"the page has {size:,} bytes (limit 100; pushgen.yaml max_page_bytes" in error.message
    (site / "pushgen.yaml").write_text("max_attributes: 0\n")
    with pytest.raises(ConfigError, match="'max_attributes' must be a whole number, 1 or more"):
        load_config(site)

    folder = write_site(tmp_path / "built", {"x.html": many + ">", "static/site.css": "p {}\n"})
    manifest = tmp_path / "m.yaml"
    assert main(["scan", str(folder), "-m", str(manifest), "--max-attributes", "2000"]) == 0
    assert [a.path for a in load_manifest(manifest).routes["/x.html"]] == ["/static/site.css"]
    assert main(["scan", str(folder), "-m", str(manifest), "--max-page-bytes", "100"]) == 1
    size = (folder / "x.html").stat().st_size
    assert f"x.html:1:1: error: the page has {size:,} bytes" in capsys.readouterr().err
