"""What a build returns, for every source: its pages with their assets, the manifest,
diagnostics and phase times (a site's build, a built folder's scan, an app's build)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..config import SiteConfig
from ..errors import Diagnostic, counted
from ..manifest import Manifest
from ..model import Asset
from ..outcome import summary_line
from .render import Page

__all__ = ["PHASES", "BuildResult", "PageResult"]

# The phases BuildResult.phases times: what bench/profile_build.py breaks a build into.
PHASES = (
    "read",  # the manifest on disk, finding the pages, the output checks
    "state",  # loading the previous build's state, scanning the templates
    "staging",  # clearing what killed builds left, the staging folder
    "choose",  # the pages to render (incremental: what changed)
    "render",  # render, write and scan the pages (in workers or here)
    "static",  # copying the static files (beside "render", so inside its time)
    "resolve",  # stylesheets, modules and every page's assets
    "manifest",  # hand rules checked, the new routes put into the manifest text
    "precompress",  # brotli and gzip siblings of the static text files
    "swap",  # the manifest staged, the output swapped in, the spare updated
    "save",  # the schema and the state for the next build
)


@dataclass(frozen=True, slots=True)
class PageResult:
    """One page after the build: where it is served and the assets it needs, in order."""

    route: str
    assets: tuple[Asset, ...]
    page: Page | None = None  # a site's page (its source and output); None for other sources


@dataclass(slots=True)
class BuildResult:
    """What a build produced and found, whatever the source (the one outcome of every build)."""

    config: SiteConfig
    manifest: Manifest
    pages: list[PageResult]
    diagnostics: list[Diagnostic]
    seconds: float
    static_files: int = 0
    written: bool = False
    manifest_text: str = ""
    # Pages rendered by this build (fewer than all when it was incremental).
    rendered: int = 0
    # Pages resolved (their assets found again), and those whose fonts were traced.
    resolved: int = 0
    traced: int = 0
    # Wall-clock seconds of a site build's phases, in order (see PHASES); the static
    # files are copied during "render" (beside it), so "static" overlaps it. Other
    # sources report their phases to progress only: empty.
    phases: dict[str, float] = field(default_factory=dict)
    unchanged: bool = False  # a rebuild that rendered, copied and changed nothing
    # Pages the source found but left out of the manifest (unreadable, over a bound).
    left_out: int = 0
    # .html files a scan found that are templates, not pages (scan/page_kind.py).
    not_pages: int = 0

    @property
    def page_count(self) -> int:
        """The pages found: those in ``pages`` and those left out."""
        return len(self.pages) + self.left_out

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]

    @property
    def error_diagnostics(self) -> list[Diagnostic]:
        """Errors in the input the build went past (a page lxml gave up on, say)."""
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def asset_count(self) -> int:
        """The distinct asset paths of the manifest's routes."""
        return len({a.path for assets in self.manifest.routes.values() for a in assets})

    @property
    def route_count(self) -> int:
        """The manifest's routes."""
        return len(self.manifest.routes)

    def summary(self) -> str:
        """The one-line summary every build ends with."""
        line = summary_line(
            pages=self.page_count,
            assets=self.asset_count,
            routes=self.route_count,
            warnings=len(self.warnings),
            errors=len(self.error_diagnostics),
            seconds=self.seconds,
        )
        if not self.not_pages:
            return line
        which = "is a template, not a page" if self.not_pages == 1 else "are templates, not pages"
        return (
            f"{line}; skipped {counted(self.not_pages, '.html file')} that {which}"
            " (no doctype, <html>, <head> or <body>; template markup)"
        )
