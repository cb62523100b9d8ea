"""End to end: a real Hypercorn on 127.0.0.1 and real clients (nghttp, curl, httpx, h2).

The shared server is ``pushgen.commands.serve_site.serve`` in a subprocess (see conftest),
with a 103 before every page (``early_hints_delay=0``); a few tests start their
own: the defaults (a 103 at once, as on the shared server), a Quart view that
thinks (a 103 while it does), Ctrl-C, manifest reload, Hypercorn's own CLI on
the app factory, and build-before-serve.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from pushgen.fsutil import atomic_write
from pushgen.runtime.certs import DevCertificate
from tests.clients import Frame, ServerProcess, h2_get, link_values, nghttp, start_hypercorn
from tests.conftest import Site, make_site

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(shutil.which("nghttp") is None, reason="needs nghttp (nghttp2-client)"),
]

_LOG_PROBLEM = re.compile(r"Traceback|\[ERROR\]|Exception|Error:", re.IGNORECASE)


def request_frames(frames: list[Frame]) -> tuple[int, list[Frame]]:
    """The client's request stream id and every frame received on it."""
    [request] = [f for f in frames if f.direction == "send" and f.type == "HEADERS"]
    return request.stream_id, [
        f for f in frames if f.direction == "recv" and f.stream_id == request.stream_id
    ]


def new_log(server: ServerProcess, since: int) -> str:
    return server.log()[since:]


# --- HTTP/2 with nghttp --------------------------------------------------------------


def test_the_server_prints_its_url_and_certificate(server: ServerProcess) -> None:
    log = server.log()
    assert f"pushgen: serving at https://127.0.0.1:{server.port}/" in log
    assert "development certificate for localhost" in log
    assert "pushgen: 103 Early Hints on every page, at once; Link headers; push" in log


def test_nghttp_sees_one_push_promise_per_pushed_entry_then_103_then_200(
    server: ServerProcess, shared_site: Site
) -> None:
    result = nghttp(server.url)
    assert result.returncode == 0, result.output
    assert "The negotiated protocol: h2" in result.output
    stream, frames = request_frames(result.frames)
    kinds = [(f.type, f.status) for f in frames if f.type in ("HEADERS", "PUSH_PROMISE")]
    pushed = shared_site.pushed["/"]
    # Every PUSH_PROMISE before any frame that names the pushed resources, the
    # 103's Link field included (RFC 9113 §8.4), then the 103 (RFC 8297), then the page.
    assert kinds == [*[("PUSH_PROMISE", None)] * len(pushed), ("HEADERS", 103), ("HEADERS", 200)]
    [hint] = [f for f in frames if f.type == "HEADERS" and f.status == 103]
    # One Link field with every hint in manifest order, the 200's bytes: one header
    # for the server to validate and HPACK-encode, not one per hint (issue 27).
    assert hint.header_list("link") == [shared_site.link_header("/")]
    assert link_values(hint.header_list("link")) == shared_site.links["/"]
    promises = [f for f in frames if f.type == "PUSH_PROMISE"]
    assert [p.header(":path") for p in promises] == pushed
    assert all(p.header(":method") == "GET" for p in promises)
    final = [f for f in frames if f.type == "HEADERS"][-1]
    assert final.header("link") == shared_site.link_header("/")
    # Every promised stream was answered with a 200 and ended.
    for promise in promises:
        assert promise.promised_stream_id is not None and promise.promised_stream_id % 2 == 0
        [head] = result.received("HEADERS", promise.promised_stream_id)
        assert head.status == 200
        assert any(f.end_stream for f in result.frames if f.stream_id == promise.promised_stream_id)
    assert stream % 2 == 1


def test_nghttp_pushes_percent_encoded_paths(server: ServerProcess, shared_site: Site) -> None:
    result = nghttp(server.url + "docs/")
    _, frames = request_frames(result.frames)
    promises = [f for f in frames if f.type == "PUSH_PROMISE"]
    assert [p.header(":path") for p in promises] == shared_site.pushed["/docs/"]
    for promise in promises:
        [head] = result.received("HEADERS", promise.promised_stream_id)
        assert head.status == 200


def test_nghttp_with_push_disabled_gets_the_page_and_no_error(
    server: ServerProcess, shared_site: Site
) -> None:
    since = len(server.log())
    result = nghttp(server.url, "--no-push")
    assert result.returncode == 0, result.output
    assert "[SETTINGS_ENABLE_PUSH(0x02):0]" in result.output
    assert result.received("PUSH_PROMISE") == []
    _, frames = request_frames(result.frames)
    assert [f.status for f in frames if f.type == "HEADERS"] == [103, 200]
    time.sleep(0.3)  # let the access log line land
    log = new_log(server, since)
    assert '"GET / 2" 200' in log
    assert not _LOG_PROBLEM.search(log), log


