"""Real runs of exported configurations: nginx and h2o on 127.0.0.1, fetched with nghttp and curl.

Each server gets its own configuration, pid and log files in a temporary folder,
serves the test site's built output over HTTP/2 + TLS (the development
certificate), and includes the file ``pushgen export`` wrote. The expectations
are the hand-written ones of ``conftest`` (``LINKS``, ``PUSHED``) plus the routes
this module adds, so the exporter is checked against what the runtime promises,
not against itself.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pushgen.cli import main
from pushgen.runtime.certs import DevCertificate, dev_certificate
from tests.clients import (
    Frame,
    NghttpResult,
    ServerProcess,
    free_port,
    link_values,
    nghttp,
    wait_for_port,
)
from tests.conftest import LINKS, MANIFEST, PUSHED, make_site
from tests.server_configs import H2O, NGINX, h2o_conf, nginx_conf

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(shutil.which("nghttp") is None, reason="needs nghttp (nghttp2-client)"),
]

# The conftest manifest, plus a pattern rule and a route with more pushes than
# nginx makes for one response (http2_max_concurrent_pushes defaults to 10).
MANY = [f"/static/css/m{i}.css" for i in range(1, 13)]
SERVER_MANIFEST = (
    MANIFEST
    + "  /many.html:\n"
    + "".join(f"    - {{path: {path}, as: style}}\n" for path in MANY)
    + '  "/caf%C3%A9/":\n'
    + "    - {path: /static/css/site.css, as: style}\n"
    + "rules:\n"
    + "  - match: /blog/<slug>\n"
    + "    add:\n"
    + "      - {path: /static/css/blog.css, as: style}\n"
)
BLOG_LINK = "</static/css/blog.css>; rel=preload; as=style"
# Entries hinted but not pushed, per route: servers that push on Link get `; nopush`.
HINT_ONLY = {
    "/": {
        '</static/css/print.css>; rel=preload; as=style; media="print"',
        "</static/img/hero.png>; rel=preload; as=image",
    },
    "/about.html": {"</static/css/site.css>; rel=preload; as=style"},
}


@dataclass
class Served:
    """A server process, its base URL, and the export it runs with."""

    server: ServerProcess
    config: str


def _site(root: Path) -> Path:
    site = make_site(root)
    site.manifest.write_text(SERVER_MANIFEST, encoding="utf-8")
    for path in [*MANY, "/static/css/blog.css"]:
        (site.output / path.lstrip("/")).write_text("p { }\n")
    (site.output / "many.html").write_text("<!doctype html><title>Many</title>\n")
    (site.output / "blog").mkdir()
    (site.output / "blog" / "hello.html").write_text("<!doctype html><title>Hello</title>\n")
    (site.output / "café").mkdir()
    (site.output / "café" / "index.html").write_text("<!doctype html><title>Café</title>\n")
    return site.root


def _export(site: Path, fmt: str, out: Path, *extra: str) -> None:
    code = main(["export", "--format", fmt, "--site", str(site), "-o", str(out), *extra])
    assert code == 0, f"pushgen export --format {fmt} failed"


def start_server(argv: list[str], log: Path, port: int) -> ServerProcess:
    """Start a server (`argv`, output to `log`) and wait until it listens on `port`."""
    with log.open("wb") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, cwd=log.parent)
    server = ServerProcess(process, log, port=port)
    try:
        wait_for_port("127.0.0.1", port, timeout=15)
    except TimeoutError:
        server.stop()
        raise RuntimeError(f"{argv[0]} did not start:\n{server.log()}") from None
    return server


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> DevCertificate:
    return dev_certificate(tmp_path_factory.mktemp("cert"))


@pytest.fixture(scope="module")
def nginx(tmp_path_factory: pytest.TempPathFactory, cert: DevCertificate) -> Iterator[Served]:
    """nginx 1.22 (which still pushes) with the exported include file in its server block."""
    if NGINX is None:
        pytest.skip("needs nginx (Debian package nginx-light or nginx)")
    tmp = tmp_path_factory.mktemp("nginx")
    site = _site(tmp / "site")
    include = tmp / "pushgen-links.conf"
    _export(site, "nginx", include)
    port = free_port()
    conf = nginx_conf(
        tmp,
        f"""listen 127.0.0.1:{port} ssl http2;
        ssl_certificate {cert.certfile};
        ssl_certificate_key {cert.keyfile};
        root {site / "_site"};
        index index.html;
        include {include};""",
        http="""types { text/html html; text/css css; application/javascript js; font/woff2 woff2;
             image/png png; image/svg+xml svg; }""",
    )
    server = start_server([NGINX, "-c", str(conf), "-p", str(tmp)], tmp / "nginx.log", port)
    yield Served(server, include.read_text())
    server.stop(signal.SIGTERM)


@pytest.fixture(scope="module")
def h2o(tmp_path_factory: pytest.TempPathFactory, cert: DevCertificate) -> Iterator[Served]:
    """h2o 2.2 (pushes on Link preload) with the exported paths fragment as a host's paths."""
    if H2O is None:
        pytest.skip("needs h2o (Debian package h2o)")
    tmp = tmp_path_factory.mktemp("h2o")
    site = _site(tmp / "site")
    fragment = tmp / "pushgen-paths.yaml"
    _export(site, "h2o", fragment, "--root", str(site / "_site"))
    port = free_port()
    ssl = (
        f"    certificate-file: {cert.certfile}\n"
        f"    key-file: {cert.keyfile}\n"
        "    ocsp-update-interval: 0\n"
    )
    conf = h2o_conf(tmp, fragment, port, ssl=ssl)
    server = start_server([H2O, "-c", str(conf)], tmp / "h2o.log", port)
    yield Served(server, fragment.read_text())
    server.stop(signal.SIGTERM)


