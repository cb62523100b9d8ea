"""Precompressed representations: which files have them, which one a request gets, how long it keeps.

The build (:mod:`pushgen.precompress`) writes ``NAME.br`` and ``NAME.gz`` beside
a text asset, as nginx's ``gzip_static``/``brotli_static`` and whitenoise expect;
the file server (:mod:`pushgen.runtime.factory`) picks one by ``Accept-Encoding``
(:func:`parse_accept_encoding` and :func:`negotiate`, RFC 9110 §12.5.3) through
:meth:`Siblings.representation`. Both sides use the tables of
:mod:`pushgen.codings`, so the names cannot drift apart.

A sibling stands for its file only when all of these hold:

- it is inside the output, by the rule every file of a response follows
  (:func:`pushgen.site_files.find_sibling`): a ``site.css.br`` that is a link
  to ``/etc/passwd`` is no sibling;
- its modification time equals its file's: the build stamps it so
  (``os.utime``), so a file rebuilt after its sibling was written (by a build
  that skipped compression, or by hand) is served as it is;
- it decompresses to exactly its file's bytes (:func:`check_sibling`): a
  stale ``x.css.br`` a site ships with the mtime of a newer ``x.css`` is not
  sent. This is checked the first time the sibling would be sent, and the
  verdict kept for as long as neither file changes (their inode, size, mtime and
  ctime), so a request after the first does a dictionary lookup. No sibling is
  trusted unchecked, pushgen's own included: nothing on disk proves who wrote it.
  A sibling found wrong is logged once (``pushgen`` logger) with its path.

:func:`fingerprinted` tells a file name that carries a content hash, whose bytes
can never change under that name, so it may be cached for a year.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import re
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import BinaryIO, Literal

import brotli

from ..codings import CODINGS, COMPRESSIBLE, Coding
from ..hashed_names import fingerprinted
from ..site_files import FileState, Found, find_sibling

__all__ = [
    "IMMUTABLE_CACHE_CONTROL",
    "AcceptEncoding",
    "Representation",
    "SiblingCheck",
    "Siblings",
    "check_sibling",
    "fingerprinted",
    "negotiate",
    "parse_accept_encoding",
]

log = logging.getLogger("pushgen")

# RFC 8246: "immutable" tells the browser not to revalidate even on reload; a
# year is the longest max-age RFC 9111 §5.2.2.1 asks caches to honour reliably.
IMMUTABLE_CACHE_CONTROL = "public, max-age=31536000, immutable"


# --- Accept-Encoding (RFC 9110 §12.5.3) ------------------------------------------------

# Accept-Encoding = #( codings [ weight ] ); codings = content-coding / "identity" / "*";
# a content-coding is a token (§5.6.2), weight = OWS ";" OWS "q=" qvalue (§12.4.2).
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
# qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ): at most three decimals.
_QVALUE = re.compile(r"0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?")
_OWS = " \t"
_FULL = 1000  # q=1, in thousandths: qvalues have three decimals, so integers compare exactly


@dataclass(frozen=True, slots=True)
class AcceptEncoding:
    """An ``Accept-Encoding`` field parsed: each coding it names (lower case), with its weight.

    Weights are thousandths (``q=0.5`` is 500, no ``q`` is 1000). ``ignored``
    holds the elements that name no coding (not a token), as they were written.
    """

    weights: Mapping[str, int]
    ignored: tuple[str, ...] = ()


def parse_accept_encoding(value: str) -> AcceptEncoding:
    """The codings and weights of the ``Accept-Encoding`` field ``value`` (RFC 9110 §12.5.3).

    Tolerant where a client's intent is plain: whitespace around ``;`` and ``=``
    (``br ; q = 1``), empty list elements (§5.6.1), any case in codings and in
    the ``q`` name (§12.4.2), ``x-gzip`` for ``gzip`` (§8.4.1.3), parameters
    other than ``q`` (ignored). A ``q`` that is not a qvalue (``q=0.0001``,
    ``q=2``, ``q=1e0``, ``q=bogus``) weighs 0: a client that tried to weigh a
    coding is not sent it on a guess. A coding named twice keeps its highest weight.
    """
    # Browsers send one of a few short values on every request: parsed once each.
    return _parse_short(value) if len(value) <= _SHORT else _parse(value)


# Values up to this long are kept parsed, at most _PARSED of them (a few hundred
# KB whatever clients send); a browser's is about 25 characters.
_SHORT = 256
_PARSED = 128


def _parse(value: str) -> AcceptEncoding:
    weights: dict[str, int] = {}
    ignored: list[str] = []
    for element in value.split(","):
        coding, *params = element.split(";")
        name = coding.strip(_OWS).lower()
        if not name and not params:
            continue
        if not _TOKEN.fullmatch(name):
            ignored.append(element.strip(_OWS))
            continue
        weight = _FULL
        for param in params:
            key, equals, raw = param.partition("=")
            if key.strip(_OWS).lower() == "q":
                weight = _thousandths(raw.strip(_OWS)) if equals else 0
        name = "gzip" if name == "x-gzip" else name
        weights[name] = max(weight, weights.get(name, 0))
    return AcceptEncoding(weights, tuple(ignored))


_parse_short = functools.lru_cache(maxsize=_PARSED)(_parse)


def _thousandths(qvalue: str) -> int:
    """A qvalue in thousandths; 0 when it is not one."""
    if not _QVALUE.fullmatch(qvalue):
        return 0
    whole, _, fraction = qvalue.partition(".")
    return int(whole) * _FULL + int(fraction.ljust(3, "0"))


def negotiate(accept_encoding: str | None, available: frozenset[Coding]) -> Coding | None:
    """The coding of ``available`` to send for ``accept_encoding``, or None for identity.

    The highest q wins; ties go to brotli, then gzip, then identity. A coding
    with q=0 is never sent; ``*`` stands for every coding not named, identity
    included. No header means any coding is acceptable (§12.5.3) but, as every
    server does, identity is sent then: clients that decompress say so. When
    nothing acceptable is available (``identity;q=0`` alone) identity is sent
    too, rather than a 415 that would leave the page without its stylesheet.
    """
    if not accept_encoding or not available:
        return None
    weights = parse_accept_encoding(accept_encoding).weights
    star = weights.get("*", 0)
    # Identity unnamed (and no `*`) competes with nothing: a client that lists a
    # coding wants it (browsers send `gzip, deflate, br, zstd`), as nginx reads it.
    identity = weights.get("identity", star)
    best: Coding | None = None
    best_q = 0
    for coding in CODINGS:
        if coding not in available:
            continue
        q = weights.get(coding, star)
        if q > best_q:
            best, best_q = coding, q
    # A named identity loses only to a coding the client weighs at least as much.
    return best if best is not None and best_q >= identity else None


# --- siblings ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Representation:
    """The file to send for a request, its content coding (None: identity), and whether it varies."""

    path: str
    coding: Coding | None
    varies: bool


# Verdicts kept, one per sibling path: a site's siblings, however many builds
# renamed its hashed files, stay far below this; past it the oldest verdict goes
# and that sibling is checked again when next asked for.
_VERDICTS = 65_536
# Both files are read, and the sibling decoded, this much at a time: memory stays
# bounded whatever their sizes, and a sibling that decodes to more than its file
# (a decompression bomb) stops at the file's length.
_CHUNK = 64 * 1024


# What a look at a sibling found: its bytes decode to the file's ("same"), they
# do not ("different"), or one of the two is no longer the file that was found.
SiblingCheck = Literal["same", "different", "changed"]


class _Malformed(Exception):
    """A compressed stream that ends early or has bytes after its end."""


class Siblings:
    """The ``.br``/``.gz`` siblings that may stand for their files, and which one a request gets.

    One per app: it keeps each sibling's verdict (:func:`check_sibling`)
    with the state of both files it was reached on (:attr:`Found.state`).
    """

    def __init__(self) -> None:
        self._verdicts: dict[str, tuple[tuple[object, ...], bool]] = {}

    async def representation(
        self, found: Found, accept_encoding: str | None, *, ranged: bool
    ) -> Representation:
        """Which file to send for the file ``found``.

        ``varies`` is true when ``found`` has at least one current sibling, so the
        response carries ``Vary: Accept-Encoding`` whichever one is sent. A
        request with a ``Range`` gets the identity file: a range of a compressed
        body names bytes of that body, which a client resuming a download (or a
        media player) may have asked for under another ``Accept-Encoding``;
        identity bytes are the same for every client (RFC 9110 §14.1.2 allows either).
        """
        if os.path.splitext(found.path)[1].lower() not in COMPRESSIBLE:
            return Representation(found.path, None, False)
        current: dict[Coding, Found] = {}
        for coding, suffix in CODINGS.items():
            sibling = find_sibling(found, suffix)
            if sibling is not None and sibling.mtime_ns == found.mtime_ns:
                current[coding] = sibling
        if not current:
            return Representation(found.path, None, False)
        available = frozenset(current)
        while not ranged and (chosen := negotiate(accept_encoding, available)) is not None:
            if await self.verified(found, current[chosen], chosen):
                return Representation(current[chosen].path, chosen, True)
            available -= {chosen}  # the client's next choice, down to identity
        return Representation(found.path, None, True)

    async def verified(self, source: Found, sibling: Found, coding: Coding) -> bool:
        """Whether ``sibling`` decodes (as ``coding``) to ``source``'s bytes; read once per state."""
        state = (source.state, sibling.state)
        known = self._verdicts.get(sibling.path)
        if known is not None and known[0] == state:
            return known[1]
        # In a worker thread: a large file takes milliseconds to decode, which
        # the event loop must not wait for. Two first requests may both check.
        verdict = await asyncio.to_thread(check_sibling, source, sibling, coding)
        if verdict == "changed":
            return False  # replaced meanwhile: the next request looks at the new files
        if verdict == "different":
            log.warning(
                "%s: warning: not sent: it does not decompress to the bytes of %s (stale or"
                " damaged); that file is sent uncompressed until the sibling is rebuilt or removed",
                sibling.path,
                os.path.basename(source.path),
            )
        if len(self._verdicts) >= _VERDICTS:
            del self._verdicts[next(iter(self._verdicts))]
        self._verdicts[sibling.path] = (state, verdict == "same")
        return verdict == "same"


