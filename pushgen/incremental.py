"""What a build remembers between runs, so that the next one redoes only what changed.

After a build, the state file next to the output (``.<output>.state``) holds:

* every template's size, mtime and content hash, and the templates it names
  (``extends``, ``include``, ``import``, ``from``: found statically with
  ``jinja2.meta``; a name computed at render time makes a page depend on all);
* every static file's size and mtime, and the scan of each stylesheet and module;
* per page: its HTML scan, the assets found for it (as indexes into one table), the
  output paths its resolution looked at, and the warnings it produced.

The next build re-renders a page only when a template it depends on changed, and
re-resolves a page only when a file it looked at changed in a way that matters
(the references of a stylesheet or module, a file appearing or disappearing, or
a size under a byte budget). Anything it cannot vouch for (another pushgen
version, a changed ``pushgen.yaml``, pages added or removed, a missing or
unreadable state) makes it a full build. Its result is byte-identical to a full
build's, which the tests check.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import jinja2
import jinja2.meta

from .config import SiteConfig
from .errors import Diagnostic
from .fsutil import atomic_write, walk_sources
from .graph import Doc, Found
from .model import Asset, Reference, ScanResult
from .render import Page

__all__ = [
    "ALL",
    "AssetTable",
    "BuildState",
    "PageState",
    "StaticFile",
    "TemplateFile",
    "config_key",
    "load_state",
    "save_state",
    "scan_templates",
    "state_path",
    "template_closure",
    "written_files",
]

# Bump when the state's shape or the meaning of its contents changes.
_FORMAT = 6
# A page depends on every template when one of its templates names another by
# an expression (``{% include name %}``).
ALL = "*"


class TemplateFile(NamedTuple):
    """A template source file: where it is, how it was when last read, what it names."""

    path: str
    size: int
    mtime_ns: int
    digest: str = ""
    names: frozenset[str] = frozenset()


class StaticFile(NamedTuple):
    """A file of ``SITE/static`` as it was when last copied."""

    size: int
    mtime_ns: int


# The state is pickled as plain tuples, not dataclasses: unpickling ~100,000
# slotted dataclass instances costs more than the rest of an incremental build.
_CompactDiagnostic = tuple[str, int, int, str, str]


def _diagnostic_tuple(d: Diagnostic) -> _CompactDiagnostic:
    return (d.file, d.line, d.column, d.message, d.severity)


def _diagnostic(t: _CompactDiagnostic) -> Diagnostic:
    return Diagnostic(t[0], t[1], t[2], t[3], t[4])  # type: ignore[arg-type]


def _reference_tuple(r: Reference) -> tuple[object, ...]:
    return tuple(getattr(r, name) for name in Reference.__slots__)


def scan_tuple(scan: ScanResult) -> tuple[object, ...]:
    """``scan`` as plain tuples (see ``scan_from_tuple``)."""
    return (
        tuple(_reference_tuple(r) for r in scan.references),
        tuple(_diagnostic_tuple(d) for d in scan.diagnostics),
        scan.encoding,
    )


def scan_from_tuple(
    data: tuple[Any, ...], known: dict[tuple[Any, ...], Reference] | None = None
) -> ScanResult:
    """The scan ``data`` stands for. ``known`` (references made so far, by their
    fields) lets pages that share a layout share its references' objects."""
    refs, diagnostics, encoding = data
    if known is None:
        references = tuple(Reference(*r) for r in refs)
    else:
        references = tuple(known.get(r) or known.setdefault(r, Reference(*r)) for r in refs)
    return ScanResult(
        references=references,
        diagnostics=tuple(_diagnostic(d) for d in diagnostics),
        encoding=encoding,
    )


