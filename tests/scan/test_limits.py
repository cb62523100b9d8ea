"""Bounds on one page (pushgen/scan/limits.py): checked before libxml2 parses it (issue 22, 6a).

libxml2 compares each attribute of a start tag with every one before it: 40,000
attributes took 10.2 s, 1,000,000 never ended. The pre-scan walks the page once;
a page over a bound gets a located error, no references, and lxml never sees it.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

import pushgen.scan.html as html_module
import pushgen.scan.limits as limits_module
from pushgen.model import HtmlLimits
from pushgen.scan.html import html_parser, scan_html
from pushgen.scan.limits import too_many_attributes
from pushgen.urls import document_url

pytestmark = pytest.mark.timeout(60)

PAGE = document_url("/x.html")
LIMITS = HtmlLimits()


def attributes(count: int) -> bytes:
    """``count`` attributes of distinct names: libxml2 compares each with those before it."""
    return b"".join(b"a%d " % i for i in range(count))


def test_a_million_attributes_are_an_error_at_the_element_and_lxml_never_parses_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def parse(*args: object) -> None:
        raise AssertionError("libxml2 was handed the page")

    monkeypatch.setattr(html_module, "_parse", parse)
    page = b"<!doctype html>\n<p>text</p>\n  <div " + attributes(1_000_000) + b">x</div>\n"
    result = scan_html(page, PAGE, filename="pages/x.html")
    assert result.references == ()
    assert "left_out" in result.extra
    [error] = result.diagnostics
    assert (error.file, error.line, error.column, error.severity) == ("pages/x.html", 3, 3, "error")
    assert error.message.startswith(
        "element <div> has 1,000,000 attributes (limit 1,000; pushgen.yaml max_attributes,"
        " pushgen scan --max-attributes)"
    )


def test_the_limit_itself_is_allowed_and_the_page_scanned() -> None:
    page = b'<link rel=stylesheet href="/s.css" ' + attributes(998) + b">"  # 1,000
    result = scan_html(page, PAGE, filename="x.html")
    assert [ref.path for ref in result.references] == ["/s.css"]
    assert result.diagnostics == ()
    over = scan_html(page.replace(b">", b" b>"), PAGE, filename="x.html")
    assert over.references == ()
    assert "has 1,001 attributes" in over.diagnostics[0].message


def test_the_bounds_are_settable() -> None:
    page = b"<div " + attributes(5_000) + b">"
    assert scan_html(page, PAGE, limits=HtmlLimits(max_attributes=5_000)).diagnostics == ()
    small = HtmlLimits(max_page_bytes=100)
    [error] = scan_html(b"<p>" + b"x" * 200, PAGE, filename="x.html", limits=small).diagnostics
    assert (error.line, error.column) == (1, 1)
    assert error.message.startswith(
        "the page has 203 bytes (limit 100; pushgen.yaml max_page_bytes,"
        " pushgen scan --max-page-bytes)"
    )
    # Text is measured as the UTF-8 the parser gets.
    assert scan_html("<p>" + "é" * 60, PAGE, limits=small).diagnostics != ()


MANY = b"<div " + attributes(5_000) + b">"


@pytest.mark.parametrize(
    ("page", "found"),
    [
        # Where libxml2 reads tags, the pre-scan does too (it may read more, never less).
        (b"<script></b>x</script>\n" + MANY, (2, 1)),  # only </script ends a script
        (b"<style></STYLE >" + MANY, (1, 17)),
        (b"<!-- a --!> " + MANY + b" -->", (1, 13)),  # --!> ends a comment
        (b'</p x="> ' + MANY + b' ">', (1, 10)),  # an end tag ends at its first '>'
        (b'<p x"> ' + MANY + b' ">', (1, 8)),  # a quote in a name is no quote
        (b"<title>" + MANY + b"</title>", (1, 8)),  # parsed or not: looked at
        (b'<div x=">" ' + b'y=">" ' * 2_000 + b">", (1, 1)),  # '>' in quoted values
        (b'<a x="' * 3_000, (1, 1)),  # each quote closes at the next tag's
        (b"<p>\r\n\t<DIV\n" + attributes(2_000) + b">", (2, 2)),
        # What libxml2 does not parse as tags.
        (b"<script>" + MANY + b"</script>", None),
        (b"<style>" + MANY + b"</style>", None),
        (b"<!-- " + MANY + b" -->", None),
        (b"<!-->" + b"<!-- " + MANY, None),  # an unclosed comment runs to the end
        (b"<script>" + MANY, None),
    ],
)
def test_the_pre_scan_reads_tags_as_libxml2_does(
    page: bytes, found: tuple[int, int] | None
) -> None:
    problem = too_many_attributes(page, LIMITS, "x.html")
    assert (problem and (problem.line, problem.column)) == found
    # lxml (libxml2, recover=True, as the scanner parses) agrees: an element with
    # too many attributes where the pre-scan found one; none where it did not, or
    # one the pre-scan saw as well (it may look at more than libxml2 parses).
    root = etree.fromstring(page, html_parser())
    widest = max((len(e.attrib) for e in root.iter()), default=0) if root is not None else 0
    assert widest <= LIMITS.max_attributes or found is not None


@pytest.mark.parametrize(
    "page",
    [
        b"<a b=" + b"<a<a" * 500_000 + b">",  # every '<' inside one tag
        b'<a x="' * 300_000,
        b"<!--" * 300_000,
        b"<script>" * 300_000,
        b"<p " + b'a="' * 200_000,
        b"<div " + b"a=b " * 500_000,
    ],
)
def test_hostile_shapes_are_read_in_one_pass(page: bytes) -> None:
    # Each byte is read once (possessive patterns, no backtracking): these finish in
    # well under a second; a quadratic walk would not finish within the timeout.
    too_many_attributes(page, LIMITS, "x.html")


@pytest.mark.parametrize(
    "page",
    [
        b'<a b=""c=""d="">',  # only quotes before the names
        b"<a/b/c/d>",
        b"<a\vb\fc\td>",
        b"<a b='x'c=y d>",
    ],
)
def test_attributes_behind_any_separator_are_counted(page: bytes) -> None:
    # Small pages with fewer separators than the bound skip the walk: every
    # attribute stands right after white space, '/' or a quote, so three of them
    # are over a bound of two whatever separates them.
    problem = too_many_attributes(page, HtmlLimits(max_attributes=2), "x.html")
    assert problem is not None and "has 3 attributes" in problem.message


@settings(max_examples=300, deadline=None)
@given(
    page=st.lists(
        st.sampled_from([b"<a", b"<b ", b"=", b'"', b"'", b"/", b" ", b"\v", b">", b"x", b"<!--"]),
        max_size=40,
    ),
    bound=st.integers(min_value=0, max_value=4),
)
def test_the_separator_count_never_hides_an_element(page: list[bytes], bound: int) -> None:
    data, limits = b"".join(page), HtmlLimits(max_attributes=bound)
    quick = too_many_attributes(data, limits, "x.html")
    with pytest.MonkeyPatch.context() as patched:  # the walk alone
        patched.setattr(limits_module, "_few_separators", lambda *args: False)
        assert quick == too_many_attributes(data, limits, "x.html")