def test_nghttp_asset_requests_get_no_push_and_no_hint(server: ServerProcess) -> None:
    result = nghttp(server.url + "static/css/site.css")
    _, frames = request_frames(result.frames)
    assert [f.status for f in frames if f.type == "HEADERS"] == [200]
    assert result.received("PUSH_PROMISE") == []


# --- HTTP/2 with the h2 library: pushed bodies ------------------------------------------


def test_h2_client_pushed_bodies_equal_the_built_files(
    server: ServerProcess, shared_site: Site, dev_cert: DevCertificate
) -> None:
    # Verify the server with the development certificate as the only trust
    # anchor: its subjectAltName covers 127.0.0.1.
    exchange = h2_get("127.0.0.1", server.port, "/", cafile=dev_cert.certfile)
    assert exchange.alpn == "h2"
    assert exchange.status == 200
    assert exchange.body == shared_site.file("/index.html")
    assert [dict(h)[":status"] for h in exchange.informational] == ["103"]
    hint = [v for n, v in exchange.informational[0] if n == "link"]
    assert link_values(hint) == shared_site.links["/"]
    first_hint = exchange.order.index("informational")
    assert set(exchange.order[:first_hint]) == {"push_promise"} and exchange.order[-1] == "response"
    assert list(exchange.pushes) == shared_site.pushed["/"]
    for path, pushed in exchange.pushes.items():
        assert pushed.status == 200, path
        assert pushed.body == shared_site.file(path), path
    assert exchange.reset_streams == []


def test_h2_client_verifies_localhost_too(
    server: ServerProcess, shared_site: Site, dev_cert: DevCertificate
) -> None:
    exchange = h2_get(
        "127.0.0.1", server.port, "/docs/", cafile=dev_cert.certfile, server_hostname="localhost"
    )
    assert exchange.status == 200
    assert {path: p.body for path, p in exchange.pushes.items()} == {
        path: shared_site.file(path) for path in shared_site.pushed["/docs/"]
    }


def test_h2_client_with_push_disabled(server: ServerProcess, shared_site: Site) -> None:
    since = len(server.log())
    exchange = h2_get("127.0.0.1", server.port, "/", enable_push=False)
    assert exchange.status == 200
    assert exchange.body == shared_site.file("/index.html")
    assert exchange.pushes == {}
    assert exchange.header("link") == shared_site.link_header("/")
    time.sleep(0.3)
    assert not _LOG_PROBLEM.search(new_log(server, since))


# --- HTTP/1.1 --------------------------------------------------------------------------


def test_curl_http11_gets_the_page_with_link_headers(
    server: ServerProcess, shared_site: Site
) -> None:
    done = subprocess.run(
        ["curl", "-sk", "--http1.1", "-D", "-", server.url],
        capture_output=True, timeout=20, check=True,
    )  # fmt: skip
    head, _, body = done.stdout.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0].startswith("HTTP/1.1 200")
    assert not any(" 103" in line for line in lines if line.startswith("HTTP/"))
    headers = [line.split(": ", 1) for line in lines[1:]]
    assert [v for n, v in headers if n.lower() == "link"] == [shared_site.link_header("/")]
    assert body == shared_site.file("/index.html")


def test_httpx_http11_conditional_request(
    server: ServerProcess, shared_site: Site, dev_cert: DevCertificate
) -> None:
    import ssl

    context = ssl.create_default_context(cafile=str(dev_cert.certfile))
    with httpx.Client(verify=context, http2=False) as client:
        first = client.get(server.url + "docs/")
        again = client.get(server.url + "docs/", headers={"If-None-Match": first.headers["etag"]})
    assert first.http_version == "HTTP/1.1"
    assert first.status_code == 200
    assert first.headers["link"] == shared_site.link_header("/docs/")
    assert first.content == shared_site.file("/docs/index.html")
    assert again.status_code == 304


@pytest.mark.parametrize(
    "path",
    [
        "/../pushgen.yaml",
        "/%2e%2e/pushgen.yaml",
        "/static/%2e%2e/%2e%2e/pushgen.yaml",
        "/static/..%2f..%2fpushgen.yaml",
        "/static/..%5c..%5cpushgen.yaml",
        "/%2fetc%2fpasswd",
        "/pushgen.yaml",
        "/templates/base.html",
        "/.secret",
        "/static/leak.txt",
        "/static/css/site.css%00.html",
    ],
)
def test_curl_cannot_reach_sources_or_dotfiles(server: ServerProcess, path: str) -> None:
    done = subprocess.run(
        ["curl", "-sk", "--path-as-is", "--http1.1", "-o", "-", "-w", "\n%{http_code}", server.url[:-1] + path],
        capture_output=True, timeout=20, check=True,
    )  # fmt: skip
    body, _, status = done.stdout.rpartition(b"\n")
    assert status in (b"404", b"400"), (path, status)
    assert b"SOURCE-ONLY" not in body and b"dotfile-secret" not in body and b"root:" not in body