# --- reading nghttp's frames ----------------------------------------------------------------


@dataclass
class Response:
    status: int | None
    links: list[str]
    promised: list[str]
    result: NghttpResult


def _links(frame: Frame) -> list[str]:
    """Every link of every Link field (a field may hold several, comma-separated)."""
    return link_values(frame.header_list("link"))


def fetch(served: Served, path: str) -> Response:
    result = nghttp(served.server.url.rstrip("/") + path)
    assert result.returncode == 0, result.output
    [request] = [f for f in result.frames if f.direction == "send" and f.type == "HEADERS"]
    [response] = [
        f
        for f in result.received("HEADERS", request.stream_id)
        if f.status is not None and f.status >= 200
    ]
    promised = [f.header(":path") or "" for f in result.received("PUSH_PROMISE")]
    return Response(response.status, _links(response), promised, result)


def expected_links(route: str) -> list[str]:
    """The runtime's Link values for ``route``, with `; nopush` where the server must not push."""
    hint_only = HINT_ONLY.get(route, set())
    return [f"{v}; nopush" if v in hint_only else v for v in LINKS[route]]


# --- nginx ----------------------------------------------------------------------------------


@pytest.mark.parametrize("route", ["/", "/docs/", "/about.html"])
def test_nginx_sends_the_manifests_links_and_pushes(nginx: Served, route: str) -> None:
    response = fetch(nginx, route)
    assert response.status == 200
    assert sorted(response.links) == sorted(expected_links(route))
    assert sorted(response.promised) == sorted(PUSHED[route])


def test_nginx_serves_index_html_like_its_directory(nginx: Served) -> None:
    direct = fetch(nginx, "/docs/index.html")
    assert sorted(direct.links) == sorted(expected_links("/docs/"))
    assert sorted(direct.promised) == sorted(PUSHED["/docs/"])


def test_nginx_pattern_rule_becomes_a_regex_location(nginx: Served) -> None:
    response = fetch(nginx, "/blog/hello.html")
    assert response.status == 200
    assert response.links == [BLOG_LINK]
    assert response.promised == ["/static/css/blog.css"]
    assert 'location ~ "^/blog/[^/]+$"' in nginx.config


