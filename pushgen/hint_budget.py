"""How much of a page's hints fit in its ``Link`` field: one byte budget, the most important kept.

A route's hints go out twice, as the final response's ``Link`` field (RFC 8288
§3: one comma-separated list) and as the 103 Early Hints' ``Link`` fields
(RFC 8297). Nothing in HTTP bounds a field, but every client does, and a
response whose header block is over a client's limit is lost whole, not cut:
a page with 3,000 hints (a 150 KB field) got nothing at all from curl ("out of
memory" over HTTP/1.1, a reset over HTTP/2), nghttp and the h2 library
(COMPRESSION_ERROR, "oversized header block") and Chromium. The limits a field
meets, smallest first:

* Node's HTTP parser (``http``, ``undici``/``fetch``) and nginx's default
  ``proxy_buffer_size`` (one page, 4 or 8 KiB) refuse a response whose whole
  header section is over 16 KiB and 4-8 KiB;
* the h2 library refuses a header list over 64 KiB
  (``max_inbound_header_list_size``), nghttp2 a single field over 64 KiB;
* curl a header line over 100 KiB (``CURL_MAX_HTTP_HEADER``), Chromium a header
  block over 256 KiB (HTTP/1.1 and HTTP/2 alike).

:data:`DEFAULT_MAX_LINK_BYTES` (8 KiB) keeps the field under half of the
smallest whole-section limit, so the page's other headers fit beside it. At
40-120 bytes a value it holds 70-200 hints; real pages hint fewer than 30 (a
browser starts only so many fetches before it parses the page anyway).

:func:`fit_links` is the one place that decides which hints fit. The runtime
calls it for each route's plan (pushgen.runtime.headers), and ``pushgen
build``/``pushgen check`` call it to warn about the routes whose hints are cut
(pushgen.manifest.link_budget), so both always agree. Which hints are the most
important is :func:`importance`: pushed entries, then those the page's first
render waits for, then the rest, each in manifest order (the order the build
writes: stylesheets, fonts, scripts, images; rules' additions last).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .model import Asset

__all__ = [
    "DEFAULT_MAX_LINK_BYTES",
    "LINK_SEPARATOR",
    "MAX_LINK_BYTES_SETTING",
    "FittedLinks",
    "Hint",
    "fit_links",
    "importance",
]

DEFAULT_MAX_LINK_BYTES = 8192
# The runtime setting that changes the bound (pushgen.runtime.options).
MAX_LINK_BYTES_SETTING = "PUSHGEN_MAX_LINK_BYTES"
# RFC 8288 §3 and RFC 9110 §5.6.1: link-values joined by a comma (and a space).
LINK_SEPARATOR = ", "
# Destinations the first render waits for (a stylesheet blocks it, text waits
# for its font, a classic script in <head> blocks parsing): HTML Standard,
# "contributes a script-blocking style sheet" and "render-blocking".
_RENDER_BLOCKING = frozenset({"style", "font", "script"})


@dataclass(frozen=True, slots=True)
class Hint:
    """One ``Link`` value of a route (``value``) and how important it is (``rank``, 0 first)."""

    value: str
    rank: int = 0


@dataclass(frozen=True, slots=True)
class FittedLinks:
    """What of a route's hints fits the budget: ``kept`` and ``dropped``, each in manifest order.

    ``field_bytes`` is the size of the kept values joined into one field,
    ``wanted_bytes`` that of all of them; ``max_bytes`` is the budget.
    """

    kept: tuple[str, ...]
    dropped: tuple[str, ...]
    field_bytes: int
    wanted_bytes: int
    max_bytes: int

    @property
    def field(self) -> str:
        """The kept values as one ``Link`` field value."""
        return LINK_SEPARATOR.join(self.kept)

    def message(self, route: str) -> str:
        """The warning for ``route`` when hints were dropped (the runtime logs it, the build shows it)."""
        total = len(self.kept) + len(self.dropped)
        return (
            f"route {route!r}: its {total:,} hints take {self.wanted_bytes:,} bytes of "
            f"Link field, over the {self.max_bytes:,}-byte bound ({MAX_LINK_BYTES_SETTING}); "
            f"{len(self.kept):,} are sent (pushed and render-blocking ones first) and "
            f"{len(self.dropped):,} left out: hint fewer assets (a rule's "
            f"`set: [{{path: ..., hint: false}}]`) or raise {MAX_LINK_BYTES_SETTING}"
        )


def importance(asset: Asset) -> int:
    """The rank of ``asset``'s hint: 0 pushed, 1 render-blocking (or a preconnect, a high-priority image), 2 the rest."""
    if asset.push:
        return 0
    if asset.preconnect or asset.destination in _RENDER_BLOCKING or asset.fetchpriority == "high":
        return 1
    return 2


def _joined_bytes(values: Sequence[str]) -> int:
    if not values:
        return 0
    return sum(len(v) for v in values) + len(LINK_SEPARATOR) * (len(values) - 1)


def fit_links(hints: Sequence[Hint], max_bytes: int = DEFAULT_MAX_LINK_BYTES) -> FittedLinks:
    """The hints (in manifest order) whose values fit one ``Link`` field of ``max_bytes`` bytes.

    Hints are taken by rank, and in manifest order within a rank; each is kept
    when it still fits beside those kept before it, so a long value that does not
    fit leaves room for shorter, less important ones. The kept values keep the
    manifest's order (a browser starts preloads in the order it reads them).
    Values are ASCII (pushgen.links makes them so): a character is a byte.
    """
    wanted = _joined_bytes([hint.value for hint in hints])
    if wanted <= max_bytes:
        values = tuple(hint.value for hint in hints)
        return FittedLinks(values, (), wanted, wanted, max_bytes)
    order = sorted(range(len(hints)), key=lambda i: hints[i].rank)  # stable: manifest order
    used = 0
    kept: set[int] = set()
    for i in order:
        cost = len(hints[i].value) + (len(LINK_SEPARATOR) if kept else 0)
        if used + cost <= max_bytes:
            used += cost
            kept.add(i)
    return FittedLinks(
        kept=tuple(hints[i].value for i in range(len(hints)) if i in kept),
        dropped=tuple(hints[i].value for i in range(len(hints)) if i not in kept),
        field_bytes=used,
        wanted_bytes=wanted,
        max_bytes=max_bytes,
    )
