"""Exports keep a route's Link values within the runtime's byte budget (issue 22 item 4).

A route with 3,000 hints once exported a 138-229 KB Link value in every format,
which nginx and h2o sent as they were and clients refused whole. Each format now
keeps what the runtime keeps (pushgen.hint_budget), says what it left out at the
route's line, and the real nginx and h2o serve the page with the kept values.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from pushgen.export import export_manifest
from pushgen.hint_budget import DEFAULT_MAX_LINK_BYTES
from pushgen.links import route_links
from pushgen.manifest import Manifest, parse_manifest
from pushgen.runtime.certs import DevCertificate, dev_certificate
from tests.clients import ServerProcess, free_port, link_values, nghttp
from tests.export.test_servers import start_server
from tests.server_configs import H2O, NGINX, h2o_conf, nginx_conf

# 3,000 images hinted, not pushed, then the page's stylesheet, pushed: the one entry
# the budget must keep although it comes last.
GALLERY = (
    "version: 1\n"
    "routes:\n"
    "  /small.html:\n"
    "    - {path: /a.css, as: style}\n"
    "  /gallery.html:\n"
    + "".join(
        f"    - {{path: /img/photo-{i:04d}.jpg, as: image, push: false}}\n" for i in range(3000)
    )
    + "    - {path: /last.css, as: style}\n"
)
GALLERY_LINE = 5
LINK_FORMATS = ["netlify", "cloudflare", "firebase", "nginx", "h2o", "apache", "json"]


def gallery() -> Manifest:
    return parse_manifest(GALLERY, "push-manifest.yaml")


def runtime_links() -> tuple[str, ...]:
    """The Link values the runtime sends for the gallery (its own plan, not the exporter's)."""
    return route_links(gallery().assets("/gallery.html")).kept


@pytest.mark.parametrize("fmt", LINK_FORMATS)
def test_every_format_keeps_what_the_runtime_keeps_and_says_what_it_left_out(fmt: str) -> None:
    result = export_manifest(gallery(), fmt, root="/srv/site")
    assert result.ok, result.errors
    # Every image the runtime keeps, and the pushed stylesheet; none it leaves out.
    kept = runtime_links()
    assert "</last.css>; rel=preload; as=style" in kept and 100 < len(kept) < 3000
    assert "/last.css" in result.text
    assert "/img/photo-2999.jpg" not in result.text
    # Was 138,108 (json) to 228,810 (nginx) characters; the 8 KiB of values, plus
    # what each format writes around a value (`add_header Link "...; nopush";`).
    assert len(result.text) < 2 * DEFAULT_MAX_LINK_BYTES
    [budget] = [w for w in result.warnings if "Link values left out" in w.message]
    assert budget.line == GALLERY_LINE and budget.severity == "warning"
    assert str(budget).startswith(
        f"push-manifest.yaml:{GALLERY_LINE}: warning: route /gallery.html: "
        f"{3001 - len(kept):,} of its 3,001 Link values left out (/img/photo-"
    )
    assert "over the 8,192-byte bound (PUSHGEN_MAX_LINK_BYTES)" in budget.message
    assert not any("/small.html" in w.message for w in result.warnings)


def test_the_json_map_holds_exactly_the_runtimes_field() -> None:
    result = export_manifest(gallery(), "json")
    data = json.loads(result.text)
    assert data["/gallery.html"] == ", ".join(runtime_links())
    assert len(data["/gallery.html"]) <= DEFAULT_MAX_LINK_BYTES
    assert data["/small.html"] == "</a.css>; rel=preload; as=style"


def test_a_larger_bound_keeps_more() -> None:
    result = export_manifest(gallery(), "json", max_link_bytes=200_000)
    assert result.cuts == ()
    assert json.loads(result.text)["/gallery.html"].count("rel=preload") == 3001


# --- the real servers ---------------------------------------------------------------


def _serve_root(tmp: Path) -> Path:
    root = tmp / "root"
    root.mkdir()
    (root / "gallery.html").write_text("<!doctype html><title>Gallery</title>\n")
    (root / "small.html").write_text("<!doctype html><title>Small</title>\n")
    (root / "last.css").write_text("p { }\n")
    return root


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> DevCertificate:
    return dev_certificate(tmp_path_factory.mktemp("cert"))


def _nginx(tmp: Path, cert: DevCertificate) -> tuple[list[str], int]:
    assert NGINX is not None
    include = tmp / "pushgen-links.conf"
    include.write_text(export_manifest(gallery(), "nginx").text)
    port = free_port()
    server = f"""listen 127.0.0.1:{port} ssl http2;
        ssl_certificate {cert.certfile};
        ssl_certificate_key {cert.keyfile};
        root {_serve_root(tmp)};
        include {include};"""
    conf = nginx_conf(tmp, server, http="types { text/html html; text/css css; }")
    return [NGINX, "-c", str(conf), "-p", str(tmp)], port


def _h2o(tmp: Path, cert: DevCertificate) -> tuple[list[str], int]:
    assert H2O is not None
    fragment = tmp / "pushgen-paths.yaml"
    fragment.write_text(export_manifest(gallery(), "h2o", root=str(_serve_root(tmp))).text)
    port = free_port()
    ssl = f"    certificate-file: {cert.certfile}\n    key-file: {cert.keyfile}\n"
    conf = h2o_conf(tmp, fragment, port, ssl=ssl + "    ocsp-update-interval: 0\n")
    return [H2O, "-c", str(conf)], port


@pytest.fixture(params=["nginx", "h2o"])
def served(
    request: pytest.FixtureRequest, tmp_path: Path, cert: DevCertificate
) -> Iterator[ServerProcess]:
    if (NGINX if request.param == "nginx" else H2O) is None:
        pytest.skip(f"needs {request.param}")
    argv, port = (_nginx if request.param == "nginx" else _h2o)(tmp_path, cert)
    # The configuration test first: the bounded output is a configuration the server takes.
    checked = subprocess.run(
        [*argv, "-t"], capture_output=True, text=True, timeout=30, cwd=tmp_path, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    server = start_server(argv, tmp_path / "server.log", port)
    yield server
    server.stop(signal.SIGTERM)


@pytest.mark.timeout(60)
def test_nginx_and_h2o_serve_the_gallery_with_the_runtimes_links(served: ServerProcess) -> None:
    # Exported whole, the 3,001 values made a header block of over 138 KB: nghttp
    # reset the stream (INTERNAL_ERROR) and curl over HTTP/2 gave up (exit 56).
    url = served.url.rstrip("/") + "/gallery.html"
    curl = subprocess.run(
        ["curl", "-sSk", "--http2", "-o", "/dev/null", "-w", "%{http_code}", url],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    assert (curl.returncode, curl.stdout) == (0, "200"), curl.stderr
    result = nghttp(url)
    assert result.returncode == 0, result.output[-2000:]
    [request] = [f for f in result.frames if f.direction == "send" and f.type == "HEADERS"]
    [response] = [
        f
        for f in result.received("HEADERS", request.stream_id)
        if f.status is not None and f.status >= 200
    ]
    assert response.status == 200
    values = [re.sub(r"; nopush$", "", part) for part in link_values(response.header_list("link"))]
    assert sorted(values) == sorted(runtime_links())
    assert [f.header(":path") for f in result.received("PUSH_PROMISE")] == ["/last.css"]
