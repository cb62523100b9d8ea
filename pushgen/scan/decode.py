"""Turning the bytes of a page, a stylesheet or a module script into text, as a browser does.

Decoding is a step of its own so that the scanners can stay text-in, references-out.
The rules come from three places:

* HTML: the encoding sniffing algorithm, reduced to what applies to a file on
  disk (no transport-layer charset): a byte order mark wins, then the
  ``<meta charset>`` prescan of the first 1024 bytes, then UTF-8
  (https://html.spec.whatwg.org/multipage/parsing.html#encoding-sniffing-algorithm).
* CSS: a byte order mark, then ``@charset "...";`` at byte 0, then UTF-8
  (https://drafts.csswg.org/css-syntax/#input-byte-stream).
* Module scripts: always UTF-8
  (https://html.spec.whatwg.org/multipage/webappapis.html#fetch-a-single-module-script).

Labels are looked up in the WHATWG Encoding Standard's table
(https://encoding.spec.whatwg.org/#names-and-labels), so ``latin1`` means
windows-1252 as it does in every browser. Bytes that are invalid in the chosen
encoding become U+FFFD and are reported once, at the line of the first one.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from ..errors import Diagnostic

__all__ = [
    "Decoded",
    "Text",
    "as_text",
    "decode_css",
    "decode_html",
    "decode_utf8",
    "lookup_encoding",
    "python_codec",
]


@dataclass(frozen=True, slots=True)
class Decoded:
    """Text decoded from bytes, the WHATWG name of the encoding used, and what went wrong."""

    text: str
    encoding: str
    diagnostics: tuple[Diagnostic, ...] = ()


@dataclass(frozen=True, slots=True)
class Text:
    """What a scanner reads: the text, the encoding it was decoded from (None for text
    given as text) and the decoding problems."""

    text: str
    encoding: str | None
    diagnostics: tuple[Diagnostic, ...] = ()


@dataclass(frozen=True, slots=True)
class _Replaced:
    """Bytes decoded with U+FFFD for bad ones, and the offset of the first bad byte."""

    text: str
    first_bad: int | None


@dataclass(frozen=True, slots=True)
class _Bom:
    """A byte order mark: the encoding it selects and how many bytes it takes."""

    encoding: str
    length: int


# WHATWG encoding name -> (Python codec, labels). "replacement" has no codec: a
# document in it decodes to a single U+FFFD (Encoding Standard, section 14.1).
_ENCODINGS: dict[str, tuple[str, str]] = {
    "utf-8": ("utf-8", "unicode-1-1-utf-8 unicode11utf8 unicode20utf8 utf-8 utf8 x-unicode20utf8"),
    "ibm866": ("cp866", "866 cp866 csibm866 ibm866"),
    "iso-8859-2": (
        "iso8859-2",
        "csisolatin2 iso-8859-2 iso-ir-101 iso8859-2 iso88592 iso_8859-2 iso_8859-2:1987 l2 latin2",
    ),
    "iso-8859-3": (
        "iso8859-3",
        "csisolatin3 iso-8859-3 iso-ir-109 iso8859-3 iso88593 iso_8859-3 iso_8859-3:1988 l3 latin3",
    ),
    "iso-8859-4": (
        "iso8859-4",
        "csisolatin4 iso-8859-4 iso-ir-110 iso8859-4 iso88594 iso_8859-4 iso_8859-4:1988 l4 latin4",
    ),
    "iso-8859-5": (
        "iso8859-5",
        "csisolatincyrillic cyrillic iso-8859-5 iso-ir-144 iso8859-5 iso88595 iso_8859-5"
        " iso_8859-5:1988",
    ),
    "iso-8859-6": (
        "iso8859-6",
        "arabic asmo-708 csiso88596e csiso88596i csisolatinarabic ecma-114 iso-8859-6"
        " iso-8859-6-e iso-8859-6-i iso-ir-127 iso8859-6 iso88596 iso_8859-6 iso_8859-6:1987",
    ),
    "iso-8859-7": (
        "iso8859-7",
        "csisolatingreek ecma-118 elot_928 greek greek8 iso-8859-7 iso-ir-126 iso8859-7"
        " iso88597 iso_8859-7 iso_8859-7:1987 sun_eu_greek",
    ),
    "iso-8859-8": (
        "iso8859-8",
        "csiso88598e csisolatinhebrew hebrew iso-8859-8 iso-8859-8-e iso-ir-138 iso8859-8"
        " iso88598 iso_8859-8 iso_8859-8:1988 visual",
    ),
    "iso-8859-8-i": ("iso8859-8", "csiso88598i iso-8859-8-i logical"),
    "iso-8859-10": (
        "iso8859-10",
        "csisolatin6 iso-8859-10 iso-ir-157 iso8859-10 iso885910 l6 latin6",
    ),
    "iso-8859-13": ("iso8859-13", "iso-8859-13 iso8859-13 iso885913"),
    "iso-8859-14": ("iso8859-14", "iso-8859-14 iso8859-14 iso885914"),
    "iso-8859-15": (
        "iso8859-15",
        "csisolatin9 iso-8859-15 iso8859-15 iso885915 iso_8859-15 l9",
    ),
    "iso-8859-16": ("iso8859-16", "iso-8859-16"),
    "koi8-r": ("koi8-r", "cskoi8r koi koi8 koi8-r koi8_r"),
    "koi8-u": ("koi8-u", "koi8-ru koi8-u"),
    "macintosh": ("mac-roman", "csmacintosh mac macintosh x-mac-roman"),
    "windows-874": ("cp874", "dos-874 iso-8859-11 iso8859-11 iso885911 tis-620 windows-874"),
    "windows-1250": ("cp1250", "cp1250 windows-1250 x-cp1250"),
    "windows-1251": ("cp1251", "cp1251 windows-1251 x-cp1251"),
    "windows-1252": (
        "cp1252",
        "ansi_x3.4-1968 ascii cp1252 cp819 csisolatin1 ibm819 iso-8859-1 iso-ir-100 iso8859-1"
        " iso88591 iso_8859-1 iso_8859-1:1987 l1 latin1 us-ascii windows-1252 x-cp1252",
    ),
    "windows-1253": ("cp1253", "cp1253 windows-1253 x-cp1253"),
    "windows-1254": (
        "cp1254",
        "cp1254 csisolatin5 iso-8859-9 iso-ir-148 iso8859-9 iso88599 iso_8859-9"
        " iso_8859-9:1989 l5 latin5 windows-1254 x-cp1254",
    ),
    "windows-1255": ("cp1255", "cp1255 windows-1255 x-cp1255"),
    "windows-1256": ("cp1256", "cp1256 windows-1256 x-cp1256"),
    "windows-1257": ("cp1257", "cp1257 windows-1257 x-cp1257"),
    "windows-1258": ("cp1258", "cp1258 windows-1258 x-cp1258"),
    "x-mac-cyrillic": ("mac-cyrillic", "x-mac-cyrillic x-mac-ukrainian"),
    # The Encoding Standard decodes GBK with its gb18030 decoder.
    "gbk": (
        "gb18030",
        "chinese csgb2312 csiso58gb231280 gb2312 gb_2312 gb_2312-80 gbk iso-ir-58 x-gbk",
    ),
    "gb18030": ("gb18030", "gb18030"),
    "big5": ("big5hkscs", "big5 big5-hkscs cn-big5 csbig5 x-x-big5"),
    "euc-jp": ("euc_jp", "cseucpkdfmtjapanese euc-jp x-euc-jp"),
    "iso-2022-jp": ("iso2022_jp", "csiso2022jp iso-2022-jp"),
    "shift_jis": (
        "cp932",
        "csshiftjis ms932 ms_kanji shift-jis shift_jis sjis windows-31j x-sjis",
    ),
    "euc-kr": (
        "cp949",
        "cseuckr csksc56011987 euc-kr iso-ir-149 korean ks_c_5601-1987 ks_c_5601-1989 ksc5601"
        " ksc_5601 windows-949",
    ),
    "replacement": (
        "",
        "csiso2022kr hz-gb-2312 iso-2022-cn iso-2022-cn-ext iso-2022-kr replacement",
    ),
    "utf-16be": ("utf-16-be", "unicodefffe utf-16be"),
    "utf-16le": (
        "utf-16-le",
        "csunicode iso-10646-ucs-2 ucs-2 unicode unicodefeff utf-16 utf-16le",
    ),
    "x-user-defined": ("", "x-user-defined"),
}

_LABELS: dict[str, str] = {
    label: name for name, (_, labels) in _ENCODINGS.items() for label in labels.split()
}

_ASCII_WS = "\t\n\x0c\r "
_ASCII_WS_BYTES = b"\t\n\x0c\r "

_BOMS = (
    (codecs.BOM_UTF8, _Bom("utf-8", len(codecs.BOM_UTF8))),
    (codecs.BOM_UTF16_BE, _Bom("utf-16be", len(codecs.BOM_UTF16_BE))),
    (codecs.BOM_UTF16_LE, _Bom("utf-16le", len(codecs.BOM_UTF16_LE))),
)

# CSS Syntax 3, "determine the fallback encoding": the exact bytes `@charset "`,
# a label without quotes, then `";`, within the first 1024 bytes.
_CSS_CHARSET = re.compile(rb'@charset "([^"]*)";')


def lookup_encoding(label: str) -> str | None:
    """The WHATWG encoding a label names ("get an encoding"), or ``None`` if unknown."""
    return _LABELS.get(label.strip(_ASCII_WS).lower())


def python_codec(encoding: str) -> str | None:
    """The Python codec that writes text in a WHATWG encoding, or ``None`` when none can.

    Not every WHATWG name is a Python codec name (``windows-874``, ``x-mac-cyrillic``,
    ``iso-8859-8-i``), and "replacement" has no encoder at all: the Encoding Standard's
    "get an output encoding" writes UTF-8 instead
    (https://encoding.spec.whatwg.org/#get-an-output-encoding).
    """
    codec = _ENCODINGS.get(encoding, ("", ""))[0]
    return codec or None


@cache
def _charmap(encoding: str) -> str | None:
    """A decoding table for the single-byte encodings whose Python codec differs from WHATWG.

    Python leaves the unused C1 bytes of the windows-125x/874 code pages undefined; the
    Encoding Standard maps them to the matching C1 control. x-user-defined has no Python
    codec at all: high bytes go to the private use area U+F780..U+F7FF.
    """
    if encoding == "x-user-defined":
        return "".join(chr(b) if b < 0x80 else chr(0xF780 + b - 0x80) for b in range(256))
    if not encoding.startswith("windows-"):
        return None
    table = bytes(range(256)).decode(_ENCODINGS[encoding][0], errors="replace")
    # "\ufffe" marks an undefined byte for codecs.charmap_decode.
    return "".join(
        chr(b) if ch == "\ufffd" and 0x80 <= b <= 0x9F else "\ufffe" if ch == "\ufffd" else ch
        for b, ch in enumerate(table)
    )


def _decode_as(data: bytes, encoding: str) -> _Replaced:
    """Decode with U+FFFD for bad bytes; also return the offset of the first bad byte."""
    if encoding == "replacement":
        # Encoding Standard: the replacement decoder emits one U+FFFD for a non-empty input.
        return _Replaced("\ufffd" if data else "", None)
    table = _charmap(encoding)
    codec = _ENCODINGS[encoding][0]
    try:
        if table is not None:
            return _Replaced(codecs.charmap_decode(data, "strict", table)[0], None)
        return _Replaced(data.decode(codec), None)
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    if table is not None:
        return _Replaced(codecs.charmap_decode(data, "replace", table)[0], first_bad)
    return _Replaced(data.decode(codec, errors="replace"), first_bad)


def _decode(
    data: bytes,
    encoding: str,
    filename: str,
    diagnostics: list[Diagnostic],
) -> Decoded:
    decoded = _decode_as(data, encoding)
    first_bad = decoded.first_bad
    if first_bad is not None:
        prefix = _decode_as(data[:first_bad], encoding).text
        diagnostics.append(
            Diagnostic(
                filename,
                prefix.count("\n") + 1,
                len(prefix) - prefix.rfind("\n"),
                f"bytes that are not valid {encoding} were replaced with U+FFFD"
                f" (first at byte {first_bad})",
            )
        )
    if encoding == "replacement" and data:
        diagnostics.append(
            Diagnostic(
                filename,
                1,
                0,
                "the declared encoding is one browsers refuse to decode"
                " (the whole document becomes U+FFFD)",
            )
        )
    return Decoded(decoded.text, encoding, tuple(diagnostics))


def _sniff_bom(data: bytes) -> _Bom | None:
    for mark, bom in _BOMS:
        if data.startswith(mark):
            return bom
    return None


def as_text(data: bytes | str, decode: Callable[..., Decoded], filename: str) -> Text:
    """Text, encoding and decoding problems of ``data``; text is taken as it is (no encoding).

    ``decode`` is one of this module's ``decode_*`` functions, for bytes.
    """
    if isinstance(data, str):
        return Text(data, None)
    decoded = decode(data, filename=filename)
    return Text(decoded.text, decoded.encoding, decoded.diagnostics)


def decode_utf8(data: bytes, *, filename: str = "") -> Decoded:
    """Decode as the Encoding Standard's "UTF-8 decode": a UTF-8 BOM is dropped, nothing else wins.

    This is how module scripts (and JSON and CSS modules) are decoded, whatever their
    ``charset``.
    """
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    return _decode(data, "utf-8", filename, [])


def decode_css(data: bytes, *, filename: str = "") -> Decoded:
    """Decode a stylesheet: byte order mark, then ``@charset "label";`` at byte 0, then UTF-8.

    CSS Syntax 3, section 3.2 (https://drafts.csswg.org/css-syntax/#input-byte-stream).
    A ``@charset`` naming UTF-16 means UTF-8, because the rule itself was readable as
    ASCII. An unknown label is reported and UTF-8 is used.
    """
    bom = _sniff_bom(data)
    if bom is not None:
        return _decode(data[bom.length :], bom.encoding, filename, [])
    diagnostics: list[Diagnostic] = []
    encoding = "utf-8"
    match = _CSS_CHARSET.match(data, 0, 1024)
    if match is not None:
        label = match.group(1).decode("latin-1")
        found = lookup_encoding(label)
        if found is None:
            diagnostics.append(
                Diagnostic(filename, 1, 1, f"unknown @charset {label!r}; decoding as utf-8")
            )
        elif found not in ("utf-16be", "utf-16le"):
            encoding = found
    return _decode(data, encoding, filename, diagnostics)


_PLAIN_UTF8_META = re.compile(rb"""<meta\s+charset\s*=\s*["']?utf-?8["'\s/>]""")


def decode_html(data: bytes, *, filename: str = "") -> Decoded:
    """Decode an HTML document the way a browser opening the file would.

    A byte order mark wins; otherwise the first 1024 bytes are prescanned for
    ``<meta charset>`` or ``<meta http-equiv=content-type content="...; charset=...">``
    (HTML Living Standard, "prescan a byte stream to determine its encoding"); otherwise
    UTF-8. Unknown labels are reported and skipped, as the prescan does.
    """
    bom = _sniff_bom(data)
    if bom is not None:
        return _decode(data[bom.length :], bom.encoding, filename, [])
    head = data[:1024]
    # The prescan can only settle on an encoding where "charset" appears; most
    # documents say it once, in a plain <meta charset=utf-8>, or not at all.
    lowered = head.lower()
    occurrences = lowered.count(b"charset")
    if occurrences == 0:
        return _decode(data, "utf-8", filename, [])
    if occurrences == 1 and _PLAIN_UTF8_META.search(lowered) and b"<!--" not in lowered:
        return _decode(data, "utf-8", filename, [])
    found = _prescan(head)
    diagnostics = [
        Diagnostic(
            filename,
            head.count(b"\n", 0, unknown.position) + 1,
            0,
            f"unknown character encoding {unknown.label!r} in <meta>; ignored",
        )
        for unknown in found.unknown
    ]
    return _decode(data, found.encoding or "utf-8", filename, diagnostics)


# --- The HTML prescan ----------------------------------------------------------------
# https://html.spec.whatwg.org/multipage/parsing.html#prescan-a-byte-stream-to-determine-its-encoding
# It works on bytes, so that no decoding is needed to find out how to decode.


@dataclass(frozen=True, slots=True)
class _UnknownLabel:
    """A ``<meta>`` label that names no encoding, at a byte position."""

    position: int
    label: str


@dataclass(frozen=True, slots=True)
class _Prescanned:
    """The encoding the prescan settles on (None: no decision) and the unknown labels it met."""

    encoding: str | None
    unknown: list[_UnknownLabel]


def _prescan(buf: bytes) -> _Prescanned:
    """Return the encoding the prescan settles on and the unknown labels it met."""
    problems: list[_UnknownLabel] = []
    n = len(buf)
    pos = 0
    while pos < n:
        if buf.startswith(b"<!--", pos):
            # The "--" of "<!--" may also close it: "<!-->" is a whole comment.
            end = buf.find(b"-->", pos + 2)
            if end < 0:
                return _Prescanned(None, problems)
            pos = end + 3
            continue
        if (
            buf[pos : pos + 5].lower() == b"<meta"
            and pos + 5 < n
            and buf[pos + 5] in b"\t\n\x0c\r /"
        ):
            start = pos
            meta = _meta_attributes(buf, pos + 5)
            pos = meta.end
            if pos >= n:
                # The element runs past the bytes we may look at: no decision.
                return _Prescanned(None, problems)
            charset = meta.charset
            if (
                meta.need_pragma is None
                or (meta.need_pragma and not meta.got_pragma)
                or charset is None
            ):
                pos += 1
                continue
            if not charset:
                problems.append(_UnknownLabel(start, meta.label.strip(_ASCII_WS)))
                pos += 1
                continue
            if charset in ("utf-16be", "utf-16le"):
                # A page whose <meta> could be read as ASCII is not UTF-16.
                return _Prescanned("utf-8", problems)
            if charset == "x-user-defined":
                return _Prescanned("windows-1252", problems)
            return _Prescanned(charset, problems)
        if buf[pos : pos + 1] == b"<" and (
            buf[pos + 1 : pos + 2].isalpha()
            or (buf[pos + 1 : pos + 2] == b"/" and buf[pos + 2 : pos + 3].isalpha())
        ):
            pos = _skip_tag(buf, pos)
            continue
        if buf.startswith((b"<!", b"</", b"<?"), pos):
            end = buf.find(b">", pos + 2)
            if end < 0:
                return _Prescanned(None, problems)
            pos = end + 1
            continue
        pos += 1
    return _Prescanned(None, problems)


def _skip_tag(buf: bytes, pos: int) -> int:
    """The position after the tag at ``pos`` (not a ``<meta>``): its name and attributes
    are stepped over, as they may hold a "<meta" that is not one."""
    n = len(buf)
    while pos < n and buf[pos] not in b"\t\n\x0c\r >":
        pos += 1
    while True:
        attribute = _get_attribute(buf, pos)
        pos = attribute.end
        if attribute.name is None:
            break
    return pos + 1


@dataclass(frozen=True, slots=True)
class _Meta:
    """What a ``<meta>``'s attributes say about the encoding, and the position after them."""

    end: int
    got_pragma: bool  # http-equiv="content-type"
    need_pragma: bool | None  # None: no charset was given
    charset: str | None  # "" for a label that names no encoding
    label: str


@dataclass(frozen=True, slots=True)
class _Attribute:
    """What the prescan's "get an attribute" read, and the position after it.

    ``name`` is None where there is no attribute (a ``>`` or the end of the bytes).
    """

    end: int
    name: bytes | None
    value: bytes = b""


def _meta_attributes(buf: bytes, pos: int) -> _Meta:
    """The prescan's steps for a ``<meta>`` from its first attribute."""
    seen: set[bytes] = set()
    got_pragma = False
    need_pragma: bool | None = None
    charset: str | None = None
    label = ""
    while True:
        attribute = _get_attribute(buf, pos)
        pos = attribute.end
        if attribute.name is None:
            return _Meta(pos, got_pragma, need_pragma, charset, label)
        name, value = attribute.name, attribute.value
        if name in seen:
            continue
        seen.add(name)
        if name == b"http-equiv":
            got_pragma = got_pragma or value == b"content-type"
        elif name == b"content":
            content_label = _charset_from_content(value)
            if content_label is not None and charset is None:
                label = content_label
                charset = lookup_encoding(label) or ""
                need_pragma = True
        elif name == b"charset":
            label = value.decode("latin-1")
            charset = lookup_encoding(label) or ""
            need_pragma = False


def _get_attribute(buf: bytes, pos: int) -> _Attribute:
    """The prescan's "get an attribute".

    Names and values are lowercased. Running off the end returns no name, with
    the position at the end.
    """
    n = len(buf)
    while pos < n and buf[pos] in b"\t\n\x0c\r /":
        pos += 1
    if pos >= n or buf[pos] == 0x3E:  # ">"
        return _Attribute(pos, None)
    name = bytearray()
    # The name: up to "=", whitespace, "/" or ">"; a leading "=" belongs to it.
    while True:
        if pos >= n:
            return _Attribute(n, None)
        byte = buf[pos]
        if byte == 0x3D and name:  # "="
            pos += 1
            break
        if byte in _ASCII_WS_BYTES:
            while pos < n and buf[pos] in _ASCII_WS_BYTES:
                pos += 1
            if pos >= n:
                return _Attribute(n, None)
            if buf[pos] != 0x3D:
                return _Attribute(pos, bytes(name), b"")
            pos += 1
            break
        if byte in b"/>":
            return _Attribute(pos, bytes(name), b"")
        name.append(byte + 0x20 if 0x41 <= byte <= 0x5A else byte)
        pos += 1
    while pos < n and buf[pos] in _ASCII_WS_BYTES:
        pos += 1
    if pos >= n:
        return _Attribute(n, None)
    value = bytearray()
    quote = buf[pos]
    if quote in b"\"'":
        end = buf.find(bytes((quote,)), pos + 1)
        if end < 0:
            return _Attribute(n, None)
        return _Attribute(end + 1, bytes(name), buf[pos + 1 : end].lower())
    if quote == 0x3E:
        return _Attribute(pos, bytes(name), b"")
    while pos < n and buf[pos] not in b"\t\n\x0c\r >":
        value.append(buf[pos])
        pos += 1
    if pos >= n:
        return _Attribute(n, None)
    return _Attribute(pos, bytes(name), bytes(value).lower())


def _charset_from_content(value: bytes) -> str | None:
    """HTML's "extracting a character encoding from a meta element", on a lowercased value."""
    text = value.decode("latin-1")
    pos = 0
    while True:
        found = text.find("charset", pos)
        if found < 0:
            return None
        pos = found + len("charset")
        while pos < len(text) and text[pos] in _ASCII_WS:
            pos += 1
        if pos < len(text) and text[pos] == "=":
            break
    pos += 1
    while pos < len(text) and text[pos] in _ASCII_WS:
        pos += 1
    if pos >= len(text):
        return None
    if text[pos] in "\"'":
        end = text.find(text[pos], pos + 1)
        return text[pos + 1 : end] if end >= 0 else None
    end = pos
    while end < len(text) and text[end] not in _ASCII_WS + ";":
        end += 1
    return text[pos:end]
