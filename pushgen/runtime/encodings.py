"""Precompressed representations: which files have them, which one a request gets, how long it keeps.

The build (:mod:`pushgen.precompress`) writes ``NAME.br`` and ``NAME.gz`` beside
a text asset, as nginx's ``gzip_static``/``brotli_static`` and whitenoise expect;
the file server (:mod:`pushgen.runtime.app`) picks one by ``Accept-Encoding``
(:func:`negotiate`, RFC 9110 §12.5.3) through :func:`representation`. Both sides
use :data:`CODINGS` and :data:`COMPRESSIBLE`, so the names cannot drift apart.

A sibling counts only while its modification time equals its source's: the build
stamps it so (``os.utime``), so a source rebuilt after its sibling was written
(by a build that skipped compression, or by hand) is served as it is, never with
a stale compressed body.

:func:`fingerprinted` tells a file name that carries a content hash, whose bytes
can never change under that name, so it may be cached for a year.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "CODINGS",
    "COMPRESSIBLE",
    "IMMUTABLE_CACHE_CONTROL",
    "Coding",
    "Representation",
    "fingerprinted",
    "negotiate",
    "representation",
]

Coding = Literal["br", "gzip"]

# Content coding -> the suffix of its sibling file, in order of preference when
# the client weighs them equally: brotli is 15-20 % smaller than gzip on text.
CODINGS: Mapping[Coding, str] = {"br": ".br", "gzip": ".gz"}

# Text formats that compress well. Images, fonts (woff2 is brotli inside) and
# archives are compressed already; a second pass gains nothing.
COMPRESSIBLE = frozenset(
    {".css", ".js", ".mjs", ".svg", ".json", ".html", ".txt", ".xml", ".webmanifest", ".map"}
)

# RFC 8246: "immutable" tells the browser not to revalidate even on reload; a
# year is the longest max-age RFC 9111 §5.2.2.1 asks caches to honour reliably.
IMMUTABLE_CACHE_CONTROL = "public, max-age=31536000, immutable"


@dataclass(frozen=True, slots=True)
class Representation:
    """The file to send for a request, its content coding (None: identity), and whether it varies."""

    path: str
    coding: Coding | None
    varies: bool


def _weights(accept_encoding: str) -> dict[str, float]:
    """Each coding named in an ``Accept-Encoding`` value, with its q (RFC 9110 §12.4.2)."""
    weights: dict[str, float] = {}
    for item in accept_encoding.split(","):
        name, _, params = item.partition(";")
        name = name.strip().lower()
        if not name:
            continue
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = 0.0  # a malformed weight: do not guess that it is wanted
                if not 0.0 <= q <= 1.0:
                    q = 0.0
        # "x-gzip" is gzip (RFC 9110 §8.4.1.3).
        name = "gzip" if name == "x-gzip" else name
        weights[name] = max(q, weights.get(name, 0.0))
    return weights


def negotiate(accept_encoding: str | None, available: frozenset[Coding]) -> Coding | None:
    """The coding of ``available`` to send for ``accept_encoding``, or None for identity.

    The highest q wins; ties go to brotli, then gzip, then identity. A coding
    with q=0 is never sent; ``*`` stands for every coding not named. No header
    means any coding is acceptable (§12.5.3) but, as every server does, identity
    is sent then: clients that decompress say so.
    """
    if not accept_encoding or not available:
        return None
    weights = _weights(accept_encoding)
    star = weights.get("*", 0.0)
    # Identity unnamed competes with nothing: a client that lists a coding wants
    # it (browsers send `gzip, deflate, br, zstd`), as nginx and whitenoise read it.
    identity = weights.get("identity", 0.0)
    best: Coding | None = None
    best_q = 0.0
    for coding in CODINGS:
        if coding not in available:
            continue
        q = weights.get(coding, star)
        if q > best_q:
            best, best_q = coding, q
    # A named identity loses only to a coding the client weighs at least as much.
    return best if best is not None and best_q >= identity else None


def representation(
    full: str, mtime_ns: int, accept_encoding: str | None, *, ranged: bool
) -> Representation:
    """Which file to send for the file ``full`` (modified at ``mtime_ns``).

    ``varies`` is true when ``full`` has at least one current sibling, so the
    response must carry ``Vary: Accept-Encoding`` whichever one is sent.
    A request with a ``Range`` gets the identity file: a range of a compressed
    body names bytes of that body, which a client resuming a download (or
    a media player) may have asked for under another ``Accept-Encoding``;
    identity bytes are the same for every client (RFC 9110 §14.1.2 allows either).
    """
    if os.path.splitext(full)[1].lower() not in COMPRESSIBLE:
        return Representation(full, None, False)
    siblings: dict[Coding, str] = {}
    for coding, suffix in CODINGS.items():
        try:
            st = os.stat(full + suffix)
        except OSError:
            continue
        if st.st_mtime_ns == mtime_ns:
            siblings[coding] = full + suffix
    if not siblings:
        return Representation(full, None, False)
    chosen = None if ranged else negotiate(accept_encoding, frozenset(siblings))
    if chosen is None:
        return Representation(full, None, True)
    return Representation(siblings[chosen], chosen, True)


# A content hash as bundlers write it, between the name and the extension:
# webpack/Parcel/esbuild hex (`main.4f3a1c9b.css`, `app-5f2e1a.js`, 6 to 64 hex
# digits with at least one digit and one letter, so a date `-20240101` or a word
# `-facade` is not one) and Vite/Rollup base64url of 8 (`index-B2xY3z_a.js`,
# upper and lower case and a digit). A `?v=` query is not part of a file name.
_HEX = re.compile(r"[.-](?=[0-9a-f]*[0-9])(?=[0-9a-f]*[a-f])[0-9a-f]{6,64}\.")
_BASE64 = re.compile(
    r"-(?=[\w-]*[0-9])(?=[\w-]*[a-z])(?=[\w-]*[A-Z])[A-Za-z0-9_-]{8}\.(?:js|mjs|css)$"
)


def fingerprinted(name: str) -> bool:
    """True when the file name ``name`` carries a content hash (see the patterns above)."""
    base = os.path.basename(name)
    return bool(_HEX.search(base) or _BASE64.search(base))
