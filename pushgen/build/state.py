"""What a build remembers between runs, as values: templates, static files, pages and their scans.

The values of the incremental state (see incremental.py, which reads and writes
them as the state's files, and says what the next build does with them). The
state holds plain tuples where it holds many (a scan, a diagnostic): making
~100,000 slotted dataclass instances on load costs more than the rest of an
incremental build.
"""

from __future__ import annotations

import hashlib
import operator
import os
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from ..config import SiteConfig
from ..errors import Diagnostic
from ..model import Asset, Reference, ScanResult
from .graph import Doc, Found
from .page_fonts import font_digest
from .state_files import StateDamage

__all__ = [
    "ALL",
    "RACY",
    "STATE_FORMAT",
    "AssetTable",
    "BuildState",
    "CompactDiagnostic",
    "CompactScan",
    "PageState",
    "SavedScan",
    "SavedScans",
    "StaticFile",
    "TemplateFile",
    "config_key",
    "scan_from_tuple",
    "scan_tuple",
    "state_path",
]

# A page depends on every template when one of its templates names another by
# an expression (``{% include name %}``).
ALL = "*"

# The ctime of a file whose stat is not vouched for (no file has it): see vouched.
RACY = -1


class TemplateFile(NamedTuple):
    """A template source file: where it is, how it was when last read, what it names.

    Its stat is size, mtime, ctime and inode, as the no-change fast path's
    (nochange.py): an edit that keeps the size and sets the old mtime back
    (``touch -d``, ``os.utime``) still changes the ctime, which nothing sets back.
    """

    path: str
    size: int
    mtime_ns: int
    digest: str = ""
    names: frozenset[str] = frozenset()
    ctime_ns: int = RACY  # RACY: not vouched for (BuildState.vouch): read again
    inode: int = 0

    def same_file(self, path: str, st: os.stat_result) -> bool:
        """Whether ``st`` (of ``path``) is the stat this file was read with."""
        return (
            self.path == path
            and self.size == st.st_size
            and self.mtime_ns == st.st_mtime_ns
            and self.ctime_ns == st.st_ctime_ns
            and self.inode == st.st_ino
        )


