"""``fingerprint: true`` on disk: the hashed static files a build adds, and the pages a rename re-renders.

The names and bytes are pushgen/build/fingerprint.py's (pure). This module reads
the site's static files for it, keeps the rewritten stylesheets and modules in a
folder of pushgen's own beside the output (``.OUTPUT.fingerprint``, content
addressed: a file there is written once under its hashed name and never changed),
and hands the build the hashed files as more static files, each with a source to
copy from: the site's own file when only its name changes, the folder's file when
its references were rewritten. The plain names stay too, so a hand-written
``/static/css/site.css`` keeps working.

The plan is kept for the process (keyed by every static file's size and
modification time), so the build's several looks at the static files, and the
renderer's ``url_for``, compute it once.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..config import SiteConfig
from ..errors import Diagnostic
from .fingerprint import FingerprintPlan, content_hash, is_document, plan_fingerprints
from .incremental import StaticFile
from .pages import Page

__all__ = ["Fingerprinted", "fingerprint_folder", "fingerprinted_sources", "renamed_pages"]


@dataclass(frozen=True, slots=True)
class Fingerprinted:
    """The hashed static files a build adds to the site's own, by output path."""

    names: dict[str, str]  # output path -> hashed output path
    files: dict[str, str]  # hashed output path -> the file to copy it from
    stats: dict[str, StaticFile]  # hashed output path -> that file's size and mtime
    diagnostics: tuple[Diagnostic, ...]  # references left as written


_EMPTY = Fingerprinted({}, {}, {}, ())


@dataclass(frozen=True, slots=True)
class _Key:
    """What a plan depends on: the files, and the URL they are served under (references resolve against it)."""

    base_path: str
    stats: frozenset[tuple[str, StaticFile]]


@dataclass(frozen=True, slots=True)
class _Kept:
    key: _Key
    result: Fingerprinted


# The last plan made in this process, by fingerprint folder.
_last: dict[str, _Kept] = {}


def fingerprint_folder(config: SiteConfig) -> Path:
    """Where the rewritten stylesheets and modules are kept: ``.OUTPUT.fingerprint`` beside the output."""
    return config.output.with_name(f".{config.output.name}.fingerprint")


def fingerprinted_sources(
    config: SiteConfig, files: Mapping[str, str], stats: Mapping[str, StaticFile]
) -> Fingerprinted:
    """The hashed files to add to the static files ``files`` (output path -> source path)."""
    if not config.fingerprint:
        return _EMPTY
    key = _Key(config.base_path, frozenset(stats.items()))
    folder = fingerprint_folder(config)
    kept = _last.get(str(folder))
    if kept is not None and kept.key == key and _still_there(kept.result, folder):
        return kept.result
    documents: dict[str, bytes] = {}
    for rel, source in files.items():
        if is_document(rel):
            data = _read(source)
            if data is not None:
                documents[rel] = data
    digests = _digests(folder, files, stats, documents.keys())
    plan = plan_fingerprints(documents, config.base_path, digests)
    result = _materialise(plan, folder, files, stats)
    _last[str(folder)] = _Kept(key, result)
    return result


def _still_there(result: Fingerprinted, folder: Path) -> bool:
    """Whether the rewritten files of an earlier plan are still in ``folder`` (nobody removed them)."""
    inside = f"{folder}{os.sep}"
    return all(os.path.isfile(f) for f in result.files.values() if f.startswith(inside))


def _read(source: str) -> bytes | None:
    try:
        with open(source, "rb") as fh:
            return fh.read()
    except OSError:
        return None  # gone since it was listed: the copy reports it


# The content hashes of the files that are no stylesheet or module, by output path, with
# the size and mtime they were computed for: a build reads only the files that changed.
_DIGESTS = "digests.json"


