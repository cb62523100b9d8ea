"""Any source of pages (pushgen/sources/) -> resolved pages -> the manifest: one path for all.

``pushgen scan`` (a built folder) and ``pushgen build --app`` (a Quart app) run
here, and so does any other :class:`~pushgen.sources.protocol.Source` (a test's
in-memory pages): the source finds and reads its pages, each page's HTML scan
goes through the build's engine (:class:`pushgen.build.graph.Resolver`: stylesheets,
``@import``, fonts, module graphs) and the site's push budget, and
:func:`~pushgen.build.finish.finish_manifest` puts the routes into the manifest the
way ``pushgen build`` does (hand rules kept byte for byte).
"""

from __future__ import annotations

import functools
import os
import shlex
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from ..config import SiteConfig
from ..errors import BuildError, Diagnostic, PushgenError
from ..fsutil import display_path
from ..gc_pause import paused_gc
from ..manifest import SCHEMA_NAME
from ..manifest.compiled import write_compiled
from ..manifest.partial import PartMark
from ..model import Asset
from ..progress import NO_PROGRESS, Progress, phase
from ..scan.page_kind import NotAPage
from ..sources.app_pages import require_httpx
from ..sources.folder import FolderSource
from ..sources.protocol import ManifestTarget, PageScan, Source
from ..urls import document_url
from .existing import read_existing_manifest
from .finish import FinishedManifest, finish_manifest, make_resolver
from .graph import apply_budget
from .result import BuildResult, PageResult
from .scanpool import map_pages
from .shard import Shard, ShardFolderSource, folder_mark, shard_manifest

__all__ = ["PageResolver", "ResolvedPage", "build_app", "build_source", "scan_folder"]


class ResolvedPage(NamedTuple):
    """One page's manifest entries and the problems found on the way.

    A named tuple: a scan's worker processes send one back per page, and a
    tuple pickles in a fraction of a dataclass's time.
    """

    route: str
    assets: tuple[Asset, ...]
    diagnostics: tuple[Diagnostic, ...]


class PageResolver:
    """Resolves pages one at a time, with one :class:`Resolver` (and its caches) for all.

    ``read``/``exists`` take output paths (relative to the site's root URL, as
    :func:`pushgen.urls.url_path_to_relpath` makes them); ``size_of`` a URL path.
    """

    def __init__(
        self,
        config: SiteConfig,
        *,
        read: Callable[[str], bytes | None],
        exists: Callable[[str], bool],
        size_of: Callable[[str], int | None],
    ) -> None:
        self._resolver = make_resolver(config, read=read, exists=exists)
        self._policy = config.policy
        self._size_of = size_of

    def __call__(self, page: PageScan) -> ResolvedPage:
        page_assets = self._resolver.page_assets(
            page.display,
            page.scan,
            html=page.html,
            url=document_url(page.route),
            tree=page.tree,
        )
        found = apply_budget(page_assets.found, self._policy, self._size_of)
        return ResolvedPage(
            page.route,
            tuple(item.asset for item in found),
            (*page.scan.diagnostics, *page_assets.diagnostics),
        )


@dataclass(frozen=True, slots=True)
class _Resolved:
    """A source's pages resolved: each page's entries, and what was found on the way."""

    pages: list[PageResult]
    # What the source found before, the pages left out (unreadable, over a bound),
    # then each page's problems in page order.
    diagnostics: list[Diagnostic]
    # Files the source offered that are no pages after all (a template shipped as
    # .html: scan/page_kind.py); neither in ``pages`` nor left out.
    not_pages: int = 0


