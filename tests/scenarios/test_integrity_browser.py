"""Issue 25 item 1 in Chromium: a file the page fetches with Subresource Integrity is
fetched once, by the hint, when the hint carries the element's ``integrity``.

Hugo's ``fingerprint`` (and webpack's and Vite's SRI plugins) write
``integrity="sha256-..." crossorigin="anonymous"`` on stylesheets and scripts. A
preload without that integrity is not used for the element's fetch: Chromium logs "A
preload for '...' is found, but is not used due to an integrity mismatch" and fetches
the file again. A small folder site with such elements is scanned (``pushgen scan``)
and served as it is (``pushgen serve --folder``: HTTP/2, TLS, 103 and Link header);
each page is opened cold in Debian's Chromium (tests/browser_harness.py).

Both ways a hint reaches Chromium are checked apart, because each is a decision in
pushgen/links.py: a 103 sent at once (the preloads start from it, Resource Timing's
initiatorType "early-hints"), and the Link header of the 200 alone (a 103 delay longer
than the page takes, so none is sent; initiatorType "link").
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pushgen.cli import main
from pushgen.manifest import load_manifest
from pushgen.runtime.certs import DevCertificate
from tests.browser_harness import PageLoad, chromium, load_page, pushgen_serve, trust_args
from tests.sites import write_site

pytestmark = [pytest.mark.timeout(240)]

CSS = b"body { color: #222; font-family: sans-serif; }\n"
JS = b"document.documentElement.dataset.classic = 'ran';\n"
MODULE = b"document.documentElement.dataset.module = 'ran';\n"


def sri(data: bytes, algorithm: str = "sha256") -> str:
    digest = hashlib.new(algorithm, data).digest()
    return f"{algorithm}-{base64.b64encode(digest).decode()}"


# As Hugo's templates write them: fingerprinted names, integrity, crossorigin.
PAGE = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{{title}}</title>
<link rel="stylesheet" href="{{prefix}}/css/site.min.abc123.css" integrity="{sri(CSS)}" crossorigin="anonymous">
<script src="{{prefix}}/js/app.min.def456.js" integrity="{sri(JS, "sha384")}" crossorigin="anonymous"></script>
<script type="module" src="{{prefix}}/js/main.789.js" integrity="{sri(MODULE, "sha512")}"></script>
</head><body><h1>{{title}}</h1><p>Text.</p></body></html>
"""
FILES = {
    "/css/site.min.abc123.css": CSS,
    "/js/app.min.def456.js": JS,
    "/js/main.789.js": MODULE,
}
ROUTES = ("/", "/second.html")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("integrity")
    site = root / "public"
    for path, data in FILES.items():
        (site / path.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
        (site / path.lstrip("/")).write_bytes(data)
    (site / "index.html").write_text(PAGE.format(title="Home", prefix=""), encoding="utf-8")
    (site / "second.html").write_text(PAGE.format(title="Second", prefix=""), encoding="utf-8")
    assert main(["scan", str(site), "-m", str(root / "push-manifest.yaml"), "-q"]) == 0
    return site


@pytest.fixture(scope="module")
def browser(dev_cert: DevCertificate) -> Iterator[Any]:
    """Chromium trusting the development certificate (else it ignores a 103)."""
    with chromium(trust_args(dev_cert.certfile)) as instance:
        yield instance


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same pages as a pushgen site: its templates carry integrity as written."""
    files: dict[str, str | bytes] = {
        "pages/index.html": PAGE.format(title="Home", prefix="/static"),
        "pages/second.html": PAGE.format(title="Second", prefix="/static"),
        "templates/.keep": "",
    }
    files.update({f"static{path}": data for path, data in FILES.items()})
    site = write_site(tmp_path_factory.mktemp("integrity-built") / "site", files)
    assert main(["build", str(site), "-q"]) == 0
    return site


def serve_and_load(
    folder: Path,
    browser: Any,
    cache_dir: Path,
    delay: str,
    route: str,
    args: tuple[str, ...] = (),
    prefix: str = "",
) -> PageLoad:
    """Serve ``folder`` with ``pushgen serve ARGS`` (by default ``--folder``) and open
    ``route`` cold, past Chromium's unused-preload warning (3 s after load)."""
    manifest = folder.parent / "push-manifest.yaml"
    args = (*(args or ("--folder", "-m", str(manifest))), "--early-hints-delay", delay)
    env = {"XDG_CACHE_HOME": str(cache_dir)}
    server = pushgen_serve(folder, folder.parent / f"serve-{delay}.log", env, args)
    try:
        origin = f"https://localhost:{server.port}"
        load_page(browser, origin, ROUTES[1])  # a fresh server's first load is slower
        if delay != "0":
            return load_page(browser, origin, route, linger_ms=5000)
        # Chromium acts on a 103 only when it sees it before the final response; on a
        # loopback server answering in a millisecond, on a busy machine, it sometimes
        # does not (tests/scenarios/test_browser.py), and the Link header of the 200
        # makes the preloads instead. Each visit is held to "fetched once"; up to five
        # visits show the 103's preloads at work.
        for _attempt in range(5):
            loaded = load_page(browser, origin, route, linger_ms=5000)
            if "early-hints" in loaded.initiator_types.values():
                break
            assert_fetched_once(loaded, prefix)
        return loaded
    finally:
        server.stop()


def test_the_scan_writes_each_elements_integrity_into_the_manifest(folder: Path) -> None:
    manifest = load_manifest(folder.parent / "push-manifest.yaml")
    for route in ROUTES:
        entries = {a.path: a for a in manifest.routes[route]}
        assert entries["/css/site.min.abc123.css"].integrity == sri(CSS)
        assert entries["/js/app.min.def456.js"].integrity == sri(JS, "sha384")
        assert entries["/js/main.789.js"].integrity == sri(MODULE, "sha512")
        assert all(entries[path].hint for path in FILES)


@pytest.mark.parametrize(
    ("delay", "initiator"),
    [
        pytest.param("0", "early-hints", id="103-early-hints"),
        pytest.param("30", "link", id="link-header-alone"),
    ],
)
def test_each_file_with_integrity_is_fetched_once_by_its_hint(
    folder: Path, browser: Any, cache_dir: Path, delay: str, initiator: str
) -> None:
    loaded = serve_and_load(folder, browser, cache_dir, delay, "/")
    assert_fetched_once_by_the_hint(loaded, initiator)


def test_a_pushgen_site_whose_templates_carry_integrity_is_served_the_same(
    built: Path, browser: Any, cache_dir: Path
) -> None:
    manifest = load_manifest(built / "push-manifest.yaml")
    entries = {a.path: a for a in manifest.routes["/"]}
    assert entries["/static/css/site.min.abc123.css"].integrity == sri(CSS)
    loaded = serve_and_load(
        built, browser, cache_dir, "0", "/", args=("--no-build",), prefix="/static"
    )
    assert_fetched_once_by_the_hint(loaded, "early-hints", prefix="/static")


def assert_fetched_once(loaded: PageLoad, prefix: str) -> None:
    """Each file was fetched once, and Chromium refused no preload."""
    files = [prefix + path for path in FILES]
    assert loaded.status == 200
    assert {path: loaded.requests[path] for path in files} == dict.fromkeys(files, 1), (
        loaded.requests
    )
    refused = [t for t in loaded.warnings if "integrity" in t or "not used" in t]
    assert refused == [], loaded.console
    assert loaded.unused_preloads == []
    assert loaded.errors == []


def assert_fetched_once_by_the_hint(loaded: PageLoad, initiator: str, prefix: str = "") -> None:
    assert_fetched_once(loaded, prefix)
    files = [prefix + path for path in FILES]
    # The hint made the one fetch, and the element used it. A modulepreload from the
    # Link header alone is reported by Resource Timing as the module script's own
    # fetch ("script"), with or without integrity (checked: the same without it), so
    # that one is held to "fetched once, no warning" only.
    initiators = {path: loaded.initiator_types.get(path) for path in files}
    if initiator == "link":
        initiators.pop(prefix + "/js/main.789.js")
    assert initiators == dict.fromkeys(initiators, initiator), loaded.initiator_types
