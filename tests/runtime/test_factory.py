"""Serving the built output (through Quart's test client), the app factory, certificates, staleness."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import socket
import time
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from cryptography import x509
from quart import Quart

from pushgen.app import DEFAULT_EARLY_HINTS_DELAY, create_app
from pushgen.commands.serve_site import hints_summary, output_is_stale, serve
from pushgen.config import load_config
from pushgen.errors import ConfigError, ManifestError, PushgenError
from pushgen.quart import Options
from pushgen.runtime.certs import DevCertificate, dev_certificate
from pushgen.runtime.factory import check_output, site_app
from pushgen.runtime.files import content_type
from tests.conftest import OUTPUT_FILES, Site

pytestmark = pytest.mark.anyio


@pytest.fixture
def app(built_site: Site) -> Quart:
    return create_app(built_site.root, environ={})


@pytest.mark.parametrize(
    ("path", "file", "ctype"),
    [
        ("/", "index.html", "text/html; charset=utf-8"),
        ("/index.html", "index.html", "text/html; charset=utf-8"),
        ("/docs/", "docs/index.html", "text/html; charset=utf-8"),
        ("/about.html", "about.html", "text/html; charset=utf-8"),
        ("/static/css/site.css", "static/css/site.css", "text/css; charset=utf-8"),
        ("/static/js/app.js", "static/js/app.js", "text/javascript; charset=utf-8"),
        ("/static/fonts/body.woff2", "static/fonts/body.woff2", "font/woff2"),
        ("/static/img/hero.png", "static/img/hero.png", "image/png"),
        ("/static/img/café.svg", "static/img/café.svg", "image/svg+xml; charset=utf-8"),
        ("/static/data.webp", "static/data.webp", "image/webp"),
        ("/static/alias.css", "static/css/site.css", "text/css; charset=utf-8"),  # link inside
    ],
)
async def test_files_by_url(app: Quart, path: str, file: str, ctype: str) -> None:
    response = await app.test_client().get(path)
    assert response.status_code == 200
    assert await response.get_data() == OUTPUT_FILES[file]
    assert response.headers["Content-Type"] == ctype
    assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_pages_revalidate_and_static_files_are_cached(app: Quart) -> None:
    client = app.test_client()
    page = await client.get("/")
    css = await client.get("/static/css/site.css")
    assert page.headers["Cache-Control"] == "no-cache"
    assert css.headers["Cache-Control"] == "public, max-age=3600"
    assert "Expires" not in page.headers


@pytest.mark.parametrize("path", ["/", "/static/fonts/body.woff2"])
async def test_etag_last_modified_and_304(app: Quart, path: str) -> None:
    client = app.test_client()
    first = await client.get(path)
    etag, last_modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert parsedate_to_datetime(last_modified) <= dt.datetime.now(dt.UTC)
    by_etag = await client.get(path, headers={"If-None-Match": etag})
    by_date = await client.get(path, headers={"If-Modified-Since": last_modified})
    changed = await client.get(path, headers={"If-None-Match": '"other"'})
    assert (by_etag.status_code, by_date.status_code, changed.status_code) == (304, 304, 200)
    assert await by_etag.get_data() == b""


async def test_range_requests(app: Quart) -> None:
    response = await app.test_client().get(
        "/static/fonts/body.woff2", headers={"Range": "bytes=0-3"}
    )
    assert response.status_code == 206
    assert await response.get_data() == b"wOF2"


async def test_a_folder_without_its_slash_redirects(app: Quart) -> None:
    response = await app.test_client().get("/docs", query_string={"q": "1"})
    assert response.status_code == 308
    assert response.headers["Location"] == "/docs/?q=1"


async def test_the_sites_404_page(app: Quart) -> None:
    response = await app.test_client().get("/no/such/page")
    assert response.status_code == 404
    assert await response.get_data() == OUTPUT_FILES["404.html"]
    assert response.headers["Cache-Control"] == "no-cache"


async def test_a_plain_404_without_a_404_page(built_site: Site) -> None:
    (built_site.output / "404.html").unlink()
    response = await create_app(built_site.root, environ={}).test_client().get("/nope")
    assert response.status_code == 404
    assert await response.get_data() == b"404 Not Found\n"


@pytest.mark.parametrize(
    "path",
    [
        "/../pushgen.yaml",  # hypercorn hands the app decoded paths: %2e%2e arrives as ..
        "/static/../../pushgen.yaml",
        "/static/../../templates/base.html",
        "/pushgen.yaml",
        "/templates/base.html",
        "/.secret",
        "/static/.hidden/x.css",
        "/static/leak.txt",  # a symbolic link to a source file
        "/static\\..\\..\\pushgen.yaml",
        "/static/css/site.css\x00.html",
        "//etc/passwd",
        "/static//css/site.css",
    ],
)
async def test_nothing_outside_the_output_and_no_dotfiles(app: Quart, path: str) -> None:
    response = await app.test_client().get(path)
    assert response.status_code == 404
    body = await response.get_data()
    assert b"SOURCE-ONLY" not in body and b"secret" not in body and b"hidden" not in body


async def test_only_get_and_head(app: Quart) -> None:
    client = app.test_client()
    head = await client.head("/static/css/site.css")
    post = await client.post("/")
    assert head.status_code == 200
    assert head.headers["Content-Length"] == str(len(OUTPUT_FILES["static/css/site.css"]))
    assert post.status_code == 405


async def test_pretty_urls(built_site: Site) -> None:
    app = site_app(built_site.output, pretty_urls=True)
    plain = site_app(built_site.output)
    assert (await app.test_client().get("/about")).status_code == 200
    assert (await plain.test_client().get("/about")).status_code == 404


async def test_base_path(built_site: Site) -> None:
    app = site_app(built_site.output, base_path="/blog/")
    client = app.test_client()
    assert (await client.get("/blog/")).status_code == 200
    assert (await client.get("/blog/static/css/site.css")).status_code == 200
    assert (await client.get("/static/css/site.css")).status_code == 404
    redirect = await client.get("/blog/docs")
    assert (redirect.status_code, redirect.headers["Location"]) == (308, "/blog/docs/")


# --- refusing to serve sources ------------------------------------------------------


def test_refuses_the_site_folder_as_output(built_site: Site) -> None:
    with pytest.raises(PushgenError, match="contains the site's sources"):
        check_output(load_config(built_site.root, output=built_site.root))
    with pytest.raises(PushgenError, match="contains the site's sources"):
        check_output(load_config(built_site.root, output=built_site.root.parent))


def test_refuses_an_output_holding_a_pushgen_yaml(built_site: Site) -> None:
    (built_site.output / "pushgen.yaml").write_text("context: {}\n")
    with pytest.raises(PushgenError, match="looks like a site folder"):
        create_app(built_site.root, environ={})


def test_missing_output_says_to_build(tmp_path: Path) -> None:
    with pytest.raises(PushgenError, match="run `pushgen build"):
        create_app(tmp_path, environ={})


# --- the factory and its environment ------------------------------------------------


async def test_factory_reads_the_environment(built_site: Site) -> None:
    app = create_app(
        environ={
            "PUSHGEN_SITE": str(built_site.root),
            "PUSHGEN_MAX_PUSHES": "1",
            "PUSHGEN_LINK_HEADERS": "0",
            "PUSHGEN_STATIC_MAX_AGE": "60",
        }
    )
    client = app.test_client()
    response = await client.get("/", http_version="2")
    assert [p for p, _ in client.push_promises] == built_site.pushed["/"][:1]
    assert "Link" not in response.headers
    assert (await client.get("/static/js/app.js")).headers["Cache-Control"] == "public, max-age=60"


async def test_factory_output_and_manifest_from_the_environment(
    built_site: Site, tmp_path: Path
) -> None:
    moved = tmp_path / "elsewhere"
    built_site.output.rename(moved)
    manifest = built_site.manifest.rename(tmp_path / "m.yaml")
    app = create_app(
        built_site.root,
        environ={"PUSHGEN_OUTPUT": str(moved), "PUSHGEN_MANIFEST": str(manifest)},
    )
    client = app.test_client()
    assert (await client.get("/docs/", http_version="2")).status_code == 200
    assert [p for p, _ in client.push_promises] == built_site.pushed["/docs/"]


def early_hints_delay(app: Quart) -> float:
    delay: float = app.extensions["pushgen"].options.early_hints_delay
    return delay


def test_factory_early_hints_delay_argument_then_environment_then_default(
    built_site: Site,
) -> None:
    env = {"PUSHGEN_EARLY_HINTS_DELAY": " 0.5 "}
    # A 103 at once: decided in Chromium (issue 27, see the constant).
    assert early_hints_delay(create_app(built_site.root, environ={})) == 0.0
    assert DEFAULT_EARLY_HINTS_DELAY == 0.0
    assert early_hints_delay(create_app(built_site.root, environ=env)) == 0.5
    assert (
        early_hints_delay(create_app(built_site.root, environ={"PUSHGEN_EARLY_HINTS_DELAY": "0"}))
        == 0
    )
    assert early_hints_delay(create_app(built_site.root, early_hints_delay=0, environ=env)) == 0


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("PUSHGEN_PUSH", "maybe", "must be 1 or 0"),
        ("PUSHGEN_MAX_PUSHES", "ten", "must be a whole number >= 0"),
        ("PUSHGEN_MAX_PUSHES", "1.5", "must be a whole number >= 0"),
        ("PUSHGEN_RELOAD_INTERVAL", "-1", "must be a number >= 0"),
        ("PUSHGEN_EARLY_HINTS_DELAY", "-0.002", "must be a number >= 0"),
        ("PUSHGEN_EARLY_HINTS_DELAY", "2ms", "must be a number"),
        ("PUSHGEN_EARLY_HINTS_DELAY", "nan", "must be a number"),
    ],
)
def test_factory_rejects_bad_environment_values(
    built_site: Site, name: str, value: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=f"environment variable {name}=.*{message}"):
        create_app(built_site.root, environ={name: value})


def test_factory_rejects_a_bad_early_hints_delay_argument(built_site: Site) -> None:
    with pytest.raises(
        ConfigError, match="PUSHGEN_EARLY_HINTS_DELAY must be a number >= 0, not -1"
    ):
        create_app(built_site.root, early_hints_delay=-1, environ={})


@pytest.mark.parametrize(
    ("options", "line"),
    [
        (
            {},
            "103 Early Hints when a page takes over 2 ms (--early-hints-delay 0: always);"
            " Link headers; push (at most 10 a page)",
        ),
        ({"early_hints_delay": 0.25}, "103 Early Hints when a page takes over 250 ms"),
        ({"early_hints_delay": 0.0}, "103 Early Hints on every page, at once;"),
        (
            {"early_hints": False, "link_headers": False, "push": False},
            "no 103 Early Hints; no Link headers; no push",
        ),
    ],
)
def test_the_startup_line_says_how_hints_are_delivered(
    options: dict[str, object], line: str
) -> None:
    resolved = Options(manifest=Path("m.yaml"), **{"early_hints_delay": 0.002, **options})  # type: ignore[arg-type]
    assert hints_summary(resolved).startswith(line)


def test_factory_reports_a_broken_manifest_with_its_line(built_site: Site) -> None:
    built_site.manifest.write_text("version: 1\nroutes:\n  /:\n    - {path: a.css, as: style}\n")
    with pytest.raises(ManifestError, match=r"push-manifest\.yaml:4:\d+: error: path 'a.css'"):
        create_app(built_site.root, environ={})


# --- content types ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.js", "text/javascript"),
        ("a.mjs", "text/javascript"),
        ("a.woff2", "font/woff2"),
        ("a.svg", "image/svg+xml"),
        ("a.webp", "image/webp"),
        ("a.avif", "image/avif"),
        ("a.CSS", "text/css"),
        ("a.pdf", "application/pdf"),
        ("noext", "application/octet-stream"),
    ],
)
def test_content_type(name: str, expected: str) -> None:
    assert content_type(name) == expected


# --- the development certificate ----------------------------------------------------


def test_dev_certificate_is_made_once_and_reused(tmp_path: Path) -> None:
    first = dev_certificate(tmp_path)
    second = dev_certificate(tmp_path)
    assert first.created and not second.created
    assert first.certfile == second.certfile
    assert oct(first.keyfile.stat().st_mode & 0o777) == "0o600"
    cert = x509.load_pem_x509_certificate(first.certfile.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    assert san.get_values_for_type(x509.IPAddress) == [
        ipaddress.ip_address("127.0.0.1"),
        ipaddress.ip_address("::1"),
    ]


def test_dev_certificate_is_replaced_near_its_end_or_when_damaged(tmp_path: Path) -> None:
    first = dev_certificate(tmp_path)
    later = dev_certificate(tmp_path, now=first.not_after - dt.timedelta(days=1))
    assert later.created
    later.keyfile.write_bytes(b"garbage")
    assert dev_certificate(tmp_path).created


def test_dev_certificate_defaults_to_the_xdg_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert dev_certificate().certfile.parent == tmp_path / "pushgen"


# --- staleness -------------------------------------------------------------------------


def test_stale_when_a_source_is_newer_or_the_output_missing(built_site: Site) -> None:
    config = load_config(built_site.root)
    assert not output_is_stale(config)
    future = time.time() + 60
    os.utime(built_site.root / "templates" / "base.html", (future, future))
    assert output_is_stale(config)
    os.utime(built_site.root / "templates" / "base.html", (0, 0))
    built_site.manifest.unlink()
    assert output_is_stale(config)


# --- serve() refusing to start -------------------------------------------------------


def test_serve_without_an_output_and_no_build_returns_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pages").mkdir()  # a site, never built
    assert serve(tmp_path, build_if_stale=False, port=0) == 1
    assert "run `pushgen build" in capsys.readouterr().err


def test_serve_of_a_folder_that_is_not_a_site_returns_1_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert serve(tmp_path, build_if_stale=False, port=0) == 1
    assert "not a pushgen site" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_serve_needs_cert_and_key_together(
    built_site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    assert serve(built_site.root, certfile=built_site.manifest, build_if_stale=False, port=0) == 1
    assert "both a certificate and its key" in capsys.readouterr().err


def test_serve_reports_a_port_in_use(
    built_site: Site, dev_cert: DevCertificate, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code = serve(
            built_site.root,
            port=port,
            certfile=dev_cert.certfile,
            keyfile=dev_cert.keyfile,
            build_if_stale=False,
        )
    assert code == 1
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in capsys.readouterr().err


def test_serve_reports_an_unusable_certificate(
    built_site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = built_site.root / "bad.pem"
    bad.write_text("not a certificate")
    assert serve(built_site.root, certfile=bad, keyfile=bad, build_if_stale=False, port=0) == 1
    assert "cannot use the certificate" in capsys.readouterr().err


def test_serve_reports_a_bad_early_hints_delay(
    built_site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    code = serve(built_site.root, early_hints_delay=float("nan"), build_if_stale=False, port=0)
    assert code == 1
    assert "PUSHGEN_EARLY_HINTS_DELAY must be a number >= 0, not nan" in capsys.readouterr().err
