"""What a build remembers between runs, so that the next one redoes only what changed.

After a build, the state next to the output (``.<output>.state``, its parts in
``.<output>.state.d/``) holds:

* every template's size, mtime and content hash, and the templates it names
  (see dependencies.py; a name computed at render time makes a page depend on all);
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

This module is the state as files: how it is written, read back and checked
(its values are in state.py, re-exported here; the files' safety rules in
state_files.py).
"""

from __future__ import annotations

import contextlib
import json
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any, TypeVar

from ..config import SiteConfig
from ..model import Asset, Reference
from .state import (
    ALL,
    STATE_FORMAT,
    AssetTable,
    BuildState,
    CompactDiagnostic,
    CompactScan,
    PageState,
    SavedDoc,
    SavedScan,
    SavedScans,
    StaticFile,
    TemplateFile,
    config_key,
    scan_from_tuple,
    scan_tuple,
    state_path,
)
from .state_files import (
    FORGED,
    NONE,
    OPT_STR,
    BadState,
    StateDamage,
    as_dict,
    as_list,
    as_str,
    decode,
    fields_of,
    is_part_file,
    only,
    part_file,
    read_header,
    read_part,
    relative,
    require,
    signatures,
    write_state,
)

__all__ = [
    "ALL",
    "AssetTable",
    "BuildState",
    "CompactScan",
    "PageState",
    "StateDamage",
    "StaticFile",
    "TemplateFile",
    "config_key",
    "load_state",
    "output_folder_list",
    "save_state",
    "saved_static",
    "scan_from_tuple",
    "scan_tuple",
    "state_path",
    "written_files",
]

# The state: a header file (``.OUTPUT.state``: one line of JSON, what the build
# remembers beside the pages, and the file of every part) and the parts, each JSON
# in a file of its own in ``.OUTPUT.state.d/``, named by its part and a hash of its
# bytes: the pages in shards by a hash of their source, and apart from them the
# pages' scans in shards of the same pages. A rebuild writes the parts it changed
# (the shards of the pages it changed, say) and the header; every other part stays
# the file it was, never read unless used. JSON, not pickle: a pickle runs code
# when loaded, and whoever can write the output's parent folder could have run
# theirs in the next build (issue 11, item 6). Everything read is checked for
# shape and type as it is decoded (and read only as state_files.py allows); a
# state that fails is a StateDamage: a warning, and a full build with the same
# result. The scans are read (and checked, their hash too) only for the pages a
# rebuild resolves again; one that fails then starts the build over as a full one.
_PAGE_SHARDS = 64


class _ScanShard:
    """The saved scans of one shard of pages, read, decoded and checked on first
    use: a rebuild reads the scans only of the pages it resolves again, and the
    scans are most of the state (80% of its bytes at 10,000 pages)."""

    __slots__ = ("_folder", "_scans", "file")

    def __init__(self, folder: Path, file: str) -> None:
        self._folder = folder
        self.file = file  # its part file (see save_state), named by its hash
        self._scans: dict[str, CompactScan] | StateDamage | None = None

    def get(self, source: str) -> CompactScan | StateDamage:
        """The saved scan of ``source``, or the damage that keeps it from being used."""
        scans = self._scans
        if scans is None:
            try:
                blob = read_part(self._folder, self.file)
                require(
                    part_file(self.file.partition(".")[0], blob) == self.file,
                    "its bytes do not match the hash in its name",
                )
                scans = _scan_shard(decode(blob))
            except BadState as exc:
                scans = exc.damage(self._folder, self.file)
            except (ValueError, TypeError):
                scans = StateDamage(self._folder, self.file, FORGED)
            self._scans = scans
        if isinstance(scans, StateDamage):
            return scans
        scan = scans.get(source)
        if scan is None:
            return StateDamage(self._folder, self.file, f"holds no scan of {source}")
        return scan


