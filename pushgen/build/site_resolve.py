"""A site build's resolve phase: every page's references followed into its assets.

The pipeline (pipeline.py) hands over a :class:`SitePlan`, what the phases before
found (the pages, which of them render, the previous build's state, the static
files), and the batches of rendered pages as render_pages makes them; it gets back
:class:`Resolved`, each page's assets and the state the next build starts from.
Pages are resolved as their batches come back (:class:`RenderedScans`), and only
where something changed since the previous build.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..config import SiteConfig
from ..errors import BuildError, Diagnostic
from ..model import Asset, Reference, ScanResult
from ..progress import Progress
from ..urls import document_url
from .finish import make_resolver
from .graph import Resolver, apply_budget
from .incremental import (
    AssetTable,
    BuildState,
    CompactScan,
    PageState,
    StateDamage,
    TemplateFile,
    config_key,
    scan_from_tuple,
)
from .page_fonts import TracedFonts
from .render import Page, Renderer, RenderError
from .result import PageResult
from .reuse import rebudget, reuse_docs, traced_before
from .staging import output_page_files
from .static import StaticCopy, StaticFiles
from .template_lines import PageCounts
from .workers import PageOutcome

__all__ = ["RenderedScans", "Resolved", "SitePlan", "resolve_site"]


@dataclass(frozen=True, slots=True)
class SitePlan:
    """What a site build resolves: its pages, those it renders, what the last build left."""

    config: SiteConfig
    pages: list[Page]
    render: list[Page]  # the pages this build renders (all, or those that changed)
    previous: BuildState | None  # the previous build's state, when it can be used
    templates: dict[str, TemplateFile]
    static: StaticCopy
    staging: Path | None  # where pages are written; None for --check
    replaces_output: bool  # an output folder is there to be replaced (it becomes the spare)
    # Every page of the site when ``pages`` are one shard's (build/shard.py): url_for knows them.
    site_pages: list[Page] | None = None


@dataclass(frozen=True, slots=True)
class Resolved:
    """Every page's assets, and the state the next build starts from."""

    state: BuildState
    results: list[PageResult]
    routes: dict[str, tuple[Asset, ...]]
    unchanged: set[str]  # routes with the entries the last build wrote
    known: set[str]  # the output's files (output paths)
    static_files: int
    diagnostics: list[Diagnostic]  # the static files skipped, then each page's problems
    waited: float  # seconds spent waiting for the rendering (its time, not the resolving's)
    resolved: int = 0  # pages resolved (again, in a rebuild)
    traced: int = 0  # pages whose fonts were traced


class RenderedScans:
    """The rendered pages' scans as their batches come back from render_pages.

    In a pool, pages are resolved while later chunks still render: the main
    process has a core's worth of waiting to fill. A page's scan is taken once
    (and let go: a 100,000-page build holds no more of them than it must).
    """

    def __init__(
        self, render: list[Page], batches: Iterator[list[PageOutcome]], progress: Progress
    ) -> None:
        self._render, self._progress = render, progress
        self._batches = batches
        self._pending = {p.source for p in render}
        self._scans: dict[str, ScanResult | CompactScan] = {}
        # The font verdicts traced where a page rendered (see take_fonts).
        self._fonts: dict[str, TracedFonts] = {}
        self.errors: list[Diagnostic] = []
        self._pages_of = PageCounts()  # a layout's error stops every page that uses it
        self.waited = 0.0  # seconds spent waiting for the rendering
        self.taken = 0  # pages taken (resolved), for progress
        self._next()  # the first batch comes once the static files are copied

    def _next(self) -> bool:
        started = time.perf_counter()
        batch = next(self._batches, None)
        self.waited += time.perf_counter() - started
        if batch is None:
            return False
        for index, scan, error, fonts in batch:
            source = self._render[index].source
            if fonts is not None:
                self._fonts[source] = fonts
            self._pending.discard(source)
            if error is not None:
                self.errors.append(error)
                self._pages_of.note(self._render[index].display, (error,))
            elif scan is not None:
                self._scans[source] = scan
        if not self._pending and not self.errors:
            self._progress.end("render")
        return True

    def take(self, source: str) -> ScanResult | CompactScan | None:
        """The scan of ``source`` when this build rendered it (waiting for it), else None."""
        while source in self._pending and self._next():
            pass
        self.taken += 1
        if self.taken % 100 == 0:
            self._progress.advance("resolve", self.taken)
        return self._scans.pop(source, None)

    def take_fonts(self, source: str) -> TracedFonts | None:
        """The font verdicts traced where ``source`` rendered (after :meth:`take`), if any."""
        return self._fonts.pop(source, None)

    def finish(self) -> None:
        """Take what is left; raise the errors that stopped pages from rendering."""
        while self._next():
            pass
        if self.errors:
            raise BuildError(self._pages_of.merge(self.errors))


