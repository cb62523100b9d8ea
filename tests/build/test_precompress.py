"""Precompressed assets: the build's .br/.gz siblings, Accept-Encoding, per-coding ETags, long caching.

Pure functions first (negotiation, fingerprinted names, precompress on a
folder); then a real ``pushgen serve`` on 127.0.0.1 with curl and the h2 client,
whose bodies must decompress to the files' bytes, pushed ones included.
"""

from __future__ import annotations

import asyncio
import gzip
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import brotli
import pytest

from pushgen.precompress import precompress
from pushgen.runtime.encodings import Representation, Siblings, fingerprinted, negotiate
from pushgen.site_files import find_file
from tests.clients import ServerProcess, h2_get, start_hypercorn
from tests.conftest import Site

BOTH = frozenset({"br", "gzip"})

# A stylesheet and a script big enough to be worth compressing.
CSS = b"".join(
    b".rule-%d { color: #%06x; margin: %dpx; }\n" % (i, i * 97, i % 40) for i in range(300)
)
JS = b"".join(b"export function f%d(x) { return x * %d + 1; }\n" % (i, i) for i in range(200))


# --- negotiation ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "available", "expected"),
    [
        (None, BOTH, None),
        ("", BOTH, None),
        ("gzip, deflate, br, zstd", BOTH, "br"),  # Chromium
        ("gzip, deflate, br, zstd", frozenset({"gzip"}), "gzip"),
        ("gzip", BOTH, "gzip"),
        ("x-gzip", BOTH, "gzip"),
        ("br;q=0.5, gzip;q=0.8", BOTH, "gzip"),
        ("br;q=0, gzip", BOTH, "gzip"),
        ("br;q=0, gzip;q=0", BOTH, None),
        ("identity", BOTH, None),
        ("gzip;q=0.5, identity", BOTH, None),
        ("gzip;q=1, identity;q=0.5", BOTH, "gzip"),
        ("*", BOTH, "br"),
        ("*;q=0.3, br;q=0", BOTH, "gzip"),
        ("deflate", BOTH, None),
        ("br;q=bogus, gzip", BOTH, "gzip"),
        ("br;q=2", BOTH, None),
        ("GZIP;Q=0.9", BOTH, "gzip"),
        ("br", frozenset(), None),
    ],
)
def test_negotiate(header: str | None, available: frozenset[Any], expected: str | None) -> None:
    assert negotiate(header, available) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("main.4f3a1c9b.css", True),
        ("app-5f2e1a.js", True),
        ("static/chunk.0123456789abcdef0123.js", True),
        ("index-B2xY3z_a.js", True),
        ("site.css", False),
        ("jquery-3.6.0.min.js", False),
        ("photo-20240101.jpg", False),  # a date, all digits
        ("style-facade.css", False),  # a word, no digit
        ("app.js?v=4f3a1c9b", False),  # a query is not a name
        ("report-Document.css", False),
    ],
)
def test_fingerprinted(name: str, expected: bool) -> None:
    assert fingerprinted(name) is expected


# --- precompress ---------------------------------------------------------------------


def _represent(root: Path, url_path: str, accept: str, *, ranged: bool = False) -> Representation:
    """What the file server sends for ``url_path`` of ``root`` (a fresh app's first request)."""
    found = find_file(root, url_path)
    assert found is not None
    return asyncio.run(Siblings().representation(found, accept, ranged=ranged))


def _write(root: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def test_precompress_writes_siblings_that_decompress_once(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "a.css": CSS,
            "b.js": JS,
            "tiny.css": b"a{}",
            "img.png": os.urandom(4096),
            "noise.txt": os.urandom(4096),
        },
    )
    written = ["a.css", "b.js", "tiny.css", "img.png", "noise.txt"]
    result = precompress(tmp_path, written)
    assert sorted(result.written) == ["a.css.br", "a.css.gz", "b.js.br", "b.js.gz"]
    assert set(result.not_worth_it) == {"tiny.css", "noise.txt"}
    assert brotli.decompress((tmp_path / "a.css.br").read_bytes()) == CSS
    assert gzip.decompress((tmp_path / "b.js.gz").read_bytes()) == JS
    assert not (tmp_path / "img.png.gz").exists()
    source, sibling = (tmp_path / "a.css").stat(), (tmp_path / "a.css.br").stat()
    assert sibling.st_mtime_ns == source.st_mtime_ns
    assert sibling.st_mode == source.st_mode  # readable by whoever reads the source
    # Up to date: nothing is written again.
    again = precompress(tmp_path, written)
    assert again.written == ()
    assert len(again.up_to_date) == 4
    # A changed source gets new siblings; until then the server ignores the old ones.
    (tmp_path / "a.css").write_bytes(CSS + b"/* more */\n")
    assert _represent(tmp_path, "/a.css", "br").coding is None
    third = precompress(tmp_path, ["a.css"])
    assert sorted(third.written) == ["a.css.br", "a.css.gz"]
    assert brotli.decompress((tmp_path / "a.css.br").read_bytes()) == CSS + b"/* more */\n"


