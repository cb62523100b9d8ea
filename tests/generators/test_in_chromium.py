"""Issue 25's "done when", per generator: every page loaded cold in Chromium under ``pushgen serve --folder``.

For each real generator of tests/generators (built and scanned once per session),
tests/generators/chromium_check.py loads every page from a plain server (what
Chromium blocks on) and from ``pushgen serve --folder`` (what the manifest
announced, and what Chromium then did). Four verdicts, one test each, so that a
known cause fails only its own: 100% of the render-blocking assets pushed or
hinted; no pushed or hinted entry left unfetched; no "preloaded but not used" or
"integrity mismatch" message; no URL fetched twice.

Failures that other parts of issue 25 fix are marked ``xfail(strict=True)`` on
that generator only (the reason names the item), so the fix's merge turns them
into passes and the marker is then removed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pushgen.runtime.certs import DevCertificate
from tests.browser_harness import chromium, trust_args
from tests.generators.builders import Built
from tests.generators.chromium_check import SiteCheck, check_site

pytestmark = pytest.mark.timeout(900)

GENERATORS = ("sphinx", "mkdocs", "hugo", "sphinx-book", "vitepress", "docusaurus")


def _known(reasons: dict[str, str]) -> list[Any]:
    """The generators, with ``xfail(strict=True)`` on those a known cause (issue 25 item) fails."""
    return [
        pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=reasons[name]))
        if name in reasons
        else name
        for name in GENERATORS
    ]


# Module scope: a sync Playwright left open would make the next module's fail
# ("Sync API inside the asyncio loop").
@pytest.fixture(scope="module")
def browser(dev_cert: DevCertificate) -> Iterator[Any]:
    with chromium(trust_args(dev_cert.certfile)) as instance:
        yield instance


@pytest.fixture(scope="module")
def checked(
    built: Callable[[str], Built],
    browser: Any,
    cache_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[[str], SiteCheck]:
    """``checked(name)``: that generator's site checked in Chromium, once for this module."""
    done: dict[str, SiteCheck] = {}
    work = tmp_path_factory.mktemp("chromium-check")

    def check(name: str) -> SiteCheck:
        if name not in done:
            done[name] = check_site(browser, built(name), work, {"XDG_CACHE_HOME": str(cache_dir)})
            print(f"\n{done[name].row()}\n{done[name].details()}")
        return done[name]

    return check


# The causes other helpers of issue 25 fix (the item's number, then the cause).
SRI = "issue 25 item 1: integrity is dropped from the hints, Chromium refuses the preloads"
MACROS = "issue 25 item 4: Jinja macro files in _static/ become routes (their {{ pathto }} URLs)"


@pytest.mark.parametrize("name", _known({}))
def test_every_render_blocking_asset_is_pushed_or_hinted(
    checked: Callable[[str], SiteCheck], name: str
) -> None:
    site = checked(name)
    assert site.blocking > 0  # the pages did block on something: the check checked
    assert {p.route: sorted(p.missing) for p in site.pages if p.missing} == {}


@pytest.mark.parametrize("name", _known({}))
def test_every_pushed_or_hinted_entry_is_fetched(
    checked: Callable[[str], SiteCheck], name: str
) -> None:
    site = checked(name)
    assert {p.route: sorted(p.unused) for p in site.pages if p.unused} == {}


@pytest.mark.parametrize("name", _known({}))
def test_no_preload_is_refused_or_left_unused(
    checked: Callable[[str], SiteCheck], name: str
) -> None:
    site = checked(name)
    assert {p.route: p.messages for p in site.pages if p.messages} == {}


@pytest.mark.parametrize("name", _known({}))
def test_nothing_is_downloaded_twice(checked: Callable[[str], SiteCheck], name: str) -> None:
    site = checked(name)
    assert {p.route: dict(p.doubles) for p in site.pages if p.doubles} == {}
