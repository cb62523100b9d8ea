"""URL path -> file of a built output folder, and its size: one lookup for every part.

:func:`find_file` decides what a URL path names in an output folder (a page by
route: ``/`` is ``index.html``, ``/docs/`` is ``docs/index.html``, ``/about``
``about.html`` with pretty URLs; a folder without its slash is a redirect),
with one containment rule: a path that names anything outside the folder
(``..``, an encoded ``..``, a backslash, a symbolic link leading out), a dotfile
or anything but a regular file names nothing. The runtime's file server, its
404 page, the ``.br``/``.gz`` siblings it may send in a file's place (through
:func:`find_sibling`) and the byte budgets of manifest rules (the runtime's,
``pushgen explain``'s and ``pushgen export``'s, through :func:`file_size`) all
go through it. It imports neither Quart nor the build, so both sides may use it.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from typing import Literal, NamedTuple

from .urls import url_path_to_relpath

__all__ = ["FileState", "Found", "file_size", "find_file", "find_sibling", "output_relpath"]


class FileState(NamedTuple):
    """What changes when a file is replaced or rewritten: an atomic replace changes
    the inode, an in-place edit the size or times (and the ctime even when
    ``os.utime`` puts the old mtime back). Compared whole, never read by part.

    A named tuple, not a dataclass: the file server makes two for every request of
    a compressible file with a sibling, and a tuple is made and compared in a
    fraction of the time a frozen dataclass takes.
    """

    device: int
    inode: int
    size: int
    mtime_ns: int
    ctime_ns: int

    @classmethod
    def of(cls, st: os.stat_result) -> FileState:
        return cls(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


@dataclass(frozen=True, slots=True)
class Found:
    """What a URL path names: a ``file`` (its real path, size, mtime) or a folder to ``redirect`` to.

    A file also carries the output's real path it was found in (``root``, where
    its siblings are looked up) and its identity (``device``, ``inode``,
    ``ctime_ns``), so a caller can tell the same file from one replaced since.
    """

    kind: Literal["file", "redirect"]
    path: str = ""
    size: int = 0
    mtime_ns: int = 0
    root: str = ""
    device: int = 0
    inode: int = 0
    ctime_ns: int = 0

    @property
    def state(self) -> FileState:
        """The file's state when it was found (see :class:`FileState`)."""
        return FileState(self.device, self.inode, self.size, self.mtime_ns, self.ctime_ns)


def _contained(root: str, candidate: str) -> Found | None:
    """The regular file ``candidate`` (relative to the real folder ``root``) if it is inside it."""
    full = os.path.realpath(os.path.join(root, candidate))
    if not full.startswith(root + os.sep):
        return None
    try:
        st = os.stat(full)
    except OSError:
        return None
    return _file(root, full, st)


def _file(root: str, full: str, st: os.stat_result) -> Found | None:
    """The file at the real path ``full`` (stat ``st``) of the output ``root``; None unless regular."""
    if not stat.S_ISREG(st.st_mode):
        return None
    return Found(
        "file", full, st.st_size, st.st_mtime_ns, root, st.st_dev, st.st_ino, st.st_ctime_ns
    )


def find_file(
    output: str | os.PathLike[str],
    url_path: str,
    *,
    base_path: str = "/",
    pretty_urls: bool = False,
) -> Found | None:
    """What the percent-encoded ``url_path`` names in the ``output`` folder, or None.

    The output's own path is resolved on every call: it may be a symbolic link
    that a deploy switches, or a folder a build has just swapped.
    """
    rel = url_path_to_relpath(url_path, base_path)
    if rel is None:
        return None
    segments = rel.split("/")
    # Dotfiles and dot-folders (.git, .htaccess, .env) are never part of a site;
    # an empty segment ("a//b") is not a canonical URL of any file.
    if any(seg.startswith(".") for seg in segments) or "" in segments[:-1]:
        return None
    root = os.path.realpath(output)
    candidates = [_page_file(rel)]
    if pretty_urls and rel and not rel.endswith("/") and "." not in segments[-1]:
        candidates.append(rel + ".html")
    for candidate in candidates:
        found = _contained(root, candidate)
        if found is not None:
            return found
    if rel and not rel.endswith("/") and _contained(root, os.path.join(rel, "index.html")):
        return Found("redirect")
    return None


def find_sibling(found: Found, suffix: str) -> Found | None:
    """The file beside the file ``found`` named with ``suffix`` added (``.br``, ``.gz``), or None.

    By the same containment rule as :func:`find_file`, in the folder ``found``
    was found in: a sibling that is a symbolic link leading out of the output
    (``site.css.br`` -> ``/etc/passwd``), a folder or a special file is none.
    """
    if found.kind != "file" or not found.root:
        return None
    full = found.path + suffix
    try:
        st = os.lstat(full)
    except OSError:
        return None
    if stat.S_ISLNK(st.st_mode):
        # Where the link leads decides, as for any file of the output.
        return _contained(found.root, full[len(found.root) + 1 :])
    # Not a link, in the folder of a file whose real path was just found inside
    # the output: inside it too, without resolving the path again (a realpath is
    # a system call per folder, which this lookup on every request would pay twice).
    return _file(found.root, full, st)


def output_relpath(url_path: str, base_path: str = "/") -> str | None:
    """The file the percent-encoded ``url_path`` names, relative to the output folder.

    A folder's URL (``/``, ``/docs/``) names its ``index.html``. None when the path
    is outside ``base_path`` or cannot name a file (see :func:`url_path_to_relpath`).
    Nothing is looked up: for a listing of the output, or a message about a file.
    """
    rel = url_path_to_relpath(url_path, base_path)
    return None if rel is None else _page_file(rel)


def _page_file(rel: str) -> str:
    return rel + "index.html" if rel == "" or rel.endswith("/") else rel


def file_size(output: str | os.PathLike[str], url_path: str, *, base_path: str = "/") -> int | None:
    """The size of the file ``url_path`` names in ``output``, or None when it names none."""
    found = find_file(output, url_path, base_path=base_path)
    return found.size if found is not None and found.kind == "file" else None
