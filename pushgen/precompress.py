"""Brotli and gzip siblings of a build's text files, written once so the server never compresses.

``precompress(output, written)`` writes ``NAME.br`` and ``NAME.gz`` beside every
file of ``written`` whose type compresses (:data:`pushgen.codings.COMPRESSIBLE`)
when the result is smaller by a margin worth a ``Content-Encoding``; as nginx's
``gzip_static``, ``brotli_static`` and whitenoise's ``CompressedStaticFilesStorage``
expect. Each sibling takes its source's modification time, which is how the
server (:class:`pushgen.runtime.encodings.Siblings`) and the next run tell
a current sibling from a stale one: an up-to-date sibling is not written again.

Files are compressed at the highest levels (brotli 11, gzip 9): it happens once
per build and changed file, and every client of the site gains; except brotli on
text under 4 KB, at level 10 (see :func:`brotli_quality`).

Nothing pushgen did not write is overwritten: a ``.br``/``.gz`` that is itself one
of the ``written`` files (a sibling the site ships in its ``static/``) is left as
it is and reported; the server sends it only while it decompresses to its file's
bytes (:class:`pushgen.runtime.encodings.Siblings`), so a stale one is harmless.
"""

from __future__ import annotations

import gzip
import os
import stat
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import brotli

from .codings import CODINGS, COMPRESSIBLE, Coding

__all__ = ["BROTLI_SMALL", "Precompressed", "brotli_quality", "compress", "precompress"]

# whitenoise keeps a compressed file when it is under 95 % of the original.
# Below 256 bytes the saving is a few dozen bytes, less than the response's
# headers; above it, every byte saved counts: the first round trip carries only
# ~14 KB (RFC 6928's initial window) for the page and all its pushes.
_MIN_RATIO = 0.95
_MIN_SIZE = 256
# Larger files are left as they are: brotli at its best level compresses about 1 MB
# a second, so a 50 MB file would hold the build for a minute, and text that large
# is generated data a CDN or the server compresses on the fly if at all.
_MAX_SIZE = 8 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Precompressed:
    """What one :func:`precompress` run did, as paths relative to the output folder."""

    written: tuple[str, ...] = ()
    up_to_date: tuple[str, ...] = ()
    # Sources whose compressed forms were not smaller by the margin, or too small
    # or too large to compress (see _MAX_SIZE).
    not_worth_it: tuple[str, ...] = ()
    # Siblings the site ships itself, left alone: (path, why).
    skipped: tuple[tuple[str, str], ...] = ()


# Below this many bytes of text brotli runs at level 10 (issue 27, docs/performance.md
# "Build speed"): level 11 costs 2.2x the CPU for 0.2-2 % fewer bytes, and on a file
# this small that is a dozen bytes of a response that fits in the first round trip
# anyway (RFC 6928's initial window). On a mix of real sheets and scripts (node
# packages, a Sphinx theme) it made the compressed bytes 0.73 % larger in all and
# saved 13 % of the brotli time; 51 % on the css shape's 240 sheets of 2 KB (+0.24 %).
BROTLI_SMALL = 4096


def brotli_quality(size: int) -> int:
    """The brotli level a text of ``size`` bytes is compressed at: 11, its best, but
    10 under :data:`BROTLI_SMALL` bytes."""
    return 10 if size < BROTLI_SMALL else 11


def compress(data: bytes, coding: Coding) -> bytes:
    """``data`` in the content coding ``coding`` at its level (:func:`brotli_quality`, gzip 9)."""
    if coding == "br":
        return bytes(brotli.compress(data, quality=brotli_quality(len(data))))
    # mtime=0: the same bytes always give the same .gz (reproducible builds).
    return gzip.compress(data, compresslevel=9, mtime=0)


def _write(path: Path, data: bytes, source: os.stat_result) -> None:
    """Write ``path`` atomically (a reader never sees half a body) with the source's mode and times."""
    fd, tmp = tempfile.mkstemp(prefix=".pushgen-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        # mkstemp makes 0600: a server running as another user must read it as it reads the source.
        os.chmod(tmp, stat.S_IMODE(source.st_mode))
        os.utime(tmp, ns=(source.st_atime_ns, source.st_mtime_ns))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _shipped(rel: str, suffix: str) -> str:
    """Why the sibling ``rel + suffix`` the site ships is left alone, and what the server does with it."""
    return (
        f"the site ships it; pushgen does not replace {suffix} files it did not write"
        f" (the server sends it only while it decompresses to {os.path.basename(rel)}'s bytes)"
    )


def precompress(
    output: str | os.PathLike[str], written: Iterable[str | os.PathLike[str]]
) -> Precompressed:
    """Write current ``.br``/``.gz`` siblings of the ``written`` files (relative to ``output``).

    Raises :class:`OSError` only when a sibling cannot be written.
    """
    root = Path(output)
    rels = sorted({Path(p).as_posix() for p in written})
    shipped = set(rels)
    done: list[str] = []
    current: list[str] = []
    small: list[str] = []
    skipped: list[tuple[str, str]] = []
    for rel in rels:
        if os.path.splitext(rel)[1].lower() not in COMPRESSIBLE:
            continue
        source = root / rel
        try:
            st = source.stat()
        except OSError:
            continue  # removed since it was written: nothing to compress
        if st.st_size > _MAX_SIZE:
            small.append(rel)
            continue
        data: bytes | None = None
        for coding, suffix in CODINGS.items():
            sibling_rel = rel + suffix
            if sibling_rel in shipped:
                skipped.append((sibling_rel, _shipped(rel, suffix)))
                continue
            sibling = root / sibling_rel
            try:
                if sibling.stat().st_mtime_ns == st.st_mtime_ns:
                    current.append(sibling_rel)
                    continue
            except OSError:
                pass
            if data is None:
                data = source.read_bytes()
            packed = compress(data, coding) if len(data) >= _MIN_SIZE else data
            if len(packed) > len(data) * _MIN_RATIO:
                # Not worth it. An older sibling, if any, is left: its time no
                # longer matches the source's, so the server ignores it.
                if rel not in small:
                    small.append(rel)
                continue
            _write(sibling, packed, st)
            done.append(sibling_rel)
    return Precompressed(tuple(done), tuple(current), tuple(small), tuple(skipped))