def _digests(
    folder: Path, files: Mapping[str, str], stats: Mapping[str, StaticFile], skip: Iterable[str]
) -> dict[str, str]:
    """The content hash of every static file but ``skip``, from the last build's where unchanged."""
    saved: dict[str, list[Any]] = {}
    with contextlib.suppress(OSError, ValueError):
        loaded = json.loads((folder / _DIGESTS).read_text(encoding="utf-8"))
        saved = loaded if isinstance(loaded, dict) else {}
    digests: dict[str, str] = {}
    kept: dict[str, list[Any]] = {}
    left = set(skip)
    for rel, source in files.items():
        if rel in left:
            continue
        stat = stats[rel]
        entry = saved.get(rel)
        if isinstance(entry, list) and entry[:2] == [stat.size, stat.mtime_ns]:
            digest = str(entry[2])
        else:
            data = _read(source)
            if data is None:
                continue
            digest = content_hash(data)
        digests[rel] = digest
        kept[rel] = [stat.size, stat.mtime_ns, digest]
    if kept != saved:
        folder.mkdir(parents=True, exist_ok=True)
        temporary = folder / f".{_DIGESTS}.tmp"
        temporary.write_text(json.dumps(kept, separators=(",", ":")), encoding="utf-8")
        os.replace(temporary, folder / _DIGESTS)
    return digests


def _materialise(
    plan: FingerprintPlan,
    folder: Path,
    files: Mapping[str, str],
    stats: Mapping[str, StaticFile],
) -> Fingerprinted:
    """Write the rewritten files into ``folder`` (those not there yet) and list every hashed file's source."""
    sources: dict[str, str] = {}
    hashed_stats: dict[str, StaticFile] = {}
    for rel, hashed in plan.names.items():
        data = plan.rewritten.get(hashed)
        if data is None:
            sources[hashed], hashed_stats[hashed] = files[rel], stats[rel]
            continue
        target = folder / hashed
        st = _stat(target)
        if st is None or st.st_size != len(data):
            target.parent.mkdir(parents=True, exist_ok=True)
            temporary = target.with_name(f".{target.name}.tmp")
            temporary.write_bytes(data)
            os.replace(temporary, target)  # never a half-written file under the final name
            st = os.stat(target)
        sources[hashed] = str(target)
        hashed_stats[hashed] = StaticFile.of(st)
    _prune(folder, {*plan.rewritten, _DIGESTS})
    return Fingerprinted(plan.names, sources, hashed_stats, plan.diagnostics)


def _stat(path: Path) -> os.stat_result | None:
    try:
        return os.stat(path)
    except OSError:
        return None


def _prune(folder: Path, keep: set[str]) -> None:
    """Remove the files of ``folder`` (pushgen's own) that no current hashed name needs."""
    if not folder.is_dir():
        return
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            rel = path.relative_to(folder).as_posix()
            if rel not in keep:
                path.unlink(missing_ok=True)


def renamed_pages(
    config: SiteConfig,
    pages: Iterable[Page],
    before: Iterable[str],
    now: Iterable[str],
    names: Mapping[str, str] | None = None,
) -> set[str]:
    """Sources of the pages whose output names a static file the last build had and this one
    has not (a hashed name a change replaced), or the plain name of a file that has a
    hashed name now and had none before (a file added: a page naming it by hand is
    rewritten to the new name; ``names``: output path -> hashed output path).

    A page's output is searched for the file's base name, so a name written by
    ``url_for`` anywhere (a link, a script's string) is found, as is one written by
    hand (rewritten to the hashed name: build/fingerprint_pages.py). Only read when
    some name went away or came.
    """
    if not config.fingerprint:
        return set()
    earlier = set(before)
    found = {os.path.basename(rel) for rel in earlier - set(now)}
    # The plain names of the files the last build gave no hashed name.
    hashed_before = {_HASH.sub("", rel) for rel in earlier}
    found |= {
        os.path.basename(rel)
        for rel, hashed in (names or {}).items()
        if hashed not in earlier and rel not in hashed_before
    }
    # As written by hand, and as url_for writes it (percent-encoded).
    gone = {name.encode() for name in found} | {quote(name).encode() for name in found}
    if not gone:
        return set()
    dirty: set[str] = set()
    for page in pages:
        try:
            data = (config.output / page.output).read_bytes()
        except OSError:
            continue
        if any(name in data for name in gone):
            dirty.add(page.source)
    return dirty


# A hashed name's hash (build/fingerprint.py's hashed_name: before the extension).
_HASH = re.compile(r"\.[0-9a-f]{8,64}(?=\.[^./]+$)")
