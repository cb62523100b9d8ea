"""Issue 15 in Chromium: what pushgen hints is what the page uses, fetched once.

A small site is built and served with ``pushgen serve`` (HTTP/2, TLS, a 103
before every page, Link headers); each page is opened in a fresh context of
Debian's Chromium and its network log and console are recorded
(tests/browser_harness.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pushgen.cli import main
from pushgen.manifest import load_manifest
from pushgen.runtime.certs import DevCertificate
from tests.browser_harness import PageLoad, chromium, load_page, pushgen_serve, trust_args
from tests.clients import ServerProcess
from tests.sites import write_site

pytestmark = [pytest.mark.timeout(240)]


# A page whose icon is only an icon (site_example's favicon is also an <img>).
PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Precision</title>
<link rel="icon" href="/static/icon.png" type="image/png">
<link rel="stylesheet" href="/static/site.css">
</head><body><h1>Precision</h1><p>Text.</p></body></html>
"""
# A responsive hero: at Chromium's default 1280 px viewport, sizes=100vw picks 1440w.
HERO = """<!doctype html>
<html><head><meta charset="utf-8"><title>Hero</title>
<link rel="stylesheet" href="/static/site.css">
</head><body><h1>Hero</h1>
<img src="/static/hero-480.png" alt="" width="1440" height="480" sizes="100vw"
     srcset="/static/hero-480.png 480w, /static/hero-960.png 960w, /static/hero-1440.png 1440w">
</body></html>
"""
# Four faces, of which the page uses two: regular and bold of "Text" (body, h1).
FONTS_CSS = """
@font-face { font-family: Text; src: url(/static/fonts/text.woff2) format("woff2"); }
@font-face { font-family: Text; font-weight: 700; src: url(/static/fonts/text-bold.woff2) format("woff2"); }
@font-face { font-family: Text; font-style: italic; src: url(/static/fonts/text-italic.woff2) format("woff2"); }
@font-face { font-family: Other; src: url(/static/fonts/other.woff2) format("woff2"); }
body { font-family: Text, sans-serif; }
.aside { font-family: Other, sans-serif; }
"""
FONTS_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Fonts</title>
<link rel="stylesheet" href="/static/fonts.css">
</head><body><h1>Fonts</h1><p>Text in the regular face.</p></body></html>
"""
FONT_FILES = Path(__file__).parents[2] / "site_example" / "static" / "fonts"
# A 1x1 PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8ffff3f0005fe02fea7d6a4b5"
    "0000000049454e44ae426082"
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = write_site(
        tmp_path_factory.mktemp("precision") / "site",
        {
            "pages/index.html": PAGE,
            "templates/.keep": "",
            "static/site.css": "body{color:#222}\n",
            "static/icon.png": PNG,
            "pages/hero.html": HERO,
            **{f"static/hero-{w}.png": PNG for w in (480, 960, 1440)},
            "pages/fonts.html": FONTS_PAGE,
            "static/fonts.css": FONTS_CSS,
            **{
                f"static/fonts/{name}.woff2": (FONT_FILES / source).read_bytes()
                for name, source in (
                    ("text", "dejavu-sans.woff2"),
                    ("text-bold", "dejavu-sans-bold.woff2"),
                    ("text-italic", "dejavu-sans.woff2"),
                    ("other", "dejavu-sans-bold.woff2"),
                )
            },
        },
    )
    assert main(["build", str(site)]) == 0
    return site


@pytest.fixture(scope="module")
def server(site: Path, cache_dir: Path, dev_cert: DevCertificate) -> Iterator[ServerProcess]:
    env = {"XDG_CACHE_HOME": str(cache_dir)}
    served = pushgen_serve(site, site.parent / "serve.log", env, ("--early-hints-delay", "0"))
    yield served
    served.stop()


@pytest.fixture(scope="module")
def browser(dev_cert: DevCertificate) -> Iterator[Any]:
    """Chromium trusting the development certificate (else it ignores a 103)."""
    with chromium(trust_args(dev_cert.certfile)) as instance:
        yield instance


def load(browser: Any, server: ServerProcess, route: str) -> PageLoad:
    """Open ``route`` cold, and keep it open past Chromium's unused-preload warning.

    Chromium reports an unused preload a few seconds after the load event
    (third_party/blink/renderer/core/loader/preload_helper.cc warns 3 s after
    load), so the page stays open past that before the context closes.
    """
    return load_page(browser, f"https://localhost:{server.port}", route, linger_ms=5000)


def test_the_favicon_is_fetched_once_and_never_reported_as_an_unused_preload(
    server: ServerProcess,
    browser: Any,
) -> None:
    loaded = load(browser, server, "/")
    assert loaded.unused_preloads == []
    assert loaded.requests["/static/icon.png"] <= 1, loaded.requests


def test_the_lcp_candidate_the_hint_preloads_is_the_one_the_page_uses(
    server: ServerProcess,
    browser: Any,
) -> None:
    loaded = load(browser, server, "/hero.html")
    heroes = {path: n for path, n in loaded.requests.items() if path.startswith("/static/hero-")}
    # One candidate, fetched once, and by the hint (a 103 or the Link header), not by <img>.
    assert heroes == {"/static/hero-1440.png": 1}, loaded.requests
    assert loaded.initiator_types["/static/hero-1440.png"] in ("early-hints", "link")
    assert loaded.unused_preloads == []


def test_the_fonts_pushed_and_hinted_are_the_fonts_chromium_fetches(
    site: Path,
    server: ServerProcess,
    browser: Any,
) -> None:
    manifest = load_manifest(site / "push-manifest.yaml")
    fonts = [a for a in manifest.routes["/fonts.html"] if a.destination == "font"]
    announced = {a.path for a in fonts if a.hint}
    assert {a.path for a in fonts if a.push} == announced  # both certainly used: pushed
    assert announced == {"/static/fonts/text.woff2", "/static/fonts/text-bold.woff2"}
    # The other two are listed, for rules, never announced.
    assert {a.path for a in fonts if not a.hint} == {
        "/static/fonts/text-italic.woff2",
        "/static/fonts/other.woff2",
    }
    loaded = load(browser, server, "/fonts.html")
    fetched = {path: n for path, n in loaded.requests.items() if path.startswith("/static/fonts/")}
    assert fetched == dict.fromkeys(announced, 1), loaded.requests
    assert loaded.unused_preloads == []
