"""Precompressed siblings are sent only when they are inside the output and hold the file's bytes.

Issue 22, items 1 and 8a. On c19f3c3 a ``site.css.br`` that was a symbolic link
out of the output (to a secret, to ``/etc/passwd``) was sent as ``site.css``
with ``content-encoding: br`` as long as its mtime matched, and a stale
``x.css.br`` the site shipped with ``x.css``'s mtime was sent in a newer
``x.css``'s place. Now a sibling goes through the containment rule of every
file (:func:`pushgen.site_files.find_sibling`) and must decompress to its file's
bytes (:func:`pushgen.runtime.encodings.check_sibling`), a verdict kept per
state of both files.

Pure checks first, then the verdict cache, then real servers (``pushgen
serve`` on a site and ``pushgen serve --folder``) asked by curl, nghttp and
the h2 client: the plain file is sent instead, identity, and a good sibling
still is.
"""

from __future__ import annotations

import asyncio
import gzip
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import brotli
import pytest

from pushgen.cli import main
from pushgen.codings import CODINGS, Coding
from pushgen.precompress import compress
from pushgen.runtime import encodings
from pushgen.runtime.encodings import SiblingCheck, Siblings, check_sibling
from pushgen.site_files import Found, find_file, find_sibling
from tests.browser_harness import pushgen_serve
from tests.clients import ServerProcess, h2_get, nghttp
from tests.conftest import Site

pytestmark = pytest.mark.timeout(120)

CSS = b"".join(b".rule-%d { color: #%06x; }\n" % (i, i * 97) for i in range(300))
OLD_CSS = CSS.replace(b"color", b"colour")
JS = b"".join(b"export function f%d(x) { return x * %d; }\n" % (i, i) for i in range(200))
SECRET = b"OUTSIDE-MARKER-7f3a secret key\n" * 20
PASSWD = Path("/etc/passwd")
LEAKS = (b"OUTSIDE-MARKER-7f3a", b"root:x:0:0")


def _found(root: Path, url_path: str) -> Found:
    found = find_file(root, url_path)
    assert found is not None and found.kind == "file"
    return found


def _same_mtime(*paths: Path, like: Path) -> None:
    """Give ``paths`` (followed if links) the modification time of ``like``."""
    mtime = like.stat().st_mtime_ns
    for path in paths:
        os.utime(path, ns=(mtime, mtime))


# --- check_sibling --------------------------------------------------------------------

GOOD = {"br": brotli.compress(CSS), "gzip": gzip.compress(CSS, mtime=0)}


def _two_members(data: bytes) -> bytes:
    return gzip.compress(data[:100], mtime=0) + gzip.compress(data[100:], mtime=0)


CASES: list[tuple[str, Coding, Callable[[], bytes], bool]] = [
    ("brotli of the file", "br", lambda: GOOD["br"], True),
    ("gzip of the file", "gzip", lambda: GOOD["gzip"], True),
    ("brotli of an older file", "br", lambda: brotli.compress(OLD_CSS), False),
    ("gzip of an older file", "gzip", lambda: gzip.compress(OLD_CSS), False),
    ("brotli of the file and more", "br", lambda: brotli.compress(CSS + b"x"), False),
    ("brotli of part of the file", "br", lambda: brotli.compress(CSS[:-1]), False),
    ("truncated brotli", "br", lambda: GOOD["br"][:-10], False),
    ("truncated gzip", "gzip", lambda: GOOD["gzip"][:-10], False),
    ("brotli with bytes after its end", "br", lambda: GOOD["br"] + b"junk", False),
    ("gzip with bytes after its end", "gzip", lambda: GOOD["gzip"] + b"junk", False),
    ("two gzip members", "gzip", lambda: _two_members(CSS), False),
    ("gzip named .br", "br", lambda: GOOD["gzip"], False),
    ("the file itself", "gzip", lambda: CSS, False),
    ("empty", "br", lambda: b"", False),
    # 16 MiB of zeros in a few bytes: stopped at the file's length, never held whole.
    ("a brotli bomb", "br", lambda: brotli.compress(bytes(16 << 20), quality=1), False),
    ("a gzip bomb", "gzip", lambda: gzip.compress(bytes(16 << 20), compresslevel=1), False),
]


