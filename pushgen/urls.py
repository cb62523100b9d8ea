"""Resolving references the way a browser does, and deciding what is a local file.

Resolution and serialisation are the WHATWG URL Standard's (https://url.spec.whatwg.org/),
done by ada (``ada-url``, the parser Node.js uses), so a path is byte for byte what a
browser requests: ``[``, ``]`` and ``|`` stay raw in a path, ``'`` is ``%27`` in the
query of an http(s) URL, an empty ``?`` is kept, ``:0443`` is the default port and
hosts are punycoded. What is pushgen's own stays here: which schemes are fetched as
subresources, "same origin" as "a file of this site" (pages are resolved against a
stand-in origin), and URL path -> file, never outside the output root.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import ada_url

__all__ = [
    "LOCAL_ORIGIN",
    "Resolved",
    "document_url",
    "resolve",
    "unprintable",
    "unroutable",
    "unroutable_routes",
    "unservable",
    "url_path_to_relpath",
    "wire_path",
]

LOCAL_ORIGIN = "https://pushgen.invalid"

_STRIP = "".join(chr(c) for c in range(0x21))  # C0 controls and space
_SURROGATE = re.compile("[\ud800-\udfff]")
# An absolute path of unreserved characters, not "//host" (dot segments are
# excluded separately: no "/." anywhere). The URL Standard leaves such a path as it
# is, which tests/test_urls.py proves against ada over random inputs.
_PLAIN_PATH = re.compile(r"/[A-Za-z0-9_\-.~][A-Za-z0-9_\-.~/]*|/")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")


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


def _as_chromium_sends(path: str) -> str:
    """``path`` (path and query) with Chromium's one departure from the URL Standard.

    Chromium (156, measured by tests/scenarios/test_chromium_urls.py) percent-encodes ``|`` in
    a path, which the Standard's path percent-encode set leaves as it is; in the
    query it sends ``|`` raw, as the Standard does.
    """
    if "|" not in path:
        return path
    head, mark, query = path.partition("?")
    return head.replace("|", "%7C") + mark + query


def resolve(ref: str, base: str, *, origin: str = LOCAL_ORIGIN) -> Resolved | None:
    """Resolve ``ref`` (as written in a document) against ``base``.

    Returns ``None`` for what a browser would not fetch from the network as a
    subresource of its own: empty references, fragment-only references, what the
    URL Standard cannot parse and the ``data:``, ``blob:``, ``javascript:`` ...
    schemes. Other origins come back with ``local=False`` so the caller can offer a
    ``preconnect`` instead.
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
    # The URL parser strips these too; done here first only to tell an empty or
    # fragment-only reference (the document itself, never fetched) apart.
    stripped = ref.strip(_STRIP).replace("\t", "").replace("\n", "").replace("\r", "")
    if not stripped or stripped.startswith("#"):
        return None
    if _SURROGATE.search(ref):
        # A lone surrogate cannot be encoded; the URL Standard's UTF-8 encode
        # replaces it with U+FFFD.
        ref = ref.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    scheme = _SCHEME.match(stripped)
    if scheme is not None and scheme.group(1).lower() not in ("http", "https"):
        return None  # data:, blob:, javascript:, mailto: ... (what ada would parse too)
    try:
        href = ada_url.join_url(base, ref)
    except ValueError:
        return None  # a URL no browser can parse is never fetched
    if not href.startswith(("https:", "http:")):
        return None
    ref_origin = _origin(href)
    if ref_origin != origin:
        return Resolved(url=href, origin=ref_origin, local=False, path="")
    path = _request_target(href)
    return Resolved(url=origin + path, origin=origin, local=True, path=path)


def _origin(href: str) -> str:
    """The origin of an http(s) URL.

    ``href`` is ada's serialisation: ``scheme://[userinfo@]host[:port]/path[?query][#f]``
    with the host lower-cased and punycoded and a default port dropped. Userinfo is
    no part of the origin (URL Standard, "origin").
    """
    start = href.index("//") + 2
    slash = href.index("/", start)  # a special URL's path always starts with "/"
    return href[:start] + href[start:slash].rpartition("@")[2]


