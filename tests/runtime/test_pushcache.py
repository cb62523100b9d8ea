"""Cache-aware push: the push diary per connection, the digest cookie, and no push work for clients that refuse it.

Three layers: the pure digest and diary functions; the middleware's recorded
messages; a real Hypercorn (its own CLI, with pushgen's app behind a probe that
logs what the middleware sent) talked to by nghttp and the h2 library.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pushgen.runtime import h2push
from pushgen.runtime.certs import DevCertificate
from pushgen.runtime.middleware import PUSH, EarlyHintsMiddleware
from pushgen.runtime.pushcache import (
    CONNECTION_EXTENSION,
    DIARY_SIZE,
    DIGEST_COOKIE,
    DIGEST_MAX_ENTRIES,
    ConnectionDiaries,
    PushDiary,
    asset_key,
    digest_cookie,
    format_digest,
    parse_digest,
    read_digest,
)
from tests.clients import ServerProcess, h2_get, nghttp, start_hypercorn
from tests.conftest import Site, make_site
from tests.runtime.test_middleware import TABLE, Recorder, http_scope, inner_app

# --- the digest and the diary ---------------------------------------------------------


def test_a_key_changes_with_the_assets_version() -> None:
    assert asset_key("/a.css", "1-10") == asset_key("/a.css", "1-10")
    assert asset_key("/a.css", "1-10") != asset_key("/a.css", "2-10")
    assert asset_key("/a.css") != asset_key("/b.css")
    assert 0 <= asset_key("/a.css") < 2**24


def test_the_digest_round_trips_and_is_bounded() -> None:
    keys = [asset_key(f"/static/{i}.css") for i in range(200)]
    value = format_digest(keys)
    # The last 64 keys, 3 bytes each, base64url without padding: 256 characters.
    assert len(value) == 4 * DIGEST_MAX_ENTRIES
    assert re.fullmatch(r"[A-Za-z0-9_-]+", value)
    assert set(parse_digest(value)) == set(keys[-DIGEST_MAX_ENTRIES:])
    assert parse_digest(format_digest(keys[:3])) == tuple(sorted(keys[:3]))


@pytest.mark.parametrize("value", ["", "!!!!", "AAAAA", "A" * 1000, "é"])
def test_a_cookie_that_is_not_a_digest_counts_as_empty(value: str) -> None:
    assert parse_digest(value) == () or value == ""
    assert read_digest([(b"cookie", f"{DIGEST_COOKIE}={value}".encode())]) == ()


def test_the_digest_is_found_among_other_cookies_and_split_fields() -> None:
    value = format_digest([1, 2, 3])
    headers = [
        (b"host", b"x"),
        (b"cookie", b"theme=dark"),
        (b"cookie", f"a=b; {DIGEST_COOKIE}={value}; c=d".encode()),
    ]
    assert read_digest(headers) == (1, 2, 3)
    assert read_digest([(b"cookie", b"xpushgen_pushed=AAAB")]) == ()


def test_the_set_cookie_value() -> None:
    cookie = digest_cookie([1], path="/blog/", secure=True).decode()
    assert cookie.startswith(f"{DIGEST_COOKIE}=AAAB; Path=/blog/; Max-Age=604800; HttpOnly")
    assert cookie.endswith("; SameSite=Lax; Secure")
    assert "Secure" not in digest_cookie([1], secure=False).decode()


def test_a_diary_forgets_its_oldest_entries_past_its_size() -> None:
    diary = PushDiary()
    for key in range(DIARY_SIZE + 10):
        diary.add(key)
    assert len(diary) == DIARY_SIZE
    assert 9 not in diary and 10 in diary and DIARY_SIZE + 9 in diary


def test_connection_diaries_are_one_per_key_and_bounded() -> None:
    book = ConnectionDiaries(connections=2)
    first = book.diary(("a", 1))
    assert book.diary(("a", 1)) is first
    book.diary(("b", 2))
    book.diary(("c", 3))
    assert book.diary(("a", 1)) is not first  # the least recently used was dropped


def test_untested_hypercorn_versions_are_refused_with_a_log_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="pushgen")
    assert h2push.tested("0.18.0")
    assert not caplog.text
    assert not h2push.tested("0.19.0")
    assert "Hypercorn 0.19.0 is not one pushgen's push hook was tested with (0.18.0)" in caplog.text


# --- the middleware -------------------------------------------------------------------


def pushes(recorder: Recorder) -> list[str]:
    return [m["path"] for m in recorder.messages if m["type"] == PUSH]


def set_cookie(recorder: Recorder) -> str | None:
    start = next(m for m in recorder.messages if m["type"] == "http.response.start")
    found = [v.decode() for n, v in start["headers"] if n == b"set-cookie"]
    assert len(found) <= 1
    return found[0] if found else None


async def request(app: Any, scope: dict[str, Any]) -> Recorder:
    recorder = Recorder()
    await app(scope, recorder.receive, recorder.send)
    return recorder


@pytest.mark.anyio
async def test_one_connection_is_pushed_each_asset_once() -> None:
    app = EarlyHintsMiddleware(inner_app, lambda: TABLE, push=True, digest=False)
    diary = PushDiary()

    def on_connection(path: str) -> dict[str, Any]:
        scope = http_scope(path)
        scope["extensions"][CONNECTION_EXTENSION] = diary
        return scope

    assert pushes(await request(app, on_connection("/"))) == ["/a.css", "/f.woff2"]
    assert pushes(await request(app, on_connection("/docs/"))) == []
    # Another connection (another diary) is pushed everything again.
    assert pushes(await request(app, http_scope("/docs/"))) == ["/a.css"]


@pytest.mark.anyio
async def test_without_the_hook_a_connection_is_named_by_its_addresses() -> None:
    app = EarlyHintsMiddleware(inner_app, lambda: TABLE, push=True, digest=False)
    assert pushes(await request(app, http_scope("/"))) == ["/a.css", "/f.woff2"]
    assert pushes(await request(app, http_scope("/docs/"))) == []
    other = http_scope("/docs/")
    other["client"] = ("127.0.0.1", 50001)
    assert pushes(await request(app, other)) == ["/a.css"]
    # No client address (a test client): no diary, every request pushed.
    anonymous = http_scope("/docs/")
    del anonymous["client"]
    assert pushes(await request(app, anonymous)) == ["/a.css"]
    assert pushes(await request(app, anonymous)) == ["/a.css"]


@pytest.mark.anyio
async def test_the_cookie_lists_what_was_pushed_and_a_returning_client_gets_only_what_changed() -> (
    None
):
    versions = {"/a.css": "1", "/f.woff2": "1"}
    app = EarlyHintsMiddleware(inner_app, lambda: TABLE, push=True, version=versions.__getitem__)
    first = await request(app, http_scope("/"))
    assert pushes(first) == ["/a.css", "/f.woff2"]
    cookie = set_cookie(first)
    assert cookie is not None
    value = cookie.split(";")[0].split("=", 1)[1]
    assert sorted(parse_digest(value)) == sorted(
        [asset_key("/a.css", "1"), asset_key("/f.woff2", "1")]
    )

    def revisit(path: str) -> dict[str, Any]:
        scope = http_scope(path)
        scope["client"] = ("127.0.0.1", 50099)  # a new connection
        scope["headers"].append((b"cookie", f"{DIGEST_COOKIE}={value}".encode()))
        return scope

    again = await request(app, revisit("/"))
    assert pushes(again) == []
    assert set_cookie(again) is None  # nothing new: the cookie stays as it is
    versions["/a.css"] = "2"
    changed = await request(app, revisit("/docs/"))
    assert pushes(changed) == ["/a.css"]
    assert asset_key("/a.css", "2") in parse_digest(
        (set_cookie(changed) or "").split(";")[0].split("=", 1)[1]
    )


@pytest.mark.anyio
async def test_digest_off_sets_no_cookie_and_ignores_one() -> None:
    app = EarlyHintsMiddleware(inner_app, lambda: TABLE, push=True, digest=False)
    scope = http_scope("/")
    scope["headers"].append(
        (b"cookie", f"{DIGEST_COOKIE}={format_digest([asset_key('/a.css')])}".encode())
    )
    recorder = await request(app, scope)
    assert pushes(recorder) == ["/a.css", "/f.woff2"]
    assert set_cookie(recorder) is None


# --- a real Hypercorn -----------------------------------------------------------------

needs_nghttp = pytest.mark.skipif(
    shutil.which("nghttp") is None, reason="needs nghttp (nghttp2-client)"
)

# pushgen's app behind a probe that logs, per request, whether the server offered
# the push extension and how many pushes the middleware sent through it.
PROBE = """
import os
from pushgen.app import create_app

