"""The no-change fast path: a rebuild that finds nothing changed since the last build
returns that build's result from one ``stat`` pass, without loading its state.

A build that wrote the output (not a shard's) and changed nothing, or rendered every
page (a full build), leaves a small file beside the state, ``.OUTPUT.state.quick``:

* a digest of (path, mode, size, mtime, ctime, inode) of every source: every file
  and folder under ``pages/``, ``templates/`` and ``static/``, and ``pushgen.yaml``
  (one digest each, compared in turn: a change found stops the pass);
* a digest of the same of what the build left: the manifest (whose hand rules a
  user may edit), its compiled form, the state's header, every page's output file
  (a page edited in the output is rendered again, staging.edited_pages), every
  folder of the output (a file deleted from, or put into, the output changes its
  folder's mtime: the next build restores it, or refuses, as it always did), and
  the names of pushgen's own files beside the output (a spare, a killed build's
  staging folder);
* the configuration's key (incremental.config_key: every option that changes every
  page, and a stamp of all of pushgen's code) with pushgen's version;
* what the build returned that a rebuild returns again: its pages (source, route,
  output), its diagnostics, the number of static files.

The next build with ``write`` and without ``--full`` or a shard stats the same
files; when both digests and the key are equal it returns the saved result, the
manifest from its compiled form, and writes nothing: no staging folder, no
rendering set-up, no manifest or state. Anything else (a difference, a file that
cannot be read, a compiled manifest that is not the YAML's) is the ordinary rebuild,
which replaces the file or removes it when it succeeds (one that fails leaves the
output as it was, or, swapped in, a new output folder: another inode).
A build whose output has no spare yet (the first) leaves none either: the next,
ordinary, rebuild makes the spare every later build starts from. A build that
changed something leaves no such file (saving it costs a stat pass,
which a rebuild that changed one page would pay for nothing): the next build that
changes nothing writes it.

What is relied on (docs/performance.md, "The no-change fast path"): a file's change
shows in its size, its mtime, its ctime or its inode. ctime is the kernel's clock at
the last change, which ``touch`` or ``os.utime`` cannot set back, so an edit that
keeps the size and forges the old mtime is still seen. The trap make and ninja
document is a change within one tick of the file system's clock after the stat was
taken, with the same size. Git's rule for it ("racy git",
https://git-scm.com/docs/racy-git: an entry not older than the index file is
compared by content) is taken here with the file system's own clock: every build
starts by making a file and removing it, and its mtime is the build's start. A
source changed at or after it (max(mtime, ctime) not older than the stamp: edited
while the build ran, or within the same tick before) is not vouched for: nothing is
saved, and the next build is the ordinary one. What the build wrote is stat-ed
after a second stamp; an output not older than that stamp (written in its tick) is
saved with the digest of its content (a folder's: its sorted names), which a
rebuild compares before it trusts the stat.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.metadata
import json
import os
import stat
import time
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import SiteConfig
from ..errors import Diagnostic
from ..fsutil import FileRefused, atomic_write, display_path, read_regular_file
from ..manifest import SCHEMA_NAME, Manifest, parse_manifest
from ..manifest.compiled import compiled_path, load_compiled
from .fingerprint_files import fingerprint_folder
from .incremental import StateDamage, config_key, output_folder_list, state_path
from .output import build_lock
from .pages import Page
from .result import BuildResult, PageResult

__all__ = [
    "Before",
    "after_build",
    "before_build",
    "locked_at",
    "quick_path",
    "unchanged_result",
]

# Bump when what the file holds, or what its digests cover, changes.
QUICK_FORMAT = 2

# The largest quick file read back: one line a page (its source, route and output).
_MAX_BYTES = 256 * 2**20


def quick_path(config: SiteConfig) -> Path:
    """Where the no-change fast path's file is: beside the state's header."""
    path = state_path(config)
    return path.with_name(f"{path.name}.quick")


# What a path that cannot be stat-ed adds to a pass's numbers.
_MISSING = (-1, -1, -1, -1, -1)
# The numbers are signed 64-bit (an mtime may be before 1970); an inode may use all
# 64 bits (some file systems), of which the low 63 are kept.
_INODE_BITS = 2**63 - 1


@dataclass(slots=True)
class _Pass:
    """One stat pass: the paths and their stats' numbers (the digest's input: no
    string made per file), and the paths stat-ed close to ``since``."""

    since: int | None  # racy from this time on (ns); None when checking a saved file
    paths: list[str] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)  # an array at the digest
    racy: list[str] = field(default_factory=list)
    safe: bool = True  # False: a folder reached through a link (not vouched for)

    def add(self, path: str, st: os.stat_result | None) -> None:
        self.paths.append(path)
        if st is None:
            self.numbers += _MISSING
            return
        mtime, ctime = st.st_mtime_ns, st.st_ctime_ns
        self.numbers += (st.st_mode, st.st_size, mtime, ctime, st.st_ino & _INODE_BITS)
        if self.since is not None and max(mtime, ctime) >= self.since:
            self.racy.append(path)

    def path(self, path: str) -> None:
        try:
            self.add(path, os.stat(path))
        except OSError:
            self.add(path, None)

    def tree(self, root: str) -> None:
        """Every file and folder under ``root``, in the folders' own order (not
        sorted: a folder listed in another order is only a rebuild for nothing)."""
        stack = [root]
        while stack:
            folder = stack.pop()
            try:
                entries = list(os.scandir(folder))
            except OSError:
                self.add(folder, None)
                continue
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    self.add(entry.path, entry.stat(follow_symlinks=False))
                    stack.append(entry.path)
                elif entry.is_symlink():
                    # The file it leads to, whose edits change the page; a link to a
                    # folder is more than this pass vouches for.
                    try:
                        st = os.stat(entry.path)
                    except OSError:
                        st = None
                    self.safe = self.safe and (st is None or not stat.S_ISDIR(st.st_mode))
                    self.add(entry.path, st)
                else:
                    self.add(entry.path, entry.stat(follow_symlinks=False))

    def digest(self) -> str:
        blob = "\0".join(self.paths).encode("utf-8", "surrogateescape")
        return hashlib.sha256(blob + b"\0\0" + array("q", self.numbers).tobytes()).hexdigest()


def _content(path: str) -> str:
    """The digest of what ``path`` holds: a file's bytes, a folder's sorted names."""
    try:
        if os.path.isdir(path):
            data = "\0".join(sorted(os.listdir(path))).encode("utf-8", "surrogateescape")
        else:
            # Never through a link, never a FIFO: the quick file names the path.
            data = read_regular_file(path, limit=_MAX_BYTES)
    except (OSError, FileRefused):
        return "-"
    return hashlib.sha256(data).hexdigest()


def _source_roots(config: SiteConfig) -> list[Path]:
    """The sources' folders and files, each a digest of its own, smallest first: a
    rebuild that changed one page stops after the pages, before the static files
    (20,000 at 10,000 pages), and goes down the ordinary path sooner."""
    roots = [config.templates, config.pages, config.static]
    return roots if config.config_file is None else [config.config_file, *roots]


def _sources(root: Path, since: int | None) -> _Pass:
    """The stat pass over one of the sources' roots (see the module's docstring)."""
    look = _Pass(since)
    look.path(str(root))
    if root.is_dir():
        look.tree(str(root))
    return look


def _sources_unchanged(config: SiteConfig, saved: object) -> bool:
    """Whether every root's digest is the saved one, stopping at the first that is not."""
    roots = _source_roots(config)
    if not isinstance(saved, list) or len(saved) != len(roots):
        return False
    return all(
        _sources(root, None).digest() == digest for root, digest in zip(roots, saved, strict=True)
    )