def check_sibling(source: Found, sibling: Found, coding: Coding) -> SiblingCheck:
    """Whether the file ``sibling``, decoded as ``coding``, is exactly the bytes of ``source``.

    "different" when it differs or cannot be decoded (a truncated stream, bytes
    after its end, a second gzip member that a client might not read);
    "changed" when either file is no longer the one found (its state differs),
    so the caller asks again with the new state.
    """
    try:
        with open(sibling.path, "rb") as packed, open(source.path, "rb") as plain:
            if _state(packed) != sibling.state or _state(plain) != source.state:
                return "changed"
            for piece in _decoded(packed, coding):
                if plain.read(len(piece)) != piece:
                    return "different"
            return "same" if plain.read(1) == b"" else "different"
    except (brotli.error, zlib.error, _Malformed):
        return "different"
    except OSError:
        return "changed"  # gone or unreadable since it was found


def _state(file: BinaryIO) -> FileState:
    return FileState.of(os.fstat(file.fileno()))


def _decoded(packed: BinaryIO, coding: Coding) -> Iterator[bytes]:
    """The decoded bytes of ``packed``, at most about :data:`_CHUNK` at a time."""
    if coding == "br":
        decoder = brotli.Decompressor()
        while not decoder.is_finished():
            data = packed.read(_CHUNK) if decoder.can_accept_more_data() else b""
            piece = decoder.process(data, output_buffer_limit=_CHUNK)
            if not data and not piece and decoder.can_accept_more_data():
                raise _Malformed  # the stream ends before its last block
            yield piece
    else:
        # One gzip member, as RFC 1952 and pushgen's build write it.
        inflate = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        while not inflate.eof:
            data = inflate.unconsumed_tail or packed.read(_CHUNK)
            piece = inflate.decompress(data, _CHUNK)
            if not data and not piece:
                raise _Malformed
            yield piece
        if inflate.unused_data:
            raise _Malformed
    if packed.read(1):
        raise _Malformed  # bytes after the stream's end
