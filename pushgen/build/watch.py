"""Rebuilding on change: `pushgen build --watch` and `pushgen serve --watch`.

watchfiles delivers batches of file-system changes (debounced, so one editor
save is one batch); each batch under the site's sources triggers an incremental
build. The build's own products (output, manifest, schema, state and lock files)
are ignored, or every build would trigger the next.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import watchfiles

from ..config import SiteConfig
from ..errors import PushgenError
from ..manifest import SCHEMA_NAME
from . import BuildResult, build_site

__all__ = ["watch_and_build"]


def _source_filter(config: SiteConfig) -> Callable[[watchfiles.Change, str], bool]:
    ignored = {config.manifest, config.manifest.with_name(SCHEMA_NAME)}
    output = config.output

    def accept(_change: watchfiles.Change, path: str) -> bool:
        p = Path(path)
        if p in ignored or p.name.startswith(".") or p == output or output in p.parents:
            return False
        return not any(part.startswith(f".{output.name}.") for part in p.parts)

    return accept


def watch_and_build(
    config: SiteConfig,
    *,
    report: Callable[[BuildResult | PushgenError], None],
    stop: threading.Event | None = None,
    jobs: int | None = None,
) -> None:
    """Build whenever a source of the site changes, until ``stop`` is set (or Ctrl-C).

    Every outcome goes to ``report``: a result, or the error that stopped a build
    (the previous output then stays in place and watching goes on).
    """
    paths = [
        p
        for p in (config.pages, config.templates, config.static, config.config_file)
        if p and p.exists()
    ]
    for _changes in watchfiles.watch(
        *paths, watch_filter=_source_filter(config), stop_event=stop, raise_interrupt=False
    ):
        try:
            report(build_site(config, jobs=jobs))
        except PushgenError as exc:
            report(exc)
