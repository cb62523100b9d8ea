"""What an incremental build takes from the previous one: the routes it wrote (for a
hand edit's line), the scans of stylesheets and modules that did not change, and the
pages whose files changed only in size (their push budget applied again, nothing else)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace

from ..config import SiteConfig
from ..model import Asset
from ..push_policy import Policy
from ..urls import document_url
from .budget import apply_budget
from .found import Doc, Found
from .graph import Resolver, scan_doc
from .incremental import AssetTable, BuildState, PageState, StaticFile
from .page_fonts import TracedBefore, font_digest
from .render import Page

__all__ = [
    "DocChanges",
    "SavedRoutes",
    "previous_routes",
    "rebudget",
    "reuse_docs",
    "traced_before",
]


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


@dataclass(frozen=True, slots=True)
class DocChanges:
    """The static files that changed since the previous build, as far as pages care."""

    # Changed in a way that may change a page's entries: its references, its
    # font rules or faces, or what it is (every page that looked at one is
    # resolved again).
    changed: set[str] = field(default_factory=set)
    # Stylesheets and modules whose scan and font rules are as they were but whose
    # size is not, under a byte budget: their pages' budget is applied again.
    resized: set[str] = field(default_factory=set)


def reuse_docs(
    resolver: Resolver,
    previous: BuildState,
    stats: dict[str, StaticFile],
    config: SiteConfig,
    reused: set[str],
) -> DocChanges:
    """Give the resolver the scans of unchanged files; return the files that changed in a way that matters.

    A stylesheet or module whose new scan equals the old one, and (a stylesheet)
    whose font rules and faces have the digest the state kept, changes no page's
    assets (only its own bytes), unless a byte budget makes its size matter: then
    it is ``resized``. Paths whose scans were reused go into ``reused``.
    """
    changes = DocChanges()
    for relpath, stat in stats.items():
        old = previous.static.get(relpath)
        if old == stat:
            if relpath in previous.docs:
                resolver.docs[relpath] = previous.doc(relpath)
                reused.add(relpath)
            continue
        if old is None:
            continue  # new files are in the symmetric difference already
        doc = _same_doc(resolver, previous, relpath, config)
        if doc is None:
            changes.changed.add(relpath)
            continue
        resolver.docs[relpath] = doc
        reused.add(relpath)
        if config.max_bytes is not None and stat.size != old.size:
            changes.resized.add(relpath)
    return changes


def _same_doc(
    resolver: Resolver, previous: BuildState, relpath: str, config: SiteConfig
) -> Doc | None:
    """The new scan of the stylesheet or module ``relpath`` (with its fonts, as if
    read in this build), when it says what the saved one said; None when it does
    not, or ``relpath`` is no document the state kept."""
    saved = previous.docs.get(relpath)
    if saved is None:
        return None
    data = resolver.read(relpath)
    if data is None:
        return None
    url = document_url(f"{config.base_path}{relpath}")
    scan = scan_doc("css" if saved.kind == "css" else "js", data, url, saved.display)
    doc = previous.doc(relpath)
    assert doc is not None  # saved above
    if replace(scan, fonts=None) != doc.scan or font_digest(scan.fonts) != saved.fonts:
        return None
    return Doc(scan, saved.display, doc.kind, fresh=True)


def rebudget(
    old: PageState,
    resized: set[str],
    table: AssetTable,
    policy: Policy,
    size_of: Callable[[str], int | None],
) -> PageState | None:
    """``old`` with the push budget applied again over the new sizes of the
    ``resized`` files it looked at: ``old`` itself when nothing changes, None when
    the page must be resolved again (the budget changed its entries last time, so
    they are not what the resolver found).

    Nothing but the budget reads a file's size (budget.py), and a resized file's
    scan and font rules are as they were, so the page's resolved entries are
    ``old``'s: only the budget's verdict over them can change.
    """
    if not resized or resized.isdisjoint(old.touched):
        return old
    if old.budgeted:
        return None
    assets = old.assets(table)
    found = [Found(asset, (), 0) for asset in assets]
    budgeted = apply_budget(found, policy, size_of)
    if all(new.asset is asset for new, asset in zip(budgeted, assets, strict=True)):
        return old
    return PageState(
        old._scan,
        tuple([table.index(f.asset) for f in budgeted]),
        old.touched,
        old.diagnostics,
        budgeted=True,
        trace_key=old.trace_key,
    )


def traced_before(old: PageState | None, table: AssetTable) -> TracedBefore | None:
    """The previous build's font tracing of a page this build resolves again without
    rendering it: its key and (read when the key is as it was) its entries, which are
    tracing's own unless the push budget changed them."""
    if old is None or old.budgeted or not old.trace_key:
        return None
    return TracedBefore(old.trace_key, lambda: {asset.path: asset for asset in old.assets(table)})