def _page_shards(pages: dict[str, PageState]) -> list[dict[str, PageState]]:
    shards: list[dict[str, PageState]] = [{} for _ in range(_PAGE_SHARDS)]
    for source, page in pages.items():
        shards[zlib.crc32(source.encode("utf-8", "surrogateescape")) % _PAGE_SHARDS][source] = page
    return shards


def _encode(value: object) -> bytes:
    # ensure_ascii: file names that are not UTF-8 are lone surrogates (PEP 383),
    # which only an escape carries through.
    return json.dumps(value, separators=(",", ":"), check_circular=False).encode("ascii")


_REFERENCE = signatures(
    (str,), (str,), (str,), (bool,), (str,), (int,), (int,),
    OPT_STR, OPT_STR, OPT_STR, (bool,), (str,),
    (str,), (str,), OPT_STR, OPT_STR, OPT_STR, OPT_STR,
)  # fmt: skip
_ASSET = signatures(
    (str,), (str,), OPT_STR, OPT_STR, OPT_STR, (bool,), (bool,), (bool,),
    OPT_STR, OPT_STR, OPT_STR, (bool,), OPT_STR,
)  # fmt: skip
_DIAGNOSTIC = signatures((str,), (int,), (int,), (str,), (str,))
_TEMPLATE = signatures((str,), (int,), (int,), (str,), (list,), (int,), (int,))
_STATIC = signatures((int,), (int,), (int,), (int,))
_PAGE_FILE = signatures((int,), (int,))
assert {len(s) for s in _REFERENCE} == {len(Reference.__slots__)}
assert {len(s) for s in _ASSET} == {len(Asset.__slots__)}


def _folder_times(data: object) -> dict[str, int]:
    folders = as_dict(data)
    relative(k for k in folders if k != "")  # "" is the folder itself
    only(folders.values(), int)
    return folders


def _diagnostics(data: object) -> tuple[CompactDiagnostic, ...]:
    if data == []:
        return ()
    out = tuple(fields_of(d, _DIAGNOSTIC) for d in as_list(data))
    require(all(d[4] in ("error", "warning") for d in out))
    return out


def _scan(data: object) -> CompactScan:
    """A compact scan (see scan_tuple) as read, lists for tuples, checked in one
    pass: references are made from it only for the pages resolved again."""
    refs, diagnostics, encoding = as_list(data)
    require(type(encoding) in OPT_STR)
    require({tuple(map(type, r)) for r in as_list(refs)} <= _REFERENCE)
    return [refs, _diagnostics(diagnostics), encoding]


_PAGE = frozenset({(list, list, list, bool, str)})
_SCAN = frozenset({(list, list, str), (list, list, NONE)})


def _pages(data: object, assets: int) -> dict[str, PageState]:
    """One shard of pages (without their scans: see _ScanShard), checked a field
    at a time across all of them (a few passes in C instead of dozens of Python
    steps a page)."""
    pages = as_dict(data)
    entries = list(pages.values())
    require({tuple(map(type, e)) for e in entries} <= _PAGE)
    found = list(chain.from_iterable([e[0] for e in entries]))
    only(found, int)
    require(not found or (min(found) >= 0 and max(found) < assets))
    # touched (e[1]): only ever tested against sets of paths (see PageState.touched);
    # a stray string matches nothing.
    only(chain.from_iterable([e[1] for e in entries]), str)
    return {
        source: PageState(_NO_SCAN, tuple(e[0]), e[1], _diagnostics(e[2]), e[3], e[4])
        for source, e in pages.items()
    }


# Where a page's saved scan goes until load_state points it at its shard.
_NO_SCAN: CompactScan = ()