def _request_target(href: str) -> str:
    """The request target of an http(s) URL (ada's serialisation), as Chromium sends it.

    Every '#' of the path and query is percent-encoded, so the first one starts the
    fragment; an empty query ("x.css?") stays, as it is sent.
    """
    slash = href.index("/", href.index("//") + 2)
    return _as_chromium_sends(href[slash:].split("#", 1)[0])


def unservable(ref: str, resolved: Resolved) -> str | None:
    """Why a same-origin reference can be no file of the site, or None when it can be.

    A dot segment at the root followed by an empty one (``/.//x``, ``a/..//x``)
    resolves to a path starting with ``//``, and browsers request it so (URL
    Standard; Chromium alike). No file is served at such a path and a manifest entry
    or a Link target ``<//x>`` would name the host ``x``: the reference is reported,
    not followed.
    """
    if resolved.local and resolved.path.startswith("//"):
        fixed = "/" + resolved.path.lstrip("/")
        return (
            f"{ref!r} resolves to {resolved.path!r}, a path no file of the site has"
            f" (an empty segment after the root); write {fixed!r}; not followed"
        )
    return None


def unprintable(value: str) -> str | None:
    """The first character of ``value`` a configuration line cannot carry, named
    (``U+000A``), or None.

    Anything ``str.isprintable`` refuses: C0 and C1 controls (NUL, line feed,
    carriage return, tab, NEL), DEL, the Unicode line and paragraph separators
    (which YAML 1.1 and so h2o's libyaml read as line breaks), format characters
    and non-ASCII spaces. Visible characters and the ASCII space pass.
    """
    if value.isprintable():  # the usual case, in one pass in C
        return None
    for char in value:
        if not char.isprintable():
            return f"U+{ord(char):04X}"
    return None


def unroutable(route: str) -> str | None:
    """Why no server configuration can hold the route ``route`` (``holds U+000A once
    percent-decoded``), or None.

    The one rule for a route's characters: the text exports (nginx, Apache, h2o,
    _headers) refuse such a route, ``pushgen scan`` leaves such a page out and
    ``pushgen check`` flags it. Servers match the decoded path (nginx, Apache) or are
    given it decoded (h2o's PATH_INFO), so ``%0A`` is as much a line break as a raw
    one, and a line break would end a comment or a directive.
    """
    character = unprintable(route)
    if character is not None:
        return f"holds {character}"
    from urllib.parse import unquote

    character = unprintable(unquote(route))
    return None if character is None else f"holds {character} once percent-decoded"


def unroutable_routes(routes: Iterable[str]) -> list[str]:
    """The routes of ``routes`` that :func:`unroutable` refuses, in their order.

    Only a route with an unprintable character or a percent escape (which may
    decode to one) can be refused, so the usual case, none in 100,000 routes, is
    one pass in C over their joined text (``pushgen check``, issue 27).
    """
    keys = list(routes)
    joined = "".join(keys)
    if joined.isprintable() and "%" not in joined:
        return []
    return [r for r in keys if ("%" in r or not r.isprintable()) and unroutable(r) is not None]


def wire_path(path: str) -> str:
    """``path`` (a manifest path, query allowed) as a browser would request it: ASCII only.

    Encoded as the URL Standard encodes a path and query (``/café`` ->
    ``/caf%C3%A9``, ``a[1].css`` as it is), so a Link target or a pushed ``:path``
    matches the browser's own request byte for byte. Existing escapes are kept and a
    ``#`` is a character of the path, not a fragment. The result holds visible ASCII
    only, none of ``<>"`` or space, so it is safe in a header and between angle
    brackets (RFC 8288 §3).
    """
    if _PLAIN_PATH.fullmatch(path) and "/." not in path:
        return path
    return _wire_cached(path)


@lru_cache(maxsize=4096)
def _wire_cached(path: str) -> str:
    escaped = path.replace("#", "%23")
    try:
        href = ada_url.URL(LOCAL_ORIGIN + escaped).href
        origin, target = _origin(href), _request_target(href)
    except ValueError:
        return _percent_encode(escaped)
    if origin != LOCAL_ORIGIN:
        # "//host/x" (which the manifest loader refuses) is no path of this site.
        return _percent_encode(escaped)
    return target


def _percent_encode(path: str) -> str:
    from urllib.parse import quote

    return _as_chromium_sends(quote(path, safe="/?:@!$&'()*+,;=-._~%[]|"))


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
