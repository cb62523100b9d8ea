"""The build's phases: read the sources, render, follow references, write the manifest, swap.

Each phase is a function that takes what the phases before it made and returns
a frozen value: :class:`Inputs` -> :class:`Previous` -> the staging folder
(output.Staging) -> the pages to render and the static files' :class:`StaticCopying`
-> :class:`Rendered` -> the finished manifest -> the swapped-in output's
:class:`~pushgen.build.publish.Siblings` -> :class:`Written`. :func:`_build`
calls them in that order; a :class:`PhaseClock` times them.

Nothing is written in place (see output.py): pages and static files go to a
staging folder that replaces the output in one atomic step once everything
succeeded; the manifest is replaced atomically too. A failed or killed build
leaves the previous output and manifest as they were. The main process follows
stylesheets and modules (a handful of files, each scanned once) and assembles
the manifest from the pages' scans (see workers.py).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..config import SiteConfig
from ..errors import Diagnostic
from ..fsutil import OutputWriteError, display_path
from ..gc_pause import paused_gc
from ..manifest import (
    SCHEMA_NAME,
    Manifest,
    routes_checksum,
)
from ..precompress import Precompressed
from ..progress import NO_PROGRESS, Progress, phase
from ..scan.css import file_scans
from .dependencies import pages_to_render, scan_templates
from .existing import read_existing_manifest
from .fingerprint_files import renamed_pages
from .finish import FinishedManifest, finish_manifest
from .incremental import (
    BuildState,
    StateDamage,
    TemplateFile,
    load_state,
    save_state,
    saved_static,
    written_files,
)
from .nochange import Before, after_build, before_build, locked_at, unchanged_result
from .output import OutputFolder, Staging
from .page_fonts import page_tracer
from .publish import Siblings, precompressed_siblings, swap_in
from .render import Page, discover_pages
from .result import PHASES, BuildResult, PageResult
from .reuse import SavedRoutes, previous_routes
from .shard import Shard, shard_manifest, site_mark
from .site_resolve import Resolved, SitePlan, resolve_site
from .staging import (
    edited_pages,
    link_previous_pages,
    output_folders,
    unlink,
)
from .static import (
    StaticCopy,
    StaticFiles,
    compressible_static,
    copy_static,
    stage_static,
    static_sources,
    update_static,
)
from .template_lines import PageCounts
from .workers import render_pages

__all__ = ["PHASES", "BuildResult", "PageResult", "build_site"]

# --- the build ----------------------------------------------------------------


def build_site(
    config: SiteConfig,
    *,
    strict: bool = False,
    write: bool = True,
    force: bool = False,
    full: bool = False,
    jobs: int | None = None,
    progress: Progress = NO_PROGRESS,
    shard: Shard | None = None,
) -> BuildResult:
    """Build the site described by ``config``.

    With ``write=False`` nothing is written (the ``--check`` mode): the result
    carries the manifest the build would write. Raises :class:`BuildError` when a
    page cannot be rendered, or with ``strict`` when anything was found wrong; the
    previous output and manifest are then left untouched.

    The manifest's hand-written parts (rules, comments) are kept as they are; only
    its generated ``routes`` are replaced. Hand edits inside ``routes`` stop the
    build with their line, unless ``force`` discards them.

    A build that finds the state of the previous one (see incremental.py) renders
    and resolves only what changed since, unless ``full``; the result is the same.

    A ``shard`` build renders only that part's pages, always in full, and writes a
    partial manifest at ``config.manifest`` (build/shard.py, docs/sharding.md).
    """
    quick = unchanged_result(config, strict=strict) if write and not full and not shard else None
    if quick is not None:
        return quick  # the no-change fast path (nochange.py): one stat pass, no state loaded
    before = before_build(config, quick=write and shard is None)
    full = full or shard is not None
    asked = _Asked(
        strict=strict, write=write, force=force, full=full, jobs=jobs, before=before, shard=shard
    )
    # A build allocates millions of small tuples and frees them together; the
    # cyclic collector's passes over them cost 8% of a 10,000-page build and find
    # nothing (a build makes no cycles worth collecting before it returns).
    try:
        # Each stylesheet scanned once in the build (the Resolver and the font
        # tracer both read it), and nothing kept past it.
        with paused_gc(), file_scans():
            result = _build(config, asked, progress)
            if isinstance(result, StateDamage):
                # A saved scan failed its checks where it was first used (the
                # state is checked part by part, see incremental.py): no state,
                # as when it fails at load. Nothing was swapped in yet. The
                # build starts over as a full one, which reads no state.
                result = _build(config, asked, progress, damage=result)
            assert isinstance(result, BuildResult)
            return result
    except OSError as exc:
        # A full disk, a read-only folder: one line saying so. Everything up to
        # the swap happens beside the output, so nothing was replaced yet (what
        # can fail after it is caught where it happens).
        where = exc.filename if isinstance(exc.filename, str | bytes) else config.output
        raise OutputWriteError(os.fsdecode(where), exc, replaced=False) from exc


@dataclass(frozen=True, slots=True)
class _Asked:
    """What a build was asked (build_site's keyword arguments)."""

    strict: bool
    write: bool
    force: bool
    full: bool
    jobs: int | None  # None: chosen by the rendering from what the pages cost
    before: Before  # its start (nochange.before_build)
    shard: Shard | None = None  # the part of the pages to build (build/shard.py)


class PhaseClock:
    """The wall-clock time of a build's phases as they run (:attr:`BuildResult.phases`),
    each phase also reported to ``progress``: the one thing a build's phases add to
    as they go, passed to those that time a part of their own."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress  # told each phase and the pages done (pushgen/progress.py)
        self.started = time.perf_counter()
        self.times: dict[str, float] = {}  # phase -> seconds, in the order they first ran

    @contextlib.contextmanager
    def phase(self, name: str, total: int | None = None) -> Iterator[None]:
        """Add the wall-clock time of the block to phase ``name`` (and report it to progress)."""
        started = time.perf_counter()
        try:
            with phase(self.progress, name, total):
                yield
        finally:
            self.times[name] = self.times.get(name, 0.0) + time.perf_counter() - started

    def move(self, seconds: float, source: str, target: str) -> None:
        """Count ``seconds`` timed in phase ``source`` as phase ``target``'s."""
        self.times[target] = self.times.get(target, 0.0) + seconds
        self.times[source] -= seconds


def _build(
    config: SiteConfig,
    asked: _Asked,
    progress: Progress,
    damage: StateDamage | None = None,
) -> BuildResult | StateDamage:
    """One build; the damage of the previous state when a saved scan of it failed its
    checks where this build first used it (``damage``: the build that found it)."""
    clock = PhaseClock(progress)
    output = OutputFolder(config) if asked.write else None  # None: nothing is written
    with clock.phase("read"):
        inputs = _read_inputs(config, output, asked.shard)
    with output.lock() if output is not None else contextlib.nullcontext():
        with clock.phase("state"):
            previous = _load_previous(
                config, inputs, output, full=asked.full, damage=damage, shard=asked.shard
            )
        staging = None
        if output is not None:
            with clock.phase("staging"):
                staging = _make_staging(config, output, previous)
        siblings: Siblings | None = None  # once the staging folder is swapped in
        try:
            with clock.phase("choose"):
                render = _choose_pages(config, previous, staging)
            # Ended by site_resolve.RenderedScans with the last page.
            progress.start("render", len(render))
            with clock.phase("static"):
                static = _plan_static(config, previous, staging)
            rendered = _render_and_resolve(config, asked, previous, render, staging, static, clock)
            if isinstance(rendered, StateDamage):
                return rendered
            with clock.phase("manifest"):
                finished = _finish(config, asked, inputs, previous, staging, rendered)
            if output is not None and staging is not None:
                siblings = _publish(output, staging, previous, render, rendered, finished, clock)
        finally:
            if staging is not None and siblings is None:
                OutputFolder.discard(staging.path)  # not swapped in: the build failed
        written = None
        if siblings is not None:
            with clock.phase("save"):
                state = rendered.resolved.state
                written = _save(config, state, previous, finished, siblings, asked.before)
        result = _result(config, previous, render, rendered, finished, written, clock)
        # Under the lock: a build that starts after this one finds its quick file.
        after_build(config, asked.before, result)
    return result


# --- read, state, staging, choose -------------------------------------------------


@dataclass(frozen=True, slots=True)
class Inputs:
    """What a build reads first: the manifest on disk and the site's pages."""

    existing_text: str | None  # the manifest on disk
    existing: Manifest | None
    pages: list[Page]  # every page found (those that are links out of the site too)
    diagnostics: tuple[Diagnostic, ...]


@dataclass(frozen=True, slots=True)
class Previous:
    """What the previous build left, as this build can use it (read under the lock)."""

    # Its state, None when it cannot be used (or with --full), or when pages came or went.
    state: BuildState | None
    # What kept the previous state from being used, when it was damaged: said once.
    damage: StateDamage | None
    # The files the previous build wrote into the output, as far as its state tells.
    written_before: frozenset[str] | set[str]
    pages: list[Page]  # the site's pages (a link out of the site or no regular file is not)
    site_pages: list[Page]  # every one of them, which url_for knows: more than ``pages`` in a shard
    templates: dict[str, TemplateFile]
    routes: SavedRoutes | None  # the routes it wrote, for the manifest's unchanged entries
    diagnostics: tuple[Diagnostic, ...]  # the sources skipped


def _read_inputs(config: SiteConfig, output: OutputFolder | None, shard: Shard | None) -> Inputs:
    """Read the manifest on disk and find the pages; refuse an output that would replace sources.

    A shard's manifest is a partial one, which it replaces (build/shard.py).
    """
    on_disk = read_existing_manifest(config) if shard is None else None
    if output is not None:
        output.check(_sources(config))
    pages = discover_pages(config)
    diagnostics: tuple[Diagnostic, ...] = ()
    if not pages:
        message = "no pages found: add .html files under pages/"
        diagnostics = (Diagnostic(str(config.pages), 0, 0, message, "warning"),)
    if on_disk is None:
        return Inputs(None, None, pages, diagnostics)
    return Inputs(on_disk.text, on_disk.manifest, pages, diagnostics)


def _load_previous(
    config: SiteConfig,
    inputs: Inputs,
    output: OutputFolder | None,
    *,
    full: bool,
    damage: StateDamage | None,
    shard: Shard | None = None,
) -> Previous:
    """Load the previous build's state when it can be used; scan the templates (under the lock).

    ``damage``: what a first try of this build found wrong with the state (it
    then reads none, as with ``full``).
    """
    write = output is not None
    loaded = None
    if write and not full and damage is None and config.output.is_dir():
        loaded = load_state(config)
    if isinstance(loaded, StateDamage):
        damage, loaded = loaded, None
    state = loaded
    written_before: frozenset[str] | set[str] = frozenset()
    if output is not None:
        written_before = state.outputs if state else written_files(config)
        output.adopt(state, functools.partial(_written, config, inputs.pages, written_before))
    skipped_sources: list[Diagnostic] = []
    templates = scan_templates(config, state.templates if state else {}, skipped_sources)
    # A page that is a link out of the site or no regular file is not the site's.
    site_pages = [page for page in inputs.pages if page.source in templates]
    pages = site_pages if shard is None else shard.select(site_pages)
    routes = previous_routes(state, pages)
    if state is not None and set(state.pages) != {p.source for p in pages}:
        state = None  # pages came or went: every url_for may resolve differently
    return Previous(
        state, damage, written_before, pages, site_pages, templates, routes, tuple(skipped_sources)
    )


def _make_staging(config: SiteConfig, output: OutputFolder, previous: Previous) -> Staging:
    """Clear what killed builds left, then make the staging folder (from the spare when there is one)."""
    state, pages = previous.state, previous.pages
    written = {p.output for p in pages} | previous.written_before
    # The static files of the last build, or (without its state) this one's.
    written |= state.static.keys() if state else static_sources(config).stats.keys()
    expected = {p.output for p in pages} | (state.static.keys() if state else set())
    return output.open_staging(state, expected, written)


def _choose_pages(config: SiteConfig, previous: Previous, staging: Staging | None) -> list[Page]:
    """The pages to render: all of them, or (incremental) those that changed since the last build."""
    state, pages = previous.state, previous.pages
    if state is None:
        return list(pages)
    dirty = pages_to_render(pages, state.templates, previous.templates)
    dirty |= edited_pages(config.output, pages, state.page_files)
    if config.fingerprint:  # a hashed name that went or came renders the pages naming it
        sources = static_sources(config)
        dirty |= renamed_pages(config, pages, state.static, sources.stats, sources.names)
    assert staging is not None  # a previous state is only loaded when writing
    if staging.missing is None:
        unchanged = [p for p in pages if p.source not in dirty]
        dirty |= link_previous_pages(config, staging.path, unchanged)
    else:
        dirty.update(p.source for p in pages if p.output in staging.missing)
    render = [p for p in pages if p.source in dirty]
    if staging.missing is not None:
        for page in render:
            unlink(staging.path / page.output)  # a hard link to the live output's file
    return render


# --- render and resolve ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StaticCopying:
    """The site's static files as this build copies them, and the copying still to do."""

    copy: StaticCopy
    # Copying and precompressing them into the staging folder, which render_pages
    # runs beside the rendering (None when nothing is written).
    work: Callable[[], Precompressed] | None


@dataclass(frozen=True, slots=True)
class Rendered:
    """The pages rendered and resolved, and the static files copied beside them."""

    static: StaticCopy
    resolved: Resolved
    # The static files' .br/.gz siblings, written beside the rendering (see
    # stage_static); None when nothing is written.
    packed: Precompressed | None
    page_counts: PageCounts  # the pages each layout's warnings came from


def _render_and_resolve(
    config: SiteConfig,
    asked: _Asked,
    previous: Previous,
    render: list[Page],
    staging: Staging | None,
    static: StaticCopying,
    clock: PhaseClock,
) -> Rendered | StateDamage:
    """Render ``render`` and copy the static files beside it (``static.work``);
    resolve every page's assets as the rendered batches come back (site_resolve.py).

    Returns the damage of the previous state when a saved scan of it fails its
    checks where it is first used.
    """
    progress = clock.progress
    packed: list[Precompressed] = []  # the side work's result, handed over by render_pages
    batches = render_pages(
        config,
        previous.site_pages,
        render,
        staging.path if staging is not None else None,
        asked.jobs,
        lambda done, _total: progress.advance("render", done),
        side_work=static.work,
        side_done=packed.append,
        # Each page's fonts are traced where it is rendered and parsed, reading the
        # stylesheets as the Resolver does (issue 27: each page parsed once).
        tracer=page_tracer(
            config.fonts, config.base_path, StaticFiles(static.copy.files, config.base_path).read
        ),
        sheets=[path for path in static.copy.files if path.endswith(".css")],
    )
    plan = SitePlan(
        config=config,
        pages=previous.pages,
        render=render,
        previous=previous.state,
        templates=previous.templates,
        static=static.copy,
        staging=staging.path if staging is not None else None,
        replaces_output=asked.write and config.output.is_dir(),
        site_pages=previous.site_pages,
    )
    page_counts = PageCounts()
    with clock.phase("resolve", len(previous.pages)), contextlib.closing(batches):
        resolved = resolve_site(plan, batches, progress, page_counts)
    if isinstance(resolved, StateDamage):
        return resolved
    # Rendering runs as the resolving takes its batches (see RenderedScans): the
    # time spent waiting for them counts as "render", not "resolve".
    clock.move(resolved.waited, "resolve", "render")
    return Rendered(static.copy, resolved, packed[0] if packed else None, page_counts)


def _plan_static(config: SiteConfig, previous: Previous, staging: Staging | None) -> StaticCopying:
    """List the static files and plan their copy into the staging folder (its
    copying and precompressing run beside the rendering)."""
    state = previous.state
    if staging is None:
        found = static_sources(config)
        copy = StaticCopy(found.files, found.stats, set(), found.folders, found.skipped)
        return StaticCopying(copy, None)
    if state is not None and staging.missing is not None:
        planned = update_static(config, staging.path, state.static, staging.missing)
    else:
        copied_before = state.static if state is not None else saved_static(config)
        planned = copy_static(config, staging.path, copied_before)
    compressible = compressible_static(planned.static.stats)
    work = functools.partial(stage_static, planned.copies, staging.path, compressible)
    return StaticCopying(planned.static, work)


# --- manifest, publish ------------------------------------------------------------


def _finish(
    config: SiteConfig,
    asked: _Asked,
    inputs: Inputs,
    previous: Previous,
    staging: Staging | None,
    rendered: Rendered,
) -> FinishedManifest:
    """Check the hand rules and put the new routes into the manifest's text (not written yet).

    Its diagnostics are everything found so far, in the order the phases found them.
    """
    state, resolved = previous.state, rendered.resolved
    found = [*inputs.diagnostics, *previous.diagnostics]
    found += staging.diagnostics if staging is not None else ()
    found += resolved.diagnostics
    if asked.shard is not None:
        mark = site_mark(asked.shard, config, previous.site_pages)
        diagnostics = rendered.page_counts.merge(found)
        return shard_manifest(
            mark, resolved.routes, config.manifest, diagnostics, strict=asked.strict
        )
    finished = finish_manifest(
        resolved.routes,
        config,
        existing_text=inputs.existing_text,
        existing=inputs.existing,
        known=resolved.known,
        diagnostics=rendered.page_counts.merge(found),
        filename=display_path(config.manifest),
        strict=asked.strict,
        force=asked.force,
        base=previous.routes,
        unchanged=resolved.unchanged,
        written=state.routes_sum if state else None,
    )
    resolved.state.routes_sum = routes_checksum(finished.text) or ""
    return finished


@dataclass(frozen=True, slots=True)
class Written:
    """A build swapped in as the output, its manifest in place and its state saved."""

    # What publishing found: the site's own siblings left alone (see
    # precompressed_siblings), and a previous state that failed its checks as
    # this one was saved.
    diagnostics: tuple[Diagnostic, ...]


def _publish(
    output: OutputFolder,
    staging: Staging,
    previous: Previous,
    render: list[Page],
    rendered: Rendered,
    finished: FinishedManifest,
    clock: PhaseClock,
) -> Siblings:
    """Account for the static files' siblings, swap the staging folder in, rename the
    manifest into place, keep the spare; the siblings the output now holds."""
    state = rendered.resolved.state
    with clock.phase("precompress"):
        siblings = precompressed_siblings(output, previous.state, rendered.packed, staging.path)
    state.outputs |= siblings.held
    with clock.phase("swap"):
        # The spare differs from the new output in what was rendered or copied
        # here, or removed; files of its own go when it is claimed.
        static, old = rendered.static, previous.state
        changed = {p.output for p in render} | static.changed | siblings.changed
        changed |= old.static.keys() - static.stats.keys() if old else set()
        folders = output_folders(previous.pages, static.folders)
        compiled = swap_in(output, staging.path, finished, state, old, changed, folders)
    return dataclasses.replace(siblings, diagnostics=(*siblings.diagnostics, *compiled))


def _save(
    config: SiteConfig,
    state: BuildState,
    previous: Previous,
    finished: FinishedManifest,
    siblings: Siblings,
    before: Before,
) -> Written:
    """Write the manifest's schema beside it (when it changed) and ``state`` for the next build."""
    try:
        finished.write_schema()
    except OSError as exc:
        schema_path = config.manifest.with_name(SCHEMA_NAME)
        raise OutputWriteError(str(schema_path), exc, replaced=True) from exc
    # A state older than the output is safe: it only makes the next
    # build redo work (every change is judged against it).
    state.vouch(locked_at(config, before))
    damage = save_state(config, state, previous.state)
    if damage is None:
        return Written(siblings.diagnostics)
    # A saved scan of a page this build did not change failed its checks:
    # no state is kept, and the next build is a full one.
    then = "this build's output is complete, and the next build will build everything"
    return Written((*siblings.diagnostics, damage.warning(then)))


def _result(
    config: SiteConfig,
    previous: Previous,
    render: list[Page],
    rendered: Rendered,
    finished: FinishedManifest,
    written: Written | None,
    clock: PhaseClock,
) -> BuildResult:
    """The build's outcome, from what its phases made."""
    diagnostics = list(finished.diagnostics)
    if previous.damage is not None:
        # Said, not hidden (and after --strict judged the site: this is no fault of it).
        diagnostics.insert(0, previous.damage.warning("this build built everything"))
    if written is not None:
        diagnostics += written.diagnostics
    return BuildResult(
        config=config,
        manifest=finished.manifest,
        pages=rendered.resolved.results,
        diagnostics=diagnostics,
        seconds=time.perf_counter() - clock.started,
        static_files=rendered.resolved.static_files,
        written=written is not None,
        manifest_text=finished.text,
        rendered=len(render),
        resolved=rendered.resolved.resolved,
        traced=rendered.resolved.traced,
        phases=clock.times,
        unchanged=previous.state is not None
        and not render
        and not rendered.static.changed
        and not finished.changed,
    )


def _sources(config: SiteConfig) -> tuple[Path, ...]:
    return (config.pages, config.templates, config.static)


def _written(config: SiteConfig, pages: list[Page], written_before: Iterable[str]) -> set[str]:
    """The files a build of this site writes into the output (output paths)."""
    written = {p.output for p in pages} | set(written_before)
    return written | static_sources(config).stats.keys()