def test_nginx_pushes_at_most_ten_and_the_export_says_so(nginx: Served) -> None:
    response = fetch(nginx, "/many.html")
    # The export turned the 11th and 12th into hints with nopush ...
    assert sorted(response.promised) == sorted(MANY[:10])
    links = {f"<{p}>; rel=preload; as=style" for p in MANY[:10]}
    links |= {f"<{p}>; rel=preload; as=style; nopush" for p in MANY[10:]}
    assert set(response.links) == links
    # ... which is exactly nginx's own limit: without the cut it pushes no more.
    assert "nopush" in nginx.config


def test_nginx_matches_a_percent_encoded_route(nginx: Served) -> None:
    # nginx matches locations against the decoded path: the export writes it decoded.
    response = fetch(nginx, "/caf%C3%A9/")
    assert response.status == 200
    assert response.links == ["</static/css/site.css>; rel=preload; as=style"]
    assert response.promised == ["/static/css/site.css"]


def test_nginx_adds_nothing_to_assets_or_unknown_pages(nginx: Served) -> None:
    asset = fetch(nginx, "/static/css/site.css")
    assert asset.status == 200 and asset.links == [] and asset.promised == []
    missing = fetch(nginx, "/nope.html")
    assert missing.status == 404 and missing.links == [] and missing.promised == []


def test_nginx_link_headers_over_http1_with_curl(nginx: Served) -> None:
    done = subprocess.run(
        ["curl", "-sk", "--http1.1", "-D", "-", "-o", "/dev/null", nginx.server.url],
        capture_output=True,
        text=True,
        timeout=20,
        check=True,
    )
    values = [
        line.split(":", 1)[1].strip()
        for line in done.stdout.splitlines()
        if line.lower().startswith("link:")
    ]
    assert sorted(values) == sorted(expected_links("/"))


# --- h2o ------------------------------------------------------------------------------------


@pytest.mark.parametrize("route", ["/", "/docs/", "/about.html"])
def test_h2o_sends_the_manifests_links_and_pushes(h2o: Served, route: str) -> None:
    response = fetch(h2o, route)
    assert response.status == 200
    # The push-only entry (analytics.js, hint: false) is pushed with
    # x-http2-push-only, which h2o strips from the response.
    assert sorted(response.links) == sorted(expected_links(route))
    assert sorted(response.promised) == sorted(PUSHED[route])


def test_h2o_serves_index_html_like_its_directory(h2o: Served) -> None:
    direct = fetch(h2o, "/index.html")
    assert sorted(direct.links) == sorted(expected_links("/"))
    assert sorted(direct.promised) == sorted(PUSHED["/"])


def test_h2o_pattern_rule_becomes_a_regexp(h2o: Served) -> None:
    response = fetch(h2o, "/blog/hello.html")
    assert response.status == 200
    assert response.links == [BLOG_LINK]
    assert response.promised == ["/static/css/blog.css"]


def test_h2o_pushes_all_twelve(h2o: Served) -> None:
    response = fetch(h2o, "/many.html")
    assert sorted(response.promised) == sorted(MANY)
    assert sorted(response.links) == sorted(f"<{p}>; rel=preload; as=style" for p in MANY)


def test_h2o_matches_a_percent_encoded_route(h2o: Served) -> None:
    response = fetch(h2o, "/caf%C3%A9/")
    assert response.status == 200
    assert response.links == ["</static/css/site.css>; rel=preload; as=style"]
    assert response.promised == ["/static/css/site.css"]


def test_h2o_adds_nothing_below_a_route(h2o: Served) -> None:
    # A path-level header.add on "/" would reach every file; the handler is exact.
    asset = fetch(h2o, "/static/css/site.css")
    assert asset.status == 200 and asset.links == [] and asset.promised == []
    below = fetch(h2o, "/docs/nope/")
    assert below.links == [] and below.promised == []
