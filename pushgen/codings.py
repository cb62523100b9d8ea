"""Content codings of the precompressed siblings: their names, their suffixes, what gets one.

One table for both sides: the build writes ``NAME.br`` and ``NAME.gz`` beside
a text asset (:mod:`pushgen.precompress`, the staging of the output) and the
server sends one by ``Accept-Encoding`` (:mod:`pushgen.runtime.encodings`,
RFC 9110 §8.4.1), so the names cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

__all__ = ["CODINGS", "COMPRESSIBLE", "Coding"]

Coding = Literal["br", "gzip"]

# Content coding -> the suffix of its sibling file, in order of preference when
# the client weighs them equally: brotli is 15-20 % smaller than gzip on text.
CODINGS: Mapping[Coding, str] = {"br": ".br", "gzip": ".gz"}

# Text formats that compress well. Images, fonts (woff2 is brotli inside) and
# archives are compressed already; a second pass gains nothing.
COMPRESSIBLE = frozenset(
    {".css", ".js", ".mjs", ".svg", ".json", ".html", ".txt", ".xml", ".webmanifest", ".map"}
)
