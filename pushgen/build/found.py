"""What the resolver finds: a page's assets, each with the chain of references that led to it.

The values of :mod:`pushgen.build.graph` (the Resolver), shared with the modules it
is made of (:mod:`pushgen.build.entries`, :mod:`pushgen.build.page_fonts`) and with
those that read its results (the pipeline, ``pushgen explain``, the build state).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..errors import Diagnostic
from ..model import Asset, ScanResult

__all__ = ["MAX_IMPORT_DEPTH", "Doc", "DocKind", "Found", "Link", "PageAssets"]

# Stylesheets importing stylesheets this deep are a mistake or an attack; the
# chain is followed this far (and the recursion stays far from Python's limit).
MAX_IMPORT_DEPTH = 64


@dataclass(frozen=True, slots=True)
class Link:
    """One step of a provenance chain: ``file`` line ``line`` references the next."""

    file: str
    line: int


@dataclass(slots=True)
class Found:
    """An asset of a page and how the page reached it."""

    asset: Asset
    chain: tuple[Link, ...]
    category: int
    icon: bool = False
    # Why the entry is not pushed or not hinted, when it is not (for `explain`).
    notes: tuple[str, ...] = ()


DocKind = Literal["css", "js"]


@dataclass(slots=True)
class Doc:
    """A stylesheet or module the resolver read and scanned."""

    scan: ScanResult
    display: str
    kind: DocKind
    # Scanned in this build: ``scan.fonts`` is there (a build state keeps no fonts).
    fresh: bool = False


@dataclass(frozen=True, slots=True)
class PageAssets:
    """What :meth:`Resolver.page_assets` found for one page."""

    # The page's assets, in the order it needs them.
    found: tuple[Found, ...]
    # Every output path looked at (read or probed, present or not): an incremental
    # build resolves the page again only when one of them changed.
    touched: frozenset[str]
    # The warnings this page's references raised (also kept in Resolver.diagnostics).
    diagnostics: tuple[Diagnostic, ...]