# --- servers of their own ----------------------------------------------------------------


def test_serve_defaults_send_a_static_pages_103_at_once(
    start_server: Any, shared_site: Site
) -> None:
    process: ServerProcess = start_server(shared_site.root, build_if_stale=False)
    assert "pushgen: 103 Early Hints on every page, at once; Link headers; push" in process.log()
    # The file is ready at once, and the 103 still goes out before the 200: Chromium
    # starts its preloads from it before it reads the 200's Link field (issue 27,
    # bench/browser_bench.py). Pushes first (RFC 9113 §8.4), then the 103, then the page.
    result = nghttp(process.url)
    assert result.returncode == 0, result.output
    _, frames = request_frames(result.frames)
    kinds = [(f.type, f.status) for f in frames if f.type in ("HEADERS", "PUSH_PROMISE")]
    pushed = shared_site.pushed["/"]
    assert kinds == [*[("PUSH_PROMISE", None)] * len(pushed), ("HEADERS", 103), ("HEADERS", 200)]
    [hint, final] = [f for f in frames if f.type == "HEADERS"]
    assert link_values(hint.header_list("link")) == shared_site.links["/"]
    assert final.header("link") == shared_site.link_header("/")
    assert "Traceback" not in process.log()


THINKING_APP = """import asyncio

from quart import Quart

import pushgen.quart

app = Quart(__name__)
app.config["PUSHGEN_EARLY_HINTS_DELAY"] = 0.005


@app.get("/")
async def home() -> str:
    await asyncio.sleep(0.1)  # a database, an API: the browser could be fetching meanwhile
    return "<h1>thought about it</h1>"


pushgen.quart.init_app(app, manifest={manifest!r}, push=False)
"""


def test_a_quart_view_that_thinks_gets_its_103_before_its_200(
    shared_site: Site, dev_cert: DevCertificate, tmp_path: Path
) -> None:
    (tmp_path / "thinking.py").write_text(
        THINKING_APP.format(manifest=str(shared_site.manifest)), encoding="utf-8"
    )
    process = start_hypercorn(
        "thinking:app",
        tmp_path / "hypercorn.log",  # the module's folder is the working directory
        certfile=dev_cert.certfile,
        keyfile=dev_cert.keyfile,
    )
    try:
        result = nghttp(process.url)
        assert result.returncode == 0, result.output
        _, frames = request_frames(result.frames)
        heads = [f for f in frames if f.type == "HEADERS"]
        assert [f.status for f in heads] == [103, 200]
        assert link_values(heads[0].header_list("link")) == shared_site.links["/"]
        assert heads[1].header("link") == shared_site.link_header("/")
        # The 103 came while the view thought, not with its answer.
        assert heads[1].at - heads[0].at > 0.05, (heads[0].at, heads[1].at)
    finally:
        assert process.stop(signal.SIGINT) == 0
    assert "Traceback" not in process.log()


def test_ctrl_c_stops_the_server_cleanly(start_server: Any, shared_site: Site) -> None:
    process: ServerProcess = start_server(shared_site.root, build_if_stale=False)
    assert nghttp(process.url).returncode == 0
    started = time.monotonic()
    assert process.stop(signal.SIGINT) == 130  # 128 + SIGINT, as shells expect
    assert time.monotonic() - started < 5
    log = process.log()
    assert log.rstrip().endswith("pushgen: stopped")
    assert "Traceback" not in log


def test_sigterm_stops_the_server_cleanly(start_server: Any, shared_site: Site) -> None:
    process: ServerProcess = start_server(shared_site.root, build_if_stale=False)
    assert process.stop(signal.SIGTERM) == 0
    assert "Traceback" not in process.log()


def test_manifest_changes_are_served_without_restart(start_server: Any, tmp_path: Path) -> None:
    site = make_site(tmp_path / "reload")
    process: ServerProcess = start_server(
        site.root, build_if_stale=False, env={"PUSHGEN_RELOAD_INTERVAL": "0.1"}
    )
    text = "version: 1\nroutes:\n  /:\n    - {path: /static/js/app.js, as: script}\n"
    atomic_write(site.manifest, text.encode())
    deadline = time.monotonic() + 10
    while "reloaded" not in process.log():
        assert time.monotonic() < deadline, process.log()
        time.sleep(0.05)
    result = nghttp(process.url)
    assert [p.header(":path") for p in result.received("PUSH_PROMISE")] == ["/static/js/app.js"]
    # A broken file: the error names its line, the last good manifest stays.
    site.manifest.write_text(text.replace("as: script", "as: scirpt"), encoding="utf-8")
    while "keeping the previous manifest" not in process.log():
        assert time.monotonic() < deadline, process.log()
        time.sleep(0.05)
    location = re.escape(f"{site.manifest}:4:")
    assert re.search(location + r"\d+: error: 'scirpt' is not a Fetch destination", process.log())
    result = nghttp(process.url)
    assert [p.header(":path") for p in result.received("PUSH_PROMISE")] == ["/static/js/app.js"]