def build_source(
    source: Source,
    config: SiteConfig,
    *,
    strict: bool = False,
    write: bool = True,
    force: bool = False,
    jobs: int | None = None,
    progress: Progress = NO_PROGRESS,
    started: float | None = None,
    check: Callable[[list[Diagnostic]], None] | None = None,
    part: Callable[[], PartMark] | None = None,
) -> BuildResult:
    """Resolve ``source``'s pages and put them into its manifest (unless ``write`` is false).

    ``jobs`` processes resolve the pages of a source that forks (None: as many as the
    measured cost of the first pages makes worthwhile; the manifest is the same for
    any number). Nothing is written when ``strict`` and anything was found wrong, or
    when the manifest on disk cannot be updated without losing hand edits: both raise
    :class:`~pushgen.errors.BuildError`. ``started``: when the work began (the
    result's seconds count from it), now by default. ``check`` has a last look at the
    problems found before the manifest is touched, and may raise ``BuildError``.
    ``part`` marks the source as a shard's (build/shard.py): its partial manifest is written.
    """
    started = time.perf_counter() if started is None else started
    try:
        keys = source.open(progress)
        with phase(progress, source.resolve_phase, len(keys), source.resolve_unit):
            resolved = _resolve(source, config, keys, jobs if source.forks else 1, progress)
            routes = source.fold({page.route: page.assets for page in resolved.pages})
    finally:
        source.close()
    if check is not None:
        check(resolved.diagnostics)
    with phase(progress, "manifest"):
        target = source.target()
        if part is not None:
            found = list(dict.fromkeys(resolved.diagnostics))
            finished = shard_manifest(part(), routes, config.manifest, found, strict=strict)
            finished.write(protected=target.protected)
            return _result(config, finished, resolved, keys, started, write=True)
        on_disk = read_existing_manifest(config)
        existing = on_disk.manifest if on_disk is not None else None
        finished = finish_manifest(
            routes,
            config,
            existing_text=on_disk.text if on_disk is not None else None,
            existing=existing,
            known=source.known(),
            # Each worker process meets a repeated warning anew: said once.
            diagnostics=list(dict.fromkeys(resolved.diagnostics)),
            filename=existing.filename if existing is not None else str(config.manifest),
            strict=strict,
            force=force,
            command=target.command,
            accepts=target.accepts,
        )
        if write:
            # Before the manifest: a server reloads when the YAML changes, and finds this ready.
            compiled = write_compiled(
                finished.path,
                finished.text,
                protected=target.protected,
                routes=finished.manifest.routes,
            )
            finished.write(protected=target.protected)
            if compiled.problem is not None:  # said after --strict judged the site
                return _result(
                    config, finished, resolved, keys, started, write=write, said=compiled.problem
                )
    return _result(config, finished, resolved, keys, started, write=write)


def _result(
    config: SiteConfig,
    finished: FinishedManifest,
    resolved: _Resolved,
    keys: Sequence[str],
    started: float,
    *,
    write: bool,
    said: Diagnostic | None = None,
) -> BuildResult:
    return BuildResult(
        config=config,
        manifest=finished.manifest,
        pages=resolved.pages,
        diagnostics=[*finished.diagnostics, *([said] if said else [])],
        seconds=time.perf_counter() - started,
        written=write,
        manifest_text=finished.text,
        rendered=len(resolved.pages),
        left_out=len(keys) - len(resolved.pages) - resolved.not_pages,
        not_pages=resolved.not_pages,
    )


def _resolve(
    source: Source,
    config: SiteConfig,
    keys: Sequence[str],
    jobs: int | None,
    progress: Progress,
) -> _Resolved:
    """Read, scan and resolve each page (on ``jobs`` processes, None: as it pays).

    The pages that cannot be read come first in the diagnostics, then each page's
    in page order, as one process finds them; what the source found while a page
    was resolved (an asset the app would not serve) just before that page's.
    """
    resolve = PageResolver(config, read=source.read, exists=source.exists, size_of=source.size_of)
    before = list(source.diagnostics)
    seen = len(before)

    def work(key: str) -> ResolvedPage | Diagnostic | NotAPage:
        page = source.scan_page(key)
        return page if isinstance(page, Diagnostic | NotAPage) else resolve(page)

    pages: list[PageResult] = []
    skipped: list[Diagnostic] = []
    found: list[Diagnostic] = []
    not_pages = 0
    for done, outcome in enumerate(map_pages(work, keys, jobs), 1):
        if done % 50 == 0:
            progress.advance(source.resolve_phase, done)
        if isinstance(outcome, Diagnostic):
            skipped.append(outcome)
            continue
        if isinstance(outcome, NotAPage):
            not_pages += 1
            continue
        found.extend(source.diagnostics[seen:])
        seen = len(source.diagnostics)
        found.extend(outcome.diagnostics)
        pages.append(PageResult(outcome.route, outcome.assets))
    return _Resolved(pages, [*before, *skipped, *found], not_pages)


