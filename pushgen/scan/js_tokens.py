"""The tokens of ECMAScript source text, for pushgen/scan/js.py's scanner.

A small hand-written tokenizer (ECMAScript, section 12 "Lexical Grammar"), not a
parser. The one ambiguity of the lexical grammar, whether ``/`` starts a regular
expression or divides, is settled the usual way: by the previous significant
token, remembering for ``)`` and ``}`` what they closed. :class:`TokenStream`
gives the scanner its look-ahead.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

__all__ = ["Token", "TokenStream", "tokens", "unescape"]

# One token per match, with the whitespace before it. Identifiers may hold non-ASCII letters
# and \u escapes (an escaped keyword is not a keyword, so "\u0069mport" stays an
# identifier). Strings may be unterminated: they then end at the line break. "/" and "`"
# are decided by the caller (regex or division; template literal).
_TOKEN = re.compile(
    r"""
    [\s\ufeff]*
    (?:
      (?P<name>(?:[^\W\d]|[$\\\u200c\u200d])(?:[\w$\u200c\u200d]|\\u\{?[0-9A-Fa-f]+\}?)*)
     |(?P<punct>\?\.(?!\d)|\.\.\.|=>|\+\+|--|[^\s\w/`"'])
     |(?P<string>"(?:[^"\\\n\r]|\\[\s\S])*"?|'(?:[^'\\\n\r]|\\[\s\S])*'?)
     |(?P<number>\.?\d(?:[\w.]|(?<=[eE])[+-])*)
     |(?P<comment>//[^\n\r\u2028\u2029]*|/\*[\s\S]*?(?:\*/|\Z))
     |(?P<slash>/)
     |(?P<template>`)
    )
    """,
    re.VERBOSE,
)
# The rest of a template literal from just after "`" or "}": up to "`" or "${".
_TEMPLATE_CHUNK = re.compile(r"(?:[^`\\$]|\\[\s\S]|\$(?!\{))*(`|\$\{)?")
# A regular expression literal body and flags (ECMAScript, section 12.9.5).
_REGEX = re.compile(r"/(?![*/])(?:[^/\\\[\n\r]|\\.|\[(?:[^\]\\\n\r]|\\.)*\])+/[\w$]*")
_ESCAPE = re.compile(
    r"\\(u\{[0-9A-Fa-f]+\}|u[0-9A-Fa-f]{4}|x[0-9A-Fa-f]{2}|\r\n|[\s\S])",
)
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}
_LINE_CONTINUATIONS = frozenset({"\n", "\r", "\r\n", "\u2028", "\u2029"})
# A "/" after these keywords starts a regular expression, not a division.
_KEYWORDS_BEFORE_EXPRESSION = frozenset(
    {
        "await", "case", "delete", "do", "else", "extends", "in", "instanceof", "new",
        "of", "return", "throw", "typeof", "void", "yield",
    }
)  # fmt: skip
# "(...)" after these is a condition, and a "/" after its ")" starts a regular expression.
_CONDITION_KEYWORDS = frozenset({"if", "while", "for", "with"})
# "{" after these punctuators opens a block; after any other, an object literal.
_PUNCT_BEFORE_BLOCK = frozenset({")", ";", "{", "}", "=>", ""})
# "{" after these keywords opens an object literal; after any other name, a block.
_KEYWORDS_BEFORE_OBJECT = frozenset(
    {
        "await", "case", "delete", "in", "instanceof", "new", "of", "return", "throw",
        "typeof", "void", "yield",
    }
)  # fmt: skip


class Token(NamedTuple):
    kind: str  # "name", "string", "punct" or "literal" (number, regex, template)
    value: str
    start: int


def tokens(text: str, problems: list[tuple[int, str]]) -> Iterator[Token]:
    """The significant tokens of ``text``: no whitespace, no comments, no template pieces.

    ``parens`` and ``braces`` say what each open "(" and "{" was. For "(": whether
    a "/" after its ")" starts a regex ("if (x) /re/.test(y)"). For "{": "block",
    "object" or "template" (a "${"). Problems (an unterminated comment or template)
    go to ``problems`` by position.
    """
    parens: list[bool] = []
    braces: list[str] = []
    regex_allowed = True
    previous = Token("punct", "", 0)  # the start of the text acts like ";"
    pos = _after_hashbang(text)
    match_token = _TOKEN.match
    while True:
        token = match_token(text, pos)
        if token is None:
            return  # only whitespace is left
        kind = token.lastgroup or ""
        start = token.start(kind)
        pos = token.end()
        if kind == "name":
            value = token.group(kind)
            regex_allowed = value in _KEYWORDS_BEFORE_EXPRESSION
        elif kind == "punct":
            value = token.group(kind)
            if value == "}" and braces and braces[-1] == "template":
                braces.pop()
                kind = "template"
            else:
                regex_allowed = _punct(value, previous, parens, braces)
        elif kind == "string" or kind == "number":
            value = token.group(kind)
            regex_allowed = False
            kind = "string" if kind == "string" else "literal"
        elif kind == "comment":
            if text.startswith("/*", start) and not text.endswith("*/", start + 2, pos):
                problems.append((start, "unterminated comment"))
            continue
        elif kind == "slash":
            regex = _REGEX.match(text, start) if regex_allowed else None
            if regex is None:
                value = "/"
                kind = "punct"
                regex_allowed = True
            else:
                value = regex.group()
                kind = "literal"
                pos = regex.end()
                regex_allowed = False
        if kind == "template":
            # From "`" or from the "}" that ends a "${": the next piece of the template.
            chunk = _TEMPLATE_CHUNK.match(text, start + 1)
            assert chunk is not None  # the pattern matches the empty string
            pos = chunk.end()
            if chunk.group(1) == "${":
                braces.append("template")
                regex_allowed = True
                previous = Token("punct", "${", pos - 2)
                continue
            if chunk.group(1) is None:
                problems.append((start, "unterminated template literal"))
            value = "`"
            kind = "literal"
            regex_allowed = False
        previous = Token(kind, value, start)
        yield previous


def _after_hashbang(text: str) -> int:
    """Where the tokens start: a hashbang line (ECMAScript 2023, section 12.5) is a comment."""
    pos = text.find("\n") if text.startswith("#!") else 0
    return len(text) if pos < 0 else pos


def _punct(value: str, previous: Token, parens: list[bool], braces: list[str]) -> bool:
    """Whether a "/" after the punctuator ``value`` starts a regular expression.

    Keeps what each open "(" and "{" was in ``parens`` and ``braces`` (see
    :func:`tokens`); a "}" that ends a template's "${" is the caller's.
    """
    if value == "(":
        parens.append(previous.kind == "name" and previous.value in _CONDITION_KEYWORDS)
        return True
    if value == ")":
        return parens.pop() if parens else False
    if value == "{":
        if previous.kind == "name":
            block = previous.value not in _KEYWORDS_BEFORE_OBJECT
        else:
            block = previous.kind == "punct" and previous.value in _PUNCT_BEFORE_BLOCK
        braces.append("block" if block else "object")
        return True
    if value == "}":
        return (braces.pop() if braces else "block") == "block"
    return value not in ("]", "++", "--")  # "x++ / 2" divides


def unescape(literal: str) -> str:
    """The value of a string literal token (quotes included in ``literal``)."""
    body = literal[1:-1] if len(literal) > 1 and literal[-1] == literal[0] else literal[1:]
    if "\\" not in body:
        return body

    def replace(match: re.Match[str]) -> str:
        escape = match.group(1)
        if escape[0] == "u" and len(escape) > 1:
            code = int(escape[2:-1] if escape[1] == "{" else escape[1:], 16)
            return chr(code) if code <= 0x10FFFF else "\ufffd"
        if escape[0] == "x" and len(escape) == 3:
            return chr(int(escape[1:], 16))
        if escape in _LINE_CONTINUATIONS:
            return ""
        return _SIMPLE_ESCAPES.get(escape, escape)

    return _ESCAPE.sub(replace, body)


class TokenStream:
    """The tokens of :func:`tokens`, with look-ahead: what the scanner reads declarations with."""

    __slots__ = ("_pending", "_stream")

    def __init__(self, stream: Iterator[Token]) -> None:
        self._stream = stream
        self._pending: list[Token] = []

    def next(self) -> Token | None:
        """The next token (None at the end)."""
        if self._pending:
            return self._pending.pop()
        return next(self._stream, None)

    def peek(self, ahead: int = 0) -> Token | None:
        """The token ``ahead`` tokens on, not consumed (None past the end)."""
        while len(self._pending) <= ahead:
            token = next(self._stream, None)
            if token is None:
                return None
            self._pending.insert(0, token)
        return self._pending[-1 - ahead]

    def accept(self, kind: str, value: str | None = None) -> Token | None:
        """The next token when it is of ``kind`` (and ``value``), consumed; else None."""
        token = self.peek()
        if token is None or token.kind != kind or (value is not None and token.value != value):
            return None
        return self.next()