@pytest.mark.parametrize(("what", "coding", "make", "expected"), CASES, ids=[c[0] for c in CASES])
def test_check_sibling(
    tmp_path: Path, what: str, coding: Coding, make: Callable[[], bytes], expected: bool
) -> None:
    (tmp_path / "a.css").write_bytes(CSS)
    suffix = CODINGS[coding]
    (tmp_path / ("a.css" + suffix)).write_bytes(make())
    source = _found(tmp_path, "/a.css")
    sibling = find_sibling(source, suffix)
    assert sibling is not None
    assert check_sibling(source, sibling, coding) == ("same" if expected else "different"), what


def test_an_empty_file_and_its_empty_sibling(tmp_path: Path) -> None:
    (tmp_path / "e.css").write_bytes(b"")
    (tmp_path / "e.css.br").write_bytes(compress(b"", "br"))
    (tmp_path / "e.css.gz").write_bytes(compress(b"", "gzip"))
    source = _found(tmp_path, "/e.css")
    for coding, suffix in CODINGS.items():
        sibling = find_sibling(source, suffix)
        assert sibling is not None and check_sibling(source, sibling, coding) == "same"


def test_a_file_changed_since_it_was_found_is_not_vouched_for(tmp_path: Path) -> None:
    (tmp_path / "a.css").write_bytes(CSS)
    (tmp_path / "a.css.br").write_bytes(GOOD["br"])
    source = _found(tmp_path, "/a.css")
    sibling = find_sibling(source, ".br")
    assert sibling is not None
    (tmp_path / "a.css.br").write_bytes(brotli.compress(OLD_CSS))  # after the lookup
    assert check_sibling(source, sibling, "br") == "changed"


# --- the verdict cache ------------------------------------------------------------------


