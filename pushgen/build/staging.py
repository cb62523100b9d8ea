"""The staging folder's files: what a build links from the previous output, and what it records.

An incremental build starts its staging folder from the spare copy of the output
(see output.py, which owns the folders, the lock and the swap); these are the
file-level steps around it: linking unchanged pages and files, removing the
folders a removal empties, the folders' mtimes that tell a folder nobody
touched, and the pages edited in the output after the build.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from pathlib import Path

from ..config import SiteConfig
from .pages import Page
from .state import BuildState


def unlink(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def link_files(source: Path, target: Path, rels: Iterable[str]) -> set[str]:
    """Hard-link each of ``rels`` from ``source`` into ``target``, making folders as needed.

    Returns those that could not be linked (``source`` does not have them).
    """
    failed: set[str] = set()
    made: set[str] = set()
    for rel in rels:
        folder = rel.rpartition("/")[0]
        if folder and folder not in made:
            (target / folder).mkdir(parents=True, exist_ok=True)
            made.add(folder)
        try:
            os.link(source / rel, target / rel)
        except OSError:
            failed.add(rel)
    return failed


def remove_emptied_folders(root: Path, rel: str, keep: set[str]) -> None:
    """Remove the folders of ``rel`` under ``root`` that are not in ``keep`` and now empty."""
    folder = rel.rpartition("/")[0]
    while folder and folder not in keep:
        try:
            os.rmdir(root / folder)
        except OSError:
            break  # not empty: other files of the folder are still to go
        folder = folder.rpartition("/")[0]


def output_folders(pages: list[Page], static_folders: list[str]) -> set[str]:
    """Every folder of the output (output paths; "" is the output itself)."""
    folders = {""} | set(static_folders)
    for page in pages:
        folder = page.output.rpartition("/")[0]
        while folder not in folders:
            folders.add(folder)
            folder = folder.rpartition("/")[0]
    return folders


def folder_times(root: Path, folders: set[str]) -> dict[str, int]:
    return {folder: os.stat(root / folder).st_mtime_ns for folder in folders}


def untouched(root: Path, folders: dict[str, int]) -> bool:
    """Whether ``folders`` were recorded and each under ``root`` still has its mtime.

    A file added to or removed from a folder changes the folder's mtime, so the
    files are those there were then (contents may differ: the same holds for the
    hard links a build makes).
    """
    try:
        return bool(folders) and all(
            os.stat(root / folder).st_mtime_ns == ns for folder, ns in folders.items()
        )
    except OSError:
        return False


def edited_pages(output: Path, pages: list[Page], recorded: dict[str, tuple[int, int]]) -> set[str]:
    """Sources of the pages whose output file is not as the last build left it.

    An output page edited in place (appended to, truncated by a post-processor)
    changes the file the spare shares with the output, so neither would bring
    it back: such pages are rendered again. Size and mtime, one stat a page.
    """
    edited: set[str] = set()
    prefix = f"{output}{os.sep}"  # plain strings: one stat a page, thousands of pages
    for page in pages:
        try:
            st = os.stat(prefix + page.output)
        except OSError:
            continue  # missing: the spare or a render makes it again
        if recorded.get(page.output) != (st.st_size, st.st_mtime_ns):
            edited.add(page.source)
    return edited


def output_page_files(
    staging: Path | None, pages: list[Page], render: list[Page], previous: BuildState | None
) -> dict[str, tuple[int, int]]:
    """Size and mtime of every page's output file, as this build leaves them."""
    if staging is None:
        return {}
    recorded = previous.page_files if previous is not None else {}
    rendered = {page.output for page in render}
    files: dict[str, tuple[int, int]] = {}
    for page in pages:
        old = recorded.get(page.output)
        if old is None or page.output in rendered:
            st = os.stat(staging / page.output)
            old = (st.st_size, st.st_mtime_ns)
        files[page.output] = old
    return files


def link_previous_pages(config: SiteConfig, staging: Path, pages: list[Page]) -> set[str]:
    """Hard-link unchanged pages from the previous output; return those it could not."""
    failed = link_files(config.output, staging, [page.output for page in pages])
    return {page.source for page in pages if page.output in failed}
