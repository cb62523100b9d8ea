"""What an incremental build takes from the previous one: the routes it wrote (for a
hand edit's line) and the scans of stylesheets and modules that did not change."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from ..config import SiteConfig
from ..model import Asset
from ..urls import document_url
from .graph import Resolver, scan_doc
from .incremental import BuildState, StaticFile
from .render import Page

__all__ = ["SavedRoutes", "previous_routes", "reuse_docs"]


def previous_routes(previous: BuildState | None, pages: list[Page]) -> SavedRoutes | None:
    """The routes the previous build wrote, when its state knows every page of them."""
    if previous is None:
        return None
    routes = {p.source: p.route for p in pages}
    if not set(previous.pages) <= set(routes):
        return None
    return SavedRoutes(previous, routes)


class SavedRoutes(Mapping[str, tuple[Asset, ...]]):
    """Routes -> entries as the previous build wrote them, decoded on first use: only
    a manifest edited by hand needs them (to point at the edited line)."""

    def __init__(self, previous: BuildState, routes: dict[str, str]) -> None:
        self._previous = previous
        self._routes = routes
        self._decoded: dict[str, tuple[Asset, ...]] | None = None

    def _all(self) -> dict[str, tuple[Asset, ...]]:
        if self._decoded is None:
            table = self._previous.assets
            self._decoded = {
                self._routes[source]: state.assets(table)
                for source, state in self._previous.pages.items()
            }
        return self._decoded

    def __getitem__(self, route: str) -> tuple[Asset, ...]:
        return self._all()[route]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._previous.pages)


def reuse_docs(
    resolver: Resolver,
    previous: BuildState,
    stats: dict[str, StaticFile],
    config: SiteConfig,
    reused: set[str],
) -> set[str]:
    """Give the resolver the scans of unchanged files; return the files that changed in a way that matters.

    A stylesheet or module whose new scan equals the old one changes no page's
    assets (only its own bytes), unless a byte budget makes sizes matter. Paths
    whose scans were reused go into ``reused``.
    """
    changed: set[str] = set()
    for relpath, stat in stats.items():
        old = previous.static.get(relpath)
        if old == stat:
            if relpath in previous.docs:
                resolver.docs[relpath] = previous.doc(relpath)
                reused.add(relpath)
            continue
        if old is None:
            continue  # new files are in the symmetric difference already
        doc = previous.doc(relpath)
        if config.max_bytes is not None or doc is None:
            changed.add(relpath)
            continue
        data = resolver.read(relpath)
        if data is None:
            changed.add(relpath)
            continue
        url = document_url(f"{config.base_path}{relpath}")
        scan = scan_doc(doc.kind, data, url, doc.display)
        if scan != doc.scan:
            changed.add(relpath)
        else:
            resolver.docs[relpath] = doc
            reused.add(relpath)
    return changed
