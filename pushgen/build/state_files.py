"""The incremental state's files: how they are read back and written, and what a
damaged one is.

The state (see incremental.py) is a header file beside the output,
``.OUTPUT.state``, and part files in a folder beside it, ``.OUTPUT.state.d/``,
each named by its part and a hash of its bytes. pushgen writes them and the next
build reads them back; but whoever can write the output's parent folder can put
anything in their place, and a crash can leave a part empty or cut short
(issue 22). So:

* a file is read only when it is a regular file, not a symbolic link, opened
  through the folder itself (a link put in the folder's place is not followed),
  and at most :data:`MAX_STATE_FILE_BYTES` long: a link to /dev/zero would be
  read until memory ran out, a FIFO would block the open;
* the parts are written durably (each fsynced, then their folder) before the
  header that names them, and the header in one atomic step: a crash leaves the
  old state or the new one, whole;
* whatever fails is a :class:`StateDamage` value naming the file and what it is
  instead: the build warns with it and builds everything, as with no state.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import itertools
import json
import os
import re
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import Diagnostic
from ..fsutil import FOLDER, FileRefused, atomic_write, open_folder, read_regular_file

__all__ = [
    "FORGED",
    "MAX_STATE_FILE_BYTES",
    "NONE",
    "OPT_STR",
    "BadState",
    "StateDamage",
    "as_dict",
    "as_list",
    "as_str",
    "decode",
    "fields_of",
    "is_part_file",
    "only",
    "part_file",
    "read_header",
    "read_part",
    "relative",
    "require",
    "signatures",
    "write_state",
]

# The largest header or part file a build reads. Parts grow with the site: at 1,000
# pages of the benchmarks' site (bench/shapes.py) the state is 2.4 MB in 134 parts,
# the largest (the asset table, one entry per distinct asset) 0.19 MB, so about
# 19 MB at 100,000 pages (docs/reliability.md, issue 22). A larger file is not one
# a build of a real site wrote: damaged, a warning and a full build.
MAX_STATE_FILE_BYTES = 256 * 2**20

# What a file holds that decodes but is not what a build writes.
FORGED = "not what a build writes"


@dataclass(frozen=True, slots=True)
class StateDamage:
    """The previous build's state is there but cannot be used: a crash left a part
    empty or cut short, a disk or an editor damaged it, or someone planted a link,
    a folder or a forged part in its place.

    A value, not an exception: the build that meets it warns with :meth:`warning`
    and builds everything, as it would with no state at all.
    """

    folder: Path  # the state's folder (.OUTPUT.state.d), which the warning names
    file: str  # what failed: a part's file in the folder, the folder, or the header
    why: str  # what it is instead of what a build writes

    WHAT = "the previous build's state does not validate (damaged or edited)"

    def warning(self, then: str) -> Diagnostic:
        """The build's warning that it met this state, and ``then`` what it did about it."""
        return Diagnostic(
            os.fsdecode(self.folder), 0, 0, f"{self.WHAT}: {self.file}: {self.why}; {then}"
        )


class BadState(Exception):
    """A state file that is not what a build writes (private to the state's loading,
    which turns it into a :class:`StateDamage`). ``file`` is empty until the reader
    of the file that failed names it."""

    def __init__(self, why: str = FORGED, file: str = "") -> None:
        super().__init__(why)
        self.why, self.file = why, file

    def damage(self, folder: Path, file: str) -> StateDamage:
        """This failure as the damage of ``file`` (unless it names its own file)."""
        return StateDamage(folder, self.file or file, self.why)


def require(condition: bool, why: str = FORGED) -> None:
    """Raise :class:`BadState` saying ``why`` unless ``condition``."""
    if not condition:
        raise BadState(why)


def decode(blob: bytes) -> object:
    """The JSON value of a state file; :class:`BadState` when it is none."""
    try:
        return json.loads(blob)
    except RecursionError:
        raise BadState("nested deeper than a build writes") from None
    except ValueError:  # not JSON, or not UTF-8 (UnicodeDecodeError)
        raise BadState("empty" if not blob.strip() else "not JSON (cut short or damaged)") from None


# A part's file: its name, a dot, 24 hex digits of the BLAKE2b of its bytes.
_PART_FILE = re.compile(
    r"(?:templates|static|assets|outputs|docs|page_files|(?:pages|scans)-[0-9]+)\.[0-9a-f]{24}"
)
# What write_state leaves in the parts' folder: part files, and the temporary
# files of a save that was killed.
_PART_OR_TEMP = re.compile(rf"(?:{_PART_FILE.pattern})(?:\.[0-9]+\.tmp)?")


def part_file(name: str, blob: bytes) -> str:
    """The file of the part ``name`` holding ``blob``."""
    return f"{name}.{hashlib.blake2b(blob, digest_size=12).hexdigest()}"


def is_part_file(file: object) -> bool:
    """Whether ``file`` is a name part_file gives (so a path in the parts' folder)."""
    return type(file) is str and _PART_FILE.fullmatch(file) is not None


def read_header(path: Path) -> bytes | None:
    """The bytes of the header ``path``, None when there is none."""
    try:
        return read_regular_file(os.fspath(path), limit=MAX_STATE_FILE_BYTES)
    except FileRefused as exc:
        if exc.missing:
            return None
        raise BadState(exc.why, path.name) from None


def read_part(folder: Path, file: str) -> bytes:
    """The bytes of the part file ``file`` of ``folder``: a regular file of the folder
    itself (no link, neither the folder nor the file)."""
    try:
        fd = open_folder(folder)
    except OSError as exc:
        raise BadState(_folder_why(exc, folder), folder.name) from None
    try:
        return read_regular_file(file, limit=MAX_STATE_FILE_BYTES, dir_fd=fd)
    except FileRefused as exc:
        # A folder is where the next build writes this part again when its bytes
        # are the same; a link, a FIFO or a file it replaces.
        why = f"{exc.why}: {_NO_STATE}" if exc.why == FOLDER else exc.why
        raise BadState(why, file) from None
    finally:
        os.close(fd)


