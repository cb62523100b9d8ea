"""The file server at its input boundary, end to end: a real Hypercorn on 127.0.0.1, real clients.

Byte ranges as curl and the h2 library ask for them (RFC 9110 §14), requests in
absolute form that must not turn into redirects to another host (RFC 9112
§3.2.2, RFC 9113 §8.3.1), and a 404 page that is a link out of the output.
"""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
from typing import Any

import pytest

from tests.clients import ServerProcess, h2_get
from tests.conftest import OUTPUT_FILES, Site, make_site

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl"),
]

PAGE = OUTPUT_FILES["about.html"]
BIG = bytes(range(256)) * 2048  # 512 KiB: streamed by Quart's file body, not read whole


def curl(url: str, *args: str) -> tuple[int, dict[str, str], bytes]:
    """GET ``url`` with curl over HTTP/1.1: the status, the headers (lower-case names), the body."""
    done = subprocess.run(
        ["curl", "-sk", "--http1.1", "--path-as-is", "-D", "-", *args, url],
        capture_output=True, timeout=20, check=True,
    )  # fmt: skip
    head, _, body = done.stdout.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


@pytest.fixture(scope="module")
def big_site_server(tmp_path_factory: pytest.TempPathFactory, cache_dir: Any) -> Any:
    """A server of its own whose output also holds a file too large to be read whole."""
    from tests.clients import start_serve

    site = make_site(tmp_path_factory.mktemp("ranges") / "site")
    (site.output / "static" / "big.bin").write_bytes(BIG)
    server = start_serve(
        site.root,
        site.root.parent / "server.log",
        env={"XDG_CACHE_HOME": str(cache_dir)},
        build_if_stale=False,
    )
    yield server
    server.stop()


# --- ranges ---------------------------------------------------------------------------

RANGES = [
    # (Range, status, the expected body as a slice of the file, Content-Range)
    ("bytes=-5", 206, slice(-5, None), "bytes {a}-{b}/{n}"),
    ("bytes=-1", 206, slice(-1, None), "bytes {a}-{b}/{n}"),
    ("bytes=0-3", 206, slice(0, 4), "bytes {a}-{b}/{n}"),
    ("bytes=10-", 206, slice(10, None), "bytes {a}-{b}/{n}"),
    ("bytes=-99999999", 206, slice(0, None), "bytes {a}-{b}/{n}"),  # longer than the file
    ("bytes=5-99999999", 206, slice(5, None), "bytes {a}-{b}/{n}"),
    ("bytes=99999999-", 416, slice(0, 0), "bytes */{n}"),
    # A server may ignore these (RFC 9110 §14.2) and send the whole file.
    ("bytes=0-1,4-5", 200, slice(0, None), None),
    ("bytes=9-3", 200, slice(0, None), None),
    ("lines=0-3", 200, slice(0, None), None),
]


def expected_range(data: bytes, part: slice, content_range: str | None) -> str | None:
    if content_range is None:
        return None
    a, b, _ = part.indices(len(data))
    return content_range.format(a=a, b=b - 1, n=len(data))


@pytest.mark.parametrize("url_path", ["/about.html", "/static/big.bin"])
@pytest.mark.parametrize(("range_", "status", "part", "content_range"), RANGES)
def test_curl_ranges(
    big_site_server: ServerProcess,
    url_path: str,
    range_: str,
    status: int,
    part: slice,
    content_range: str | None,
) -> None:
    data = PAGE if url_path == "/about.html" else BIG
    got_status, headers, body = curl(big_site_server.url[:-1] + url_path, "-H", f"Range: {range_}")
    assert got_status == status, (range_, headers)
    assert headers.get("content-range") == expected_range(data, part, content_range)
    if status != 416:
        assert body == data[part]
        assert int(headers["content-length"]) == len(data[part])
        assert headers["accept-ranges"] == "bytes"


