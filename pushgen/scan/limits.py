"""Bounds on one HTML page, checked in linear time before libxml2 sees its bytes.

libxml2's HTML parser compares each attribute of a start tag with every one before
it (for duplicates): one element with 40,000 attributes took 10.2 s to parse, one
with 1,000,000 never ended (issue 22). Real pages never come near: a few dozen
attributes on an element is a lot, and the largest single-file pages (the HTML
Standard on one page, under 20 MB) are far below the page bound. So a page above
either bound is reported at the place that breaks it and left out (its route gets
no entries), in the time a regular expression takes to walk it once.

The walk reads tags as the parser we run does (lxml's HTMLParser, ``recover=True``)
or ends a construct earlier, so that it looks at every tag libxml2 would parse and
more, never fewer: start tags with attribute names and values (a quote is a
quote only after ``=``, as in libxml2 and the HTML Standard's tokenizer); comments
end at the first ``-->`` or ``--!>``; ``<!...>``, ``<?...>`` and end tags at the
first ``>``; only ``<script>`` and ``<style>`` hold raw text (to their ``</script``
or ``</style``), as in libxml2.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ..errors import Diagnostic
from ..model import HtmlLimits

__all__ = [
    "page_too_large",
    "too_many_attributes",
]

# How the errors end: the page is not parsed, so the source leaves it out.
_NOT_PARSED = "the page is not parsed, and its route gets no entries"

# An attribute of a start tag, with the spaces and slashes before it: a name
# (anything but space, '/', '>', '='; a quote in a name is part of it, and a name
# may start with '='), then an optional value, quoted or not (an unclosed quote is
# read as an unquoted value). Possessive: nothing is tried twice.
_ATTRIBUTE = rb"""[\s/]*+(?:[^\s/>=]++|=[^\s/>=]*+)(?:\s*+=\s*+(?:"[^"]*+"|'[^']*+'|[^\s>]*+))?+"""
_ATTRIBUTE_RE = re.compile(_ATTRIBUTE)
_START_TAG = re.compile(rb"<([A-Za-z][^\s/>]*+)((?:" + _ATTRIBUTE + rb")*+)")


def _either_case(word: bytes) -> bytes:
    return b"".join(b"[%c%c]" % (c, c ^ 32) for c in word)


@lru_cache(maxsize=8)
def _page_within(max_attributes: int) -> re.Pattern[bytes]:
    """A pattern that matches a whole page unless an element has more than
    ``max_attributes`` attributes: then it stops at that element's '<'.

    One match walks the page (text, comments, bogus comments and end tags, start
    tags with at most ``max_attributes`` attributes, <script> and <style> with their
    raw text): no Python per tag, and each byte is read once.
    """
    bound = min(max_attributes, _MAX_REPEAT)
    attributes = rb"(?:" + _ATTRIBUTE + rb"){0,%d}+[\s/]*+" % bound
    raw = [
        rb"<" + _either_case(name) + rb"(?=[\s/>])" + attributes
        + rb"(?:>(?:[^<]++|<(?!/" + _either_case(name) + rb"))*+|\Z)"
        for name in (b"script", b"style")
    ]  # fmt: skip
    return re.compile(
        rb"(?:[^<]++"
        rb"|<!--(?:-?>|[^-]*+(?:-(?!-!?>)[^-]*+)*+(?:--!?>)?)"  # ends at --> or --!>
        rb"|<[!?/][^>]*+>?"
        rb"|" + raw[0] + rb"|" + raw[1] +
        rb"|<[A-Za-z][^\s/>]*+" + attributes + rb"(?:>|\Z)"
        rb"|<(?![A-Za-z!?/]))*+",
        re.S,
    )  # fmt: skip


# The largest bound Python's regular expressions take.
_MAX_REPEAT = 2**31 - 2


def page_too_large(size: int, limits: HtmlLimits, filename: str) -> Diagnostic | None:
    """An error when a page of ``size`` bytes is over ``limits.max_page_bytes``."""
    if size <= limits.max_page_bytes:
        return None
    return Diagnostic(
        filename,
        1,
        1,
        f"the page has {size:,} bytes (limit {limits.max_page_bytes:,}; pushgen.yaml"
        f" max_page_bytes, pushgen scan --max-page-bytes): {_NOT_PARSED}",
        "error",
    )


def too_many_attributes(data: bytes, limits: HtmlLimits, filename: str) -> Diagnostic | None:
    """An error at the first element of the page ``data`` (the bytes the parser gets)
    with more than ``limits.max_attributes`` attributes, at its line and column
    (1-based, in bytes); None when there is none. Linear in the size of the page."""
    if _few_separators(data, limits.max_attributes):
        return None
    within = _page_within(limits.max_attributes)
    position = 0
    while True:
        walked = within.match(data, position)  # matches at least the empty string
        position = walked.end() if walked is not None else position
        if position >= len(data):
            return None
        tag = _START_TAG.match(data, position)
        if tag is None:  # cannot be: only a start tag stops the walk
            position += 1
            continue
        count = len(_ATTRIBUTE_RE.findall(tag.group(2)))
        if count > limits.max_attributes:
            return _too_many(data, position, tag.group(1), count, limits, filename)
        position = tag.end()


# The bytes one of which stands right before every attribute of a start tag: the tag
# name and a valueless name or unquoted value end only at white space, '/' or '>'
# (all possessive in _ATTRIBUTE), and only a quoted value can end right before
# the next name.
_SEPARATORS = b" \t\n\r\f\v/\"'"
# Counting them costs a pass over the page: worth it where the count can come out
# under the bound, in pages up to this many bytes per allowed attribute.
_COUNT_UP_TO = 16


def _few_separators(data: bytes, max_attributes: int) -> bool:
    """Whether ``data`` has too few attribute separators (see _SEPARATORS) for any
    element to hold more than ``max_attributes`` attributes: then the walk is skipped.
    One C pass; most small pages end here."""
    if len(data) > _COUNT_UP_TO * max_attributes:
        return False
    return len(data) - len(data.translate(None, _SEPARATORS)) <= max_attributes


def _too_many(
    data: bytes, start: int, name: bytes, count: int, limits: HtmlLimits, filename: str
) -> Diagnostic:
    line = data.count(b"\n", 0, start) + 1
    column = start - (data.rfind(b"\n", 0, start) + 1) + 1
    return Diagnostic(
        filename,
        line,
        column,
        f"element <{name.decode('utf-8', 'replace').lower()}> has {count:,} attributes"
        f" (limit {limits.max_attributes:,}; pushgen.yaml max_attributes, pushgen scan"
        f" --max-attributes): {_NOT_PARSED}",
        "error",
    )
