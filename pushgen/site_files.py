"""URL path -> file of a built output folder, and its size: one lookup for every part.

:func:`find_file` decides what a URL path names in an output folder (a page by
route: ``/`` is ``index.html``, ``/docs/`` is ``docs/index.html``, ``/about``
``about.html`` with pretty URLs; a folder without its slash is a redirect),
with one containment rule: a path that names anything outside the folder
(``..``, an encoded ``..``, a backslash, a symbolic link leading out), a dotfile
or anything but a regular file names nothing. The runtime's file server, its
404 page and the byte budgets of manifest rules (the runtime's, ``pushgen
explain``'s and ``pushgen export``'s, through :func:`file_size`) all go through
it. It imports neither Quart nor the build, so both sides may use it.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from typing import Literal

from .urls import url_path_to_relpath

__all__ = ["Found", "file_size", "find_file", "output_relpath"]


@dataclass(frozen=True, slots=True)
class Found:
    """What a URL path names: a ``file`` (its real path, size, mtime) or a folder to ``redirect`` to."""

    kind: Literal["file", "redirect"]
    path: str = ""
    size: int = 0
    mtime_ns: int = 0


def _regular(root: str, candidate: str) -> os.stat_result | None:
    full = os.path.realpath(os.path.join(root, candidate))
    if not full.startswith(root + os.sep):
        return None
    try:
        st = os.stat(full)
    except OSError:
        return None
    return st if stat.S_ISREG(st.st_mode) else None


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
        st = _regular(root, candidate)
        if st is not None:
            full = os.path.realpath(os.path.join(root, candidate))
            return Found("file", full, st.st_size, st.st_mtime_ns)
    if rel and not rel.endswith("/") and _regular(root, os.path.join(rel, "index.html")):
        return Found("redirect")
    return None


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