@dataclass(slots=True)
class AssetTable:
    """Every distinct manifest entry once; pages refer to them by index."""

    assets: list[Asset] = field(default_factory=list)
    _index: dict[Asset, int] = field(default_factory=dict)
    # By id: the resolver hands out the same Asset object to every page that
    # reaches a stylesheet's reference, and an id lookup skips the dataclass's
    # __hash__ and __eq__. Each entry holds its asset, so its id stays its own.
    _by_id: dict[int, tuple[Asset, int]] = field(default_factory=dict)

    def index(self, asset: Asset) -> int:
        hit = self._by_id.get(id(asset))
        if hit is not None and hit[0] is asset:
            return hit[1]
        number = self._index.get(asset)
        if number is None:
            number = self._index[asset] = len(self.assets)
            self.assets.append(asset)
        self._by_id[id(asset)] = (asset, number)
        return number

    def __getstate__(self) -> object:
        return [tuple(getattr(a, n) for n in Asset.__slots__) for a in self.assets]

    def __setstate__(self, state: list[tuple[object, ...]]) -> None:
        self.assets = [Asset(*fields) for fields in state]  # type: ignore[arg-type]
        self._index = {a: i for i, a in enumerate(self.assets)}
        self._by_id = {}


@dataclass(slots=True)
class PageState:
    """What the build knows of one page without rendering or scanning it again."""

    scan: tuple[object, ...]
    # The page's manifest entries in order, as indexes into the build's AssetTable.
    found: tuple[int, ...]
    touched: frozenset[str]
    diagnostics: tuple[_CompactDiagnostic, ...]

    @classmethod
    def make(
        cls,
        scan: ScanResult | tuple[object, ...],
        found: list[Found],
        touched: set[str],
        diagnostics: Iterable[Diagnostic],
        table: AssetTable,
    ) -> PageState:
        """``scan`` may be given in its compact form already (from an earlier state)."""
        return cls(
            scan if isinstance(scan, tuple) else scan_tuple(scan),
            tuple([table.index(f.asset) for f in found]),
            frozenset(touched),
            tuple(_diagnostic_tuple(d) for d in diagnostics),
        )

    def assets(self, table: AssetTable) -> tuple[Asset, ...]:
        """The page's manifest entries, in order."""
        assets = table.assets
        return tuple(assets[i] for i in self.found)

    def diagnostic_list(self) -> list[Diagnostic]:
        return [_diagnostic(d) for d in self.diagnostics]

    def scan_result(self, known: dict[tuple[Any, ...], Reference] | None = None) -> ScanResult:
        return scan_from_tuple(self.scan, known)


@dataclass(slots=True)
class BuildState:
    """Everything remembered from the last successful build."""

    key: str
    templates: dict[str, TemplateFile] = field(default_factory=dict)
    static: dict[str, StaticFile] = field(default_factory=dict)
    # Stylesheets and modules: (compact scan, display name, "css"/"js"), or None.
    docs: dict[str, tuple[tuple[object, ...], str, str] | None] = field(default_factory=dict)
    pages: dict[str, PageState] = field(default_factory=dict)
    assets: AssetTable = field(default_factory=AssetTable)
    # The name of the spare copy of the output (see build.py), "" when none.
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
    # As loaded: the pickled parts, the pages of each shard, the number of assets.
    # save_state writes the parts that did not change as they were read.
    _blobs: dict[str, bytes] = field(default_factory=dict, repr=False, compare=False)
    _shards: list[dict[str, PageState]] = field(default_factory=list, repr=False, compare=False)
    _asset_count: int = field(default=0, repr=False, compare=False)

    def doc(self, relpath: str) -> Doc | None:
        entry = self.docs.get(relpath)
        return None if entry is None else Doc(scan_from_tuple(entry[0]), entry[1], entry[2])

    def keep_docs(self, docs: dict[str, Doc | None]) -> None:
        for relpath, doc in docs.items():
            self.docs[relpath] = (
                None if doc is None else (scan_tuple(doc.scan), doc.display, doc.kind)
            )


