"""What a client already has: a push diary per connection and a digest cookie across connections.

A push the client already holds wastes the bandwidth the page needs, and the
client can only cancel it (RST_STREAM) after its bytes are on the way (RFC 9113
§8.4). Two records prevent it, as the best HTTP/2 servers do:

* **The diary** (Apache mod_http2's ``H2PushDiarySize``, 256 entries by default,
  https://httpd.apache.org/docs/2.4/mod/mod_http2.html#h2pushdiarysize): per
  connection, the assets already pushed on it. A second page on the same
  connection is pushed only what the first did not get.
* **The digest cookie** (h2o's CASPer, https://h2o.examp1e.net/configure/http2_directives.html#http2-casper,
  which keeps a Golomb-coded set of ``sha1(path + etag)`` in the ``h2o_casper``
  cookie): across connections, the assets pushed to this browser before. A
  returning visitor is pushed only what changed. The format here is simpler than
  CASPer's and not compatible with it: the base64url of the sorted 24-bit
  prefixes of ``sha1(path + "\\n" + version)``, at most :data:`DIGEST_MAX_ENTRIES`
  of them (256 characters at most). Each entry stands for an asset *and its
  version* (the file's ETag or stat), so a changed asset no longer matches and is
  pushed again. A false match (two assets sharing a prefix) costs one push that
  the browser then fetches itself; with 64 entries its chance is 64 / 2**24 per
  asset.

Both records are hints: an asset wrongly believed cached is still named by the
page's ``Link`` field and 103, so the browser fetches it; nothing breaks.

Everything here is pure except the diaries' bookkeeping; the middleware
(:mod:`pushgen.runtime.middleware`) calls it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Sequence

__all__ = [
    "CONNECTION_EXTENSION",
    "DIARY_SIZE",
    "DIGEST_COOKIE",
    "DIGEST_MAX_AGE",
    "DIGEST_MAX_ENTRIES",
    "ConnectionDiaries",
    "PushDiary",
    "asset_key",
    "digest_cookie",
    "format_digest",
    "parse_digest",
    "read_digest",
]

# The scope extension under which pushgen's Hypercorn hook (runtime/h2push.py)
# hands the middleware the connection's own diary.
CONNECTION_EXTENSION = "pushgen.connection"
# Apache's default H2PushDiarySize.
DIARY_SIZE = 256
DIGEST_COOKIE = "pushgen_pushed"
# 64 entries of 3 bytes: 192 bytes, 256 base64url characters; far under the
# 4096 bytes a browser keeps per cookie (RFC 6265 §6.1), and a site pushes a
# handful of assets per page.
DIGEST_MAX_ENTRIES = 64
# A week: about as long as browsers keep unfingerprinted assets in cache.
DIGEST_MAX_AGE = 7 * 24 * 3600
_KEY_BYTES = 3


def asset_key(path: str, version: str = "") -> int:
    """The 24-bit key of the asset at ``path`` in its ``version`` (an ETag, a stat)."""
    digest = hashlib.sha1(f"{path}\n{version}".encode(), usedforsecurity=False).digest()
    return int.from_bytes(digest[:_KEY_BYTES], "big")


def format_digest(keys: Sequence[int]) -> str:
    """A cookie value holding the last :data:`DIGEST_MAX_ENTRIES` distinct ``keys``."""
    kept = list(dict.fromkeys(keys))[-DIGEST_MAX_ENTRIES:]
    raw = b"".join(key.to_bytes(_KEY_BYTES, "big") for key in sorted(kept))
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def parse_digest(value: str) -> tuple[int, ...]:
    """The keys of a digest cookie's value; none when it is not one of ours (a client may send anything)."""
    if len(value) > 4 * DIGEST_MAX_ENTRIES:
        return ()
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        return ()
    if len(raw) % _KEY_BYTES:
        return ()
    return tuple(
        int.from_bytes(raw[i : i + _KEY_BYTES], "big") for i in range(0, len(raw), _KEY_BYTES)
    )


def read_digest(headers: Iterable[tuple[bytes, bytes]]) -> tuple[int, ...]:
    """The digest in a request's ``Cookie`` fields (RFC 6265 §5.4; HTTP/2 may split them, RFC 9113 §8.2.3)."""
    prefix = DIGEST_COOKIE.encode() + b"="
    for name, value in headers:
        if name != b"cookie" or prefix not in value:
            continue
        for pair in value.split(b";"):
            pair = pair.strip()
            if pair.startswith(prefix):
                try:
                    return parse_digest(pair[len(prefix) :].decode("ascii"))
                except UnicodeDecodeError:
                    return ()
    return ()


def digest_cookie(keys: Sequence[int], *, path: str = "/", secure: bool = True) -> bytes:
    """A ``Set-Cookie`` value for ``keys``: for every page under ``path``, never read by scripts."""
    attributes = f"Path={path}; Max-Age={DIGEST_MAX_AGE}; HttpOnly; SameSite=Lax"
    if secure:
        attributes += "; Secure"
    return f"{DIGEST_COOKIE}={format_digest(keys)}; {attributes}".encode("ascii")


class PushDiary:
    """The asset keys pushed on one connection, the oldest forgotten past ``size``.

    ``in_flight``, when the server can tell (pushgen's Hypercorn hook,
    :mod:`pushgen.runtime.h2push`), counts the connection's pushes whose
    responses have not all been sent yet.
    """

    __slots__ = ("_in_flight", "_keys", "size")

    def __init__(
        self, size: int = DIARY_SIZE, *, in_flight: Callable[[], int] | None = None
    ) -> None:
        self.size = size
        self._keys: OrderedDict[int, None] = OrderedDict()
        self._in_flight = in_flight

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def __len__(self) -> int:
        return len(self._keys)

    def add(self, key: int) -> None:
        """Record ``key`` as pushed (the most recent entry)."""
        self._keys[key] = None
        self._keys.move_to_end(key)
        if len(self._keys) > self.size:
            self._keys.popitem(last=False)

    def pushes_in_flight(self) -> int | None:
        """How many pushes on the connection are still being sent; None when the server cannot tell."""
        return None if self._in_flight is None else self._in_flight()


class ConnectionDiaries:
    """Diaries keyed by ``(scope["client"], scope["server"])``, for servers without pushgen's hook.

    Under another ASGI server, or a Hypercorn version the hook was not tested
    with, a scope carries nothing that lives exactly as long as its connection.
    The two addresses name one live TCP connection; a client that reuses a port
    after closing the connection inherits its diary, and is then pushed less
    (it fetches the rest itself, from the page's ``Link`` field). At most
    ``connections`` diaries are kept, the least recently used dropped.
    """

    __slots__ = ("_diaries", "connections")

    def __init__(self, connections: int = 1024) -> None:
        self.connections = connections
        self._diaries: OrderedDict[Hashable, PushDiary] = OrderedDict()

    def diary(self, key: Hashable) -> PushDiary:
        """The diary of the connection ``key``, made on first use."""
        found = self._diaries.get(key)
        if found is None:
            found = self._diaries[key] = PushDiary()
            if len(self._diaries) > self.connections:
                self._diaries.popitem(last=False)
        else:
            self._diaries.move_to_end(key)
        return found