def scan_folder(
    config: SiteConfig,
    *,
    strict: bool = False,
    write: bool = True,
    force: bool = False,
    jobs: int | None = None,
    progress: Progress = NO_PROGRESS,
    exclude: tuple[str, ...] = (),
    shard: Shard | None = None,
) -> BuildResult:
    """Scan the built folder ``config.output`` and write ``config.manifest`` (pushgen/sources/folder.py).

    A page matching an ``exclude`` glob (pushgen/sources/folder_pages.py) is not
    scanned, nor an ``.html`` file that is no document (scan/page_kind.py: the
    result's ``not_pages`` counts those). A folder built for a sub-path and scanned
    at ``/`` raises :class:`~pushgen.errors.BuildError` naming the ``--base-path``
    to give. With ``write=False`` nothing is written (``--check``). Raises
    :class:`~pushgen.errors.BuildError` as :func:`build_source`;
    :class:`~pushgen.errors.PushgenError` when the folder is missing. Its phases
    (walk, scan, manifest) and the pages scanned go to ``progress``. A ``shard``
    scans only that part's pages into a partial manifest (build/shard.py).
    """
    with paused_gc():
        started = time.perf_counter()
        root = config.output
        if not root.is_dir():
            raise PushgenError(f"no folder at {root}: give the folder your site generator built")
        # The manifest and its schema are pushgen's files, not the site's, when they
        # are inside the folder (-m DIR/push-manifest.yaml).
        skip = frozenset(
            os.path.relpath(path, root).replace(os.sep, "/")
            for path in (config.manifest, config.manifest.with_name(SCHEMA_NAME))
            if path.is_relative_to(root)
        )
        command = f"pushgen scan {shlex.quote(display_path(root))}"
        source = (FolderSource if shard is None else ShardFolderSource)(
            root,
            base_path=config.base_path,
            limits=config.html_limits,
            skip=skip,
            manifest=ManifestTarget(config.manifest, command, protected=root),
            exclude=exclude,
        )
        part = None
        if shard is not None:
            assert isinstance(source, ShardFolderSource)
            source.shard = shard
            part = functools.partial(folder_mark, source, config, command, exclude)

        def built_for_sub_path(diagnostics: list[Diagnostic]) -> None:
            found = source.built_for_sub_path(diagnostics) if diagnostics else None
            if found is not None:
                raise BuildError([Diagnostic(display_path(root), 0, 0, found.message, "error")])

        return build_source(
            source,
            config,
            strict=strict,
            write=write,
            force=force,
            jobs=jobs,
            progress=progress,
            started=started,
            check=built_for_sub_path if config.base_path == "/" else None,
            part=part,
        )


def build_app(
    config: SiteConfig,
    *,
    app: str | None = None,
    strict: bool = False,
    write: bool = True,
    force: bool = False,
    max_pages: int | None = None,
    progress: Progress = NO_PROGRESS,
) -> BuildResult:
    """Render the app ``app`` (default ``config.app``) and write ``config.manifest``.

    A Quart app is rendered through its test client (sources/quart_app.py), any
    other ASGI app through httpx (sources/asgi_app.py). ``config.root`` is where
    the app lives (put on ``sys.path``); ``config.urls`` are extra URLs to render.
    Raises :class:`~pushgen.errors.BuildError` when the app cannot be loaded or is
    no ASGI app, and as :func:`build_source`. Its phases (load, render, resolve,
    manifest) and the pages rendered go to ``progress``. ``max_pages``: at most
    this many pages of a Quart app are rendered (None: sources/quart_app.py's
    DEFAULT_MAX_PAGES).
    """
    # Here, not at the top: Quart is not imported by a scan of a folder.
    from quart import Quart

    from ..sources.quart_app import (
        DEFAULT_MAX_PAGES,
        AppSource,
        AppSpec,
        load_object,
        runtime_quiet,
    )

    started = time.perf_counter()
    text = app or config.app
    if not text:
        raise PushgenError("no app to build: give --app MODULE:APP or `app:` in pushgen.yaml")
    spec = AppSpec.parse(text)
    with runtime_quiet():
        with phase(progress, "load"):
            loaded = load_object(spec, config.root)
        # The manifest names what rewrites its routes: the flag, or `app:` in pushgen.yaml.
        command = f"pushgen build --app {shlex.quote(app)}" if app else "pushgen build"
        source: Source
        if isinstance(loaded, Quart):
            pages = DEFAULT_MAX_PAGES if max_pages is None else max_pages
            source = AppSource(loaded, config, max_pages=pages, command=command)
        else:
            source = _asgi_source(loaded, config, f"--app {spec}", command)
        with paused_gc():
            return build_source(
                source,
                config,
                strict=strict,
                write=write,
                force=force,
                progress=progress,
                started=started,
            )


def _asgi_source(loaded: object, config: SiteConfig, what: str, command: str) -> Source:
    """The source of an app that is not Quart: any ASGI app, rendered through httpx."""
    require_httpx(what)
    # Here: httpx is needed by such builds only (the `asgi` extra).
    from ..sources.asgi_app import AsgiAppSource, check_asgi

    return AsgiAppSource(check_asgi(loaded, what), config, command=command)
