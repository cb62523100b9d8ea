"""Golden tests for pushgen.scan.decode: bytes in, (text, encoding, diagnostics) out."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pushgen.scan.decode import Decoded, decode_css, decode_html, decode_utf8, lookup_encoding

PAD = b"<!-- " + b"x" * 1030 + b" -->"


@pytest.mark.parametrize(
    ("data", "encoding", "text"),
    [
        pytest.param(b"<p>caf\xc3\xa9", "utf-8", "<p>café", id="default-utf8"),
        pytest.param(b"\xef\xbb\xbf<p>\xc3\xa9", "utf-8", "<p>é", id="bom-utf8-stripped"),
        pytest.param("\ufeff<p>é".encode("utf-16-le"), "utf-16le", "<p>é", id="bom-utf16le"),
        pytest.param("\ufeff<p>é".encode("utf-16-be"), "utf-16be", "<p>é", id="bom-utf16be"),
        pytest.param(
            b"\xef\xbb\xbf<meta charset=latin1><p>\xc3\xa9",
            "utf-8",
            "<meta charset=latin1><p>é",
            id="bom-beats-meta",
        ),
        pytest.param(
            b"<meta charset=iso-8859-1><p>\xe9\x80", "windows-1252", "<p>é€", id="latin1-is-1252"
        ),
        pytest.param(
            b'<meta charset="windows-1252"><p>\x81', "windows-1252", "<p>\x81", id="1252-c1"
        ),
        pytest.param(
            b'<META CHARSET = " Shift_JIS "><p>\x82\xa0', "shift_jis", "<p>あ", id="meta-spaced"
        ),
        pytest.param(
            b'<meta http-equiv="Content-Type" content="text/html; charset=koi8-r"><p>\xc1',
            "koi8-r",
            "<p>\u0430",
            id="http-equiv",
        ),
        pytest.param(
            b"<meta content='text/html; charset=\"euc-kr\"' http-equiv=content-type>",
            "euc-kr",
            "<meta",
            id="http-equiv-content-first-quoted-label",
        ),
        pytest.param(
            b'<meta content="text/html; charset=koi8-r"><p>\xc3\xa9',
            "utf-8",
            "é",
            id="content-without-pragma-ignored",
        ),
        pytest.param(
            b"<!-- <meta charset=koi8-r> --><p>\xc3\xa9", "utf-8", "é", id="meta-in-comment"
        ),
        pytest.param(
            b"<div title='<meta charset=koi8-r>'><p>\xc3\xa9",
            "utf-8",
            "é",
            id="meta-in-attribute",
        ),
        pytest.param(
            PAD + b"<meta charset=koi8-r><p>\xc3\xa9", "utf-8", "é", id="meta-after-1024-bytes"
        ),
        pytest.param(b"<meta charset=utf-16><p>\xc3\xa9", "utf-8", "é", id="meta-utf16-is-utf8"),
        pytest.param(
            b"<meta charset=x-user-defined><p>\xe9", "windows-1252", "é", id="x-user-defined"
        ),
        pytest.param(
            b"<meta charset=koi8-r><meta charset=latin1>\xc1",
            "koi8-r",
            "\u0430",
            id="first-meta-wins",
        ),
    ],
)
def test_decode_html(data: bytes, encoding: str, text: str) -> None:
    decoded = decode_html(data, filename="p.html")
    assert decoded.encoding == encoding
    assert text in decoded.text
    assert decoded.diagnostics == ()


def test_decode_html_unknown_label_falls_back_to_utf8() -> None:
    decoded = decode_html(b"<html>\n<meta charset=klingon>\n<p>\xc3\xa9", filename="p.html")
    assert decoded.encoding == "utf-8"
    assert decoded.text.endswith("é")
    [problem] = decoded.diagnostics
    assert (problem.file, problem.line) == ("p.html", 2)
    assert "'klingon'" in problem.message


def test_decode_html_unknown_label_then_known_one() -> None:
    decoded = decode_html(b"<meta charset=nope><meta charset=koi8-r>\xc1")
    assert decoded.encoding == "koi8-r"
    assert len(decoded.diagnostics) == 1


def test_decode_html_bad_bytes_are_replaced_and_reported_once() -> None:
    decoded = decode_html(b"<p>ok\n<p>ok\n<p>bad \xff\xfe and \xc3 again", filename="g.html")
    assert decoded.encoding == "utf-8"
    assert decoded.text.count("\ufffd") == 3
    [problem] = decoded.diagnostics
    assert (problem.line, problem.column) == (3, 8)
    assert "utf-8" in problem.message and "byte 19" in problem.message


def test_decode_html_replacement_encoding() -> None:
    decoded = decode_html(b"<meta charset=iso-2022-kr><img src=x>")
    assert (decoded.text, decoded.encoding) == ("\ufffd", "replacement")
    assert len(decoded.diagnostics) == 1


@pytest.mark.parametrize(
    ("data", "encoding", "text", "problems"),
    [
        pytest.param(b"a{}", "utf-8", "a{}", 0, id="default"),
        pytest.param(b'@charset "koi8-r";\xc1', "koi8-r", "\u0430", 0, id="charset"),
        pytest.param(b'@charset "utf-16";\xc3\xa9', "utf-8", "é", 0, id="charset-utf16"),
        pytest.param(b'\xef\xbb\xbf@charset "koi8-r";\xc3\xa9', "utf-8", "é", 0, id="bom-wins"),
        pytest.param("\ufeffa{}".encode("utf-16-le"), "utf-16le", "a{}", 0, id="bom-utf16le"),
        # Only the exact bytes `@charset "` count (CSS Syntax 3, section 3.2).
        pytest.param(b' @charset "koi8-r";\xc3\xa9', "utf-8", "é", 0, id="not-at-byte-0"),
        pytest.param(b"@charset 'koi8-r';\xc3\xa9", "utf-8", "é", 0, id="single-quotes"),
        pytest.param(b'@CHARSET "koi8-r";\xc3\xa9', "utf-8", "é", 0, id="uppercase"),
        pytest.param(b'@charset "bogus";\xc3\xa9', "utf-8", "é", 1, id="unknown-label"),
        pytest.param(b"a{content:'\xff'}", "utf-8", "\ufffd", 1, id="bad-bytes"),
    ],
)
def test_decode_css(data: bytes, encoding: str, text: str, problems: int) -> None:
    decoded = decode_css(data, filename="s.css")
    assert decoded.encoding == encoding
    assert text in decoded.text
    assert len(decoded.diagnostics) == problems


def test_decode_utf8_ignores_other_boms_and_strips_its_own() -> None:
    assert decode_utf8(b"\xef\xbb\xbfimport 'a'").text == "import 'a'"
    decoded = decode_utf8(b"\xff\xfei\x00")
    assert decoded.encoding == "utf-8"
    assert len(decoded.diagnostics) == 1


@pytest.mark.parametrize(
    ("label", "name"),
    [
        ("latin1", "windows-1252"),
        (" UTF8\t", "utf-8"),
        ("ascii", "windows-1252"),
        ("sjis", "shift_jis"),
        ("gb2312", "gbk"),
        ("iso-8859-8-i", "iso-8859-8-i"),
        ("klingon", None),
        ("utf-32", None),
    ],
)
def test_lookup_encoding(label: str, name: str | None) -> None:
    assert lookup_encoding(label) == name


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=2048))
def test_decoders_never_raise(data: bytes) -> None:
    for decode in (decode_html, decode_css, decode_utf8):
        decoded = decode(data)
        assert isinstance(decoded, Decoded)
        assert isinstance(decoded.text, str)
        assert len(decoded.diagnostics) <= 2


# Pieces of random documents for the prescan: tags, attributes, comments, labels.
PRESCAN_PIECES = [
    b"<meta", b" charset=", b"http-equiv=content-type", b" content='", b"charset", b"=", b"'",
    b'"', b">", b"<", b"/", b"!--", b"-->", b"koi8-r", b"latin1", b" ", b"\xff"
]  # fmt: skip


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(PRESCAN_PIECES), max_size=40))
def test_prescan_never_raises(parts: list[bytes]) -> None:
    decoded = decode_html(b"".join(parts))
    assert decoded.encoding in ("utf-8", "koi8-r", "windows-1252")