def test_precompress_leaves_siblings_the_site_ships(tmp_path: Path) -> None:
    _write(tmp_path, {"a.css": CSS, "a.css.gz": b"the site's own"})
    result = precompress(tmp_path, ["a.css", "a.css.gz"])
    assert (tmp_path / "a.css.gz").read_bytes() == b"the site's own"
    assert result.written == ("a.css.br",)
    assert [path for path, _ in result.skipped] == ["a.css.gz"]


def test_representation_prefers_identity_for_ranges(tmp_path: Path) -> None:
    _write(tmp_path, {"a.css": CSS})
    precompress(tmp_path, ["a.css"])
    full = os.path.realpath(tmp_path / "a.css")
    assert _represent(tmp_path, "/a.css", "gzip, br").path == full + ".br"
    ranged = _represent(tmp_path, "/a.css", "gzip, br", ranged=True)
    assert (ranged.path, ranged.coding, ranged.varies) == (full, None, True)


# --- a real server --------------------------------------------------------------------


@pytest.fixture
def compressed_site(built_site: Site) -> Site:
    """The test site with a big stylesheet and script, a hashed name, and their siblings."""
    static = built_site.output / "static"
    _write(static, {"css/site.css": CSS, "js/app.js": JS, "js/main.4f3a1c9b.js": JS})
    written = ["static/css/site.css", "static/js/app.js", "static/js/main.4f3a1c9b.js"]
    precompress(built_site.output, written)
    return built_site


def _curl(url: str, *args: str) -> tuple[int, dict[str, str], bytes]:
    done = subprocess.run(
        ["curl", "-sk", "--http2", "-D", "-", "-o", "-", *args, url],
        capture_output=True,
        timeout=30,
        check=True,
    )
    head, _, body = done.stdout.partition(b"\r\n\r\n")
    while head.startswith(b"HTTP/2 1"):  # a page's 103 Early Hints: the final head follows
        head, _, body = body.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, body


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_serve_picks_the_coding_and_etags_differ(compressed_site: Site, start_server: Any) -> None:
    server: ServerProcess = start_server(compressed_site.root, build_if_stale=False)
    url = server.url + "static/css/site.css"
    etags = {}
    for accept, coding, decode in [
        ("br, gzip", "br", brotli.decompress),
        ("gzip", "gzip", gzip.decompress),
        ("identity", None, bytes),
    ]:
        status, headers, body = _curl(url, "-H", f"Accept-Encoding: {accept}")
        assert status == 200
        assert headers.get("content-encoding") == coding
        assert "accept-encoding" in headers["vary"].lower()
        assert decode(body) == CSS
        assert int(headers["content-length"]) == len(body)
        etags[coding] = headers["etag"]
        # A 304 answers for the body the client has, and only for it.
        status, again, _ = _curl(
            url, "-H", f"Accept-Encoding: {accept}", "-H", f"If-None-Match: {headers['etag']}"
        )
        assert status == 304
        assert again["etag"] == headers["etag"]
    assert len(set(etags.values())) == 3
    # The br ETag does not validate the gzip body.
    status, _, body = _curl(
        url, "-H", "Accept-Encoding: gzip", "-H", f"If-None-Match: {etags['br']}"
    )
    assert status == 200 and gzip.decompress(body) == CSS
    # curl --compressed decodes itself: what it saves is the file.
    done = subprocess.run(
        ["curl", "-sk", "--compressed", url], capture_output=True, timeout=30, check=True
    )
    assert done.stdout == CSS
    # A range is a range of the file, whatever the client accepts.
    status, headers, body = _curl(url, "-H", "Accept-Encoding: br", "-r", "10-19")
    assert status == 206
    assert "content-encoding" not in headers
    assert body == CSS[10:20]
    assert headers["content-range"] == f"bytes 10-19/{len(CSS)}"


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_serve_caches_hashed_names_for_a_year(compressed_site: Site, start_server: Any) -> None:
    server: ServerProcess = start_server(compressed_site.root, build_if_stale=False)
    _, hashed, body = _curl(
        server.url + "static/js/main.4f3a1c9b.js", "-H", "Accept-Encoding: gzip"
    )
    assert hashed["cache-control"] == "public, max-age=31536000, immutable"
    assert gzip.decompress(body) == JS
    _, plain, _ = _curl(server.url + "static/js/app.js")
    assert plain["cache-control"] == "public, max-age=3600"
    _, page, _ = _curl(server.url)
    assert page["cache-control"] == "no-cache"