def resolve_site(
    plan: SitePlan,
    batches: Iterator[list[PageOutcome]],
    progress: Progress,
    page_counts: PageCounts,
) -> Resolved | StateDamage:
    """Follow every page's references (again only where something changed) into its assets.

    ``page_counts`` gathers the pages a layout's warnings are met on (template_lines.py).
    Returns the damage of the previous state when a saved scan it needs fails its checks.
    """
    config, previous, pages = plan.config, plan.previous, plan.pages
    scans = RenderedScans(plan.render, batches, progress)
    static = plan.static
    known = set(static.files) | {p.output for p in plan.site_pages or pages}
    files = StaticFiles(static.files, config.base_path)
    resolver = make_resolver(config, read=files.read, exists=known.__contains__)
    site = _SiteResolver(plan, resolver, files.size_of)
    diagnostics = list(static.skipped)
    results: list[PageResult] = []
    routes: dict[str, tuple[Asset, ...]] = {}
    unchanged: set[str] = set()
    kept_pages = 0
    for page in pages:
        scan = scans.take(page.source)
        if scans.errors:
            break  # the build stops: finish() below gathers every error
        old = previous.pages.get(page.source) if previous else None
        kept = site.kept(old) if scan is None and old is not None else None
        if kept is not None:
            page_state, kept_pages = kept, kept_pages + 1
            if kept is old:
                unchanged.add(page.route)
            diagnostics.extend(page_counts.note(page.display, kept.diagnostic_list()))
        else:
            traced = scans.take_fonts(page.source)
            made = site.page_state(page, scan, old, page_counts, diagnostics, traced)
            if isinstance(made, StateDamage):
                return made
            page_state = made
        site.state.pages[page.source] = page_state
        assets = page_state.assets(site.state.assets)
        results.append(PageResult(page.route, assets, page))
        routes[page.route] = assets
    scans.finish()
    site.finish()
    return Resolved(
        site.state,
        results,
        routes,
        unchanged,
        known,
        len(static.files),
        diagnostics,
        scans.waited,
        resolved=len(pages) - kept_pages,
        traced=resolver.traced,
    )