def _outputs(
    config: SiteConfig, outputs: Iterable[str], folders: Iterable[str], since: int | None
) -> _Pass:
    """The stat pass over what the build left (see the module's docstring)."""
    look = _Pass(since)
    schema = config.manifest.with_name(SCHEMA_NAME)
    for path in (config.manifest, compiled_path(config.manifest), schema, state_path(config)):
        look.path(str(path))
    look.add(_beside(config), None)
    # The state's parts: a damaged or edited one is a warning and a full build.
    parts = state_path(config)
    look.tree(str(parts.with_name(f"{parts.name}.d")))
    # The fingerprinted files beside the output (fingerprint: true), when there are.
    look.tree(str(fingerprint_folder(config)))
    root = str(config.output)
    for folder in folders:
        look.path(os.path.join(root, folder) if folder else root)
    for output in outputs:
        look.path(os.path.join(root, output))
    return look


def _beside(config: SiteConfig) -> str:
    """The names of pushgen's own folders and files beside the output (its spare,
    a killed build's staging folder, the state): one a build did not leave, or one
    gone, sends the next build down the ordinary path, which clears them up."""
    output = config.output
    mine = {quick_path(config).name, _stamp_path(config).name, f".{output.name}.lock"}
    prefix = f".{output.name}."
    try:
        names = os.listdir(output.parent)
    except OSError:
        return "beside\0-"
    return "beside\0" + "\0".join(
        sorted(n for n in names if n.startswith(prefix) and n not in mine)
    )