def test_pushed_bodies_are_compressed(compressed_site: Site, start_server: Any) -> None:
    """A push copies the page request's Accept-Encoding, so its body is the brotli sibling."""
    server: ServerProcess = start_server(compressed_site.root, build_if_stale=False)
    exchange = h2_get(
        server.host, server.port, "/", headers=[("accept-encoding", "gzip, deflate, br")]
    )
    assert exchange.status == 200
    pushed = exchange.pushes["/static/css/site.css"]
    assert ("accept-encoding", "gzip, deflate, br") in pushed.promise_headers
    assert dict(pushed.headers)["content-encoding"] == "br"
    assert brotli.decompress(pushed.body) == CSS
    assert brotli.decompress(exchange.pushes["/static/js/app.js"].body) == JS
    # Without Accept-Encoding the same pushes carry the files as they are.
    plain = h2_get(server.host, server.port, "/")
    assert "content-encoding" not in dict(plain.pushes["/static/css/site.css"].headers)
    assert plain.pushes["/static/css/site.css"].body == CSS


def test_create_app_under_hypercorns_cli_serves_siblings(
    compressed_site: Site, dev_cert: Any, tmp_path: Path
) -> None:
    """The production path: Hypercorn's own CLI running the app factory, asked by the h2 client."""
    process = start_hypercorn(
        "pushgen.app:create_app()",
        tmp_path / "hypercorn.log",
        certfile=dev_cert.certfile,
        keyfile=dev_cert.keyfile,
        env={"PUSHGEN_SITE": str(compressed_site.root)},
    )
    try:
        exchange = h2_get(
            process.host, process.port, "/static/js/app.js", headers=[("accept-encoding", "gzip")]
        )
        assert exchange.status == 200
        assert exchange.header("content-encoding") == "gzip"
        assert exchange.header("vary") == "Accept-Encoding"
        assert gzip.decompress(exchange.body) == JS
        head = h2_get(process.host, process.port, "/static/js/app.js")
        assert head.header("content-encoding") is None and head.body == JS
        assert head.header("etag") != exchange.header("etag")
    finally:
        process.stop()


# --- the build writes them ------------------------------------------------------------

EXAMPLE = Path(__file__).resolve().parents[2] / "site_example"


def _tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    }


def test_the_build_writes_current_siblings_incrementally_as_a_full_build_does(
    tmp_path: Path,
) -> None:
    from pushgen.cli import main

    site = tmp_path / "site"
    shutil.copytree(EXAMPLE, site, ignore=shutil.ignore_patterns("_site", ".*"))
    assert main(["build", str(site)]) == 0
    output = site / "_site"
    css = output / "static" / "css" / "site.css"
    assert brotli.decompress((output / "static/css/site.css.br").read_bytes()) == css.read_bytes()
    assert gzip.decompress((output / "static/css/site.css.gz").read_bytes()) == css.read_bytes()
    assert not list(output.glob("*.html.br")), "pages are not compressed"

    # An edited stylesheet: the incremental build brings its siblings up to date...
    source = site / "static" / "css" / "site.css"
    source.write_bytes(source.read_bytes() + b"\n/* edited */\n" + CSS)
    assert main(["build", str(site)]) == 0
    assert brotli.decompress((output / "static/css/site.css.br").read_bytes()) == (
        source.read_bytes()
    )
    # ...and its output is the one a full build makes from scratch, siblings included.
    assert main(["build", str(site), "-o", str(tmp_path / "full"), "--full"]) == 0
    assert _tree(output) == _tree(tmp_path / "full")
    # A third build finds every file the state names: nothing is taken for a user's file.
    assert main(["build", str(site)]) == 0


def test_precompress_leaves_files_over_the_size_bound(tmp_path: Path) -> None:
    # Brotli's best level takes about a second a megabyte: a 50 MB stylesheet
    # would hold every build for a minute.
    big = b"p { color: red }\n" * (9 * 1024 * 1024 // 17)
    _write(tmp_path, {"big.css": big})
    result = precompress(tmp_path, ["big.css"])
    assert result.not_worth_it == ("big.css",)
    assert not (tmp_path / "big.css.br").exists() and not (tmp_path / "big.css.gz").exists()


def test_brotli_level_follows_the_size_of_the_text(tmp_path: Path) -> None:
    # Under 4 KB, level 10: level 11 would take twice the CPU for a dozen bytes;
    # from 4 KB on, level 11. Both decompress to the source; gzip stays at 9.
    small = b"".join(b".c%d { color: #%06x; margin: %dpx }\n" % (i, i * 997, i) for i in range(60))
    large = b"".join(b".c%d { color: #%06x; margin: %dpx }\n" % (i, i * 997, i) for i in range(400))
    assert 256 < len(small) < 4096 <= len(large)
    _write(tmp_path, {"small.css": small, "large.css": large})
    precompress(tmp_path, ["small.css", "large.css"])
    small_br = (tmp_path / "small.css.br").read_bytes()
    large_br = (tmp_path / "large.css.br").read_bytes()
    assert brotli.decompress(small_br) == small and brotli.decompress(large_br) == large
    assert small_br == brotli.compress(small, quality=10)
    assert small_br != brotli.compress(small, quality=11)
    assert large_br == brotli.compress(large, quality=11)
    assert (tmp_path / "small.css.gz").read_bytes() == gzip.compress(small, 9, mtime=0)