class _SiteResolver:
    """One resolver (and its caches) for every page, and the state the pages go into."""

    def __init__(
        self, plan: SitePlan, resolver: Resolver, size_of: Callable[[str], int | None]
    ) -> None:
        config, previous, static = plan.config, plan.previous, plan.static
        self.plan, self.resolver, self.size_of = plan, resolver, size_of
        # set(a ^ b), not a ^ b: the difference keeps the hash table of the
        # 20,000-entry copy it was made from, and `touched & changed_files`
        # walks that whole table for every page (0.9 s at 10,000 pages).
        self.changed_files = (
            set(static.stats.keys() ^ previous.static.keys()) if previous else set()
        )
        self.reused: set[str] = set()
        self.resized: set[str] = set()
        if previous is not None:
            changes = reuse_docs(resolver, previous, static.stats, config, self.reused)
            self.changed_files |= changes.changed
            self.resized = changes.resized
        self.state = BuildState(
            key=config_key(config),
            templates=plan.templates,
            static=static.stats,
            assets=previous.assets if previous else AssetTable(),
        )
        self.state.outputs = frozenset(p.output for p in plan.pages) | static.stats.keys()
        if plan.replaces_output:
            self.state.spare = secrets.token_hex(8)  # the output this build replaces
        self.saved_refs: dict[tuple[object, ...], Reference] = {}  # of the saved scans
        # Places warnings (template_lines.py) and, for --check, which keeps no pages, renders.
        self.renderer = Renderer(config, plan.site_pages or plan.pages)

    def kept(self, old: PageState) -> PageState | None:
        """A page not rendered again as the previous build left it (its budget applied
        again when a file it looked at changed only in size); None: resolve it again."""
        if self.changed_files and not self.changed_files.isdisjoint(old.touched):
            return None
        policy = self.plan.config.policy
        return rebudget(old, self.resized, self.state.assets, policy, self.size_of)

    def page_state(
        self,
        page: Page,
        scan: ScanResult | CompactScan | None,
        old: PageState | None,
        page_counts: PageCounts,
        diagnostics: list[Diagnostic],
        traced: TracedFonts | None = None,
    ) -> PageState | StateDamage:
        """A rendered (or changed) page resolved; its problems go to ``diagnostics``, placed
        at their template lines. ``traced``: its font verdicts, traced where it rendered."""
        compact = None
        # The previous build's font tracing, which a page not rendered again may keep.
        self.resolver.traced_before = (
            traced_before(old, self.state.assets) if scan is None else None
        )
        self.resolver.trace_key = ""
        if scan is None:
            # A page not rendered again is resolved again from its saved scan.
            assert old is not None  # only pages of the previous state go unrendered
            saved = old.saved_scan()
            if isinstance(saved, StateDamage):
                return saved
            compact, scan = saved, scan_from_tuple(saved, self.saved_refs)
        elif not isinstance(scan, ScanResult):
            # A worker's scan comes as plain tuples (see workers.py).
            compact, scan = scan, scan_from_tuple(scan, self.saved_refs)
        page_assets = self.resolver.page_assets(
            page.display,
            scan,
            html=self._page_reader(page),
            url=document_url(page.route),
            traced=traced,
        )
        found = apply_budget(page_assets.found, self.plan.config.policy, self.size_of)
        budgeted = any(
            a.asset is not b.asset for a, b in zip(found, page_assets.found, strict=True)
        )
        # At the template lines that wrote them (pushgen/build/template_lines.py).
        placed = self.renderer.place(page, page_assets.diagnostics)
        page_diagnostics = page_counts.note(page.display, (*scan.diagnostics, *placed))
        diagnostics.extend(page_diagnostics)
        return PageState.make(
            compact if compact is not None else scan,
            found,
            set(page_assets.touched),
            page_diagnostics,
            self.state.assets,
            budgeted,
            self.resolver.trace_key,
        )

    def finish(self) -> None:
        """Record the pages' output files and the documents followed, for the next build."""
        plan, state, previous = self.plan, self.state, self.plan.previous
        state.page_files = output_page_files(plan.staging, plan.pages, plan.render, previous)
        state.docs = dict(previous.docs) if previous else {}
        state.keep_docs({k: v for k, v in self.resolver.docs.items() if k not in self.reused})

    def _page_reader(self, page: Page) -> Callable[[], bytes | None]:
        """Reads a rendered page back for font tracing (pushgen/build/fonts/).

        A writing build reads it from the staging folder; ``--check`` writes no page,
        so it renders the page again (only pages whose stylesheets have fonts ask).
        """
        staging = self.plan.staging
        if staging is not None:
            target = staging / page.output

            def read() -> bytes | None:
                try:
                    return target.read_bytes()
                except OSError:
                    return None

            return read
        renderer = self.renderer

        def render() -> bytes | None:
            try:
                return renderer.render(page).data
            except RenderError:
                return None  # reported when the page was rendered the first time

        return render