def test_each_sibling_is_checked_once_per_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real check runs, counted: once per sibling, again only when a file changes."""
    checked: list[str] = []
    real = encodings.check_sibling

    def counted(source: Found, sibling: Found, coding: Coding) -> SiblingCheck:
        checked.append(os.path.basename(sibling.path))
        return real(source, sibling, coding)

    monkeypatch.setattr(encodings, "check_sibling", counted)
    css = tmp_path / "a.css"
    css.write_bytes(CSS)
    (tmp_path / "a.css.br").write_bytes(GOOD["br"])
    (tmp_path / "a.css.gz").write_bytes(GOOD["gzip"])
    _same_mtime(tmp_path / "a.css.br", tmp_path / "a.css.gz", like=css)
    siblings = Siblings()

    def ask(accept: str) -> str | None:
        chosen = asyncio.run(
            siblings.representation(_found(tmp_path, "/a.css"), accept, ranged=False)
        )
        return chosen.coding

    assert [ask("br, gzip") for _ in range(5)] == ["br"] * 5
    assert [ask("gzip") for _ in range(5)] == ["gzip"] * 5
    assert ask("identity") is None
    assert checked == ["a.css.br", "a.css.gz"]
    # The file edited in place, its size and mtime put back: the ctime tells.
    st = css.stat()
    css.write_bytes(OLD_CSS[: len(CSS)].ljust(len(CSS), b" "))
    os.utime(css, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert ask("br, gzip") is None  # neither holds the new bytes
    assert checked[2:] == ["a.css.br", "a.css.gz"]


def test_a_stale_brotli_falls_back_to_a_good_gzip(tmp_path: Path) -> None:
    css = tmp_path / "a.css"
    css.write_bytes(CSS)
    (tmp_path / "a.css.br").write_bytes(brotli.compress(OLD_CSS))
    (tmp_path / "a.css.gz").write_bytes(GOOD["gzip"])
    _same_mtime(tmp_path / "a.css.br", tmp_path / "a.css.gz", like=css)
    siblings = Siblings()
    found = _found(tmp_path, "/a.css")
    for accept, coding in [("br, gzip", "gzip"), ("br", None), ("br;q=1, gzip;q=0", None)]:
        chosen = asyncio.run(siblings.representation(found, accept, ranged=False))
        assert (chosen.coding, chosen.varies) == (coding, True), accept
        assert chosen.path == (found.path + ".gz" if coding else found.path)


# --- real servers ---------------------------------------------------------------------


def _curl(url: str, accept: str, *args: str) -> tuple[int, dict[str, str], bytes]:
    done = subprocess.run(
        ["curl", "-sk", "-D", "-", "-H", f"Accept-Encoding: {accept}", *args, url],
        capture_output=True, timeout=30, check=True,
    )  # fmt: skip
    head, _, body = done.stdout.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {n.strip().lower(): v.strip() for n, _, v in (x.partition(":") for x in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def _nghttp_coding(url: str, accept: str) -> str | None:
    """The content-encoding of the 200 nghttp gets for ``url`` (bodies discarded)."""
    result = nghttp(url, "-H", f"accept-encoding: {accept}")
    assert result.returncode == 0, result.output
    (response,) = [f for f in result.received("HEADERS") if f.status == 200]
    return response.header("content-encoding")


def _no_leak(data: bytes | str) -> None:
    raw = data.encode() if isinstance(data, str) else data
    assert not any(marker in raw for marker in LEAKS)


@pytest.fixture
def trapped_site(built_site: Site, tmp_path: Path) -> Site:
    """The test site with sibling traps beside site.css and app.js, and good ones beside print.css.

    ``site.css.br`` links to a secret outside the output and ``site.css.gz`` to
    /etc/passwd, both with site.css's mtime; ``app.js.br`` is the brotli of an
    older app.js with the new one's mtime, ``app.js.gz`` the right gzip.
    """
    static = built_site.output / "static"
    secret = tmp_path / "outside-secret.css"
    secret.write_bytes(SECRET)
    css = static / "css" / "site.css"
    css.write_bytes(CSS)
    (static / "css" / "site.css.br").symlink_to(secret)
    (static / "css" / "site.css.gz").symlink_to(PASSWD)
    _same_mtime(css, secret, like=PASSWD)
    js = static / "js" / "app.js"
    js.write_bytes(JS)
    (static / "js" / "app.js.br").write_bytes(brotli.compress(JS.replace(b"x", b"y")))
    (static / "js" / "app.js.gz").write_bytes(gzip.compress(JS))
    _same_mtime(static / "js" / "app.js.br", static / "js" / "app.js.gz", like=js)
    printed = static / "css" / "print.css"
    printed.write_bytes(CSS + b"/* print */\n")
    (static / "css" / "print.css.br").write_bytes(brotli.compress(printed.read_bytes()))
    _same_mtime(static / "css" / "print.css.br", like=printed)
    return built_site


ACCEPTS = ("br", "gzip", "br, gzip", "gzip, deflate, br, zstd", "*")


def _curl_every_way(url: str) -> Iterator[tuple[str, int, dict[str, str], bytes]]:
    """``url`` asked by curl over HTTP/2 and HTTP/1.1 with each of :data:`ACCEPTS`."""
    for protocol in ("--http2", "--http1.1"):
        for accept in ACCEPTS:
            yield (accept, *_curl(url, accept, protocol))


@pytest.mark.skipif(not PASSWD.is_file() or shutil.which("curl") is None, reason="needs curl")
def test_the_site_server_sends_no_sibling_from_outside(
    trapped_site: Site, start_server: Any
) -> None:
    server: ServerProcess = start_server(trapped_site.root, build_if_stale=False)
    for accept, status, headers, body in _curl_every_way(server.url + "static/css/site.css"):
        _no_leak(body)
        assert (status, headers.get("content-encoding"), body) == (200, None, CSS), accept
    # Pushed with the page, over HTTP/2 (the h2 client): the file as it is.
    exchange = h2_get(server.host, server.port, "/", headers=[("accept-encoding", "br, gzip")])
    for pushed in exchange.pushes.values():
        _no_leak(pushed.body)
    pushed = exchange.pushes["/static/css/site.css"]
    assert (dict(pushed.headers).get("content-encoding"), pushed.body) == (None, CSS)
    assert _nghttp_coding(server.url + "static/css/site.css", "br") is None
    assert _nghttp_coding(server.url + "static/css/site.css", "gzip") is None
    _no_leak(server.log())


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_the_site_server_sends_no_stale_sibling_and_still_a_good_one(
    trapped_site: Site, start_server: Any
) -> None:
    server: ServerProcess = start_server(trapped_site.root, build_if_stale=False)
    # The stale brotli is not sent; the right gzip still is, when accepted.
    for accept, status, headers, body in _curl_every_way(server.url + "static/js/app.js"):
        if "gzip" in accept or accept == "*":
            assert headers.get("content-encoding") == "gzip", accept
            assert gzip.decompress(body) == JS
        else:
            assert (status, headers.get("content-encoding"), body) == (200, None, JS)
    # A good sibling still is.
    for protocol in ("--http2", "--http1.1"):
        status, headers, body = _curl(server.url + "static/css/print.css", "br", protocol)
        assert headers.get("content-encoding") == "br"
        assert brotli.decompress(body) == CSS + b"/* print */\n"
    exchange = h2_get(server.host, server.port, "/", headers=[("accept-encoding", "br")])
    pushed = exchange.pushes["/static/js/app.js"]
    assert (dict(pushed.headers).get("content-encoding"), pushed.body) == (None, JS)
    assert _nghttp_coding(server.url + "static/js/app.js", "br") is None
    assert _nghttp_coding(server.url + "static/css/print.css", "br") == "br"
    # Said once, with its path, however many requests it turned away.
    assert server.log().count("static/js/app.js.br: warning: not sent: it does not") == 1
    assert "Traceback" not in server.log()


@pytest.mark.skipif(not PASSWD.is_file() or shutil.which("curl") is None, reason="needs curl")
def test_serve_folder_sends_no_trapped_sibling(tmp_path: Path, cache_dir: Path) -> None:
    """``pushgen serve --folder``: a .gz link to /etc/passwd and a stale .br are not sent."""
    folder = tmp_path / "html"
    (folder / "_static").mkdir(parents=True)
    (folder / "index.html").write_text(
        '<!doctype html><link rel=stylesheet href="_static/style.css"><script src="_static/app.js"></script>'
    )
    js, css = folder / "_static" / "app.js", folder / "_static" / "style.css"
    js.write_bytes(JS)
    (folder / "_static" / "app.js.gz").symlink_to(PASSWD)
    _same_mtime(js, like=PASSWD)
    css.write_bytes(CSS)
    (folder / "_static" / "style.css.br").write_bytes(brotli.compress(OLD_CSS))
    (folder / "_static" / "style.css.gz").write_bytes(gzip.compress(CSS))
    _same_mtime(folder / "_static" / "style.css.br", folder / "_static" / "style.css.gz", like=css)
    manifest = tmp_path / "push-manifest.yaml"
    assert main(["scan", str(folder), "-m", str(manifest)]) == 0
    server = pushgen_serve(
        folder, tmp_path / "serve.log", {"XDG_CACHE_HOME": str(cache_dir)},
        ("--folder", "-m", str(manifest)),
    )  # fmt: skip
    try:
        url = f"https://127.0.0.1:{server.port}/"
        for accept in ("gzip", "br, gzip", "*"):
            status, headers, body = _curl(url + "_static/app.js", accept, "--http2")
            _no_leak(body)
            assert (status, headers.get("content-encoding"), body) == (200, None, JS), accept
        status, headers, body = _curl(url + "_static/style.css", "br", "--http2")
        assert (headers.get("content-encoding"), body) == (None, CSS)
        status, headers, body = _curl(url + "_static/style.css", "br, gzip", "--http2")
        assert headers.get("content-encoding") == "gzip" and gzip.decompress(body) == CSS
        exchange = h2_get("127.0.0.1", server.port, "/", headers=[("accept-encoding", "gzip, br")])
        pushed = exchange.pushes["/_static/app.js"]
        _no_leak(pushed.body)
        assert (dict(pushed.headers).get("content-encoding"), pushed.body) == (None, JS)
        assert _nghttp_coding(url + "_static/app.js", "gzip") is None
    finally:
        server.stop()
    _no_leak(server.log())
    assert "Traceback" not in server.log()
