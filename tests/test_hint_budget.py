"""The Link field's byte budget (issue 22 item 4): one pure function, and the warnings built on it.

The function's cases are written out by hand; the warnings come from a real
``pushgen build`` of a page with 3,000 images, a real ``pushgen scan`` of a
folder and ``pushgen check`` of the manifest they wrote.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pushgen.cli import main
from pushgen.hint_budget import DEFAULT_MAX_LINK_BYTES, Hint, fit_links, importance
from pushgen.manifest import Manifest
from pushgen.manifest.link_budget import link_budget_problems
from pushgen.model import Asset
from pushgen.runtime.headers import plan_route
from tests.sites import write_site

CSS = "</a.css>; rel=preload; as=style"  # 31 bytes
IMG = "</i.png>; rel=preload; as=image"  # 31 bytes


def test_hints_that_fit_are_all_kept_in_order() -> None:
    hints = [Hint(CSS, 0), Hint(IMG, 2)]
    fitted = fit_links(hints, 64)
    assert fitted.kept == (CSS, IMG) and fitted.dropped == ()
    assert fitted.field == f"{CSS}, {IMG}" and fitted.field_bytes == len(fitted.field) == 64


def test_over_the_budget_the_most_important_are_kept_in_manifest_order() -> None:
    # Manifest order: an image, a pushed stylesheet, a font (render-blocking), an image.
    hints = [Hint("</1.png>", 2), Hint("</2.css>", 0), Hint("</3.woff2>", 1), Hint("</4.png>", 2)]
    fitted = fit_links(hints, len("</2.css>, </3.woff2>"))
    assert fitted.kept == ("</2.css>", "</3.woff2>")
    assert fitted.dropped == ("</1.png>", "</4.png>")
    assert fitted.wanted_bytes == len("</1.png>, </2.css>, </3.woff2>, </4.png>")
    # One more byte than the two take: the image of the same rank first in the manifest
    # does not fit, and nothing else does either.
    assert fit_links(hints, len("</2.css>, </3.woff2>") + 1).kept == ("</2.css>", "</3.woff2>")
    # Room for three: the first image (manifest order within a rank), kept in its place.
    assert fit_links(hints, 30).kept == ("</1.png>", "</2.css>", "</3.woff2>")


def test_a_long_value_that_does_not_fit_leaves_room_for_shorter_ones() -> None:
    hints = [Hint("<" + "x" * 100 + ">", 1), Hint("</a.png>", 2), Hint("</b.png>", 2)]
    fitted = fit_links(hints, 20)
    assert fitted.kept == ("</a.png>", "</b.png>") and len(fitted.dropped) == 1


def test_a_zero_budget_keeps_nothing() -> None:
    fitted = fit_links([Hint(CSS)], 0)
    assert fitted.kept == () and fitted.field == "" and fitted.dropped == (CSS,)


def test_importance_pushed_then_render_blocking_then_the_rest() -> None:
    assert importance(Asset("/a.png", "image")) == 0  # pushed (push defaults to true)
    assert importance(Asset("/a.css", "style", push=False)) == 1
    assert importance(Asset("/a.woff2", "font", push=False)) == 1
    assert importance(Asset("/a.js", "script", push=False)) == 1
    assert importance(Asset("/lcp.png", "image", push=False, fetchpriority="high")) == 1
    assert importance(Asset("https://cdn.example", "", push=False, preconnect=True)) == 1
    assert importance(Asset("/a.png", "image", push=False)) == 2


def _many(n: int) -> list[Asset]:
    return [
        Asset("/static/css/site.css", "style"),
        *(Asset(f"/static/img/i{i:04d}.png", "image", push=False) for i in range(n)),
        # a stylesheet a rule added at the end: render-blocking, so kept before images
        Asset("/static/css/late.css", "style", push=False),
    ]


def test_a_route_plan_keeps_its_link_field_and_its_103_within_the_budget() -> None:
    plan = plan_route("/", _many(3000))
    assert len(plan.link_header) <= DEFAULT_MAX_LINK_BYTES
    assert plan.link_header == ", ".join(v.decode() for v in plan.links)
    assert plan.links[0] == b"</static/css/site.css>; rel=preload; as=style"
    assert plan.links[-1] == b"</static/css/late.css>; rel=preload; as=style"
    assert plan.push_paths == ("/static/css/site.css",)
    assert plan.cut is not None and len(plan.cut.dropped) == 3002 - len(plan.links)
    # A page that fits is planned as before: nothing cut, nothing reordered.
    small = plan_route("/", _many(3))
    assert small.cut is None and len(small.links) == 5
    assert plan_route("/", _many(3000), max_link_bytes=10**6).cut is None


def test_the_warning_names_the_route_the_bound_and_the_setting() -> None:
    manifest = Manifest(routes={"/gallery/": tuple(_many(3000)), "/": tuple(_many(3))})
    [warning] = link_budget_problems(manifest)
    text = str(warning)
    assert "route '/gallery/'" in text and "3,002 hints" in text
    assert "8,192-byte bound (PUSHGEN_MAX_LINK_BYTES)" in text
    assert "left out" in text and warning.severity == "warning"
    assert link_budget_problems(manifest, max_link_bytes=10**6) == []


@pytest.fixture
def gallery(tmp_path: Path) -> Path:
    # Preloads, which the build hints whatever their number (an <img> past the
    # first few is listed without a hint).
    images = "".join(
        f'<link rel=preload as=image href="/static/img/i{i:04d}.png">' for i in range(3000)
    )
    files: dict[str, str | bytes] = {
        "pages/index.html": "<!doctype html><title>Home</title><p>hi\n",
        "pages/gallery.html": (
            '<!doctype html><title>Gallery</title><link rel=stylesheet href="/static/site.css">'
            f"{images}\n"
        ),
        "static/site.css": "body { color: black }\n",
        **{f"static/img/i{i:04d}.png": b"\x89PNG\r\n\x1a\n" for i in range(3000)},
    }
    return write_site(tmp_path / "site", files)


def test_build_and_check_warn_about_a_route_whose_hints_are_cut(
    gallery: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["build", str(gallery)]) == 0
    err = capsys.readouterr().err
    [line] = [line for line in err.splitlines() if "PUSHGEN_MAX_LINK_BYTES" in line]
    # At the route's key in the manifest the build wrote.
    assert "push-manifest.yaml:16:3: warning: route '/gallery.html'" in line, err
    assert "3,001 hints" in line and "warning" in line
    assert main(["check", str(gallery / "push-manifest.yaml")]) == 0  # a warning
    out = capsys.readouterr()
    [line] = [line for line in (out.out + out.err).splitlines() if "PUSHGEN_MAX_LINK_BYTES" in line]
    # pushgen check knows the line of the route in the file.
    assert "push-manifest.yaml:16:3: warning: route '/gallery.html'" in line
    # --strict makes it an error, like every other warning of the build.
    assert main(["build", str(gallery), "--strict"]) == 1


def test_scan_warns_too(gallery: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", str(gallery)]) == 0
    capsys.readouterr()
    manifest = tmp_path / "scanned.yaml"
    assert main(["scan", str(gallery / "_site"), "-m", str(manifest)]) == 0
    err = capsys.readouterr().err
    assert any(
        "route '/gallery.html'" in line and "PUSHGEN_MAX_LINK_BYTES" in line
        for line in err.splitlines()
    ), err
