"""Route patterns as the targets write them: globs and Quart rules, parsed once.

A rule's ``match`` is a glob (``*`` within a segment, ``**`` across, ``?`` one
character) or a Quart rule (``/blog/<slug>``), whose literal parts may hold globs
too. :func:`pattern_tokens` parses it into :class:`Token` values; each target
writes them in its own syntax, and :func:`pattern_regex` gives the regular
expression the regex targets write.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote

from werkzeug.routing import BaseConverter, Map, ValidationError
from werkzeug.routing.converters import NumberConverter

from ..manifest.rules import RoutePattern
from ..manifest.werkzeug_rule import GLOB_OF_CONVERTER

__all__ = [
    "Token",
    "pattern_regex",
    "pattern_tokens",
    "regex_escape",
    "regex_prefix",
    "sample_path",
]

# Route rules are parsed once, by RoutePattern.parse with Werkzeug itself, the router Quart matches requests with
# (https://werkzeug.palletsprojects.com/en/stable/routing/): its rule grammar, its
# converters and their arguments, and each converter's own regular expression, so
# an exported pattern names the URLs the app's rule names. The targets' engines
# (PCRE in nginx and Apache, RE2 in Firebase, Onigmo in h2o's mruby) read those
# expressions alike; `\d` is ASCII digits in all three, where Python's re (and so
# Werkzeug) also takes other Unicode digits: the targets are narrower there.

# Converter class -> the name a rule gives it (int, any, ...), for messages.
_CONVERTER_NAMES = {cls: name for name, cls in Map.default_converters.items()}
_UUID_SAMPLE = "00000000-0000-0000-0000-000000000000"


@dataclass(frozen=True, slots=True)
class Token:
    """One piece of a route pattern.

    ``lit`` is literal text; ``star`` (``*``), ``globstar`` (``**``) and ``qmark``
    (``?``) are glob wildcards; ``var`` is a Werkzeug variable with its converter's
    name, regular expression and a value it accepts; ``segment`` is False for a
    converter that crosses '/' (Werkzeug's ``part_isolating``, as ``path``).
    ``widened`` says what the converter checks beyond its expression (``min``,
    ``max``), which a target's expression does not.
    """

    kind: Literal["lit", "star", "globstar", "qmark", "var"]
    value: str = ""
    converter: str = ""
    regex: str = ""
    sample: str = "x"
    segment: bool = True
    widened: str = ""


def _glob_tokens(text: str) -> list[Token]:
    out: list[Token] = []
    i = 0
    literal = ""
    while i < len(text):
        kind: Literal["star", "globstar", "qmark"]
        if text.startswith("**", i):
            kind, i = "globstar", i + 2
        elif text[i] in "*?":
            kind, i = ("star" if text[i] == "*" else "qmark"), i + 1
        else:
            literal += text[i]
            i += 1
            continue
        if literal:
            out.append(Token("lit", literal))
            literal = ""
        out.append(Token(kind))
    if literal:
        out.append(Token("lit", literal))
    return out


def _variable(name: str, converter: BaseConverter) -> Token | str:
    """The token of one Werkzeug variable, or why it cannot be exported."""
    label = _CONVERTER_NAMES.get(type(converter), type(converter).__name__)
    # The default converter's "[^/]{1,}" read as the "[^/]+" people write (any()
    # items are re.escape'd, so a "{1,}" of theirs keeps its backslashes).
    regex = converter.regex.replace("{1,}", "+")
    widened = ""
    if isinstance(converter, NumberConverter):
        if converter.fixed_digits and label == "int" and not converter.signed:
            # "the rule will only match if the URL looks like /0001/": a length.
            regex = rf"\d{{{converter.fixed_digits}}}"
        elif converter.fixed_digits:
            widened = "fixed_digits"
        bounds = [b for b in ("min", "max") if getattr(converter, b) is not None]
        widened = ", ".join(([widened] if widened else []) + bounds)
    candidates = [*sorted(getattr(converter, "items", ())), _UUID_SAMPLE, "1.0", "x/x"]
    candidates += [str(v) for v in (getattr(converter, "min", None),) if v is not None]
    candidates += ["x" * n for n in range(1, 65)] + ["1" * n for n in range(1, 65)]
    for candidate in candidates:
        if re.fullmatch(regex, candidate) is None:
            continue
        try:
            converter.to_python(candidate)
        except ValidationError:
            continue
        return Token("var", name, label, regex, candidate, converter.part_isolating, widened)
    return f"no value of <{label}:{name}> could be found to compute its entries"


def pattern_tokens(pattern: RoutePattern) -> list[Token] | str:
    """The tokens of a glob or a Quart rule, or why the pattern cannot be exported."""
    text = pattern.text
    if text in ("*", "**"):
        return [Token("lit", "/"), Token("globstar")]
    if pattern.kind != "rule":
        return _glob_tokens(text)
    # RoutePattern.parse compiled the rule (and refused what Werkzeug cannot read),
    # its globs turned into stand-in converters (see GLOB_OF_CONVERTER).
    rule = pattern.werkzeug_rule
    assert rule is not None, "a parsed rule pattern holds its Werkzeug rule"
    out: list[Token] = []
    # Rule._trace is the parse Werkzeug builds URLs from: (is variable, text) pairs,
    # the host part (empty here) first, then "|", then the path.
    trace = rule._trace
    path = trace[trace.index((False, "|")) + 1 :]
    for is_variable, value in path:
        if is_variable:
            converter = rule._converters[value]
            glob = GLOB_OF_CONVERTER.get(type(converter))
            if glob is not None:
                # Literal parts may hold globs too: /blog/<slug>/* is every page under a post.
                out.append(Token(glob))
                continue
            token = _variable(value, converter)
            if isinstance(token, str):
                return token
            out.append(token)
        else:
            out.append(Token("lit", value))
    merged: list[Token] = []
    for token in out:
        if merged and token.kind == "lit" and merged[-1].kind == "lit":
            merged[-1] = Token("lit", merged[-1].value + token.value)
        else:
            merged.append(token)
    return merged


def sample_path(tokens: Sequence[Token]) -> str:
    return "".join(t.value if t.kind == "lit" else t.sample for t in tokens)


def regex_escape(literal: str) -> str:
    """``literal`` for a regular expression: every ASCII punctuation but '/' escaped."""
    return "".join(
        "\\" + c if c.isascii() and not c.isalnum() and c not in "/_-%~" else c for c in literal
    )


def pattern_regex(tokens: Sequence[Token], *, decode: bool = False) -> str:
    """The unanchored regular expression of a pattern; ``decode`` percent-decodes literals."""
    parts = []
    for token in tokens:
        if token.kind == "lit":
            parts.append(regex_escape(unquote(token.value) if decode else token.value))
        elif token.kind == "var":
            parts.append(token.regex)
        else:
            parts.append({"star": "[^/]*", "globstar": ".*", "qmark": "[^/]"}[token.kind])
    return "".join(parts)


def regex_prefix(tokens: Sequence[Token], *, decode: bool = False) -> str:
    """The text every path the pattern's regular expression matches starts with.

    :func:`pattern_regex` writes a leading literal as it is (percent-decoded with
    ``decode``), so a path it matches starts with that literal.
    """
    if not tokens or tokens[0].kind != "lit":
        return ""
    return unquote(tokens[0].value) if decode else tokens[0].value
