"""Rebuilding on change: `pushgen build --watch` and `pushgen serve --watch`.

watchfiles delivers batches of file-system changes (debounced, so one editor
save is one batch); each batch under the site's sources triggers an incremental
build. The build's own products (output, manifest, schema, state and lock files)
are ignored, or every build would trigger the next.

After each build, ``changed`` (``pushgen serve --watch``'s live reload) is told
which output files differ from before the build, by content: an incremental
build rewrites only some files, and the output folder is swapped whole, so
neither the folder's nor the files' times say what changed.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable
from pathlib import Path

import watchfiles

from ..config import SiteConfig
from ..errors import PushgenError
from ..manifest import SCHEMA_NAME
from . import BuildResult, build_site

__all__ = ["changed_files", "output_digests", "watch_and_build"]


def _source_filter(config: SiteConfig) -> Callable[[watchfiles.Change, str], bool]:
    ignored = {config.manifest, config.manifest.with_name(SCHEMA_NAME)}
    output = config.output

    def accept(_change: watchfiles.Change, path: str) -> bool:
        p = Path(path)
        if p in ignored or p.name.startswith(".") or p == output or output in p.parents:
            return False
        return not any(part.startswith(f".{output.name}.") for part in p.parts)

    return accept


def output_digests(output: Path) -> dict[str, bytes]:
    """Every file under ``output`` (``/``-separated relative path) with a digest of its content."""
    digests: dict[str, bytes] = {}
    for dirpath, _dirnames, filenames in os.walk(output):
        for name in filenames:
            path = Path(dirpath, name)
            try:
                digests[path.relative_to(output).as_posix()] = hashlib.blake2b(
                    path.read_bytes(), digest_size=16
                ).digest()
            except OSError:  # removed while walking: the next build says so
                continue
    return digests


def changed_files(before: dict[str, bytes], after: dict[str, bytes]) -> tuple[str, ...]:
    """The paths added, removed or changed between two :func:`output_digests`, sorted."""
    return tuple(sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p)))


def watch_and_build(
    config: SiteConfig,
    *,
    report: Callable[[BuildResult | PushgenError], None],
    stop: threading.Event | None = None,
    jobs: int | None = None,
    changed: Callable[[tuple[str, ...]], None] | None = None,
) -> None:
    """Build whenever a source of the site changes, until ``stop`` is set (or Ctrl-C).

    Every outcome goes to ``report``: a result, or the error that stopped a build
    (the previous output then stays in place and watching goes on). After a
    build that changed the output, ``changed`` gets the changed files
    (:func:`changed_files`).
    """
    paths = [
        p
        for p in (config.pages, config.templates, config.static, config.config_file)
        if p and p.exists()
    ]
    digests = output_digests(config.output) if changed else {}
    for _changes in watchfiles.watch(
        *paths, watch_filter=_source_filter(config), stop_event=stop, raise_interrupt=False
    ):
        try:
            report(build_site(config, jobs=jobs))
        except PushgenError as exc:
            report(exc)
            continue
        if changed is not None:
            before, digests = digests, output_digests(config.output)
            if files := changed_files(before, digests):
                changed(files)
