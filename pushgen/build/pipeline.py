"""The build's phases: read the sources, render, follow references, write the manifest, swap.

Nothing is written in place (see output.py): pages and static files go to a
staging folder that replaces the output in one atomic step once everything
succeeded; the manifest is replaced atomically too. A failed or killed build
leaves the previous output and manifest as they were. The main process follows
stylesheets and modules (a handful of files, each scanned once) and assembles
the manifest from the pages' scans (see workers.py).
"""

from __future__ import annotations

import contextlib
import functools
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..codings import COMPRESSIBLE
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
from .dependencies import pages_to_render, scan_templates
from .existing import read_existing_manifest
from .finish import FinishedManifest, finish_manifest
from .incremental import (
    BuildState,
    StateDamage,
    TemplateFile,
    load_state,
    save_state,
    written_files,
)
from .output import SIBLING_SUFFIXES, OutputFolder
from .render import Page, discover_pages
from .result import PHASES, BuildResult, PageResult
from .reuse import SavedRoutes, previous_routes
from .site_resolve import Resolved, SitePlan, resolve_site
from .staging import (
    edited_pages,
    link_previous_pages,
    output_folders,
    unlink,
)
from .static import (
    StaticCopy,
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
    """
    # A build allocates millions of small tuples and frees them together; the
    # cyclic collector's passes over them cost 8% of a 10,000-page build and find
    # nothing (a build makes no cycles worth collecting before it returns).
    build = functools.partial(
        _build, config, strict=strict, write=write, force=force, jobs=jobs, progress=progress
    )
    try:
        with paused_gc():
            result = build(full=full)
            if isinstance(result, StateDamage):
                # A saved scan failed its checks where it was first used (the
                # state is checked part by part, see incremental.py): no state,
                # as when it fails at load. Nothing was swapped in yet. The
                # build starts over as a full one, which reads no state.
                result = build(full=True, damage=result)
            assert isinstance(result, BuildResult)
            return result
    except OSError as exc:
        # A full disk, a read-only folder: one line saying so. Everything up to
        # the swap happens beside the output, so nothing was replaced yet (what
        # can fail after it is caught where it happens).
        where = exc.filename if isinstance(exc.filename, str | bytes) else config.output
        raise OutputWriteError(os.fsdecode(where), exc, replaced=False) from exc


@dataclass(slots=True)
class _Run:
    """One build as it goes: what it was asked, what it read, where it writes, what it found."""

    config: SiteConfig
    strict: bool
    write: bool
    force: bool
    full: bool
    jobs: int | None  # None: chosen by the rendering from what the pages cost
    progress: Progress  # told each phase and the pages done (pushgen/progress.py)
    started: float = field(default_factory=time.perf_counter)
    existing_text: str | None = None  # the manifest on disk
    existing: Manifest | None = None
    pages: list[Page] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # The previous build's state, None when it cannot be used (or with --full).
    previous: BuildState | None = None
    # What kept the previous state from being used, when it was damaged: said once.
    damage: StateDamage | None = None
    # The files the previous build wrote into the output, as far as its state tells.
    written_before: frozenset[str] = frozenset()
    templates: dict[str, TemplateFile] = field(default_factory=dict)
    previous_routes: SavedRoutes | None = None
    # The staging folder: None when nothing is written, and once it became the output.
    staging: Path | None = None
    # The output paths a staging folder made from the spare could not restore;
    # None when the staging folder starts empty.
    spare_missing: set[str] | None = None
    render: list[Page] = field(default_factory=list)  # the pages this build renders
    static: StaticCopy | None = None  # set by _copy_static_files, before the rendering
    # The static files' .br/.gz siblings, written beside the rendering (see stage_static).
    packed: Precompressed | None = None
    phases: dict[str, float] = field(default_factory=dict)  # see BuildResult.phases
    finished: FinishedManifest | None = None  # the manifest's text, once made
    page_counts: PageCounts = field(default_factory=PageCounts)  # a layout's warnings' pages

    @contextlib.contextmanager
    def phase(self, name: str, total: int | None = None) -> Iterator[None]:
        """Add the wall-clock time of the block to phase ``name`` (and report it to progress)."""
        started = time.perf_counter()
        try:
            with phase(self.progress, name, total):
                yield
        finally:
            self.phases[name] = self.phases.get(name, 0.0) + time.perf_counter() - started


def _build(
    config: SiteConfig,
    *,
    strict: bool,
    write: bool,
    force: bool,
    full: bool,
    jobs: int | None,
    progress: Progress,
    damage: StateDamage | None = None,
) -> BuildResult | StateDamage:
    """One build; the damage of the previous state when a saved scan of it failed its
    checks where this build first used it (``damage``: the build that found it)."""
    run = _Run(config, strict, write, force, full or damage is not None, jobs, progress)
    run.damage = damage
    with run.phase("read"):
        _read_inputs(run)
    with OutputFolder(config).lock() if write else contextlib.nullcontext():
        with run.phase("state"):
            _load_previous(run)
        if write:
            with run.phase("staging"):
                _make_staging(run)
        try:
            with run.phase("choose"):
                run.render = _choose_pages(run)
            # Ended by site_resolve.RenderedScans with the last page.
            progress.start("render", len(run.render))
            batches = render_pages(
                config,
                run.pages,
                run.render,
                run.staging,
                run.jobs,
                lambda done, _total: progress.advance("render", done),
                side_work=_copy_static_files(run),
                side_done=functools.partial(_set_packed, run),
            )
            with run.phase("resolve", len(run.pages)), contextlib.closing(batches):
                resolved = resolve_site(_plan(run), batches, progress, run.page_counts)
            if isinstance(resolved, StateDamage):
                return resolved
            run.diagnostics.extend(resolved.diagnostics)
            # Rendering runs as the resolving takes its batches (see RenderedScans): the
            # time spent waiting for them counts as "render", not "resolve".
            run.phases["render"] = run.phases.get("render", 0.0) + resolved.waited
            run.phases["resolve"] -= resolved.waited
            with run.phase("manifest"):
                result = _make_result(run, resolved)
            if run.staging is not None:
                _publish(run, resolved, result)
        finally:
            if run.staging is not None:
                OutputFolder.discard(run.staging)
    if run.damage is not None:
        # Said, not hidden (and after --strict judged the site: this is no fault of it).
        result.diagnostics.insert(0, run.damage.warning("this build built everything"))
    result.seconds = time.perf_counter() - run.started
    result.phases = run.phases
    return result


def _read_inputs(run: _Run) -> None:
    """Read the manifest on disk and find the pages; refuse an output that would replace sources."""
    config = run.config
    on_disk = read_existing_manifest(config)
    if on_disk is not None:
        run.existing_text, run.existing = on_disk.text, on_disk.manifest
    if run.write:
        OutputFolder(config).check(_sources(config))
    run.pages = discover_pages(config)
    if not run.pages:
        run.diagnostics.append(
            Diagnostic(
                str(config.pages), 0, 0, "no pages found: add .html files under pages/", "warning"
            )
        )


def _load_previous(run: _Run) -> None:
    """Load the previous build's state when it can be used; scan the templates (under the lock)."""
    config, write = run.config, run.write
    loaded = load_state(config) if write and not run.full and config.output.is_dir() else None
    if isinstance(loaded, StateDamage):
        run.damage, loaded = loaded, None
    previous = loaded
    if write:
        run.written_before = previous.outputs if previous else written_files(config)
    if write:
        OutputFolder(config).adopt(previous, functools.partial(_written, run))
    skipped_sources: list[Diagnostic] = []
    run.templates = scan_templates(config, previous.templates if previous else {}, skipped_sources)
    run.diagnostics.extend(skipped_sources)
    # A page that is a link out of the site or no regular file is not the site's.
    run.pages = [page for page in run.pages if page.source in run.templates]
    run.previous_routes = previous_routes(previous, run.pages)
    if previous is not None and set(previous.pages) != {p.source for p in run.pages}:
        previous = None  # pages came or went: every url_for may resolve differently
    run.previous = previous


def _make_staging(run: _Run) -> None:
    """Clear what killed builds left, then make the staging folder (from the spare when there is one)."""
    config, previous, pages = run.config, run.previous, run.pages
    written = {p.output for p in pages} | run.written_before
    # The static files of the last build, or (without its state) this one's.
    written |= previous.static.keys() if previous else static_sources(config).stats.keys()
    expected = {p.output for p in pages} | (previous.static.keys() if previous else set())
    staging = OutputFolder(config).open_staging(previous, expected, written)
    run.diagnostics.extend(staging.diagnostics)
    run.staging, run.spare_missing = staging.path, staging.missing


def _choose_pages(run: _Run) -> list[Page]:
    """The pages to render: all of them, or (incremental) those that changed since the last build."""
    previous, pages = run.previous, run.pages
    if previous is None:
        return list(pages)
    dirty = pages_to_render(pages, previous.templates, run.templates)
    dirty |= edited_pages(run.config.output, pages, previous.page_files)
    staging = run.staging
    assert staging is not None  # a previous state is only loaded when writing
    if run.spare_missing is None:
        dirty |= link_previous_pages(
            run.config, staging, [p for p in pages if p.source not in dirty]
        )
    else:
        dirty.update(p.source for p in pages if p.output in run.spare_missing)
    render = [p for p in pages if p.source in dirty]
    if run.spare_missing is not None:
        for page in render:
            unlink(staging / page.output)  # a hard link to the live output's file
    return render


def _copy_static_files(run: _Run) -> Callable[[], Precompressed] | None:
    """List the static files and plan their copy into the staging folder.

    Returns the copying and precompressing, which render_pages runs beside the
    rendering (None when nothing is written).
    """
    config, staging, previous = run.config, run.staging, run.previous
    with run.phase("static"):
        if staging is None:
            found = static_sources(config)
            run.static = StaticCopy(found.files, found.stats, set(), found.folders, found.skipped)
            return None
        if previous is not None and run.spare_missing is not None:
            planned = update_static(config, staging, previous.static, run.spare_missing)
        else:
            planned = copy_static(config, staging)
        run.static = planned.static
    return functools.partial(stage_static, planned.copies, staging, _compressible(run.static.stats))


def _set_packed(run: _Run, packed: Precompressed) -> None:
    run.packed = packed


def _plan(run: _Run) -> SitePlan:
    """What the phases before the resolving found, as the resolving takes it."""
    assert run.static is not None  # _copy_static_files ran before the first batch
    return SitePlan(
        config=run.config,
        pages=run.pages,
        render=run.render,
        previous=run.previous,
        templates=run.templates,
        static=run.static,
        staging=run.staging,
        replaces_output=run.write and run.config.output.is_dir(),
    )


def _make_result(run: _Run, resolved: Resolved) -> BuildResult:
    """Check the hand rules and put the new routes into the manifest's text (not written yet)."""
    config, previous = run.config, run.previous
    run.diagnostics = run.page_counts.merge(run.diagnostics)
    finished = finish_manifest(
        resolved.routes,
        config,
        existing_text=run.existing_text,
        existing=run.existing,
        known=resolved.known,
        diagnostics=run.diagnostics,
        filename=display_path(config.manifest),
        strict=run.strict,
        force=run.force,
        base=run.previous_routes,
        unchanged=resolved.unchanged,
        written=previous.routes_sum if previous else None,
    )
    resolved.state.routes_sum = routes_checksum(finished.text) or ""
    run.finished = finished
    return BuildResult(
        config=config,
        manifest=finished.manifest,
        pages=resolved.results,
        diagnostics=finished.diagnostics,
        seconds=0.0,
        static_files=resolved.static_files,
        manifest_text=finished.text,
        rendered=len(run.render),
        unchanged=previous is not None
        and not run.render
        and not (run.static and run.static.changed)
        and not finished.changed,
    )


def _publish(run: _Run, resolved: Resolved, result: BuildResult) -> None:
    """Precompress, swap the staging folder in, rename the manifest into place, keep the spare, save the state."""
    staging, state = run.staging, resolved.state
    assert staging is not None and run.static is not None
    with run.phase("precompress"):
        siblings, recompressed = _precompress(run, staging)
    state.outputs |= siblings
    with run.phase("swap"):
        _swap(run, state, result.manifest_text, recompressed)
    with run.phase("save"):
        unusable = _save(run, state)
    if unusable is not None:
        result.diagnostics.append(unusable)
    result.written = True


def _swap(run: _Run, state: BuildState, text: str, recompressed: set[str]) -> None:
    """Swap the output in, put the manifest in place, bring the spare up to date (output.py)."""
    previous, staging = run.previous, run.staging
    assert staging is not None and run.static is not None
    static_stats, static_changed = run.static.stats, run.static.changed
    # The spare differs from the new output in what was rendered or copied
    # here, or removed; files of its own go when it is claimed.
    changed = {p.output for p in run.render} | static_changed | recompressed
    changed |= previous.static.keys() - static_stats.keys() if previous else set()
    published = OutputFolder(run.config).publish(
        staging,
        text if text != run.existing_text else None,
        spare=state.spare,
        previous=previous,
        changed=changed,
        folders=output_folders(run.pages, run.static.folders),
    )
    run.staging = None
    state.output_folders, state.spare = published.output_folders, published.spare
    state.spare_folders = published.spare_folders


def _save(run: _Run, state: BuildState) -> Diagnostic | None:
    """Write the manifest's schema beside it (when it changed) and the state for the next build.

    Returns the warning to give when the previous state failed its checks here.
    """
    config, previous = run.config, run.previous
    assert run.finished is not None  # _make_result finished the manifest
    try:
        run.finished.write_schema()
    except OSError as exc:
        schema_path = config.manifest.with_name(SCHEMA_NAME)
        raise OutputWriteError(str(schema_path), exc, replaced=True) from exc
    # A state older than the output is safe: it only makes the next
    # build redo work (every change is judged against it).
    damage = save_state(config, state, previous)
    if damage is not None:
        # A saved scan of a page this build did not change failed its checks:
        # no state is kept, and the next build is a full one.
        return damage.warning(
            "this build's output is complete, and the next build will build everything"
        )
    return None


def _precompress(run: _Run, staging: Path) -> tuple[frozenset[str], set[str]]:
    """Account for the brotli and gzip siblings of the static text files, written beside
    the rendering (static.stage_static, pushgen/precompress.py) for the server to pick by
    Accept-Encoding; pages are left out, since compressing thousands of them at brotli's
    best level would cost more than the whole build.

    Returns the siblings the output now holds (they are pushgen's files) and those
    written or removed here (for the spare). A sibling a previous build wrote that is
    no longer worth keeping is removed, so the output holds only what the state names.
    """
    packed = run.packed
    assert packed is not None  # render_pages hands the side work's result over
    for path, why in packed.skipped:
        run.diagnostics.append(Diagnostic(display_path(run.config.output / path), 0, 0, why))
    siblings = frozenset(packed.written) | frozenset(packed.up_to_date)
    changed = set(packed.written)
    previous = run.previous.outputs if run.previous is not None else frozenset()
    for rel in previous - siblings:
        if rel.endswith(SIBLING_SUFFIXES) and rel[: rel.rindex(".")] in packed.not_worth_it:
            with contextlib.suppress(FileNotFoundError):
                (staging / rel).unlink()
            changed.add(rel)
    return siblings, changed


def _compressible(static: Iterable[str]) -> list[str]:
    """The static files precompress needs to see: those of a type that compresses, and
    siblings the site ships itself (which it must not replace). Handing it only these
    spares it a Path for each of a large site's images on every build (0.19 s of a
    1.2 s rebuild of 5,000 pages that changed nothing)."""
    return [
        rel
        for rel in static
        if rel.endswith(SIBLING_SUFFIXES) or os.path.splitext(rel)[1].lower() in COMPRESSIBLE
    ]


def _sources(config: SiteConfig) -> tuple[Path, ...]:
    return (config.pages, config.templates, config.static)


def _written(run: _Run) -> set[str]:
    """The files a build of this site writes into the output (output paths)."""
    written = {p.output for p in run.pages} | run.written_before
    return written | static_sources(run.config).stats.keys()