class StaticFile(NamedTuple):
    """A file of ``SITE/static`` as it was when last copied (its stat: see TemplateFile)."""

    size: int
    mtime_ns: int
    ctime_ns: int = RACY
    inode: int = 0

    @classmethod
    def of(cls, st: os.stat_result) -> StaticFile:
        """The file ``st`` is the stat of."""
        return cls(st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


# The state holds plain tuples, not dataclasses: making ~100,000 slotted
# dataclass instances on load costs more than the rest of an incremental build.
CompactDiagnostic = tuple[str, int, int, str, str]


def _diagnostic_tuple(d: Diagnostic) -> CompactDiagnostic:
    return (d.file, d.line, d.column, d.message, d.severity)


def _diagnostic(t: CompactDiagnostic) -> Diagnostic:
    return Diagnostic(t[0], t[1], t[2], t[3], t[4])  # type: ignore[arg-type]


# A reference's fields in slot order, read in C: a large page has hundreds (issue 27).
_reference_fields = operator.attrgetter(*Reference.__slots__)


def _reference_tuple(r: Reference) -> tuple[object, ...]:
    fields: tuple[object, ...] = _reference_fields(r)
    return fields


# A scan as plain values: (references' fields, diagnostics' fields, encoding).
CompactScan = Sequence[Any]


class SavedDoc(NamedTuple):
    """A stylesheet or module as the state keeps it (a list in the state file)."""

    scan: CompactScan
    display: str
    kind: str  # "css" or "js"
    # font_digest of the sheet's font rules and faces: the scan above keeps no
    # fonts, and an edit that leaves them as they were traces no page again.
    fonts: str = ""


def scan_tuple(scan: ScanResult) -> CompactScan:
    """``scan`` as plain tuples (see ``scan_from_tuple``)."""
    return (
        tuple(_reference_tuple(r) for r in scan.references),
        tuple(_diagnostic_tuple(d) for d in scan.diagnostics),
        scan.encoding,
    )


def scan_from_tuple(
    data: CompactScan, known: dict[tuple[Any, ...], Reference] | None = None
) -> ScanResult:
    """The scan ``data`` stands for (tuples, or lists as a state file holds them).
    ``known`` (references made so far, by their fields) lets pages that share a
    layout share its references' objects."""
    refs, diagnostics, encoding = data
    if known is None:
        references = tuple(Reference(*r) for r in refs)
    else:
        references = tuple(
            known.get(r) or known.setdefault(r, Reference(*r)) for r in map(tuple, refs)
        )
    return ScanResult(
        references=references,
        diagnostics=tuple(_diagnostic(d) for d in diagnostics),
        encoding=encoding,
    )


@dataclass(slots=True)
class AssetTable:
    """Every distinct manifest entry once; pages refer to them by index."""

    assets: list[Asset] = field(default_factory=list)
    # Made on first use: a rebuild that resolves no page again never looks one up.
    _index: dict[Asset, int] | None = None
    # By id: the resolver hands out the same Asset object to every page that
    # reaches a stylesheet's reference, and an id lookup skips the dataclass's
    # __hash__ and __eq__. Each entry holds its asset, so its id stays its own.
    _by_id: dict[int, tuple[Asset, int]] = field(default_factory=dict)
    # Each distinct reference of the pages' compact scans once (PageState.make):
    # pages that share a layout share most of their references, and a tuple of
    # each per page was the largest holder of a full build's memory (issue 27).
    references: dict[tuple[object, ...], tuple[object, ...]] = field(default_factory=dict)

    def index(self, asset: Asset) -> int:
        hit = self._by_id.get(id(asset))
        if hit is not None and hit[0] is asset:
            return hit[1]
        if self._index is None:
            self._index = {a: i for i, a in enumerate(self.assets)}
        number = self._index.get(asset)
        if number is None:
            number = self._index[asset] = len(self.assets)
            self.assets.append(asset)
        self._by_id[id(asset)] = (asset, number)
        return number


class SavedScans(Protocol):
    """Where a loaded state keeps its pages' scans until they are used (the state
    file's reader, incremental.py, checks each when first asked)."""

    file: str  # the part file holding them

    def get(self, source: str) -> CompactScan | StateDamage:
        """The saved scan of ``source``, or the damage that keeps it from being used."""
        ...


class SavedScan(NamedTuple):
    """A page's scan as the previous state holds it, not decoded yet."""

    shard: SavedScans
    source: str


@dataclass(slots=True)
class PageState:
    """What the build knows of one page without rendering or scanning it again."""

    # The page's scan (compact), or where the previous state holds it: see ``scan``.
    _scan: CompactScan | SavedScan
    # The page's manifest entries in order, as indexes into the build's AssetTable.
    found: tuple[int, ...]
    # The output paths its resolution looked at. As loaded from a state, the list
    # saved there (strings, checked): only ever tested against the few paths that
    # changed, so a rebuild that changed none hashes none of them (a frozenset of
    # them per page was half of loading the state).
    touched: Collection[str]
    diagnostics: tuple[CompactDiagnostic, ...]
    # Whether the push budget changed an entry of the page (``found`` is then not
    # what the resolver found): a file whose size alone changed re-applies the
    # budget to ``found`` only when it did not (reuse.py's rebudget).
    budgeted: bool = False
    # The key of what font tracing read of the page (page_fonts.py), "" when it was not traced.
    trace_key: str = ""

    @classmethod
    def make(
        cls,
        scan: ScanResult | CompactScan,
        found: list[Found],
        touched: set[str],
        diagnostics: Iterable[Diagnostic],
        table: AssetTable,
        budgeted: bool = False,
        trace_key: str = "",
    ) -> PageState:
        """``scan`` may be given in its compact form already (from an earlier state)."""
        compact = scan_tuple(scan) if isinstance(scan, ScanResult) else scan
        shared = table.references
        refs = tuple([shared.setdefault(r, r) for r in map(tuple, compact[0])])
        return cls(
            (refs, *compact[1:]),
            tuple([table.index(f.asset) for f in found]),
            # A tuple: only ever tested against sets of paths, and a third of a frozenset's size.
            tuple(touched),
            tuple(_diagnostic_tuple(d) for d in diagnostics),
            budgeted,
            trace_key,
        )

    def saved_scan(self) -> CompactScan | StateDamage:
        """The page's compact scan, or the damage of the state that saved it (a
        saved scan is checked where it is first used)."""
        scan = self._scan
        if type(scan) is SavedScan:
            return scan.shard.get(scan.source)
        return scan

    def assets(self, table: AssetTable) -> tuple[Asset, ...]:
        """The page's manifest entries, in order."""
        # map, not a generator: every page of a rebuild asks (10,000 tuples).
        return tuple(map(table.assets.__getitem__, self.found))

    def diagnostic_list(self) -> list[Diagnostic]:
        return [_diagnostic(d) for d in self.diagnostics]


@dataclass(slots=True)
class BuildState:
    """Everything remembered from the last successful build."""

    key: str
    templates: dict[str, TemplateFile] = field(default_factory=dict)
    static: dict[str, StaticFile] = field(default_factory=dict)
    # Stylesheets and modules, None for one that could not be read.
    docs: dict[str, SavedDoc | None] = field(default_factory=dict)
    pages: dict[str, PageState] = field(default_factory=dict)
    assets: AssetTable = field(default_factory=AssetTable)
    # The name of the spare copy of the output (see output.py), "" when none.
    spare: str = ""
    # The checksum of the manifest's routes block as this build wrote it.
    routes_sum: str = ""
    # The output's folders (output paths) and their mtimes after this build, and
    # the spare's once made equal to the output ({} when it may hold other files).
    output_folders: dict[str, int] = field(default_factory=dict)
    spare_folders: dict[str, int] = field(default_factory=dict)
    # Every file this build wrote into the output (output paths, the marker aside):
    # what a later build may remove from a folder of its own.
    outputs: frozenset[str] = frozenset()
    # Size and mtime of every page's output file as this build left it: a page
    # edited in the output afterwards is rendered again.
    page_files: dict[str, tuple[int, int]] = field(default_factory=dict)
    # As loaded: the parts' files, the pages of each shard, the number of assets.
    # save_state keeps the files of the parts that did not change.
    _files: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    _shards: list[dict[str, PageState]] = field(default_factory=list, repr=False, compare=False)
    _scan_shards: list[SavedScans] = field(default_factory=list, repr=False, compare=False)
    _asset_count: int = field(default=0, repr=False, compare=False)

    def doc(self, relpath: str) -> Doc | None:
        entry = self.docs.get(relpath)
        if entry is None:
            return None
        return Doc(
            scan_from_tuple(entry.scan), entry.display, "css" if entry.kind == "css" else "js"
        )

    def keep_docs(self, docs: dict[str, Doc | None]) -> None:
        for relpath, doc in docs.items():
            self.docs[relpath] = (
                None
                if doc is None
                else SavedDoc(
                    scan_tuple(doc.scan), doc.display, doc.kind, font_digest(doc.scan.fonts)
                )
            )

    def vouch(self, racy_from: int) -> None:
        """Mark the templates and static files changed at or after ``racy_from`` (the
        build's start on the file system's clock) as not vouched for: such a file may
        have changed again after this build's stat, within the same clock tick and
        with the same size. Its ctime is saved as :data:`RACY`, and the next build
        reads it again (racy git's rule, https://git-scm.com/docs/racy-git, as
        nochange.py takes it)."""
        self.templates = {
            k: t._replace(ctime_ns=RACY) if max(t.mtime_ns, t.ctime_ns) >= racy_from else t
            for k, t in self.templates.items()
        }
        self.static = {
            k: f._replace(ctime_ns=RACY) if max(f.mtime_ns, f.ctime_ns) >= racy_from else f
            for k, f in self.static.items()
        }


# Bump when the state's shape or the meaning of its contents changes.
STATE_FORMAT = 10


def _code_fingerprint() -> str:
    """Changes when any of pushgen's own code changes: a new scanner rule (pushgen/scan/)
    must not reuse old scans any more than a change to the build's own modules."""
    package = Path(__file__).parent.parent
    stamps = sorted(
        (str(p.relative_to(package)), st.st_mtime_ns, st.st_size)
        for p in package.rglob("*.py")
        for st in (p.stat(),)
    )
    return hashlib.sha256(repr(stamps).encode("utf-8", "surrogateescape")).hexdigest()


def config_key(config: SiteConfig) -> str:
    """A fingerprint of everything that changes every page when it changes."""
    parts = (
        STATE_FORMAT,
        _code_fingerprint(),
        str(config.root),
        str(config.output),
        config.base_path,
        config.pretty_urls,
        sorted(config.push_destinations),
        config.max_pushes,
        config.max_bytes,
        config.script_fetches,
        config.fonts,
        repr(config.context),
        config.plain,
        config.html_limits,
        config.fingerprint,
    )
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def state_path(config: SiteConfig) -> Path:
    return config.output.with_name(f".{config.output.name}.state")
