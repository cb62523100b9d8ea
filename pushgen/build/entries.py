"""What one reference adds to the pages that reach it: its manifest entry, or a warning.

An entry is the asset's destination and attributes as the Link header and the
manifest carry them (type, crossorigin, media, srcset, priority), and whether it
is pushed and hinted, with the reason when it is not (``pushgen explain`` shows
it). :func:`make_asset` is the one place an asset's attributes are made from a
reference; :func:`make_entry` adds what the output decides (outside the site, not
in the output, a field no header can carry). The Resolver (pushgen/build/graph.py)
makes each entry once per build.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import LinkFieldError
from ..links import check_link_fields
from ..media_types import font_type
from ..model import Asset, Reference
from ..push_policy import media_matches_screen, media_query_list, push_refusal
from ..site_files import output_relpath
from .found import Found, Link

__all__ = [
    "Entry",
    "MadeAsset",
    "blocks_render",
    "join_media",
    "make_asset",
    "make_entry",
    "preconnect",
    "should_push",
]

# ASCII whitespace (HTML Standard; CSS Syntax 3 reads the same as whitespace).
_WHITESPACE = re.compile(r"[ \t\n\r\f]+")

# Category order of a page's assets (see pushgen/build/graph.py's docstring).
_ORDER = {"style": 0, "font": 1, "script": 2, "image": 3}


@dataclass(frozen=True, slots=True)
class Entry:
    """What one reference adds to the pages that reach it (see Resolver._add)."""

    relpath: str | None  # None: outside the site
    warning: str | None  # why it adds nothing: outside the site, or not in the output
    asset: Asset | None  # None when there is a warning
    notes: tuple[str, ...]
    category: int
    icon: bool
    image: bool  # an image named by url() or a srcset


@dataclass(frozen=True, slots=True)
class MadeAsset:
    """An asset made from a reference, and why it is not pushed or not hinted (if so)."""

    asset: Asset
    notes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Verdict:
    """Whether an asset is pushed and hinted, and why not when it is not."""

    push: bool
    hint: bool
    notes: tuple[str, ...] = ()


def should_push(asset: Asset, push_destinations: frozenset[str]) -> bool:
    """The default push policy: listed destinations, and stylesheets only for screens."""
    return push_refusal(asset.destination, asset.media, push_destinations) is None


def make_entry(
    ref: Reference,
    *,
    base_path: str,
    exists: Callable[[str], bool],
    push_destinations: frozenset[str],
    hint_script_fetches: bool,
) -> Entry:
    """What ``ref`` adds to a page: its output path, manifest entry, or the warning instead."""
    category = _ORDER.get(ref.destination, 4)
    image = ref.kind in ("url", "srcset") and ref.destination == "image"
    relpath = output_relpath(ref.path, base_path)
    if relpath is None:
        warning = f"{ref.path} is outside the site (base path {base_path})"
        return Entry(None, warning, None, (), category, False, image)
    if not exists(relpath):
        what = {
            "style": "stylesheet",
            "script": "script",
            "font": "font",
            "image": "image",
        }.get(ref.destination, "file")
        warning = f"{what} {ref.path} is not in the output (missing file {relpath})"
        return Entry(relpath, warning, None, (), category, False, image)
    made = make_asset(ref, push_destinations, hint_script_fetches)
    try:
        check_link_fields(made.asset)
    except LinkFieldError as exc:
        # No header can announce it, and the manifest would hold what check and
        # the runtime refuse; a browser ignores a media query or type it cannot
        # read (Media Queries 4: an unknown query is "not all").
        warning = f"{ref.path}: {exc}: left out of the manifest; write the attribute in ASCII"
        return Entry(relpath, warning, None, (), category, False, image)
    return Entry(relpath, None, made.asset, made.notes, category, ref.kind == "icon", image)


def make_asset(
    ref: Reference, push_destinations: frozenset[str], hint_script_fetches: bool
) -> MadeAsset:
    """The manifest entry of ``ref``: its destination, attributes, push and hint."""
    destination = ref.destination
    type_ = ref.type
    crossorigin = ref.crossorigin
    if destination == "font":
        type_ = type_ or font_type(ref.path)
        # Fonts are always fetched in CORS mode (CSS Fonts 4, §4.9).
        crossorigin = crossorigin or "anonymous"
    media = _one_line(ref.media) if destination == "style" else None
    type_ = _one_line(type_)
    verdict = _push_verdict(ref, media, push_destinations, hint_script_fetches)
    asset = Asset(
        path=ref.path,
        destination=destination,
        type=type_,
        crossorigin=crossorigin,
        media=media,
        module=ref.module and destination == "script",
        push=verdict.push,
        hint=verdict.hint,
        imagesrcset=_one_line(ref.imagesrcset),
        imagesizes=_one_line(ref.imagesizes),
        fetchpriority="low" if ref.kind == "fetch" and verdict.hint else ref.fetchpriority,
        integrity=ref.integrity,
    )
    return MadeAsset(asset, verdict.notes)


def _push_verdict(
    ref: Reference, media: str | None, push_destinations: frozenset[str], hint_script_fetches: bool
) -> _Verdict:
    """Whether the asset of ``ref`` (``media`` on one line) is pushed and hinted, and why not."""
    destination = ref.destination
    if ref.kind == "srcset":
        # One candidate of a srcset is fetched, by viewport and density: a hint
        # for each would make the browser download them all.
        return _Verdict(False, False, ("not hinted: one candidate of a srcset",))
    if ref.kind == "fetch":
        return _script_fetch_verdict(ref, hint_script_fetches)
    if ref.kind == "icon":
        # Chromium fetches the favicon with its own request, which a preload
        # does not serve: a hint downloads it twice (issue 15).
        why = "not hinted: an icon, fetched by the browser's own favicon request"
        return _Verdict(False, False, (why,))
    if ref.kind == "image" and ref.fetchpriority != "high":
        # Only the likely LCP image gains from a hint; the others would compete
        # with it and with what blocks the first render (issue 15).
        why = "not hinted: an image other than the page's likely LCP image"
        return _Verdict(False, False, (why,))
    if ref.kind == "url" and destination == "image":
        # A stylesheet's image is fetched only where a rule using it matches an
        # element; hinting it on every page that links the sheet wastes bandwidth
        # (a rule `set: [{path: ..., hint: true}]` hints a critical one).
        why = "not hinted: a stylesheet image, fetched only where a rule matches"
        return _Verdict(False, False, (why,))
    if _waits_for_nothing(ref):
        # Pushing it contends with what the first render needs (issue 15).
        return _Verdict(False, True, (f"hint only: {_waits_for_nothing(ref)}",))
    if (refusal := push_refusal(destination, media, push_destinations)) is not None:
        return _Verdict(False, True, (refusal,))
    return _Verdict(True, True)


def _script_fetch_verdict(ref: Reference, hint_script_fetches: bool) -> _Verdict:
    """What a URL a script fetches (kind "fetch") gets: listed, hinted on request, never pushed.

    A script asks for it when it runs, if ever. Measured in Chromium
    (bench/script_fetch_bench.py, issue 15): a hint makes every page download an
    import() reached on a click, and helps only a page whose script fetches at load
    (a search index); so listed by default, and hinted at low priority on request
    where a preload can serve the request (fetch(), import()). A worker's own
    fetches (new Worker, importScripts) cannot use a page's preload.
    """
    servable = ref.destination == "fetch" or ref.module
    hint = servable and hint_script_fetches
    if hint:
        why = (
            "hint only: fetched by a script through a literal URL (push policy "
            "script_fetches: hint), at low priority"
        )
    elif servable:
        why = (
            "not hinted: fetched by a script through a literal URL, maybe never "
            "(hint it: push policy script_fetches: hint, or a rule's set)"
        )
    else:
        why = (
            f"not hinted: fetched by a script as a {ref.destination}, which a preload cannot serve"
        )
    return _Verdict(False, hint, (why,))


def preconnect(ref: Reference, chain: tuple[Link, ...]) -> Found:
    """A ``rel=preconnect`` to the origin of ``ref``, another origin the first render needs.

    A connection made for CORS fetches (fonts, module scripts, crossorigin
    elements) is not used for no-CORS ones and the other way round (Fetch,
    "connection pool" keyed by credentials). A route lists an origin once
    (entries are keyed by path), in the mode of its first fetch there, the
    one the render meets first.
    """
    cors = ref.crossorigin or ("anonymous" if ref.destination == "font" else None)
    what = "font" if ref.destination == "font" else ref.kind or ref.destination
    asset = Asset(ref.origin, "", crossorigin=cors, push=False, preconnect=True)
    note = f"preconnect: the first render needs a {what} from {ref.origin} ({ref.url})"
    return Found(asset, chain, -1, notes=(note,))


def _waits_for_nothing(ref: Reference) -> str:
    """Why the first render does not wait for the classic script ``ref`` ("" when it does).

    HTML Standard, "prepare the script element": a ``defer`` script runs after
    parsing, an ``async`` one whenever it arrives, and a parser-blocking script in
    ``<body>`` lets the browser render everything above it first. Only a classic
    script in ``<head>`` without either holds the first render. Module scripts are
    pushed with their static imports: the page's behaviour usually hangs on them.
    """
    if ref.kind != "script" or ref.module or ref.destination != "script":
        return ""
    if ref.timing:
        return f"{ref.timing} script: the first render does not wait for it"
    if ref.placement == "body":
        return "script in <body>: the page renders what comes before it without waiting"
    return ""


def blocks_render(ref: Reference) -> bool:
    """Whether the first render waits for ``ref``: a screen stylesheet, a font, a
    parser-blocking or module script (see :func:`_waits_for_nothing`)."""
    if ref.destination == "style":
        return ref.kind in ("stylesheet", "preload", "import") and media_matches_screen(ref.media)
    if ref.destination == "script":
        return ref.module or (ref.kind in ("script", "preload") and not _waits_for_nothing(ref))
    return ref.destination == "font"


def _one_line(value: str | None) -> str | None:
    """``value`` with each run of ASCII whitespace as one space: the same media query,
    type, srcset or sizes (each reads whitespace as a separator), on one line, as a
    header field and the manifest need it (an attribute written over two lines
    made a manifest the loader refused)."""
    return None if value is None else _WHITESPACE.sub(" ", value)


def join_media(outer: str | None, inner: str | None) -> str | None:
    """The media an imported sheet (``inner``) applies under, imported under ``outer``.

    Both must hold: each query of one list AND-ed with each of the other (a list
    matches when any of its queries does, https://drafts.csswg.org/mediaqueries-4/#mq-list),
    so ``@import url(a.css) screen, print`` of a sheet that imports ``b.css
    (min-width: 40em)`` gives b.css ``screen and (min-width: 40em), print and
    (min-width: 40em)``. A pair that no medium matches (``screen`` and ``print``) is
    left out; when none is left the sheet applies nowhere: ``not all``.
    """
    if not outer or not inner or outer == inner:
        return inner or outer
    joined = [
        query
        for outer_query in _media_list(outer)
        for inner_query in _media_list(inner)
        if (query := _and_queries(outer_query, inner_query)) is not None
    ]
    return ", ".join(dict.fromkeys(joined)) or "not all"


def _media_list(media: str) -> list[str]:
    """The queries of a media query list (push_policy.media_query_list); ``all`` for none."""
    return list(media_query_list(media)) or ["all"]


@dataclass(frozen=True, slots=True)
class _MediaQuery:
    """One media query: ``[not | only] type [and condition]``, or a bare condition."""

    modifier: str  # "not", "only" or ""
    media_type: str  # lower-cased; "" when the query is a bare condition
    condition: str  # "" when there is none

    @classmethod
    def parse(cls, text: str) -> _MediaQuery:
        words = text.split(None, 1)
        modifier = ""
        if words[0].lower() in ("not", "only") and len(words) > 1 and not words[1].startswith("("):
            modifier, text = words[0].lower(), words[1]
            words = text.split(None, 1)
        if words[0].startswith("("):
            return cls(modifier, "", text)
        rest = words[1] if len(words) > 1 else ""
        if rest[:4].lower() == "and ":
            rest = rest[4:].strip()
        return cls(modifier, words[0].lower(), rest)


def _and_queries(outer: str, inner: str) -> str | None:
    """One query that holds where both do; None when no medium matches both.

    A query with ``not`` negates the whole of itself, so no single query is its AND
    with another: the other one stands for the pair, which matches at least where
    both do (a preload that may not apply, never a sheet missed).
    """
    a, b = _MediaQuery.parse(outer), _MediaQuery.parse(inner)
    if a.modifier == "not" or b.modifier == "not":
        return inner if a.modifier == "not" else outer
    types = {t for t in (a.media_type, b.media_type) if t not in ("", "all")}
    if len(types) > 1:
        return None  # two media types: no medium is both
    conditions = [_in_parens(c) for c in (a.condition, b.condition) if c]
    head = next(iter(types), "all" if a.media_type or b.media_type else "")
    if head and (a.modifier == "only" or b.modifier == "only"):
        head = f"only {head}"
    if head == "all" and conditions:
        head = ""  # `all and (x)` is `(x)`
    return " and ".join([head, *conditions] if head else conditions) or "all"


def _in_parens(condition: str) -> str:
    """``condition`` ready to be AND-ed: parenthesized when it has a top-level ``or`` or
    starts with ``not`` (Media Queries 4 does not mix ``and`` with those unbracketed)."""
    depth, top = 0, []
    for c in condition:
        depth += (c == "(") - (c == ")")
        top.append(c if depth == 0 else " ")
    words = "".join(top).lower().split()
    return f"({condition})" if "or" in words or (words and words[0] == "not") else condition