@pytest.mark.parametrize(("range_", "status", "part", "content_range"), RANGES)
def test_h2_ranges(
    big_site_server: ServerProcess,
    range_: str,
    status: int,
    part: slice,
    content_range: str | None,
) -> None:
    got = h2_get(
        big_site_server.host,
        big_site_server.port,
        "/static/big.bin",
        headers=[("range", range_)],
    )
    assert got.status == status, (range_, got.headers)
    assert got.header("content-range") == expected_range(BIG, part, content_range)
    if status != 416:
        assert got.body == BIG[part]


def test_if_range_with_an_old_etag_gets_the_whole_file(big_site_server: ServerProcess) -> None:
    url = big_site_server.url + "about.html"
    _, headers, _ = curl(url)
    status, _, body = curl(url, "-H", "Range: bytes=-5", "-H", f"If-Range: {headers['etag']}")
    assert (status, body) == (206, PAGE[-5:])
    status, _, body = curl(url, "-H", "Range: bytes=-5", "-H", 'If-Range: "old"')
    assert (status, body) == (200, PAGE)


# --- absolute-form request targets ------------------------------------------------------


def http11_raw(server: ServerProcess, request: bytes) -> bytes:
    """Send ``request`` as it is over TLS (ALPN http/1.1); everything the server answers."""
    context = ssl._create_unverified_context()
    context.set_alpn_protocols(["http/1.1"])
    with (
        socket.create_connection((server.host, server.port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as sock,
    ):
        sock.sendall(request)
        answer = b""
        while b"\r\n\r\n" not in answer:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    return answer


def location_names_this_server(location: str, server: ServerProcess) -> bool:
    if location.startswith("/") and not location.startswith("//"):
        return True
    return location.startswith(
        (f"https://{server.host}:{server.port}/", f"https://localhost:{server.port}/")
    )


@pytest.mark.parametrize(
    "target",
    [
        b"http://evil.example/docs",
        b"https://evil.example/docs",
        b"http://evil.example/docs?q=1",
        b"//evil.example/docs",
    ],
)
def test_http11_absolute_form_redirects_stay_on_this_server(
    server: ServerProcess, target: bytes
) -> None:
    answer = http11_raw(
        server,
        b"GET " + target + b" HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n",
    )
    head = answer.partition(b"\r\n\r\n")[0].decode("latin-1")
    status = int(head.split()[1])
    headers = {k.lower(): v for k, v in (ln.split(": ", 1) for ln in head.split("\r\n")[1:])}
    assert status in (308, 400, 404), head
    if status == 308:
        assert location_names_this_server(headers["location"], server), head
        assert "evil" not in headers["location"]


@pytest.mark.parametrize(
    "path", ["http://evil.example/docs", "https://evil.example/docs?q=1", "//evil.example/docs"]
)
def test_h2_absolute_path_redirects_stay_on_this_server(server: ServerProcess, path: str) -> None:
    got = h2_get(server.host, server.port, path, authority="evil.example")
    location = got.header("location")
    assert got.status in (308, 400, 404) or got.reset_streams, got
    if got.status == 308:
        assert location is not None and location_names_this_server(location, server), got
        assert "evil" not in location


def test_a_folder_redirect_is_path_absolute(server: ServerProcess) -> None:
    status, headers, _ = curl(server.url + "docs?q=1")
    assert (status, headers["location"]) == (308, "/docs/?q=1")


# --- the 404 page -------------------------------------------------------------------------


def test_a_404_page_linked_out_of_the_output_is_not_served(
    start_server: Any, tmp_path: Any
) -> None:
    site: Site = make_site(tmp_path / "s404")
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"root:x:0:0:SECRET\n")
    (site.output / "404.html").unlink()
    (site.output / "404.html").symlink_to(secret)
    process: ServerProcess = start_server(site.root, build_if_stale=False)
    for path in ("/no/such/page", "/404.html"):
        status, _, body = curl(process.url[:-1] + path)
        assert status == 404
        assert b"SECRET" not in body
        assert body == b"404 Not Found\n"
    # A 404 page linked to a file inside the output is still the site's 404 page.
    (site.output / "404.html").unlink()
    (site.output / "404.html").symlink_to(site.output / "about.html")
    status, _, body = curl(process.url + "nothing-here")
    assert (status, body) == (404, PAGE)
