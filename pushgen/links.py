"""The ``Link`` and 103 Early Hints wire format: one value per entry, and the paths they name.

The words every room shares about a hint on the wire: the runtime sends these
values (pushgen.runtime.headers), ``pushgen check`` and the build warn about
what they leave out (pushgen.manifest.link_budget), and the exports write them
into server configurations (pushgen.export). Nothing here imports a room.

The values follow the preload specification
(https://w3c.github.io/preload/, https://html.spec.whatwg.org/#link-type-preload)::

    </static/a.css>; rel=preload; as=style
    </static/f.woff2>; rel=preload; as=font; type="font/woff2"; crossorigin
    </static/app.js>; rel=modulepreload

A route's values go out as one ``Link`` field (RFC 8288 §3) and as the 103's
(RFC 8297), at most a byte budget of them (:mod:`pushgen.hint_budget`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from .errors import LinkFieldError
from .hint_budget import DEFAULT_MAX_LINK_BYTES, FittedLinks, Hint, fit_links, importance
from .model import PRELOAD_DESTINATIONS, Asset
from .urls import wire_path

__all__ = [
    "Hintable",
    "check_link_fields",
    "hintable",
    "link_value",
    "normalise_base_path",
    "route_aliases",
    "route_links",
]

# Characters a header field value cannot carry (RFC 9110 §5.5: visible ASCII,
# space and tab).
_FIELD_UNSAFE = re.compile(r"[^\t\x20-\x7e]")


def _quoted(value: str) -> str:
    # quoted-string (RFC 9110 §5.6.4): backslash-escape '"' and '\'.
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def link_value(asset: Asset) -> str | None:
    """The ``Link`` value announcing ``asset``, or None when it is not hinted.

    None for ``hint: false`` entries and for destinations a browser cannot
    preload (``as=video`` and the like would only produce a console warning),
    except module scripts, which are always ``rel=modulepreload``. Raises
    :class:`LinkFieldError` when ``type`` or ``media`` holds characters a header
    field cannot carry.
    """
    if not asset.hint:
        return None
    if asset.preconnect:
        # HTML Standard, link type preconnect; Chromium acts on it in a 103 too.
        cors = {"anonymous": "; crossorigin", "use-credentials": "; crossorigin=use-credentials"}
        return f"<{asset.path}>; rel=preconnect{cors.get(asset.crossorigin or '', '')}"
    check_link_fields(asset)
    parts = [f"<{wire_path(asset.path)}>"]
    if asset.module:
        # rel=modulepreload fetches in CORS mode with credentials "same-origin"
        # unless told otherwise, so only use-credentials needs saying; `as`
        # defaults to script (HTML Living Standard, link-type-modulepreload).
        parts.append("rel=modulepreload")
        if asset.destination != "script":
            parts.append(f"as={asset.destination}")
        if asset.crossorigin == "use-credentials":
            parts.append("crossorigin=use-credentials")
        _add_integrity(parts, asset)
    else:
        if asset.destination not in PRELOAD_DESTINATIONS:
            return None
        parts += ["rel=preload", f"as={asset.destination}"]
        if asset.type is not None:
            parts.append(f"type={_quoted(asset.type)}")
        # A bare `crossorigin` is the anonymous state; fonts need it even on the
        # same origin or the preloaded response is not reused (Fetch, CORS mode).
        if asset.crossorigin == "anonymous":
            parts.append("crossorigin")
        elif asset.crossorigin == "use-credentials":
            parts.append("crossorigin=use-credentials")
        _add_integrity(parts, asset)
    if asset.media is not None:
        parts.append(f"media={_quoted(asset.media)}")
    # HTML Standard, link type preload: an image preload with imagesrcset and
    # imagesizes fetches the candidate the <img> will pick; fetchpriority sets
    # the request's priority (Chromium reads all three from a Link header or 103).
    if asset.destination == "image" and asset.imagesrcset is not None:
        parts.append(f"imagesrcset={_quoted(asset.imagesrcset)}")
        if asset.imagesizes is not None:
            parts.append(f"imagesizes={_quoted(asset.imagesizes)}")
    if asset.fetchpriority is not None:
        parts.append(f"fetchpriority={asset.fetchpriority}")
    return "; ".join(parts)


def _add_integrity(parts: list[str], asset: Asset) -> None:
    """Append the ``integrity`` param of a hint for a file the page fetches with SRI.

    A preload is used for the element's fetch only when their integrity metadata
    match (HTML Standard, link type preload, "process a link header" takes
    ``integrity`` from the header's params; Blink's LinkHeader parses it and
    LinkLoadParameters passes header.Integrity() on). Without it Chromium logs "A
    preload for ... is not used due to an integrity mismatch" and fetches the file
    twice (issue 25: 39 double downloads on a Hugo site).

    Decided per way of hinting, from tests/scenarios/test_integrity_browser.py
    (Chromium 156, ``pushgen serve --folder``; each file fetched once, no console
    message, where main fetched each twice):
    - the Link header of the 200 alone: used (initiatorType "link"), so hinted;
    - the 103: used (initiatorType "early-hints"), so hinted there too;
    - a push: Chromium accepts none (it sends SETTINGS_ENABLE_PUSH=0, docs/deploy.md),
      so there is nothing of Chromium's to lose; for a client that takes a push, the
      pushed response only fills the cache the element's fetch reads, and SRI checks
      the body however it came (SRI, "does response match metadataList"), so the push
      policy stays as it is.
    push_manifest.json cannot carry integrity: that export leaves such entries out.
    """
    if asset.integrity is not None:
        parts.append(f"integrity={_quoted(asset.integrity)}")


def check_link_fields(asset: Asset) -> None:
    """Raise :class:`LinkFieldError` when ``asset``'s ``type``, ``media``, ``imagesrcset``
    or ``imagesizes`` holds a character a header field cannot carry.

    The one rule for those values: :func:`link_value` (the runtime, ``pushgen
    check``, the exports) and the build, which leaves such an entry out.
    """
    for name, value in (
        ("type", asset.type),
        ("media", asset.media),
        ("imagesrcset", asset.imagesrcset),
        ("imagesizes", asset.imagesizes),
    ):
        if value is not None and _FIELD_UNSAFE.search(value):
            raise LinkFieldError(name, value)


def route_links(assets: Iterable[Asset], max_bytes: int = DEFAULT_MAX_LINK_BYTES) -> FittedLinks:
    """The ``Link`` values of the hinted ``assets`` that fit ``max_bytes`` (see pushgen.hint_budget).

    Raises :class:`LinkFieldError` like :func:`link_value`.
    """
    hints: list[Hint] = []
    for asset in assets:
        value = link_value(asset)
        if value is not None:
            hints.append(Hint(value, importance(asset)))
    return fit_links(hints, max_bytes)


def normalise_base_path(base_path: str) -> str:
    """``base_path`` with exactly one leading and one trailing slash (``blog`` -> ``/blog/``)."""
    stripped = base_path.strip("/")
    return f"/{stripped}/" if stripped else "/"


def route_aliases(route: str, *, pretty_urls: bool = False) -> tuple[str, ...]:
    """Every URL path that serves the page of ``route``, ``route`` first.

    A directory route answers with and without its trailing slash and as
    ``index.html``; an ``.html`` route also without the suffix when pretty URLs
    are on; a suffix-less route (what a pretty-URL build writes) also with it.
    """
    aliases = [route]
    if route.endswith("/"):
        aliases.append(route + "index.html")
        if route != "/":
            aliases.append(route[:-1])
    elif route.endswith("/index.html"):
        directory = route[: -len("index.html")]
        aliases.append(directory)
        if directory != "/":
            aliases.append(directory[:-1])
    elif route.endswith(".html"):
        if pretty_urls:
            aliases.append(route[: -len(".html")])
    elif not route.rsplit("/", 1)[-1].count("."):
        aliases.append(route + ".html")
    return tuple(aliases)


@dataclass(frozen=True, slots=True)
class Hintable:
    """A route's entries with the hint taken off each whose values no header can carry."""

    assets: tuple[Asset, ...]
    refused: tuple[tuple[str, str], ...]  # (path, why) of each entry that lost its hint


def hintable(assets: Iterable[Asset]) -> Hintable:
    """``assets`` with the hint taken off each entry whose values no header can carry."""
    kept: list[Asset] = []
    refused: list[tuple[str, str]] = []
    for asset in assets:
        try:
            link_value(asset)
        except LinkFieldError as exc:
            refused.append((asset.path, str(exc)))
            asset = replace(asset, hint=False)
        kept.append(asset)
    return Hintable(tuple(kept), tuple(refused))
