"""How the scanner reads HTML attribute values: token lists, CORS settings, script
types, ``srcset`` and dimensions (the HTML Living Standard's "common microsyntaxes" and
the attribute rules of the elements that fetch). Pure functions of strings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

__all__ = [
    "ASCII_WS",
    "ICON_RELS",
    "INTEGER",
    "JS_TYPES",
    "SKIPPED",
    "Element",
    "Srcset",
    "SrcsetCandidate",
    "cors",
    "dimension",
    "line",
    "split_tokens",
    "srcset_candidates",
    "text_attr",
]

# lxml has no type hints; an element is whatever lxml hands back.
Element = Any

# Elements whose contents never fetch: <template> contents are inert; <noscript> is
# raw text when scripts run.
SKIPPED = ("template", "noscript")

ASCII_WS = "\t\n\x0c\r "
_WS_TO_SPACE = str.maketrans(ASCII_WS, " " * len(ASCII_WS))
ICON_RELS = frozenset({"icon", "apple-touch-icon", "apple-touch-icon-precomposed"})
# HTML Standard: "a JavaScript MIME type essence match".
JS_TYPES = frozenset(
    {
        "application/ecmascript", "application/javascript", "application/x-ecmascript",
        "application/x-javascript", "text/ecmascript", "text/javascript", "text/javascript1.0",
        "text/javascript1.1", "text/javascript1.2", "text/javascript1.3", "text/javascript1.4",
        "text/javascript1.5", "text/jscript", "text/livescript", "text/x-ecmascript",
        "text/x-javascript",
    }
)  # fmt: skip
# HTML Standard, "parse a srcset attribute": descriptor grammar.
INTEGER = re.compile(r"[0-9]+")
_FLOAT = re.compile(r"-?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def split_tokens(value: str | None) -> set[str]:
    """An ASCII-case-insensitive set of space-separated tokens (``rel``)."""
    if not value:
        return set()
    return set(value.lower().translate(_WS_TO_SPACE).split(" ")) - {""}


def cors(value: str | None) -> str | None:
    """A CORS settings attribute's state: missing, "anonymous" (also empty and invalid
    values) or "use-credentials" (HTML Standard, section 2.5.4)."""
    if value is None:
        return None
    if value.strip(ASCII_WS).lower() == "use-credentials":
        return "use-credentials"
    return "anonymous"


def text_attr(value: str | None) -> str | None:
    """An attribute kept as written, stripped; empty means absent."""
    if value is None:
        return None
    value = value.strip(ASCII_WS)
    return value or None


def line(element: Element) -> int:
    # libxml2 counts lines in 16 bits: past line 65535 it says 65535.
    line: int | None = element.sourceline
    return line or 0


@dataclass(frozen=True, slots=True)
class SrcsetCandidate:
    """One image candidate of a ``srcset``: its URL and its descriptors (``2x``, ``640w``)."""

    url: str
    descriptors: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Srcset:
    """The valid candidates of a ``srcset``, in order, and the ones dropped as invalid (as written)."""

    candidates: tuple[SrcsetCandidate, ...]
    dropped: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Descriptors:
    """The descriptors after a srcset URL, and the position after them."""

    descriptors: list[str]
    end: int


# A page's srcset is read up to three times (its candidates, the LCP guess, the
# hint's imagesrcset), and a layout's on every page: parsed once, kept.
@lru_cache(maxsize=1024)
def srcset_candidates(value: str) -> Srcset:
    """The candidates of a ``srcset``, in order, and those dropped as invalid.

    HTML Standard, "parse a srcset attribute": a URL is a run of non-whitespace (so it
    may contain commas); trailing commas end it; descriptors follow up to the next comma
    outside parentheses. A candidate with invalid descriptors is dropped.
    """
    candidates: list[SrcsetCandidate] = []
    dropped: list[str] = []
    n = len(value)
    pos = 0
    while True:
        separators = _SEPARATORS.match(value, pos)  # always a match: it may be empty
        pos = separators.end() if separators else pos
        if pos >= n:
            return Srcset(tuple(candidates), tuple(dropped))
        start = pos
        found_url = _URL.match(value, pos)  # always a match: value[pos] is not whitespace
        pos = found_url.end() if found_url else n
        url = value[start:pos]
        descriptors: tuple[str, ...] = ()
        if url.endswith(","):
            url = url.rstrip(",")
        else:
            found = _srcset_descriptors(value, pos)
            descriptors, pos = tuple(found.descriptors), found.end
        if _valid_descriptors(descriptors):
            candidates.append(SrcsetCandidate(url, descriptors))
        else:
            dropped.append(f"{url} {' '.join(descriptors)}".strip())


# The parser's character loops as patterns (ASCII whitespace only: str.split()
# would also split at other spaces): the whitespace and commas before a candidate,
# its URL (a run of non-whitespace), a run of whitespace between descriptors.
_SEPARATORS = re.compile(r"[\t\n\x0c\r ,]*")
_URL = re.compile(r"[^\t\n\x0c\r ]+")
_WHITESPACE = re.compile(r"[\t\n\x0c\r ]+")


def _srcset_descriptors(value: str, pos: int) -> _Descriptors:
    """The srcset descriptor tokenizer: the descriptors and the position after them."""
    if value.find("(", pos) == -1:
        # No parenthesis: the descriptors are the whitespace-separated words up to the
        # next comma, what the tokenizer's loop finds a character at a time.
        comma = value.find(",", pos)
        end = len(value) if comma == -1 else comma
        words = [word for word in _WHITESPACE.split(value[pos:end]) if word]
        return _Descriptors(words, end if comma == -1 else comma + 1)
    return _tokenize_descriptors(value, pos)


def _tokenize_descriptors(value: str, pos: int) -> _Descriptors:
    """HTML Standard, "descriptor tokenizer", a character at a time (a parenthesis
    groups the commas and whitespace of a future descriptor)."""
    n = len(value)
    while pos < n and value[pos] in ASCII_WS:
        pos += 1
    descriptors: list[str] = []
    current = ""
    in_parens = False
    while pos < n:
        char = value[pos]
        if in_parens:
            current += char
            in_parens = char != ")"
        elif char in ASCII_WS:
            if current:
                descriptors.append(current)
                current = ""
        elif char == ",":
            pos += 1
            break
        else:
            current += char
            in_parens = char == "("
        pos += 1
    if current:
        descriptors.append(current)
    return _Descriptors(descriptors, pos)


# The same few descriptor lists ("1x", "2x", "640w") recur on every page.
@lru_cache(maxsize=256)
def _valid_descriptors(descriptors: tuple[str, ...]) -> bool:
    """The srcset descriptor parser: at most one of w/x, h only with w, all well-formed."""
    width = density = height = False
    for descriptor in descriptors:
        number, suffix = descriptor[:-1], descriptor[-1:]
        if suffix == "w" and INTEGER.fullmatch(number):
            if width or density or int(number) == 0:
                return False
            width = True
        elif suffix == "x" and _FLOAT.fullmatch(number):
            if width or density or height or float(number) < 0:
                return False
            density = True
        elif suffix == "h" and INTEGER.fullmatch(number):
            if height or density or int(number) == 0:
                return False
            height = True
        else:
            return False
    return not height or width


def dimension(value: str | None) -> int:
    """An img's width or height attribute in CSS pixels (0 when absent or not a number).

    HTML Standard, "rules for parsing dimension values", reduced to its integer part.
    """
    digits = INTEGER.match((value or "").strip(ASCII_WS))
    return int(digits.group()) if digits else 0