inner = create_app(os.environ["PROBE_SITE"], early_hints_delay=0)


async def app(scope, receive, send):
    if scope["type"] != "http":
        return await inner(scope, receive, send)
    sent = 0

    async def counting(message):
        nonlocal sent
        if message["type"] == "http.response.push":
            sent += 1
        await send(message)

    await inner(scope, receive, counting)
    offered = "http.response.push" in scope["extensions"]
    print(f"probe {scope['path']} offered={offered} sent={sent}", flush=True)
"""


def start_probe(site: Site, folder: Path, cert: DevCertificate) -> ServerProcess:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "probe.py").write_text(PROBE, encoding="utf-8")
    # `python -m hypercorn` runs in `folder`, which is first on its sys.path.
    return start_hypercorn(
        "probe:app",
        folder / "server.log",
        certfile=cert.certfile,
        keyfile=cert.keyfile,
        env={"PROBE_SITE": str(site.root), "PYTHONPATH": str(Path(__file__).parents[2])},
    )


def probes(server: ServerProcess, since: int, path: str, timeout: float = 20.0) -> list[str]:
    """The probe lines for ``path`` logged since ``since`` (pushed streams log their own)."""
    deadline = time.monotonic() + timeout
    while True:
        lines = re.findall(rf"^probe {re.escape(path)} .*$", server.log()[since:], re.M)
        if lines or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


@pytest.fixture(scope="module")
def probe_site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    return make_site(tmp_path_factory.mktemp("push-cache") / "site")


@pytest.fixture(scope="module")
def probe(
    probe_site: Site, dev_cert: DevCertificate, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    server = start_probe(probe_site, tmp_path_factory.mktemp("probe"), dev_cert)
    yield server
    server.stop()


def cookie_of(headers: list[tuple[str, str]]) -> str:
    value = next(v for n, v in headers if n == "set-cookie")
    return value.split(";")[0]


@needs_nghttp
def test_nghttp_two_pages_on_one_connection_get_each_asset_promised_once(
    probe: ServerProcess, probe_site: Site
) -> None:
    result = nghttp(probe.url, probe.url + "docs/")
    assert result.returncode == 0, result.output
    promised = [str(f.header(":path")) for f in result.received("PUSH_PROMISE")]
    expected = list(dict.fromkeys(probe_site.pushed["/"] + probe_site.pushed["/docs/"]))
    assert sorted(promised) == sorted(expected)  # /static/css/site.css once, not twice
    assert "RST_STREAM" not in {f.type for f in result.frames if f.direction == "send"}


@needs_nghttp
def test_a_client_with_push_disabled_costs_no_push_work_and_nghttp_still_gets_its_pushes(
    probe: ServerProcess, probe_site: Site
) -> None:
    since = len(probe.log())
    exchange = h2_get("127.0.0.1", probe.port, "/", enable_push=False)
    assert exchange.status == 200 and exchange.pushes == {}
    assert probes(probe, since, "/") == ["probe / offered=False sent=0"]

    since = len(probe.log())
    result = nghttp(probe.url)
    assert len(result.received("PUSH_PROMISE")) == len(probe_site.pushed["/"])
    assert probes(probe, since, "/") == [f"probe / offered=True sent={len(probe_site.pushed['/'])}"]


def test_the_digest_cookie_round_trip_over_new_connections(
    probe_site: Site, dev_cert: DevCertificate, tmp_path: Path
) -> None:
    # A private server: the test changes an asset.
    site = make_site(tmp_path / "site")
    server = start_probe(site, tmp_path / "probe", dev_cert)
    try:
        first = h2_get("127.0.0.1", server.port, "/")
        assert sorted(first.pushes) == sorted(site.pushed["/"])
        cookie = cookie_of(first.headers)
        assert cookie.startswith(f"{DIGEST_COOKIE}=") and len(cookie) < 100

        # A new connection with the cookie: nothing pushed, the page's Link stays.
        again = h2_get("127.0.0.1", server.port, "/", headers=[("cookie", cookie)])
        assert again.status == 200 and again.pushes == {}
        assert again.header("link") == site.link_header("/")
        assert again.header("set-cookie") is None

        # Another page: only what the cookie does not list.
        docs = h2_get("127.0.0.1", server.port, "/docs/", headers=[("cookie", cookie)])
        assert sorted(docs.pushes) == ["/static/img/caf%C3%A9.svg"]

        # A changed asset is pushed again (its version is its stat, looked up
        # at most once a second).
        css = site.output / "static" / "css" / "site.css"
        css.write_bytes(css.read_bytes() + b"\n/* changed */\n")
        later = time.time() + 5
        os.utime(css, (later, later))
        time.sleep(1.2)
        changed = h2_get("127.0.0.1", server.port, "/", headers=[("cookie", cookie)])
        assert sorted(changed.pushes) == ["/static/css/site.css"]
        assert changed.pushes["/static/css/site.css"].body == css.read_bytes()
        assert cookie_of(changed.headers) != cookie
    finally:
        server.stop()


# --- h2o's CASPer ---------------------------------------------------------------------


def test_the_h2o_export_says_to_turn_casper_on_where_h2o_accepts_it(tmp_path: Path) -> None:
    from pushgen.export import export_manifest
    from tests.export.test_formats import golden_manifest
    from tests.server_configs import H2O

    text = export_manifest(golden_manifest(), "h2o", root=str(tmp_path)).text
    line = next(x for x in text.splitlines() if "http2-casper" in x)
    directive = line.split(":  ", 1)[1]
    assert directive == "http2-casper: ON"
    if H2O is None:
        pytest.skip("needs h2o (Debian package h2o) to check the directive's level")
    fragment = tmp_path / "paths.yaml"
    fragment.write_text(text, encoding="utf-8")
    conf = tmp_path / "h2o.conf"
    conf.write_text(
        "listen: {host: 127.0.0.1, port: 18443}\n"
        f"hosts:\n  default:\n    {directive}\n    paths: !file {fragment}\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [H2O, "-t", "-c", str(conf)], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "configuration OK" in done.stdout + done.stderr