def _code_fingerprint() -> str:
    """Changes when pushgen's own code changes (a new scanner rule must not reuse old scans)."""
    here = Path(__file__).parent
    stamps = sorted((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in here.glob("*.py"))
    return hashlib.sha256(repr(stamps).encode()).hexdigest()


def config_key(config: SiteConfig) -> str:
    """A fingerprint of everything that changes every page when it changes."""
    parts = (
        _FORMAT,
        _code_fingerprint(),
        str(config.root),
        str(config.output),
        config.base_path,
        config.pretty_urls,
        sorted(config.push_destinations),
        config.max_pushes,
        config.max_bytes,
        repr(config.context),
    )
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def state_path(config: SiteConfig) -> Path:
    return config.output.with_name(f".{config.output.name}.state")


# The state is one pickle of parts, each pickled on its own: the pages in shards
# by a hash of their source. A rebuild after a small change re-pickles the shard
# of each page it changed and copies every other part as it was read (pickling
# the whole state of 10,000 pages took a quarter of such a rebuild).
_PAGE_SHARDS = 64


def _page_shards(pages: dict[str, PageState]) -> list[dict[str, PageState]]:
    shards: list[dict[str, PageState]] = [{} for _ in range(_PAGE_SHARDS)]
    for source, page in pages.items():
        shards[zlib.crc32(source.encode("utf-8", "surrogateescape")) % _PAGE_SHARDS][source] = page
    return shards


def load_state(config: SiteConfig) -> BuildState | None:
    """The state of the last build of this site, or None when there is none to trust."""
    try:
        with open(state_path(config), "rb") as fh:
            header, blobs = pickle.load(fh)
        if header[0] != _FORMAT or header[1] != config_key(config):
            return None
        shards = [pickle.loads(blobs[f"pages-{i}"]) for i in range(_PAGE_SHARDS)]
        state = BuildState(
            key=header[1],
            spare=header[2],
            docs=header[3],
            routes_sum=header[4],
            output_folders=header[5],
            spare_folders=header[6],
            templates=pickle.loads(blobs["templates"]),
            static=pickle.loads(blobs["static"]),
            assets=pickle.loads(blobs["assets"]),
            outputs=pickle.loads(blobs["outputs"]),
            _blobs=blobs,
            _shards=shards,
        )
    except (
        OSError,
        pickle.UnpicklingError,
        EOFError,
        AttributeError,
        ImportError,
        TypeError,
        ValueError,
        KeyError,
        IndexError,
    ):
        return None  # missing, from another version, or damaged: a full build
    for shard in shards:
        state.pages.update(shard)
    state._asset_count = len(state.assets.assets)
    return state


def written_files(config: SiteConfig) -> frozenset[str]:
    """The files the last build wrote into the output, whatever else changed since
    (empty when no state tells)."""
    try:
        with open(state_path(config), "rb") as fh:
            header, blobs = pickle.load(fh)
        if header[0] != _FORMAT:
            return frozenset()
        outputs = pickle.loads(blobs["outputs"])
    except (OSError, pickle.UnpicklingError, EOFError, TypeError, ValueError, KeyError, IndexError):
        return frozenset()
    return frozenset(outputs)


def save_state(config: SiteConfig, state: BuildState, previous: BuildState | None = None) -> None:
    """Write the state atomically; a failure only costs the next build its head start.

    ``previous`` is the state the build started from: parts equal to its own are
    written as they were read.
    """

    def part(name: str, value: object, unchanged: bool) -> bytes:
        if unchanged and previous is not None and name in previous._blobs:
            return previous._blobs[name]
        return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)

    old = previous
    blobs = {
        "templates": part(
            "templates", state.templates, old is not None and state.templates == old.templates
        ),
        "static": part("static", state.static, old is not None and state.static == old.static),
        # The table only grows; the same object with as many entries is unchanged.
        "assets": part(
            "assets",
            state.assets,
            old is not None
            and state.assets is old.assets
            and len(state.assets.assets) == old._asset_count,
        ),
    }
    blobs["outputs"] = part(
        "outputs", state.outputs, old is not None and state.outputs == old.outputs
    )
    old_shards = old._shards if old is not None else []
    for i, shard in enumerate(_page_shards(state.pages)):
        was = old_shards[i] if i < len(old_shards) else None
        unchanged = (
            was is not None
            and shard.keys() == was.keys()
            and all(page is was[source] for source, page in shard.items())
        )
        blobs[f"pages-{i}"] = part(f"pages-{i}", shard, unchanged)
    header = (
        _FORMAT,
        state.key,
        state.spare,
        state.docs,
        state.routes_sum,
        state.output_folders,
        state.spare_folders,
    )
    with contextlib.suppress(OSError):
        atomic_write(
            state_path(config), pickle.dumps((header, blobs), protocol=pickle.HIGHEST_PROTOCOL)
        )


