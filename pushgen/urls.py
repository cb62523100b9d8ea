"""Resolving references the way a browser does, and deciding what is a local file.

Rules follow the WHATWG URL Standard (https://url.spec.whatwg.org/): leading and
trailing C0 controls and spaces are stripped, tabs and newlines removed, ``\\`` is
``/`` in http(s) URLs, ``.``/``..`` segments (also spelled ``%2e``) are removed and
can never climb above ``/``. Pages are resolved against a stand-in origin so that
"same origin" means "a file of this site".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote, urljoin, urlsplit

__all__ = ["LOCAL_ORIGIN", "Resolved", "document_url", "resolve", "url_path_to_relpath"]

LOCAL_ORIGIN = "https://pushgen.invalid"

_SKIPPED_SCHEMES = frozenset(
    {"data", "blob", "javascript", "about", "mailto", "tel", "urn", "file"}
)
_STRIP = "".join(chr(c) for c in range(0x21))  # C0 controls and space
_TAB_NEWLINE = re.compile(r"[\t\n\r]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")
# An absolute path of unreserved characters, not "//host" (dot segments are
# excluded separately: no "/." anywhere).
_PLAIN_PATH = re.compile(r"/[A-Za-z0-9_\-.~][A-Za-z0-9_\-.~/]*|/")
# Characters a browser leaves alone in a path / query; everything else is
# percent-encoded as UTF-8 (URL Standard, path and query percent-encode sets).
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"
_QUERY_SAFE = "/:@!$&'()*+,;=-._~%?[]{}|^`\\"


@dataclass(frozen=True, slots=True)
class Resolved:
    """A reference resolved against its document."""

    url: str
    origin: str
    local: bool
    # For a local URL: path and query as sent on the wire (no fragment).
    path: str


def document_url(path: str, origin: str = LOCAL_ORIGIN) -> str:
    """The absolute URL of a site document served at URL path ``path``."""
    return origin + (path if path.startswith("/") else "/" + path)


def _remove_dot_segments(path: str) -> str:
    out: list[str] = []
    segments = path.split("/")
    for i, seg in enumerate(segments):
        low = seg.lower()
        last = i == len(segments) - 1
        if low in ("..", ".%2e", "%2e.", "%2e%2e"):
            if len(out) > 1:
                out.pop()
            if last:
                out.append("")
        elif low in (".", "%2e"):
            if last:
                out.append("")
        else:
            out.append(seg)
    result = "/".join(out)
    return result if result.startswith("/") else "/" + result


def resolve(ref: str, base: str, *, origin: str = LOCAL_ORIGIN) -> Resolved | None:
    """Resolve ``ref`` (as written in a document) against ``base``.

    Returns ``None`` for what a browser would not fetch from the network as a
    subresource of its own: empty references, fragment-only references and the
    ``data:``, ``blob:``, ``javascript:`` ... schemes. Other origins come back with
    ``local=False`` so the caller can offer a ``preconnect`` instead.
    """
    if (
        _PLAIN_PATH.fullmatch(ref)
        and "/." not in ref
        and base.startswith(origin)
        and base[len(origin) : len(origin) + 1] == "/"
    ):
        # Most references of a built site are plain absolute paths of its own
        # ("/static/css/site.css"): nothing to strip, encode or remove.
        return Resolved(url=origin + ref, origin=origin, local=True, path=ref)
    ref = _TAB_NEWLINE.sub("", ref.strip(_STRIP))
    if _SURROGATE.search(ref):
        # A lone surrogate cannot be encoded; the URL Standard's UTF-8 encode
        # replaces it with U+FFFD.
        ref = ref.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if not ref or ref.startswith("#"):
        return None
    scheme_match = _SCHEME.match(ref)
    scheme = scheme_match.group(1).lower() if scheme_match else ""
    if scheme in _SKIPPED_SCHEMES:
        return None
    if scheme and scheme not in ("http", "https"):
        return None
    if not scheme or scheme in ("http", "https"):
        ref = ref.replace("\\", "/")
    absolute = urljoin(base, ref)
    parts = urlsplit(absolute)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    ref_origin = f"{parts.scheme}://{parts.netloc}".lower()
    if ref_origin.endswith(":443") and parts.scheme == "https":
        ref_origin = ref_origin[:-4]
    elif ref_origin.endswith(":80") and parts.scheme == "http":
        ref_origin = ref_origin[:-3]
    if ref_origin != origin.lower():
        return Resolved(url=absolute, origin=ref_origin, local=False, path="")
    path = quote(_remove_dot_segments(parts.path or "/"), safe=_PATH_SAFE)
    if parts.query:
        path += "?" + quote(parts.query, safe=_QUERY_SAFE)
    elif absolute.split("#", 1)[0].endswith("?"):
        path += "?"
    return Resolved(url=origin + path, origin=origin, local=True, path=path)


@lru_cache(maxsize=65536)
def url_path_to_relpath(path: str, base_path: str = "/") -> str | None:
    """Map a local URL path (query allowed) to a file path relative to the output root.

    Returns ``None`` when the path lies outside ``base_path`` or, once decoded,
    could name something outside the output root (``..``, NUL, backslash).
    """
    from urllib.parse import unquote

    path = path.split("?", 1)[0].split("#", 1)[0]
    if not base_path.endswith("/"):
        base_path += "/"
    if not path.startswith(base_path):
        if path + "/" == base_path:
            return ""
        return None
    # Bytes that are not UTF-8 (%ff) name a file the way Linux file names carry
    # them: as surrogate escapes, which os functions turn back into those bytes.
    decoded = unquote(path[len(base_path) :], errors="surrogateescape")
    if "\x00" in decoded or "\\" in decoded:
        return None
    segments = decoded.split("/")
    if any(seg in ("..", ".") for seg in segments) or decoded.startswith("/"):
        return None
    return decoded