def _scan_shard(data: object) -> dict[str, CompactScan]:
    """One shard of saved scans, checked as _pages checks pages."""
    scans = as_dict(data)
    values = list(scans.values())
    require({tuple(map(type, scan)) for scan in values} <= _SCAN)
    refs = chain.from_iterable([scan[0] for scan in values])
    require({tuple(map(type, r)) for r in refs} <= _REFERENCE)
    return {
        source: [scan[0], _diagnostics(scan[1]), scan[2]]
        for source, scan in zip(scans, values, strict=True)
    }


def _doc(data: object) -> SavedDoc | None:
    if data is None:
        return None
    scan, display, kind, fonts = as_list(data)
    require(type(display) is str and kind in ("css", "js") and type(fonts) is str)
    return SavedDoc(_scan(scan), display, kind, fonts)


def _docs(data: object) -> dict[str, SavedDoc | None]:
    return {relpath: _doc(doc) for relpath, doc in as_dict(data).items()}


def _templates(data: object) -> dict[str, TemplateFile]:
    """Checked a field at a time across all templates, as _pages does."""
    templates = as_dict(data)
    values = list(templates.values())
    require({tuple(map(type, value)) for value in values} <= _TEMPLATE)
    only(chain.from_iterable([value[4] for value in values]), str)
    return {
        name: TemplateFile(path, size, mtime_ns, digest, frozenset(names), ctime_ns, inode)
        for name, (path, size, mtime_ns, digest, names, ctime_ns, inode) in templates.items()
    }


def _static(data: object) -> dict[str, StaticFile]:
    files = as_dict(data)
    relative(files)
    require({tuple(map(type, value)) for value in files.values()} <= _STATIC)
    return {rel: StaticFile(*value) for rel, value in files.items()}


def _assets(data: object) -> AssetTable:
    rows = [fields_of(fields, _ASSET) for fields in as_list(data)]
    require(len(set(rows)) == len(rows))  # every entry once
    return AssetTable([Asset(*row) for row in rows])


def _page_file_stats(data: object) -> dict[str, tuple[int, int]]:
    files = as_dict(data)
    require({tuple(map(type, value)) for value in files.values()} <= _PAGE_FILE)
    return {path: (size, mtime_ns) for path, (size, mtime_ns) in files.items()}


def _outputs(data: object) -> frozenset[str]:
    # Only ever compared with paths found in a folder, never made into one.
    values = as_list(data)
    only(values, str)
    return frozenset(values)


_SPARE = re.compile(r"(?:[0-9a-f]{16})?")


def _parts_folder(config: SiteConfig) -> Path:
    path = state_path(config)
    return path.with_name(f"{path.name}.d")


# Every part a header names.
_PART_NAMES = frozenset(
    {"templates", "static", "assets", "outputs", "docs", "page_files"}
    | {f"{kind}-{i}" for kind in ("pages", "scans") for i in range(_PAGE_SHARDS)}
)


@dataclass(frozen=True, slots=True)
class _Header:
    """The state's header, checked: what the build remembers beside the pages, and
    the file of every part."""

    key: str
    spare: str
    routes_sum: str
    output_folders: dict[str, int]
    spare_folders: dict[str, int]
    files: dict[str, str]


def _read_header(config: SiteConfig) -> _Header | None:
    """The header of the state; None when there is none, or it is another pushgen
    version's (not damaged, only not this version's to read)."""
    path = state_path(config)
    blob = read_header(path)
    if blob is None:
        return None
    try:
        header = as_dict(decode(blob))
        version = header.get("format")
        if type(version) is int and version != STATE_FORMAT:
            return None
        require(version == STATE_FORMAT)
        files = as_dict(header.get("parts"))
        # The parts' files become paths: names of the form save_state gives, each its part's.
        require(files.keys() == _PART_NAMES, "does not name every part of the state")
        require(all(is_part_file(f) and f.partition(".")[0] == k for k, f in files.items()))
        spare = as_str(header.get("spare"))
        require(_SPARE.fullmatch(spare) is not None)  # a part of a path the build renames
        return _Header(
            as_str(header.get("key")),
            spare,
            as_str(header.get("routes_sum")),
            _folder_times(header.get("output_folders")),
            _folder_times(header.get("spare_folders")),
            files,
        )
    except BadState as exc:
        raise BadState(exc.why, path.name) from None