def _walk(
    root: Path, config: SiteConfig, skipped: list[Diagnostic] | None
) -> Iterable[tuple[str, str, os.stat_result]]:
    """(name as the loader knows it, path, stat) of every file of ``root`` that
    belongs to the site; what does not goes into ``skipped`` as warnings."""
    found = walk_sources(root, config.root)
    if skipped is not None:
        display = _display_root(root, config)
        skipped.extend(Diagnostic(f"{display}{rel}", 0, 0, why) for rel, why in found.skipped)
    return found.files


def _display_root(root: Path, config: SiteConfig) -> str:
    try:
        return f"{root.relative_to(config.root).as_posix()}/"
    except ValueError:
        return f"{root}/"


_PARSER = jinja2.Environment()
# A tag that names templates: {% extends/include/import/from ... %}.
_TAG = re.compile(r"\{%[-+]?\s*(?:extends|include|import|from)\b[^%]*%\}")
# The same tag when it names them only by string literals (the usual case).
_LITERAL_TAG = re.compile(
    r"""\{%[-+]?\s*(?:extends|include|import|from)\s+(?P<names>(?:["'][^"']+["']\s*,?\s*)+|\[\s*(?:["'][^"']+["']\s*,?\s*)+\])"""
    r"""(?:\s+(?:as\s+\w+|import\s+[\w\s,]+|ignore\s+missing|with(?:out)?\s+context))*\s*[-+]?%\}"""
)
_STRING = re.compile(r"""["']([^"']+)["']""")


def _names(source: str) -> frozenset[str]:
    """The templates ``source`` names. A regex reads the usual literal tags; anything
    else goes to Jinja's parser (a tag in a comment only adds a dependency)."""
    tags = _TAG.findall(source)
    if not tags:
        return frozenset()
    literal = [_LITERAL_TAG.fullmatch(tag) for tag in tags]
    if all(literal):
        return frozenset(
            name for match in literal if match for name in _STRING.findall(match.group("names"))
        )
    try:
        found = jinja2.meta.find_referenced_templates(_PARSER.parse(source))
        return frozenset(ALL if name is None else name for name in found)
    except jinja2.TemplateSyntaxError:
        # The render reports the error; until it is fixed, assume the worst.
        return frozenset({ALL})


def scan_templates(
    config: SiteConfig,
    previous: dict[str, TemplateFile],
    skipped: list[Diagnostic] | None = None,
) -> dict[str, TemplateFile]:
    """Every template by loader name (pages first, as the loader searches), with what it names.

    A file whose size and mtime match ``previous`` is not read again. Links out of
    the site and special files are not templates (see fsutil.walk_sources); they
    are reported in ``skipped``.
    """
    result: dict[str, TemplateFile] = {}
    for root in (config.pages, config.templates):
        for name, path, st in _walk(root, config, skipped):
            if name in result:
                continue  # shadowed: the loader finds the page of that name first
            old = previous.get(name)
            if (
                old is not None
                and old.path == path
                and old.size == st.st_size
                and old.mtime_ns == st.st_mtime_ns
            ):
                result[name] = old
                continue
            try:
                data = Path(path).read_bytes()
            except OSError:
                continue
            text = data.decode("utf-8", errors="replace")
            result[name] = TemplateFile(
                path, st.st_size, st.st_mtime_ns, hashlib.sha256(data).hexdigest(), _names(text)
            )
    return result


def template_closure(name: str, templates: dict[str, TemplateFile]) -> frozenset[str]:
    """``name`` and every template it reaches; contains :data:`ALL` when that is unknowable."""
    seen: set[str] = set()
    stack = [name]
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        template = templates.get(current)
        if template is not None:
            stack.extend(template.names - seen)
    return frozenset(seen)


def changed_templates(old: dict[str, TemplateFile], new: dict[str, TemplateFile]) -> set[str]:
    """Names whose content changed, appeared or disappeared."""
    changed = {name for name in new if name not in old or old[name].digest != new[name].digest}
    changed.update(name for name in old if name not in new)
    return changed


def pages_to_render(
    pages: list[Page], old: dict[str, TemplateFile], new: dict[str, TemplateFile]
) -> set[str]:
    """Sources of the pages whose output may differ from the last build's."""
    changed = changed_templates(old, new)
    if not changed:
        return set()
    result = set()
    for page in pages:
        closure = template_closure(page.source, new) | template_closure(page.source, old)
        if ALL in closure or closure & changed:
            result.add(page.source)
    return result