def _folder_why(exc: OSError, folder: Path) -> str:
    # open(2) says ENOTDIR, not ELOOP, for a link to a folder opened with
    # O_DIRECTORY and O_NOFOLLOW.
    if exc.errno in (errno.ELOOP, errno.ENOTDIR) and folder.is_symlink():
        return f"a symbolic link: not followed, and {_NO_STATE}"
    if exc.errno == errno.ENOTDIR:
        return f"not a folder: {_NO_STATE}"
    if exc.errno == errno.ENOENT:
        return "missing"
    return f"cannot be read ({exc.strerror})"


# What a build cannot repair, since it removes only the files it wrote itself.
_NO_STATE = "no state is kept while it is there (remove it)"


def write_state(
    folder: Path, header: Path, header_blob: bytes, new: dict[str, bytes], named: set[str]
) -> None:
    """Write the parts ``new`` (file -> bytes) into ``folder``, then the header, then
    remove the part files it does not name (``named``: every part's file).

    Durably, in that order: the parts the header names are on disk before it is,
    and it is before the files of the state it replaces go. Raises
    :class:`OSError`; a folder that is a symbolic link is not written through.
    """
    with contextlib.suppress(FileExistsError):
        folder.mkdir()
    fd = open_folder(folder)
    try:
        _write_parts(fd, new)
        atomic_write(header, header_blob)
        _fsync_folder(header.parent)  # the header's name, before the old parts go
        _remove_parts(fd, named)
    finally:
        os.close(fd)


# fsync waits for the disk; the journal of ext4 or xfs commits the fsyncs of many
# threads at once. 134 parts (a full build's) took 0.50 s one after the other and
# 0.13 s from 8 threads on the 2-core test machine (docs/reliability.md, issue 22).
_FSYNC_THREADS = 8


def _write_parts(folder: int, new: dict[str, bytes]) -> None:
    """Write each part's file (replacing one of that name, which should hold the
    same bytes but may be damaged) and its name durably: each into a temporary file,
    all of them synced, renamed into place, and the folder synced."""
    written: dict[str, int] = {}  # temporary file -> its open descriptor
    placed: set[str] = set()  # those renamed into place
    # O_EXCL and O_NOFOLLOW: written where the name is, never through a link.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        for file, blob in new.items():
            tmp = f"{file}.{os.getpid()}.tmp"
            try:
                written[tmp] = os.open(tmp, flags, 0o666, dir_fd=folder)
            except FileExistsError:  # left by a killed save of this pid
                os.unlink(tmp, dir_fd=folder)
                written[tmp] = os.open(tmp, flags, 0o666, dir_fd=folder)
            view = memoryview(blob)
            while view:  # a write may take less than all (a large part, a signal)
                view = view[os.write(written[tmp], view) :]
        if written:
            with ThreadPoolExecutor(min(_FSYNC_THREADS, len(written))) as pool:
                list(pool.map(os.fsync, written.values()))
        for tmp, file in zip(written, new, strict=True):
            os.replace(tmp, file, src_dir_fd=folder, dst_dir_fd=folder)
            placed.add(tmp)
        os.fsync(folder)  # the parts' names, before the header that names them
    finally:
        # A system call per file saved (a state that changed everything has 134).
        for tmp, fd in written.items():
            os.close(fd)
            if tmp not in placed:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp, dir_fd=folder)  # a save that failed halfway


def _fsync_folder(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_parts(folder: int, keep: set[str]) -> None:
    """Remove the part files no header names any more (only files of the names
    write_state gives: anything else in the folder is not pushgen's to remove)."""
    with os.scandir(folder) as entries:
        for entry in entries:
            name = entry.name
            if name not in keep and _PART_OR_TEMP.fullmatch(name) and entry.is_file():
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(name, dir_fd=folder)


# --- checking the values of a part (incremental.py reads the parts with them) ---

NONE = type(None)
OPT_STR = (str, NONE)


def signatures(*types: tuple[type, ...]) -> frozenset[tuple[type, ...]]:
    """Every sequence of value types a list of fields of ``types`` may have: a set
    lookup of ``tuple(map(type, values))`` checks a list in one step (the state
    holds ~100,000 such lists, and load_state checks each)."""
    return frozenset(itertools.product(*types))


def fields_of(data: object, signatures: frozenset[tuple[type, ...]]) -> tuple[Any, ...]:
    """``data`` as a tuple, when it is a list of values of one of ``signatures``."""
    if type(data) is not list or tuple(map(type, data)) not in signatures:
        raise BadState
    return tuple(data)


# A path that is absolute, empty or climbs out with "..", one per line.
_UNSAFE_PATH = re.compile(r"^/|^$|(?:^|/)\.\.(?:/|$)|\x00", re.MULTILINE)


def relative(paths: Iterable[object]) -> None:
    """Require output paths: relative, no '..' (the build unlinks such paths under
    its staging folder). One regex over all of them: a state names thousands."""
    values = list(paths)
    strings = [p for p in values if isinstance(p, str)]
    require(len(strings) == len(values))
    require(not strings or _UNSAFE_PATH.search("\n".join(strings)) is None)


def as_dict(data: object) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise BadState
    return data


def as_str(data: object) -> str:
    if not isinstance(data, str):
        raise BadState
    return data


def as_list(data: object) -> list[Any]:
    if not isinstance(data, list):
        raise BadState
    return data


def only(values: Iterable[object], kind: type) -> None:
    require(set(map(type, values)) <= {kind})