_T = TypeVar("_T")


def _part(folder: Path, file: str, check: Callable[[Any], _T]) -> _T:
    """The part in ``file``, read and checked by ``check``."""
    try:
        return check(decode(read_part(folder, file)))
    except BadState as exc:
        raise BadState(exc.why, exc.file or file) from None
    except (ValueError, KeyError, TypeError):  # a list of the wrong length to unpack, say
        raise BadState(FORGED, file) from None


def load_state(config: SiteConfig) -> BuildState | StateDamage | None:
    """The state of the last build of this site; None when there is none (or it is
    another version's, or another configuration's), its damage when it cannot be used.

    The pages' scans are read and checked when first used (see _ScanShard), the
    rest here.
    """
    folder = _parts_folder(config)
    key = config_key(config)
    try:
        header = _read_header(config)
        if header is None or header.key != key:
            return None
        return _load_parts(folder, header)
    except BadState as exc:
        return exc.damage(folder, state_path(config).name)


def saved_static(config: SiteConfig) -> dict[str, StaticFile]:
    """The static files as the last build copied them (the state's ``static`` part
    alone), for a build that reads no state (``--full``): what it may hard-link
    from the output instead of copying (static.copy_static). Empty when there is
    no usable state: everything is copied."""
    try:
        header = _read_header(config)
        if header is None or header.key != config_key(config):
            return {}
        return _part(_parts_folder(config), header.files["static"], _static)
    except (BadState, KeyError):
        return {}


def _load_parts(folder: Path, header: _Header) -> BuildState:
    files = header.files
    assets = _part(folder, files["assets"], _assets)
    count = len(assets.assets)
    shards = [
        _part(folder, files[f"pages-{i}"], lambda data: _pages(data, count))
        for i in range(_PAGE_SHARDS)
    ]
    scan_shards: list[SavedScans] = []
    for i, shard in enumerate(shards):
        scan_shard = _ScanShard(folder, files[f"scans-{i}"])
        for source, page in shard.items():
            page._scan = SavedScan(scan_shard, source)
        scan_shards.append(scan_shard)
    state = BuildState(
        key=header.key,
        spare=header.spare,
        docs=_part(folder, files["docs"], _docs),
        routes_sum=header.routes_sum,
        output_folders=header.output_folders,
        spare_folders=header.spare_folders,
        templates=_part(folder, files["templates"], _templates),
        static=_part(folder, files["static"], _static),
        assets=assets,
        outputs=_part(folder, files["outputs"], _outputs),
        page_files=_part(folder, files["page_files"], _page_file_stats),
        _files=files,
        _shards=shards,
        _scan_shards=scan_shards,
        _asset_count=count,
    )
    for shard in shards:
        state.pages.update(shard)
    return state


def written_files(config: SiteConfig) -> frozenset[str]:
    """The files the last build wrote into the output, whatever else changed since
    (empty when no state tells, or it is damaged)."""
    try:
        header = _read_header(config)
        if header is None:
            return frozenset()
        return _part(_parts_folder(config), header.files["outputs"], _outputs)
    except BadState:
        return frozenset()


def _page_json(page: PageState) -> list[object]:
    return [page.found, sorted(page.touched), page.diagnostics, page.budgeted, page.trace_key]


