"""A site build's publishing: the static files' siblings accounted for, the output swapped in.

The pipeline (pipeline.py) calls these once the manifest is finished, between
its "precompress" and "swap" phases; the output folder's rules (the swap, the
spare, what is pushgen's) are output.py's.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from ..errors import Diagnostic
from ..fsutil import display_path
from ..manifest.compiled import write_compiled
from ..precompress import Precompressed
from .finish import FinishedManifest
from .incremental import BuildState
from .output import SIBLING_SUFFIXES, OutputFolder

__all__ = ["Siblings", "precompressed_siblings", "swap_in"]


@dataclass(frozen=True, slots=True)
class Siblings:
    """The static files' brotli and gzip siblings as the output holds them (see precompressed_siblings)."""

    held: frozenset[str]  # the siblings the output now holds (they are pushgen's files)
    changed: set[str]  # those written or removed by this build (for the spare)
    diagnostics: tuple[Diagnostic, ...]  # siblings the site ships itself, left alone


def precompressed_siblings(
    output: OutputFolder, previous: BuildState | None, packed: Precompressed | None, staging: Path
) -> Siblings:
    """Account for the brotli and gzip siblings of the static text files, written beside
    the rendering (static.stage_static, pushgen/precompress.py) for the server to pick by
    Accept-Encoding; pages are left out, since compressing thousands of them at brotli's
    best level would cost more than the whole build.

    A sibling a previous build wrote that is no longer worth keeping is removed, so
    the output holds only what the state names.
    """
    assert packed is not None  # render_pages hands the side work's result over
    skipped = tuple(
        Diagnostic(display_path(output.path / path), 0, 0, why) for path, why in packed.skipped
    )
    siblings = frozenset(packed.written) | frozenset(packed.up_to_date)
    changed = set(packed.written)
    before = previous.outputs if previous is not None else frozenset()
    for rel in before - siblings:
        if rel.endswith(SIBLING_SUFFIXES) and rel[: rel.rindex(".")] in packed.not_worth_it:
            with contextlib.suppress(FileNotFoundError):
                (staging / rel).unlink()
            changed.add(rel)
    return Siblings(siblings, changed, skipped)


def swap_in(
    output: OutputFolder,
    staging: Path,
    finished: FinishedManifest,
    state: BuildState,
    previous: BuildState | None,
    changed: set[str],
    folders: set[str],
) -> tuple[Diagnostic, ...]:
    """Swap ``staging`` in as the output, put the manifest in place (when it changed),
    bring the spare up to date (OutputFolder.publish); ``state`` (the next build's)
    records the output's and the spare's folders.

    ``changed`` are the output paths in which the spare differs from the new
    output; ``folders`` the new output's folders. Returns what kept the compiled
    manifest from being written, if anything (a warning: the output is complete).
    """
    # Before the manifest: a server reloads when the YAML changes, and finds this ready.
    compiled = write_compiled(finished.path, finished.text, routes=finished.manifest.routes)
    published = output.publish(
        staging,
        finished.text if finished.changed else None,
        spare=state.spare,
        previous=previous,
        changed=changed,
        folders=folders,
    )
    state.output_folders, state.spare = published.output_folders, published.spare
    state.spare_folders = published.spare_folders
    return () if compiled.problem is None else (compiled.problem,)
