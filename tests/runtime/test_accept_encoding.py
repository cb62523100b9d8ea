"""Accept-Encoding as RFC 9110 §12.5.3 writes it: golden tests of the parser and of the choice.

``parse_accept_encoding`` gives each coding named its weight in thousandths;
``negotiate`` picks the sibling to send. Then a real ``pushgen serve`` answers a
field sent as two field lines (HTTP/2 allows it; RFC 9110 §5.3 makes it one list)
and a whitespace-laden field, by the h2 client and by curl.
"""

from __future__ import annotations

import gzip
import shutil
import subprocess
from typing import Any

import brotli
import pytest

from pushgen.precompress import precompress
from pushgen.runtime.encodings import AcceptEncoding, negotiate, parse_accept_encoding
from tests.clients import ServerProcess, h2_get
from tests.conftest import Site

BOTH = frozenset({"br", "gzip"})

# value -> (weights in thousandths, ignored elements)
GOLDEN: list[tuple[str, dict[str, int], tuple[str, ...]]] = [
    ("", {}, ()),
    ("br", {"br": 1000}, ()),
    ("gzip, deflate, br, zstd", {"gzip": 1000, "deflate": 1000, "br": 1000, "zstd": 1000}, ()),
    # OWS around ";" and BWS around "=" (the ' br ; q = 1 ')
    (" br ; q = 1 ", {"br": 1000}, ()),
    ("br\t;\tq\t=\t0.5", {"br": 500}, ()),
    ("br;q=0.5 , gzip ;q=0.25", {"br": 500, "gzip": 250}, ()),
    # codings and the q name are case-insensitive (§8.4.1, §12.4.2)
    ("BR;Q=0.8, GZip", {"br": 800, "gzip": 1000}, ()),
    ("x-gzip;q=0.3", {"gzip": 300}, ()),  # §8.4.1.3
    # qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
    ("br;q=0", {"br": 0}, ()),
    ("br;q=0.", {"br": 0}, ()),
    ("br;q=0.001", {"br": 1}, ()),
    ("br;q=0.999", {"br": 999}, ()),
    ("br;q=1.000", {"br": 1000}, ()),
    # not qvalues: the client tried to weigh the coding, so it is not sent on a guess
    ("br;q=0.0001", {"br": 0}, ()),
    ("br;q=1.5", {"br": 0}, ()),
    ("br;q=1.0001", {"br": 0}, ()),
    ("br;q=+1", {"br": 0}, ()),
    ("br;q=1e0", {"br": 0}, ()),
    ("br;q=.5", {"br": 0}, ()),
    ("br;q=nan", {"br": 0}, ()),
    ("br;q=", {"br": 0}, ()),
    ("br;q", {"br": 0}, ()),
    ('br;q="1"', {"br": 0}, ()),
    # other parameters are not in the grammar; they are ignored, not the coding
    ("br;level=11", {"br": 1000}, ()),
    ("br;", {"br": 1000}, ()),
    # "*" and identity
    ("*", {"*": 1000}, ()),
    ("*;q=0, identity", {"*": 0, "identity": 1000}, ()),
    ("identity;q=0", {"identity": 0}, ()),
    # empty list elements are allowed (§5.6.1); a coding named twice keeps its best weight
    (",, br ,,", {"br": 1000}, ()),
    ("br;q=0, br;q=0.7", {"br": 700}, ()),
    # elements that name no coding (not a token) are dropped, and said
    ('" br ; q = 1 "', {}, ('" br ; q = 1 "',)),
    ('"br"', {}, ('"br"',)),
    ("b r", {}, ("b r",)),
    (";q=1, gzip", {"gzip": 1000}, (";q=1",)),
    ("bröt, br", {"br": 1000}, ("bröt",)),
]


@pytest.mark.parametrize(("value", "weights", "ignored"), GOLDEN)
def test_parse_accept_encoding(
    value: str, weights: dict[str, int], ignored: tuple[str, ...]
) -> None:
    assert parse_accept_encoding(value) == AcceptEncoding(weights, ignored)


