"""URL path -> file of the built output: the one lookup every part of the runtime uses.

:func:`~pushgen.site_files.find_file` (in :mod:`pushgen.site_files`, which the
command line may import without Quart) decides what a URL path names in an
output folder, with its containment rule; the file server, the site's 404 page
and the byte budgets of manifest rules all go through it.
:func:`file_response` sends one found file with its content type, validators,
304s and byte ranges.

Files are looked up on every request rather than scanned once at start-up
because ``pushgen build`` may replace the output folder while the server runs;
the lookup is a ``realpath`` and a ``stat`` (and an ``lstat`` for each ``.br``/``.gz``
sibling of a text file, :func:`~pushgen.site_files.find_sibling`: a sibling is
sent by the same containment rule as its file).
"""

from __future__ import annotations

import datetime as dt
import os
from zlib import adler32

from quart import Response, current_app, request, send_file
from werkzeug.sansio.http import is_resource_modified

from ..media_types import content_type
from ..site_files import Found, find_file

__all__ = ["Found", "content_type", "file_response", "find_file"]


# Files up to this size are read whole, on the event loop: from the page cache
# that takes microseconds, far less than the six worker-thread round trips of
# Quart's streamed file body (open, seek, tell, read, tell, close), which were a
# third of a small file's request (server CPU per request under h2load, 562 µs
# before, 382 µs after; see bench/runtime_bench.py). Larger files are streamed.
_READ_WHOLE = 256 * 1024


async def file_response(full: str, mimetype: str) -> Response:
    """What ``send_file(full, mimetype=mimetype, conditional=True)`` answers, without threads.

    The same headers (Quart's ETag format included) and 304s; the file's size and
    time come from the one open file, so a file replaced meanwhile is never sent
    with another one's ETag. Ranges are answered by :func:`_answer_range`.
    """
    try:
        with open(full, "rb") as file:
            st = os.fstat(file.fileno())
            data = file.read() if st.st_size <= _READ_WHOLE else None
    except OSError:
        data = None
    if data is None:
        response = await send_file(full, mimetype=mimetype)
        size = response.content_length or 0
    else:
        size = len(data)
        response = current_app.response_class(data, mimetype=mimetype)
        response.content_length = size
        response.last_modified = dt.datetime.fromtimestamp(st.st_mtime, dt.UTC)
        response.cache_control.public = True
        response.set_etag(f"{st.st_mtime}-{st.st_size}-{adler32(os.fsencode(full))}")
    # Preconditions come before Range (RFC 9110 §13.2.2): a 304 or 412 here ends it.
    await response.make_conditional(request)
    response.headers["Accept-Ranges"] = "bytes"
    if response.status_code != 200:
        return response
    return await _answer_range(response, size)


async def _answer_range(response: Response, size: int) -> Response:
    """Turn a 200 of ``size`` bytes into the answer to the request's ``Range``, if any.

    Quart's own range handling fails on a suffix range (``bytes=-N`` ends in an
    AssertionError, a 500) and answers 416 to any multi-range request, so ranges
    are done here, by RFC 9110 §14: one satisfiable range is a 206 with its bytes
    (``bytes=-N`` the last N, all of them when N exceeds the size); a range that
    starts at or past the end is a 416 with ``Content-Range: bytes */size``.
    Everything a server may ignore (§14.2) is ignored, and the whole file sent:
    a malformed header, another unit, several ranges (sending them would need
    multipart/byteranges, for which no browser asks), an empty file, and an
    ``If-Range`` that no longer matches the file (§13.1.5).
    """
    if "Range" not in request.headers or size == 0:
        return response
    if "If-Range" in request.headers and is_resource_modified(
        http_range=request.headers.get("Range"),
        http_if_range=request.headers.get("If-Range"),
        etag=response.headers.get("ETag"),
        last_modified=response.headers.get("Last-Modified"),
        ignore_if_range=False,
    ):
        return response
    ranges = request.range  # werkzeug's parser; None when malformed
    if ranges is None or ranges.units != "bytes" or len(ranges.ranges) != 1:
        return response
    first, last = ranges.ranges[0]  # werkzeug: (-N, None) for a suffix, an exclusive end
    if first < 0:
        begin, end = max(size + first, 0), size
    else:
        begin, end = first, size if last is None else min(last, size)
    if begin >= size:
        return Response("", status=416, headers={"Content-Range": f"bytes */{size}"})
    body = response.response
    await body.make_conditional(begin, end)  # type: ignore[attr-defined]
    response.status_code = 206
    response.content_length = end - begin
    response.headers["Content-Range"] = f"bytes {begin}-{end - 1}/{size}"
    return response