@functools.cache
def _version() -> str:
    try:
        return importlib.metadata.version("pushgen")
    except importlib.metadata.PackageNotFoundError:
        return ""  # run from a checkout: the code's stamp tells versions apart


def _key(config: SiteConfig) -> str:
    parts = (QUICK_FORMAT, _version(), config_key(config))  # config_key stamps the code
    return hashlib.sha256(repr(parts).encode("utf-8", "surrogateescape")).hexdigest()


# --- before and after an ordinary build ---------------------------------------------


# The coarsest clock of a file system's timestamps (FAT's: 2 s), for a build that
# could make no stamp: a file changed within it of the build's start is racy.
_COARSEST_TICK = 2 * 10**9


@dataclass(frozen=True, slots=True)
class Before:
    """What an ordinary build noted as it started."""

    key: str
    started: int | None  # the stamp's mtime (ns), None when it could not be made
    clock: int  # time.time_ns() then
    quick: bool = True  # False: this build neither saves nor removes a quick file

    @property
    def racy_from(self) -> int:
        """The build's start on the file system's clock: a source changed since is
        not vouched for (the quick file's rule, and the state's: state.vouched_templates).
        Without a stamp, the system clock less the coarsest tick of a file system's."""
        return self.clock - _COARSEST_TICK if self.started is None else self.started


def _stamp(config: SiteConfig) -> int | None:
    """The file system's clock now, as racy git uses the index file's mtime: the
    mtime of a file made and removed at once (``.OUTPUT.state.quick.stamp``).

    Only beside a state pushgen wrote: a first build, or one refused (an output
    folder of the user's), writes nothing here.
    """
    if not os.path.isfile(state_path(config)):
        return None
    path = _stamp_path(config)
    with contextlib.suppress(OSError):
        path.unlink()  # a killed build's
    try:
        # O_EXCL, O_NOFOLLOW: never through a link someone put in its place.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    except OSError:
        return None
    try:
        return os.fstat(fd).st_mtime_ns
    finally:
        os.close(fd)
        with contextlib.suppress(OSError):
            path.unlink()


def _stamp_path(config: SiteConfig) -> Path:
    path = quick_path(config)
    return path.with_name(f"{path.name}.stamp")


def locked_at(config: SiteConfig, before: Before) -> int:
    """When the build that holds the lock took it, on the file system's clock: the
    mtime of the lock file it has just written its pid into (output.build_lock),
    before it stat-ed any source. ``before.racy_from`` when it cannot be read."""
    try:
        return os.stat(config.output.with_name(f".{config.output.name}.lock")).st_mtime_ns
    except OSError:
        return before.racy_from


def before_build(config: SiteConfig, *, quick: bool = True) -> Before:
    """Stamp the build's start. The last build's quick file stays: a build that
    fails leaves the output as it was, and one that swapped a new output in has
    changed the output folder's inode, which the quick file's digest holds.

    Without ``quick`` (a build that writes no output, a shard's) nothing is written
    and only the clock is read."""
    clock = time.time_ns()
    if not quick:
        return Before("", None, clock, quick=False)
    return Before(_key(config), _stamp(config), clock)