def save_state(
    config: SiteConfig, state: BuildState, previous: BuildState | None = None
) -> StateDamage | None:
    """Write the state; a failure only costs the next build its head start.

    ``previous`` is the state the build started from: parts equal to its own keep
    their files. New parts are written first, then the header (see
    state_files.write_state). Returns the damage of ``previous`` when a saved scan
    this state still holds fails its checks: nothing is written then, and the
    previous header is removed (the next build is a full one). The stats of
    ``state`` are saved as they are: BuildState.vouch first.
    """
    old = previous
    files: dict[str, str] = {}
    new: dict[str, bytes] = {}  # file -> bytes, for the parts written anew

    def put(name: str, blob: bytes) -> None:
        file = files[name] = part_file(name, blob)
        new[file] = blob

    def part(name: str, unchanged: bool, value: Callable[[], object]) -> None:
        if unchanged and old is not None and name in old._files:
            files[name] = old._files[name]
        else:
            put(name, _encode(value()))

    part(
        "templates",
        old is not None and state.templates == old.templates,
        lambda: {k: [*t[:4], sorted(t.names), *t[5:]] for k, t in state.templates.items()},
    )
    part("static", old is not None and state.static == old.static, lambda: state.static)
    # The table only grows; the same object with as many entries is unchanged.
    part(
        "assets",
        old is not None
        and state.assets is old.assets
        and len(state.assets.assets) == old._asset_count,
        lambda: [[getattr(a, n) for n in Asset.__slots__] for a in state.assets.assets],
    )
    part("outputs", old is not None and state.outputs == old.outputs, lambda: sorted(state.outputs))
    part("docs", old is not None and state.docs == old.docs, lambda: state.docs)
    part(
        "page_files",
        old is not None and state.page_files == old.page_files,
        lambda: state.page_files,
    )
    damage = _page_parts(state, old, files, put)
    if damage is not None:
        with contextlib.suppress(OSError):
            state_path(config).unlink()
        return damage
    header = {
        "format": STATE_FORMAT,
        "key": state.key,
        "spare": state.spare,
        "routes_sum": state.routes_sum,
        "output_folders": state.output_folders,
        "spare_folders": state.spare_folders,
        "parts": files,
    }
    with contextlib.suppress(OSError):
        write_state(
            _parts_folder(config), state_path(config), _encode(header), new, set(files.values())
        )
    return None


def _page_parts(
    state: BuildState,
    old: BuildState | None,
    files: dict[str, str],
    put: Callable[[str, bytes], None],
) -> StateDamage | None:
    """The pages' shards and their scans' shards: each that changed is ``put``, the
    file of each that did not is kept in ``files``. Returns the damage of a saved
    scan that a shard written anew holds and that fails its checks."""
    if old is None:
        old_shards: list[dict[str, PageState]] = []
        old_scans: list[SavedScans] = []
    else:
        old_shards, old_scans = old._shards, old._scan_shards
    for i, shard in enumerate(_page_shards(state.pages)):
        was = old_shards[i] if i < len(old_shards) else {}
        same_pages = old is not None and shard.keys() == was.keys()
        if old is not None and same_pages and all(p is was[k] for k, p in shard.items()):
            files[f"pages-{i}"] = old._files[f"pages-{i}"]
        else:
            put(f"pages-{i}", _encode({k: _page_json(p) for k, p in shard.items()}))
        # A page resolved again keeps its saved scan: the scans' shard is unchanged
        # when every page in it still points into it.
        scans_were = old_scans[i] if i < len(old_scans) else None
        if (
            same_pages
            and scans_were is not None
            and all(
                type(page._scan) is SavedScan and page._scan.shard is scans_were
                for page in shard.values()
            )
        ):
            files[f"scans-{i}"] = scans_were.file
            continue
        scans = {source: page.saved_scan() for source, page in shard.items()}
        damage = next((s for s in scans.values() if isinstance(s, StateDamage)), None)
        if damage is not None:
            return damage
        put(f"scans-{i}", _encode(scans))
    return None


def output_folder_list(config: SiteConfig) -> list[str] | None:
    """The output's folders (output paths, "" the output itself) as the state's
    header records them after the last build; None when there is no such header."""
    try:
        header = _read_header(config)
    except BadState:
        return None
    return None if header is None else sorted(header.output_folders)
