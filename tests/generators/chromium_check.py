"""One generator's built site against Chromium: what it blocks on, and what pushgen announced.

The check the suite (tests/generators/test_in_chromium.py) and the table
(bench/generators_bench.py) share. Every page of the site is loaded cold twice:

1. from a plain static server (HTTP/1.1, no hints): what the page itself makes
   Chromium fetch, and which of those block the first render. A stylesheet or
   script counts when Chromium's Resource Timing says ``renderBlockingStatus:
   "blocking"`` (https://w3c.github.io/resource-timing/#dom-performanceresourcetiming-renderblockingstatus:
   the parser or the first paint waited for it); a font counts when the first
   render fetched it (fonts are fetched only when text uses them);
2. from ``pushgen serve --folder`` (Hypercorn, HTTP/2, TLS trusted through the
   SPKI flag, a 103 and Link headers from the scan's manifest), kept open past
   Chromium's unused-preload warning: which announced entries it never fetched,
   which URLs it fetched more often than the plain load did (a hint it could not
   use, then the element's own fetch), and what its console said about preloads
   and integrity.

A folder built for a sub-path (VitePress' ``base: '/docs/'``) is served at that
path by both servers (the static one through a link named after the prefix).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pushgen.manifest import Manifest
from pushgen.verify.browser import UNUSED_PRELOAD_AFTER_MS, Fetched, PageLoad, load_page
from tests.browser_harness import StaticServer, pushgen_serve
from tests.generators.builders import Built

# Console texts Chromium logs for a hint it could not use (a preload that no
# element took, or one whose integrity did not match the element's).
PRELOAD_MESSAGES = ("preloaded using link preload but not used", "integrity mismatch")


@dataclass(frozen=True)
class PageCheck:
    """One page: what Chromium needed, and what the served page announced and fetched."""

    route: str
    blocking: frozenset[str]  # render-blocking stylesheets and scripts, fonts of the first render
    announced: frozenset[str]  # pushed or hinted by the manifest for the route
    unused: frozenset[str]  # announced, never fetched under pushgen serve
    messages: tuple[str, ...]  # unused-preload and integrity-mismatch console messages
    doubles: Mapping[str, int]  # URL -> times fetched, when more often than the plain load did
    requests: int  # same-origin requests under pushgen serve (the page's own included)
    needed: int  # distinct same-origin URLs the plain load requested (the page's own included)

    @property
    def missing(self) -> frozenset[str]:
        """Render-blocking assets neither pushed nor hinted."""
        return self.blocking - self.announced


@dataclass(frozen=True)
class SiteCheck:
    """Every page of one generator's site."""

    name: str
    pages: tuple[PageCheck, ...]

    @property
    def blocking(self) -> int:
        return sum(len(p.blocking) for p in self.pages)

    @property
    def blocking_found(self) -> int:
        return sum(len(p.blocking & p.announced) for p in self.pages)

    @property
    def unused(self) -> int:
        return sum(len(p.unused) for p in self.pages)

    @property
    def messages(self) -> int:
        return sum(len(p.messages) for p in self.pages)

    @property
    def doubles(self) -> int:
        return sum(n - 1 for p in self.pages for n in p.doubles.values())

    @property
    def requests(self) -> int:
        return sum(p.requests for p in self.pages)

    @property
    def needed(self) -> int:
        return sum(p.needed for p in self.pages)

    def row(self) -> str:
        """The site's line of the table in docs/performance.md."""
        return (
            f"| {self.name} | {len(self.pages)} | {self.blocking_found}/{self.blocking} | "
            f"{self.unused} | {self.messages} | {self.doubles} | {self.requests}/{self.needed} |"
        )

    def details(self) -> str:
        """Per page, what failed (for an assertion message or the bench's log)."""
        return "\n".join(
            f"{p.route}: missing {sorted(p.missing)}; unused {sorted(p.unused)}; "
            f"messages {[m[:120] for m in p.messages]}; doubles {dict(p.doubles)}"
            for p in self.pages
            if p.missing or p.unused or p.messages or p.doubles
        )


TABLE_HEADER = (
    "| site | pages | render-blocking pushed or hinted / needed | announced, never fetched |"
    " preload and integrity messages | double downloads | requests / needed |\n"
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
)


def render_blocking(fetched: list[Fetched]) -> frozenset[str]:
    return frozenset(
        f.path
        for f in fetched
        if f.resource_type == "Font"
        or (f.resource_type in ("Stylesheet", "Script") and f.render_blocking == "blocking")
    )


def served_root(site: Built, work: Path) -> Path:
    """The folder a plain server serves so that the site is at its base path."""
    if site.base_path == "/":
        return site.folder
    root = work / f"{site.name}-static-root"
    link = root / site.base_path.strip("/")
    if not link.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(site.folder, target_is_directory=True)
    return root


def _page(route: str, plain: PageLoad, served: PageLoad, manifest: Manifest) -> PageCheck:
    announced = {a.path for a in manifest.assets(route) if a.push or a.hint}
    return PageCheck(
        route=route,
        blocking=render_blocking(plain.fetched),
        announced=frozenset(announced),
        unused=frozenset(announced - served.paths),
        messages=tuple(
            text for text in served.warnings if any(m in text for m in PRELOAD_MESSAGES)
        ),
        # Counted against the plain load: Docusaurus' runtime fetches some chunks twice
        # by itself (a prefetch, then the script), hints or not.
        doubles={u: n for u, n in served.duplicates.items() if n > max(1, plain.requests[u])},
        requests=sum(served.requests.values()),
        needed=len(plain.requests),
    )


def check_site(browser: Any, site: Built, work: Path, env: Mapping[str, str]) -> SiteCheck:
    """Load every route of ``site``'s manifest cold, plain then served (see the module's docstring).

    ``browser`` trusts pushgen's development certificate (``trust_args``);
    ``env`` holds the ``XDG_CACHE_HOME`` where that certificate is.
    """
    manifest = site.manifest
    routes = sorted(manifest.routes)
    with StaticServer(served_root(site, work)) as server:
        plain = {route: load_page(browser, server.origin, route) for route in routes}
    args = ["--folder", "-m", str(site.manifest_path), "--early-hints-delay", "0"]
    if site.base_path != "/":
        args += ["--base-path", site.base_path]
    served = pushgen_serve(site.folder, work / f"{site.name}-serve.log", env, tuple(args))
    try:
        origin = f"https://localhost:{served.port}"
        load_page(browser, origin, routes[0])  # a fresh server's first page is slower
        pages = tuple(
            _page(
                route,
                plain[route],
                load_page(browser, origin, route, after_load_ms=UNUSED_PRELOAD_AFTER_MS + 500),
                manifest,
            )
            for route in routes
        )
    finally:
        served.stop()
    assert "Traceback" not in served.log(), served.log()
    return SiteCheck(site.name, pages)
