"""What a manifest entry's ``path`` may be: an absolute, ASCII URL path on this site.

One owner for the rule, which the loader applies to every entry and rule, and the
routes-block reader to each route it reads by its lines (routes_block.py).
"""

from __future__ import annotations

import re
from urllib.parse import unquote

__all__ = ["glob_path_problem", "path_problem"]

# A '\\' in a query is sent as it is by browsers (URL Standard, query state); in the
# path it would be a '/' to them, so only the path part is checked for it.
_BAD_PATH_CHARS = re.compile(r"^[^?]*\\|[\x00-\x20\x7f#]")


def path_problem(path: str) -> str | None:
    """Why ``path`` cannot be a manifest entry's path, or None when it can."""
    if not path.startswith("/") or path.startswith("//"):
        return f"path {path!r} must be an absolute URL path on this site, starting with one '/'"
    if _BAD_PATH_CHARS.search(path):
        return f"path {path!r} contains a space, control character, '\\' or '#'; percent-encode it"
    if not path.isascii():
        return f"path {path!r} must be ASCII; percent-encode it (HTTP/2 paths are ASCII)"
    decoded = unquote(path.split("?", 1)[0])
    if "\x00" in decoded or any(
        seg in ("..", ".") for seg in decoded.replace("\\", "/").split("/")
    ):
        return f"path {path!r} leaves the site root ('.' or '..' segment)"
    return None


def glob_path_problem(path: str) -> str | None:
    """Why ``path`` (a glob: ``*`` and ``?`` stand for any characters) cannot match entries."""
    return path_problem(path.replace("*", "x").replace("?", "x"))