def wait_for_log(process: ServerProcess, text: str, since: int = 0, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while text not in new_log(process, since):
        assert time.monotonic() < deadline, process.log()
        time.sleep(0.05)


def test_a_fifo_manifest_neither_hangs_the_watcher_nor_the_shutdown(
    start_server: Any, tmp_path: Path
) -> None:
    site = make_site(tmp_path / "fifo")
    process: ServerProcess = start_server(
        site.root, build_if_stale=False, env={"PUSHGEN_RELOAD_INTERVAL": "0.1"}
    )
    fifo = site.manifest.with_name("fifo.tmp")
    os.mkfifo(fifo)
    os.replace(fifo, site.manifest)
    wait_for_log(process, "the manifest is not a regular file")
    wait_for_log(process, "keeping the previous manifest")
    result = nghttp(process.url)
    assert [p.header(":path") for p in result.received("PUSH_PROMISE")] == site.pushed["/"]
    # The watcher still watches: a good manifest in the FIFO's place is loaded.
    since = len(process.log())
    site.manifest.unlink()
    text = "version: 1\nroutes:\n  /:\n    - {path: /static/js/app.js, as: script}\n"
    atomic_write(site.manifest, text.encode())
    wait_for_log(process, "reloaded", since)
    # And the FIFO back again, then SIGTERM: the server exits, and cleanly.
    os.mkfifo(fifo)
    os.replace(fifo, site.manifest)
    since = len(process.log())
    wait_for_log(process, "not a regular file", since)
    assert process.stop(signal.SIGTERM, timeout=30) == 0, process.log()
    assert "Traceback" not in process.log()


def test_hypercorn_cli_runs_the_app_factory_with_workers(
    shared_site: Site, dev_cert: DevCertificate, tmp_path: Path
) -> None:
    process = start_hypercorn(
        "pushgen.app:create_app()",
        tmp_path / "hypercorn.log",
        certfile=dev_cert.certfile,
        keyfile=dev_cert.keyfile,
        env={
            "PUSHGEN_SITE": str(shared_site.root),
            "PUSHGEN_MAX_PUSHES": "2",
            "PUSHGEN_EARLY_HINTS_DELAY": "0",
        },
        args=["--workers", "2"],
    )
    try:
        result = nghttp(process.url)
        _, frames = request_frames(result.frames)
        assert [f.status for f in frames if f.type == "HEADERS"] == [103, 200]
        assert [p.header(":path") for p in result.received("PUSH_PROMISE")] == shared_site.pushed[
            "/"
        ][:2]
        exchange = h2_get("127.0.0.1", process.port, "/docs/")
        assert list(exchange.pushes) == shared_site.pushed["/docs/"]
    finally:
        assert process.stop(signal.SIGINT) == 0
    assert "Traceback" not in process.log()


def test_serve_builds_a_stale_site_first(start_server: Any, tmp_path: Path) -> None:
    pytest.importorskip("pushgen.build")
    root = tmp_path / "fresh"
    (root / "pages").mkdir(parents=True)
    (root / "static" / "css").mkdir(parents=True)
    (root / "pages" / "index.html").write_text(
        '<!doctype html><link rel="stylesheet" href="/static/css/site.css"><h1>Fresh</h1>\n'
    )
    (root / "static" / "css" / "site.css").write_text("h1 { color: green }\n")
    process: ServerProcess = start_server(root)
    log = process.log()
    assert "pushgen: building" in log and "pushgen: built" in log
    assert (root / "_site" / "index.html").is_file()
    assert (root / "push-manifest.yaml").is_file()
    exchange = h2_get("127.0.0.1", process.port, "/")
    assert b"Fresh" in exchange.body
    assert exchange.pushes["/static/css/site.css"].body == b"h1 { color: green }\n"


def test_serve_does_not_rebuild_a_fresh_output(start_server: Any, shared_site: Site) -> None:
    pytest.importorskip("pushgen.build")
    mtime = os.stat(shared_site.output / "index.html").st_mtime_ns
    process: ServerProcess = start_server(shared_site.root)
    assert "pushgen: building" not in process.log()
    assert os.stat(shared_site.output / "index.html").st_mtime_ns == mtime
