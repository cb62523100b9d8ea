"""`pushgen report` (in-process) and `pushgen serve --report` (a real server, HTTP/2 clients)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from pushgen.cli import main
from pushgen.report.html import GENERATOR
from tests.browser_harness import pushgen_serve
from tests.clients import h2_get
from tests.report.conftest import build_example
from tests.report.test_content import ROUTES
from tests.report.verify_result import write_verify_result


def test_report_writes_one_file_and_a_summary_line(
    example: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.html"
    verify = write_verify_result(tmp_path / "verify.json")
    code = main(["report", "--site", str(example), "--verify", str(verify), "-o", str(out)])
    assert code == 0
    err = capsys.readouterr().err
    assert err == (
        f"wrote {out}: 6 routes, 44 pushed, 26 hinted only, 25 listed only, 3 rules;"
        " verify failed\n"
    )
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>") and GENERATOR in html
    for word in ("src=", 'href="http', "url(", "@import", "<script", "<link"):
        assert word not in html  # nothing outside the file
    # Written again over its own file.
    assert main(["report", "--site", str(example), "-o", str(out)]) == 0
    assert "Verify" not in out.read_text(encoding="utf-8")


def test_report_never_writes_over_a_file_it_did_not_write(
    example: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = tmp_path / "index.html"
    mine.write_text("<p>my page</p>\n", encoding="utf-8")
    assert main(["report", "--site", str(example), "-o", str(mine)]) == 1
    assert capsys.readouterr().err == (
        f"error: {mine}: exists and was not written by pushgen report;"
        " remove it or choose another -o\n"
    )
    assert mine.read_text(encoding="utf-8") == "<p>my page</p>\n"
    assert main(["report", "--site", str(example), "-o", str(tmp_path)]) == 1
    assert "is a folder; name the report's file" in capsys.readouterr().err
    assert main(["report", "--site", str(example), "-o", str(tmp_path / "no" / "r.html")]) == 1
    assert "does not exist" in capsys.readouterr().err


def test_report_says_what_is_wrong_with_its_inputs(
    example: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "verify.json"
    bad.write_text('{"version": 1, "routes": [{"route": "/", "ok": "yes"}]}', encoding="utf-8")
    out = tmp_path / "r.html"
    assert main(["report", "--site", str(example), "--verify", str(bad), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    # Read by verify's own reader (pushgen/verify/result.py), against its schema.
    assert err.startswith(f"error: {bad}: not a pushgen verify result (version 1): ")
    assert err.rstrip().endswith("write it with `pushgen verify --json`")
    assert not out.exists()
    missing = tmp_path / "none.yaml"
    assert main(["report", "--site", str(example), "-m", str(missing), "-o", str(out)]) == 1
    # Said as explain and check say it: which command writes it (issue 23), once.
    err = capsys.readouterr().err
    assert err.startswith("error: no manifest at ") and err.count("error:") == 1
    assert f"`pushgen build {example} -m " in err and err.rstrip().endswith("none.yaml` writes it")
    assert main(["report", "--site", str(tmp_path / "nowhere"), "-o", str(out)]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_serve_report_shows_the_report_over_http2_and_remakes_it(
    tmp_path: Path, cache_dir: Path
) -> None:
    site = build_example(tmp_path / "site")
    env = {"XDG_CACHE_HOME": str(cache_dir)}
    server = pushgen_serve(site, tmp_path / "serve.log", env, ("--report",))
    try:
        assert "pushgen: the report is at /_pushgen/" in server.log()
        got = h2_get("127.0.0.1", server.port, "/_pushgen/")
        assert got.alpn == "h2" and got.status == 200
        assert got.header("content-type") == "text/html; charset=utf-8"
        assert got.header("cache-control") == "no-store"
        body = got.body.decode("utf-8")
        assert GENERATOR in body and all(f"<code>{r}</code>" in body for r in ROUTES)
        assert "at most 4 pushes" in body
        # A rule written into the manifest shows at the next request.
        manifest = site / "push-manifest.yaml"
        text = manifest.read_text(encoding="utf-8")
        manifest.write_text(
            text.replace(
                "rules:\n", "rules:\n  - match: /blog.html\n    remove: [/static/img/*]\n"
            ),
            encoding="utf-8",
        )
        again = h2_get("127.0.0.1", server.port, "/_pushgen/").body.decode("utf-8")
        assert "removes /static/img/*" in again and "removes /static/img/*" not in body
        page = h2_get("127.0.0.1", server.port, "/")
        assert page.status == 200 and b"<html" in page.body  # the site is served as before
    finally:
        server.stop()


def test_serve_without_report_has_no_report_page(
    example: Path, tmp_path: Path, cache_dir: Path
) -> None:
    env = {"XDG_CACHE_HOME": str(cache_dir)}
    server = pushgen_serve(example, tmp_path / "serve.log", env)
    try:
        assert "/_pushgen/" not in server.log()
        got = h2_get("127.0.0.1", server.port, "/_pushgen/")
        assert got.alpn == "h2" and got.status == 404
        assert GENERATOR.encode() not in got.body
    finally:
        server.stop()


def test_serve_folder_refuses_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["serve", str(tmp_path), "--folder", "-m", str(tmp_path / "m.yaml"), "--report"]
    assert main(args) == 2
    assert "--folder serves SITE as it is: no -o, --watch or --report" in capsys.readouterr().err


def test_serve_report_watch_remakes_the_report_after_a_rebuild(
    tmp_path: Path, cache_dir: Path
) -> None:
    site = build_example(tmp_path / "site")
    env = {"XDG_CACHE_HOME": str(cache_dir)}
    server = pushgen_serve(site, tmp_path / "serve.log", env, ("--report", "--watch"))
    try:
        before = h2_get("127.0.0.1", server.port, "/_pushgen/").body.decode("utf-8")
        assert "/static/css/late.css" not in before
        (site / "static" / "css" / "late.css").write_text("p { color: red }\n", encoding="utf-8")
        page = site / "pages" / "about.html"
        text = page.read_text(encoding="utf-8")
        assert "{% block head %}" not in text
        page.write_text(
            text.replace(
                "{% block content %}",
                '{% block head %}<link rel="stylesheet" href="/static/css/late.css">'
                "{% endblock %}{% block content %}",
                1,
            ),
            encoding="utf-8",
        )
        for _ in range(300):  # bounded: at most some 30 s for watchfiles and the build
            if "rebuilt" in server.log():
                break
            time.sleep(0.1)
        assert "rebuilt" in server.log(), server.log()
        after = h2_get("127.0.0.1", server.port, "/_pushgen/").body.decode("utf-8")
        assert "/static/css/late.css" in after
    finally:
        server.stop()
