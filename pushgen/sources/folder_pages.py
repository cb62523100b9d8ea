"""Which files of a built folder are pages, and at which URL prefix the folder was built to live.

``pushgen scan`` (pushgen/sources/folder.py) asks three things here:

- :func:`excluded`: is a file left out by an ``--exclude`` glob;
- :func:`~pushgen.scan.page_kind.not_a_page` (a scanner, over the file's bytes): is
  an ``.html`` file a document a browser is sent to at all;
- :func:`detect_sub_path`: was the folder built for a sub-path (VitePress with
  ``base: '/docs/'``, Docusaurus with ``baseUrl``, Hugo with a ``baseURL`` path)
  and scanned without ``--base-path``? Then every reference that misses starts
  with one prefix the folder has no folder for, and names a file of the folder
  once the prefix is taken off. The scan stops and names the option: a manifest
  of that folder at ``/`` holds no asset, and ``pushgen serve --folder`` needs the
  same ``--base-path`` to serve it where its pages point.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass

from ..manifest.rules import glob_matches
from ..model import HtmlLimits
from ..scan.html import scan_html_document
from ..urls import document_url, url_path_to_relpath

__all__ = ["SubPath", "detect_sub_path", "excluded", "page_references"]

# How many leading segments a sub-path may have (/docs/, /project/docs/, /a/b/c/).
_MAX_SEGMENTS = 3


def excluded(patterns: Iterable[str], relpath: str) -> bool:
    """Whether ``relpath`` (a file's path in the folder, ``/``-separated) matches an ``--exclude`` glob.

    The globs of ``plain:`` in pushgen.yaml (pushgen/manifest/rules.py's
    :class:`~pushgen.manifest.rules.Glob`), matched against the whole path from
    the folder's top: ``*`` and ``?`` within one path segment, ``**`` across
    segments; a pattern without ``*`` or ``?``, or ending in ``/``, also matches
    every file under that folder (``drafts`` and ``drafts/`` exclude ``drafts/a.html``).
    """
    for pattern in patterns:
        if glob_matches(pattern, relpath):
            return True
        folder = pattern.endswith("/") or not any(c in pattern for c in "*?")
        if folder and glob_matches(pattern.rstrip("/") + "/**", relpath):
            return True
    return False


@dataclass(frozen=True, slots=True)
class SubPath:
    """The URL prefix a folder was built for: ``prefix`` (``/docs/``), over ``missing`` references.

    ``resolved`` of the ``missing`` references name a file of the folder once the
    prefix is taken off; ``example`` is one of them.
    """

    prefix: str
    missing: int
    resolved: int
    example: str

    @property
    def message(self) -> str:
        """What the scan says when it stops (names the prefix and the option)."""
        if self.missing == 1:  # then it resolved too (at least half of them must)
            misses = "the one reference that names no file of the folder starts with"
            names = "it names one"
        else:
            misses = f"all {self.missing} references that name no file of the folder start with"
            names = f"{self.resolved} of them name{'s' if self.resolved == 1 else ''} one"
        return (
            f"the site was built to be served at {self.prefix}: {misses} {self.prefix},"
            f" which the folder has no folder for, and {names} once it is taken off"
            f" ({self.example} is {self.example[len(self.prefix) - 1 :]});"
            f" scan it with --base-path {self.prefix}"
            f" (and serve it with pushgen serve --folder ... --base-path {self.prefix})"
        )


def detect_sub_path(
    paths: Iterable[str], files: Collection[str], exists: Callable[[str], bool]
) -> SubPath | None:
    """The sub-path a folder of ``files`` was built for, judged by its pages' reference ``paths``.

    ``paths`` are the same-origin URL paths the pages reference (resolved, so a
    relative reference of a page is as absolute as any); ``files`` the folder's
    files (``/``-separated paths); ``exists`` says whether a path names one. None
    when every reference names a file, or when no one prefix explains the misses:
    all of them must start with it, the folder must hold nothing under it, and
    taking it off must make at least half of them name a file (a site built for
    ``/docs/`` may still have a broken link).
    """
    missing = [p for p in dict.fromkeys(paths) if not _names_file(p, "/", exists)]
    if not missing:
        return None
    folders = {rel[: i + 1] for rel in files for i, c in enumerate(rel) if c == "/"}
    best: SubPath | None = None
    segments = missing[0].split("?", 1)[0].split("/")[1:-1]  # the folders of the first miss
    for count in range(1, min(len(segments), _MAX_SEGMENTS) + 1):
        prefix = "/" + "/".join(segments[:count]) + "/"
        if prefix[1:] in folders or not all(p.startswith(prefix) for p in missing):
            continue
        stripped = [p for p in missing if _names_file(p[len(prefix) - 1 :], "/", exists)]
        if 2 * len(stripped) >= len(missing) and (best is None or len(stripped) > best.resolved):
            best = SubPath(prefix, len(missing), len(stripped), stripped[0])
    return best


def _names_file(path: str, base_path: str, exists: Callable[[str], bool]) -> bool:
    relpath = url_path_to_relpath(path, base_path)
    return relpath is not None and exists(relpath)


def page_references(
    pages: Iterable[str],
    read: Callable[[str], bytes | None],
    route_of: Callable[[str], str],
    limits: HtmlLimits,
) -> Iterable[str]:
    """The same-origin URL paths the ``pages`` (paths in the folder) reference, each page at its route.

    A second parse, for :func:`detect_sub_path` only: the scan asks for it when
    pages had references that name no file, and only for those pages.
    """
    for rel in pages:
        data = read(rel)
        if data is None:
            continue
        scan = scan_html_document(data, document_url(route_of(rel)), limits=limits).scan
        yield from (ref.path for ref in scan.references if ref.local and ref.path)