def after_build(config: SiteConfig, before: Before, result: BuildResult) -> None:
    """Save the quick file of a build that wrote its output and changed nothing or
    rendered every page; after any other, leave none. A failure to save it only
    costs the next build its fast path.

    Called under the build lock, which the build still holds: a build that starts
    once it is released finds the quick file saved, never saves before one
    (which would then vouch for what that build replaced)."""
    if not before.quick:
        return
    if not _save(config, before, result):
        with contextlib.suppress(OSError):
            quick_path(config).unlink()


def _save(config: SiteConfig, before: Before, result: BuildResult) -> bool:
    if before.started is None or not result.written:
        return False
    if not (result.unchanged or result.rendered == len(result.pages)):
        return False  # the next build that changes nothing saves it
    # A build that met a damaged state says so once; the next one would not.
    if any(StateDamage.WHAT in d.message for d in result.diagnostics):
        return False
    pages = [p.page for p in result.pages if p.page is not None]
    folders = output_folder_list(config)
    if folders is None or len(pages) != len(result.pages):
        return False
    if f"\0.{config.output.name}.spare-" not in _beside(config):
        # The first build's output has no spare yet; the next one makes it, the
        # starting point of every later build: the fast path waits for it.
        return False
    sources = [_sources(root, before.started) for root in _source_roots(config)]
    if any(look.racy or not look.safe for look in sources):
        return False  # changed as the build ran (or just before): not vouched for
    ended = _stamp(config)
    if ended is None:
        return False
    look = _outputs(config, [p.output for p in pages], folders, ended)
    head = {
        "format": QUICK_FORMAT,
        "key": before.key,
        "sources": [look.digest() for look in sources],
        "outputs": look.digest(),
        "folders": folders,
        "racy": {path: _content(path) for path in look.racy},
    }
    body = {
        "pages": [[p.source, p.route, p.endpoint, p.output, p.plain] for p in pages],
        "diagnostics": [
            [d.file, d.line, d.column, d.message, d.severity] for d in result.diagnostics
        ],
        "static_files": result.static_files,
        # The summary's counts, which the fast path says without decoding a route.
        "assets": result.asset_count,
        "routes": result.route_count,
    }
    blob = json.dumps(head).encode("ascii") + b"\n" + json.dumps(body).encode("ascii")
    try:
        atomic_write(quick_path(config), blob)
    except OSError:
        return False
    return True


# --- the fast path ------------------------------------------------------------------


def unchanged_result(config: SiteConfig, *, strict: bool) -> BuildResult | None:
    """The result of a rebuild when nothing changed since the last build, else None
    (the ordinary rebuild then finds out what did)."""
    started = time.perf_counter()
    try:
        blob = read_regular_file(str(quick_path(config)), limit=_MAX_BYTES)
    except FileRefused:
        return None
    try:
        saved = _Saved.of(blob)
    except (ValueError, TypeError, KeyError):
        return None  # not what after_build writes: the ordinary rebuild
    if saved.head.get("format") != QUICK_FORMAT or saved.head.get("key") != _key(config):
        return None
    if strict and saved.diagnostics:
        return None  # --strict stops the build on them: the ordinary rebuild says so
    # Under the build lock, as any build: while another writes the output this one
    # is refused (BuildLockHeld), not answered from what that build is replacing.
    with build_lock(config.output):
        return _if_unchanged(config, saved, started)


def _if_unchanged(config: SiteConfig, saved: _Saved, started: float) -> BuildResult | None:
    if not _sources_unchanged(config, saved.head.get("sources")):
        return None
    outputs = _outputs(config, [p.output for p in saved.pages], saved.head["folders"], None)
    if outputs.digest() != saved.head.get("outputs"):
        return None
    racy = saved.head.get("racy")
    stated = set(outputs.paths)
    if not isinstance(racy, dict) or not racy.keys() <= stated:
        return None  # only outputs are compared by content
    if any(_content(p) != d for p, d in racy.items()):
        return None
    return _result(config, saved, started)


