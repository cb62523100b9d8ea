"""File extensions: the media type a file is served with and what a browser fetches it as.

One table for every part that goes from a file name to a type: the server's
``Content-Type`` (:func:`content_type`), the ``type`` of a font entry
(:func:`font_type`, for the scanners and the build) and the destination guessed
for a ``push_manifest.json`` resource that names none (:func:`destination_for`).
"""

from __future__ import annotations

import mimetypes
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

__all__ = [
    "MEDIA_TYPES",
    "FontSupport",
    "MediaType",
    "content_type",
    "destination_for",
    "font_type",
    "unsupported_font",
]

# Whether current browsers load a font format (CSS Fonts 4, section 4.3.1): EOT and
# SVG fonts are not supported any more, so a @font-face source named so is skipped.
FontSupport = Literal["loadable", "unsupported"]


@dataclass(frozen=True, slots=True)
class MediaType:
    """What one file extension stands for."""

    # The Content-Type to serve it with. JavaScript is text/javascript (RFC 9239);
    # fonts have their own top-level type (RFC 8081).
    type: str
    # The fetch destination a file of this name is guessed to be requested as, when
    # nothing else says (push_manifest.json resources without a `type`, as
    # polymer-build guesses, but with fonts and JSON named by what the browser
    # fetches them as); None when no guess is made.
    destination: str | None = None
    # For a font format: whether browsers load it.
    font: FontSupport | None = None


_TABLE = {
    ".html": MediaType("text/html", "document"),
    ".htm": MediaType("text/html", "document"),
    ".css": MediaType("text/css", "style"),
    ".js": MediaType("text/javascript", "script"),
    ".mjs": MediaType("text/javascript", "script"),
    ".json": MediaType("application/json", "fetch"),
    ".map": MediaType("application/json"),
    ".woff2": MediaType("font/woff2", "font", font="loadable"),
    ".woff": MediaType("font/woff", "font", font="loadable"),
    ".ttf": MediaType("font/ttf", "font", font="loadable"),
    ".otf": MediaType("font/otf", "font", font="loadable"),
    ".ttc": MediaType("font/collection", font="loadable"),
    ".eot": MediaType("application/vnd.ms-fontobject", "font", font="unsupported"),
    ".png": MediaType("image/png", "image"),
    ".jpg": MediaType("image/jpeg", "image"),
    ".jpeg": MediaType("image/jpeg", "image"),
    ".gif": MediaType("image/gif", "image"),
    ".svg": MediaType("image/svg+xml", "image", font="unsupported"),
    ".svgz": MediaType("image/svg+xml", font="unsupported"),
    ".webp": MediaType("image/webp", "image"),
    ".avif": MediaType("image/avif", "image"),
    ".ico": MediaType("image/vnd.microsoft.icon", "image"),
    ".vtt": MediaType("text/vtt", "track"),
    ".wasm": MediaType("application/wasm"),
    ".webmanifest": MediaType("application/manifest+json"),
    ".txt": MediaType("text/plain"),
    ".xml": MediaType("application/xml"),
}
MEDIA_TYPES: Mapping[str, MediaType] = MappingProxyType(_TABLE)


def _extension(name: str) -> str:
    """The lower-case extension of a file name or URL path (query and fragment ignored)."""
    path = name.split("#", 1)[0].split("?", 1)[0]
    return posixpath.splitext(path)[1].lower()


def content_type(name: str) -> str:
    """The media type to serve a file called ``name`` with (a file name: no query)."""
    found = _TABLE.get(posixpath.splitext(name)[1].lower())
    if found is not None:
        return found.type
    return mimetypes.guess_type(name, strict=False)[0] or "application/octet-stream"


def font_type(name: str) -> str | None:
    """The ``type`` of a font a browser loads, from its file name or URL; None otherwise."""
    found = _TABLE.get(_extension(name))
    return found.type if found is not None and found.font == "loadable" else None


def unsupported_font(name: str) -> bool:
    """Whether ``name`` (a file name or URL) is a font format browsers no longer load."""
    found = _TABLE.get(_extension(name))
    return found is not None and found.font == "unsupported"


def destination_for(name: str) -> str | None:
    """The fetch destination guessed from a file name or URL path, or None."""
    found = _TABLE.get(_extension(name))
    return found.destination if found is not None else None
