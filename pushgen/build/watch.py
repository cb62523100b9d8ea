"""Rebuilding on change: `pushgen build --watch` and `pushgen serve --watch`.

watchfiles delivers batches of file-system changes (debounced, so one editor
save is one batch); each batch under the site's sources triggers an incremental
build. The build's own products (output, manifest, schema, state and lock files)
are ignored, or every build would trigger the next.

After each build, ``changed`` (``pushgen serve --watch``'s live reload) is told
which output files differ from before the build, by content: an incremental
build rewrites only some files, and the output folder is swapped whole, so
neither the folder's nor the files' times say what changed. A file whose inode,
size and time are those of the last look keeps its digest (the output it replaces
lends it its unchanged files as hard links), so only new files are read.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import watchfiles

from ..config import SiteConfig
from ..errors import PushgenError
from ..manifest import SCHEMA_NAME
from . import BuildResult, build_site

__all__ = ["OutputFile", "changed_files", "output_digests", "watch_and_build"]


def _source_filter(config: SiteConfig) -> Callable[[watchfiles.Change, str], bool]:
    ignored = {config.manifest, config.manifest.with_name(SCHEMA_NAME)}
    output = config.output

    def accept(_change: watchfiles.Change, path: str) -> bool:
        p = Path(path)
        if p in ignored or p.name.startswith(".") or p == output or output in p.parents:
            return False
        return not any(part.startswith(f".{output.name}.") for part in p.parts)

    return accept


@dataclass(frozen=True, slots=True)
class OutputFile:
    """One output file as last seen: its inode, size and time, and its content's digest."""

    inode: int
    size: int
    mtime_ns: int
    digest: bytes


def output_digests(
    output: Path, known: Mapping[str, OutputFile] | None = None
) -> dict[str, OutputFile]:
    """Every file under ``output`` (``/``-separated relative path), digested.

    A file ``known`` with the same inode, size and time is not read again.
    """
    files: dict[str, OutputFile] = {}
    for dirpath, _dirnames, filenames in os.walk(output):
        for name in filenames:
            path = Path(dirpath, name)
            rel = path.relative_to(output).as_posix()
            try:
                st = path.stat()
                seen = (known or {}).get(rel)
                if seen is not None and (seen.inode, seen.size, seen.mtime_ns) == (
                    st.st_ino,
                    st.st_size,
                    st.st_mtime_ns,
                ):
                    files[rel] = seen
                    continue
                digest = hashlib.blake2b(path.read_bytes(), digest_size=16).digest()
            except OSError:  # removed while walking: the next build says so
                continue
            files[rel] = OutputFile(st.st_ino, st.st_size, st.st_mtime_ns, digest)
    return files


def changed_files(
    before: Mapping[str, OutputFile], after: Mapping[str, OutputFile]
) -> tuple[str, ...]:
    """The paths added, removed or changed in content between two :func:`output_digests`."""
    paths = before.keys() | after.keys()
    return tuple(
        sorted(
            p
            for p in paths
            if p not in before or p not in after or before[p].digest != after[p].digest
        )
    )


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
            before, digests = digests, output_digests(config.output, digests)
            if files := changed_files(before, digests):
                changed(files)