@dataclass(frozen=True, slots=True)
class _Saved:
    """A quick file as read back."""

    head: dict[str, Any]
    pages: list[Page]
    diagnostics: list[Diagnostic]
    static_files: int
    assets: int
    routes: int

    @classmethod
    def of(cls, blob: bytes) -> _Saved:
        first, _, second = blob.partition(b"\n")
        head, body = json.loads(first), json.loads(second)
        if not isinstance(head, dict) or not isinstance(body, dict):
            raise ValueError("not what after_build writes")
        pages = [Page(s, r, e, o, bool(plain)) for s, r, e, o, plain in body["pages"]]
        diagnostics = [Diagnostic(f, ln, col, m, sev) for f, ln, col, m, sev in body["diagnostics"]]
        folders = head["folders"]
        if not isinstance(folders, list) or not all(isinstance(f, str) for f in folders):
            raise ValueError("not what after_build writes")
        counts = (int(body[n]) for n in ("static_files", "assets", "routes"))
        return cls(head, pages, diagnostics, *counts)


# What _QuickResult's manifest is until it is decoded.
_LATER = Manifest()


class _QuickResult(BuildResult):
    """The fast path's result. Its manifest is decoded from the compiled form when
    first asked for, and its pages' entries from the manifest's routes: made up
    front they were most of the fast path's time (0.5 of 0.9 s at 2,000 pages).
    Its summary's counts are the ones the quick file saved. The manifest's YAML is
    read under the build lock; should a later build replace the compiled file
    before it is decoded, that YAML is parsed instead (it is the truth)."""

    __slots__ = ("_assets", "_decoded", "_page_list", "_routes", "_saved", "_yaml")
    _assets: int
    _decoded: Manifest | None
    _page_list: list[PageResult] | None
    _routes: int
    _saved: list[Page]
    _yaml: bytes

    def __init__(self, saved: _Saved, yaml: bytes, **fields: Any) -> None:
        self._saved, self._yaml, self._page_list, self._decoded = saved.pages, yaml, None, None
        self._assets, self._routes = saved.assets, saved.routes
        super().__init__(manifest=_LATER, pages=[], **fields)

    @property
    def manifest(self) -> Manifest:
        """The manifest the build left (decoded on first use)."""
        if self._decoded is None:
            name = display_path(self.config.manifest)
            compiled = load_compiled(self._yaml, name).manifest
            self._decoded = compiled or parse_manifest(self.manifest_text, name)
        return self._decoded

    @manifest.setter
    def manifest(self, value: Manifest) -> None:
        # BuildResult's __init__ sets _LATER: decoded on first use.
        self._decoded = None if value is _LATER else value

    @property
    def pages(self) -> list[PageResult]:
        """Each page with its entries (from the manifest's routes, on first use)."""
        if self._page_list is None:
            routes = self.manifest.routes
            self._page_list = [PageResult(p.route, routes.get(p.route, ()), p) for p in self._saved]
        return self._page_list

    @pages.setter
    def pages(self, value: list[PageResult]) -> None:
        self._page_list = value or None  # BuildResult's __init__ sets []: made on first use

    @property
    def page_count(self) -> int:
        return len(self._saved) + self.left_out

    @property
    def asset_count(self) -> int:
        return self._assets

    @property
    def route_count(self) -> int:
        return self._routes


def _result(config: SiteConfig, saved: _Saved, started: float) -> BuildResult | None:
    """The rebuild's result from the saved values and the manifest's YAML (read here,
    under the build lock; its compiled form, which the outputs' digest vouched for,
    is decoded when the result's manifest is first asked for)."""
    try:
        data = read_regular_file(str(config.manifest), limit=_MAX_BYTES)
        text = data.decode("utf-8")
    except (FileRefused, UnicodeDecodeError):
        return None
    seconds = time.perf_counter() - started
    return _QuickResult(
        saved,
        data,
        config=config,
        diagnostics=saved.diagnostics,
        seconds=seconds,
        static_files=saved.static_files,
        written=True,
        manifest_text=text,
        phases={"read": seconds},
        unchanged=True,
    )