@pytest.mark.parametrize(
    ("header", "available", "expected"),
    [
        (" br ; q = 1 ", BOTH, "br"),
        ("gzip ; q = 0.5 , br ; q = 1", BOTH, "br"),
        ("br ; q = 0.4 , gzip ; q = 0.5", BOTH, "gzip"),
        # failed on main: weights that are no qvalues were taken as numbers
        ("br;q=0.0001", BOTH, None),
        ("br;q=+1, gzip;q=0.5", BOTH, "gzip"),
        ("br;q=1e0, gzip;q=0.5", BOTH, "gzip"),
        # `*` stands for identity too when identity is not named (§12.5.3)
        ("*;q=0.5, br;q=0.4", frozenset({"br"}), None),
        ("*;q=0.5, br;q=0.5", frozenset({"br"}), "br"),  # ties go to the coding
        ("*", BOTH, "br"),
        ("*;q=0", BOTH, None),
        ("*;q=0, identity", BOTH, None),
        ("*;q=0.3, br;q=0", BOTH, "gzip"),
        # identity;q=0 alone: no coding is acceptable either; the file is sent as it is
        ("identity;q=0", BOTH, None),
        ("identity;q=0, gzip;q=0.1", BOTH, "gzip"),
        ("gzip;q=0.5, identity", BOTH, None),
        ('" br ; q = 1 "', BOTH, None),  # a quoted value names no coding (DQUOTE is no tchar)
        ("BR", BOTH, "br"),
        ("br", frozenset(), None),
    ],
)
def test_negotiate_by_the_rfc(header: str, available: frozenset[Any], expected: str | None) -> None:
    assert negotiate(header, available) == expected


# --- a real server ---------------------------------------------------------------------

CSS = b"".join(b".r%d { margin: %dpx; }\n" % (i, i % 40) for i in range(400))


@pytest.fixture
def css_site(built_site: Site) -> Site:
    (built_site.output / "static/css/site.css").write_bytes(CSS)
    precompress(built_site.output, ["static/css/site.css"])
    return built_site


def test_a_field_sent_as_two_lines_is_one_list(css_site: Site, start_server: Any) -> None:
    """Failed on main: only the first line was read, so `gzip;q=0.1` + `br` got gzip."""
    server: ServerProcess = start_server(css_site.root, build_if_stale=False)
    exchange = h2_get(
        server.host,
        server.port,
        "/static/css/site.css",
        headers=[("accept-encoding", "gzip;q=0.1"), ("accept-encoding", "br")],
    )
    assert exchange.status == 200
    assert exchange.header("content-encoding") == "br"
    assert brotli.decompress(exchange.body) == CSS
    second = h2_get(
        server.host,
        server.port,
        "/static/css/site.css",
        headers=[("accept-encoding", "deflate"), ("accept-encoding", "gzip")],
    )
    assert second.header("content-encoding") == "gzip"
    assert gzip.decompress(second.body) == CSS


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_whitespace_around_semicolon_and_equals(css_site: Site, start_server: Any) -> None:
    server: ServerProcess = start_server(css_site.root, build_if_stale=False)
    for protocol, accept, coding in [
        ("--http1.1", " br ; q = 1 ", "br"),
        ("--http2", "br ; q = 0.2 , gzip ; q = 0.9", "gzip"),
    ]:
        done = subprocess.run(
            ["curl", "-sk", protocol, "-D", "-", "-H", f"Accept-Encoding: {accept}",
             server.url + "static/css/site.css"],
            capture_output=True, timeout=30, check=True,
        )  # fmt: skip
        head, _, body = done.stdout.partition(b"\r\n\r\n")
        assert f"content-encoding: {coding}".encode() in head.lower(), (accept, head)
        decode = brotli.decompress if coding == "br" else gzip.decompress
        assert decode(body) == CSS


def test_a_push_follows_a_spaced_field(css_site: Site, start_server: Any) -> None:
    """A pushed stylesheet follows the page request's Accept-Encoding, spaces and all."""
    server: ServerProcess = start_server(css_site.root, build_if_stale=False)
    exchange = h2_get(
        server.host, server.port, "/", headers=[("accept-encoding", " gzip ; q = 1 ")]
    )
    pushed = exchange.pushes["/static/css/site.css"]
    assert dict(pushed.headers).get("content-encoding") == "gzip"
    assert gzip.decompress(pushed.body) == CSS
