"""Domain values shared by the scanners, the build and the runtime.

A scanner turns one document into :class:`Reference` values (what the document
asks the browser to fetch, located). The build follows references into
:class:`Asset` values, which are the entries of a push manifest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from .errors import Diagnostic
from .urls import Resolved

__all__ = [
    "CROSSORIGIN_VALUES",
    "DESTINATIONS",
    "FETCHPRIORITY_VALUES",
    "ORIGIN",
    "PRELOAD_DESTINATIONS",
    "SRI_HASH",
    "UNKNOWN",
    "Asset",
    "FontDeclarations",
    "FontFace",
    "FontPolicy",
    "FontRule",
    "FontSheet",
    "FontStyle",
    "FontWeights",
    "HtmlLimits",
    "Reference",
    "ReferenceKind",
    "ScanResult",
    "ScriptPlacement",
    "ScriptTiming",
    "VarValue",
    "integrity_metadata",
    "integrity_problem",
]

# Fetch destinations that may appear as `as` in a manifest entry
# (https://fetch.spec.whatwg.org/#concept-request-destination).
DESTINATIONS = frozenset(
    {
        "audio", "audioworklet", "document", "embed", "fetch", "font", "frame",
        "iframe", "image", "json", "manifest", "object", "paintworklet", "report",
        "script", "serviceworker", "sharedworker", "style", "track", "video",
        "worker", "xslt",
    }
)  # fmt: skip

# The `as` values a browser accepts in <link rel=preload> / `Link: rel=preload`
# (https://html.spec.whatwg.org/multipage/links.html#link-type-preload).
PRELOAD_DESTINATIONS = frozenset({"fetch", "font", "image", "json", "script", "style", "track"})

CROSSORIGIN_VALUES = frozenset({"anonymous", "use-credentials"})

# An http(s) origin as the URL Standard serializes it: scheme, host, port.
ORIGIN = re.compile(r"https?://[a-z0-9.\-\[\]:]+")

# HTML Standard, "fetch priority attributes".
FETCHPRIORITY_VALUES = frozenset({"high", "low", "auto"})

# Subresource Integrity, "integrity metadata" (https://w3c.github.io/webappsec-subresource-integrity/
# #the-integrity-attribute): hash-algorithm "-" base64-value, then options after "?"
# (ignored by browsers, kept as written). base64-value is base64 or base64url (SRI 3.1).
SRI_HASH = r"(?:sha256|sha384|sha512)-[A-Za-z0-9+/_-]+={0,2}(?:\?[\x21-\x7e]*)?"
_HASH_WITH_OPTIONS = re.compile(SRI_HASH)
_ASCII_WS = re.compile(r"[\t\n\x0c\r ]+")


def integrity_metadata(value: str | None) -> str | None:
    """The ``integrity`` attribute ``value`` as a browser reads it, in one line, or None.

    SRI, "parse metadata": the value is split on ASCII whitespace and each token
    whose algorithm is not one the browser knows (sha256, sha384, sha512) or that is
    not well formed is ignored; with none left the fetch has no integrity metadata,
    the same as no attribute. A preload is used for the element's fetch only when
    both carry the same metadata (Blink: "not used due to an integrity mismatch"),
    so the hint carries exactly what is kept here.
    """
    if value is None:
        return None
    kept = [token for token in _ASCII_WS.split(value) if _HASH_WITH_OPTIONS.fullmatch(token)]
    return " ".join(kept) or None


def integrity_problem(value: str) -> str | None:
    """Why ``value`` is not a valid SRI metadata list for a manifest entry, or None.

    Valid: one or more ``sha256-``/``sha384-``/``sha512-`` hashes (base64) separated by
    spaces (https://w3c.github.io/webappsec-subresource-integrity/#the-integrity-attribute).
    """
    for token in value.split(" "):
        if not _HASH_WITH_OPTIONS.fullmatch(token):
            return (
                f"integrity {value!r} must be SRI metadata: sha256-, sha384- or sha512-"
                f" followed by a base64 hash, several separated by one space"
                f" (not {token!r})"
            )
    return None


# What made a reference: the element, at-rule or import form that names it.
ReferenceKind = Literal[
    "",
    "stylesheet",  # <link rel=stylesheet>
    "preload",  # <link rel=preload>
    "modulepreload",  # <link rel=modulepreload>
    "icon",  # <link rel=icon> and the like
    "script",  # <script src>
    "image",  # <img src>, <video poster>, <input type=image> ...
    "srcset",  # a srcset / imagesrcset candidate
    "import",  # CSS @import
    "font",  # an @font-face src
    "url",  # any other CSS url() / image-set()
    "module",  # an ES module import
    "fetch",  # fetch("x"), new Worker("x"), importScripts("x"), import("x") in a script
]


# Where a <script> sits, and when it runs (HTML Standard, "prepare the script
# element"): "" for anything that is not a script element.
ScriptPlacement = Literal["", "head", "body"]
ScriptTiming = Literal["", "defer", "async"]


@dataclass(frozen=True, slots=True)
class Reference:
    """One URL a document makes the browser fetch.

    ``url`` is absolute. For a same-origin reference ``path`` is the URL path and
    query exactly as the browser will request them (normalised, percent-encoded);
    for another origin ``path`` is empty and ``origin`` names it.

    For a ``<script src>``, ``placement`` says whether it sits in ``<head>`` or
    ``<body>`` and ``timing`` whether it is ``defer`` or ``async`` ("" for a
    parser-blocking classic script): what decides whether the first render waits.

    For the page's likely Largest Contentful Paint image (see scan.html),
    ``fetchpriority`` is "high" and, when the image is responsive, ``imagesrcset``
    and ``imagesizes`` say which candidates the browser picks from (candidate
    URLs made absolute paths, or absolute URLs for another origin).
    """

    url: str
    path: str
    origin: str
    local: bool
    destination: str
    line: int
    column: int = 0
    type: str | None = None
    crossorigin: str | None = None
    media: str | None = None
    module: bool = False
    kind: ReferenceKind = ""
    placement: ScriptPlacement = ""
    timing: ScriptTiming = ""
    imagesrcset: str | None = None
    imagesizes: str | None = None
    fetchpriority: str | None = None
    # The element's integrity metadata (see integrity_metadata), for a stylesheet,
    # script, preload or modulepreload that carries it.
    integrity: str | None = None

    @classmethod
    def from_resolved(
        cls,
        resolved: Resolved,
        *,
        destination: str,
        line: int,
        column: int = 0,
        type: str | None = None,
        crossorigin: str | None = None,
        media: str | None = None,
        module: bool = False,
        kind: ReferenceKind = "",
        placement: ScriptPlacement = "",
        timing: ScriptTiming = "",
        imagesrcset: str | None = None,
        imagesizes: str | None = None,
        fetchpriority: str | None = None,
        integrity: str | None = None,
    ) -> Reference:
        """The reference a scanner found at ``line``:``column``, once ``resolve`` placed it."""
        return cls(
            url=resolved.url,
            path=resolved.path,
            origin=resolved.origin,
            local=resolved.local,
            destination=destination,
            line=line,
            column=column,
            type=type,
            crossorigin=crossorigin,
            media=media,
            module=module,
            kind=kind,
            placement=placement,
            timing=timing,
            imagesrcset=imagesrcset,
            imagesizes=imagesizes,
            fetchpriority=fetchpriority,
            integrity=integrity,
        )


FontStyle = Literal["normal", "italic", "oblique"]
# The push policy's `fonts`: "used" traces each page's fonts (build/fonts/),
# "all" lists every @font-face source its stylesheets name.
FontPolicy = Literal["used", "all"]
# A font value that cannot be read statically (var(), attr()): CSS Syntax 3 turns
# U+0000 in a stylesheet into U+FFFD, so no stylesheet value can equal it.
UNKNOWN = "\0"


@dataclass(frozen=True, slots=True)
class VarValue:
    """A font property's value that uses ``var()``: read per element, once its custom
    properties are known (CSS Variables 1, section 3: substitution at computed-value time).

    ``property`` is the declaration's (``font-family``, ``font``, ``content``...),
    ``text`` its value as written.
    """

    property: str
    text: str


@dataclass(frozen=True, slots=True)
class FontWeights:
    """The weights a face covers (its ``font-weight`` descriptor): one weight, or a range
    from ``low`` to ``high`` (CSS Fonts 4, section 4.5)."""

    low: float
    high: float


@dataclass(frozen=True, slots=True)
class FontFace:
    """An ``@font-face`` rule as font matching sees it (CSS Fonts 4, sections 4 and 5.2).

    ``family`` is case-folded (family names match ASCII case-insensitively);
    ``weight`` the descriptor's range (one value: both ends equal); ``ranges`` the
    code point ranges of ``unicode-range``, ``None`` when the face covers every
    character. ``path`` is the URL path of the one source a browser downloads (the
    font reference of the same scan), "" when it downloads none from this origin.
    ``conditions`` are the ``@media``/``@supports`` preludes the rule sits in.
    """

    family: str
    weight: FontWeights
    style: FontStyle
    ranges: tuple[tuple[int, int], ...] | None
    path: str
    line: int
    conditions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FontDeclarations:
    """What one style rule (or ``style`` attribute) sets that decides which font is used.

    Each field is ``None`` when the rule does not set it. ``family`` is the list
    as case-folded names (generic families unquoted, as written); ``weight`` a
    number as text, ``"bolder"``, ``"lighter"`` or ``"inherit"``; ``style``
    ``"normal"``, ``"italic"``, ``"oblique"`` or ``"inherit"``; ``display_none``
    whether ``display`` is ``none``; ``content`` the characters of a
    ``content`` string, "" for ``none``/``normal``. A :class:`VarValue` in a field
    is a value that uses ``var()``; :data:`UNKNOWN` one that cannot be read
    statically (``attr()``, ``env()``). ``custom`` holds the custom properties
    set (name, value as written), ``important`` names the properties (custom
    ones included) set with ``!important``.
    """

    family: tuple[str, ...] | VarValue | None = None
    weight: str | VarValue | None = None
    style: str | VarValue | None = None
    display_none: bool | None = None
    content: str | VarValue | None = None
    important: frozenset[str] = frozenset()
    custom: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class FontRule:
    """A style rule that sets a font property: its selector list as written, and where."""

    selector: str
    declarations: FontDeclarations
    line: int
    # The @media/@supports/@container preludes it sits in, outermost first.
    conditions: tuple[str, ...] = ()
    # A rule nested in another (CSS Nesting): its selector was made absolute here.
    nested: bool = False


@dataclass(frozen=True, slots=True)
class FontSheet:
    """What a stylesheet says about fonts: its faces and the rules that choose them, in order.

    ``registered`` names the custom properties it registers with ``@property``
    (CSS Properties and Values API 1: such a property may not inherit, and may
    have an initial value).
    """

    faces: tuple[FontFace, ...] = ()
    rules: tuple[FontRule, ...] = ()
    registered: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ScanResult:
    """What a scanner found in one document: references in document order, problems."""

    references: tuple[Reference, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()
    # The document's own text encoding, when the scanner had to decode it.
    encoding: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
    # A stylesheet's faces and font rules (scan.css), for per-page font tracing;
    # None when it has neither.
    fonts: FontSheet | None = None


@dataclass(frozen=True, slots=True)
class Asset:
    """One entry of a push manifest: a same-origin URL a route needs.

    ``push`` means "send a PUSH_PROMISE"; ``hint`` means "announce it in 103 Early
    Hints and a Link header". ``module`` makes the hint ``rel=modulepreload``.
    ``imagesrcset``/``imagesizes`` make an image hint preload the candidate the
    page will use, and ``fetchpriority`` sets the hint's priority (HTML Standard,
    link type preload). ``integrity`` is the page element's Subresource Integrity
    metadata: a hint must carry the same, or the browser fetches the file again.

    A ``preconnect`` entry names another origin instead of a file (``path`` is
    the origin, ``https://fonts.example``; ``destination`` is ""): hinted as
    ``rel=preconnect``, with ``crossorigin`` when the fetches it serves are in
    CORS mode (a CORS connection is not shared with a no-CORS one), never pushed.
    """

    path: str
    destination: str
    type: str | None = None
    crossorigin: str | None = None
    media: str | None = None
    module: bool = False
    push: bool = True
    hint: bool = True
    imagesrcset: str | None = None
    imagesizes: str | None = None
    fetchpriority: str | None = None
    preconnect: bool = False
    integrity: str | None = None

    def __post_init__(self) -> None:
        if self.preconnect:
            if not ORIGIN.fullmatch(self.path):
                raise ValueError(
                    f"preconnect needs an origin like https://cdn.example, got {self.path!r}"
                )
            if self.push or self.destination:
                raise ValueError("a preconnect entry is never pushed and has no destination")
        elif not self.path.startswith("/") or self.path.startswith("//"):
            raise ValueError(f"asset path must be an absolute URL path, got {self.path!r}")
        elif self.destination not in DESTINATIONS:
            raise ValueError(f"{self.destination!r} is not a Fetch destination")
        if self.crossorigin is not None and self.crossorigin not in CROSSORIGIN_VALUES:
            raise ValueError(
                f"crossorigin must be anonymous or use-credentials, got {self.crossorigin!r}"
            )
        if self.fetchpriority is not None and self.fetchpriority not in FETCHPRIORITY_VALUES:
            raise ValueError(f"fetchpriority must be high, low or auto, got {self.fetchpriority!r}")
        if self.integrity is not None and (problem := integrity_problem(self.integrity)):
            raise ValueError(problem)


@dataclass(frozen=True, slots=True)
class HtmlLimits:
    """Bounds on one HTML page, checked before it is parsed (pushgen/scan/limits.py).

    A page over either is not parsed: an error says where, and its route gets no
    entries. ``max_page_bytes`` (pushgen.yaml ``max_page_bytes``, ``pushgen scan
    --max-page-bytes``): 64 MiB, far above the largest pages in common use (the HTML
    Standard's single-page edition is under 20 MB) and above the 50 MB pages
    tests/build/test_bad_input.py builds. ``max_attributes`` (pushgen.yaml
    ``max_attributes``, ``--max-attributes``): attributes of one element; real
    elements have a few, generated ones a few dozen, and libxml2's time grows with
    the square of the count (40,000 took 10 s).
    """

    max_page_bytes: int = 64 * 1024 * 1024
    max_attributes: int = 1_000
