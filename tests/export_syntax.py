"""Small readers of the exported formats, as each target's own parser reads them.

Each returns the directives a file holds, so a test can assert that a file holds
exactly the intended ones and that no value ended a comment, a string, a
directive or a block. They follow the servers' parsers, not pushgen's writers:

- nginx: ``ngx_conf_read_token`` (src/core/ngx_conf_file.c): words, quoted strings
  with ``\\"``, ``\\'``, ``\\\\``, ``\\t``, ``\\r``, ``\\n``; ``;`` ends a directive, ``{ }``
  a block, ``#`` at a word's start a comment;
- Apache httpd: ``ap_cfg_getline`` (a trailing backslash continues the line),
  comment lines, ``ap_getword_conf`` (``\\\\`` and ``\\"`` in quotes), sections
  ``<Name args>`` ... ``</Name>``; ``${`` is replaced in every line that is read;
- Netlify / Cloudflare ``_headers``: a path line, then indented ``Name: value`` lines;
- h2o: YAML (libyaml), then the mruby handler's lines, one shape each.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import yaml


class SyntaxProblem(AssertionError):
    """The text does not read as the format's intended shape."""


@dataclass
class Directive:
    """One directive: its words (quotes removed) and, for a block, what it holds."""

    words: tuple[str, ...]
    block: list[Directive] | None = None
    children: list[Directive] = field(default_factory=list)


_NGINX_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "t": "\t", "r": "\r", "n": "\n"}


def nginx(text: str) -> list[Directive]:
    """The directives of an nginx configuration text (an include file's top level)."""
    stack: list[list[Directive]] = [[]]
    words: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char in " \t\r\n":
            i += 1
        elif char == "#":
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
        elif char == ";":
            stack[-1].append(Directive(tuple(words)))
            words = []
            i += 1
        elif char == "{":
            block: list[Directive] = []
            stack[-1].append(Directive(tuple(words), block))
            stack.append(block)
            words = []
            i += 1
        elif char == "}":
            if words or len(stack) == 1:
                raise SyntaxProblem(f"unexpected '}}' at {i}")
            stack.pop()
            i += 1
        elif char in "\"'":
            value, i = _nginx_quoted(text, i)
            if i < len(text) and text[i] not in " \t\r\n;{":
                raise SyntaxProblem(f"unexpected {text[i]!r} after a quoted string at {i}")
            words.append(value)
        else:
            start = i
            while i < len(text) and text[i] not in " \t\r\n;{}\"'":
                i += 2 if text[i] == "\\" else 1
            words.append(text[start:i])
    if words or len(stack) != 1:
        raise SyntaxProblem("unexpected end of file")
    return stack[0]


def _nginx_quoted(text: str, i: int) -> tuple[str, int]:
    quote = text[i]
    i += 1
    out: list[str] = []
    while True:
        if i >= len(text):
            raise SyntaxProblem("unterminated string")
        char = text[i]
        if char == quote:
            return "".join(out), i + 1
        if char == "\\" and i + 1 < len(text):
            following = text[i + 1]
            if following in _NGINX_ESCAPES:
                out.append(_NGINX_ESCAPES[following])
            else:
                out.append(char + following)
            i += 2
            continue
        out.append(char)
        i += 1


def apache(text: str) -> list[Directive]:
    """The directives of an Apache httpd configuration text."""
    lines: list[str] = []
    pending = ""
    for raw in text.split("\n"):
        if raw.endswith("\\"):
            pending += raw[:-1]
            continue
        lines.append(pending + raw)
        pending = ""
    if pending:
        lines.append(pending)
    stack: list[tuple[str, list[Directive]]] = [("", [])]
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if "${" in line:
            raise SyntaxProblem(f"httpd would expand a variable in {line!r}")
        if line.startswith("</"):
            if not line.endswith(">") or stack[-1][0] != line[2:-1] or len(stack) == 1:
                raise SyntaxProblem(f"unexpected {line!r}")
            stack.pop()
        elif line.startswith("<"):
            if not line.endswith(">"):
                raise SyntaxProblem(f"unterminated section {line!r}")
            words = _apache_words(line[1:-1])
            block: list[Directive] = []
            stack[-1][1].append(Directive(words, block))
            stack.append((words[0], block))
        else:
            stack[-1][1].append(Directive(_apache_words(line)))
    if len(stack) != 1:
        raise SyntaxProblem(f"section {stack[-1][0]} not closed")
    return stack[0][1]


def _apache_words(line: str) -> tuple[str, ...]:
    words = []
    i = 0
    while i < len(line):
        if line[i] in " \t":
            i += 1
            continue
        if line[i] in "\"'":
            quote = line[i]
            i += 1
            out = []
            while i < len(line) and line[i] != quote:
                if line[i] == "\\" and i + 1 < len(line) and line[i + 1] in (quote, "\\"):
                    i += 1
                out.append(line[i])
                i += 1
            if i >= len(line):
                raise SyntaxProblem(f"unterminated string in {line!r}")
            i += 1
            if i < len(line) and line[i] not in " \t":
                raise SyntaxProblem(f"text right after a quoted string in {line!r}")
            words.append("".join(out))
        else:
            start = i
            while i < len(line) and line[i] not in " \t":
                i += 1
            words.append(line[start:i])
    return tuple(words)


def headers_file(text: str) -> dict[str, list[tuple[str, str]]]:
    """A ``_headers`` file: path -> its (name, value) header lines."""
    out: dict[str, list[tuple[str, str]]] = {}
    current: str | None = None
    for line in text.split("\n"):
        if not line.strip() or line.startswith("#"):
            continue
        if line[0] in " \t":
            if current is None:
                raise SyntaxProblem(f"header line before any path: {line!r}")
            name, colon, value = line.strip().partition(":")
            if not colon:
                raise SyntaxProblem(f"not a header line: {line!r}")
            out[current].append((name, value.strip()))
        else:
            if len(line.split()) != 1:
                raise SyntaxProblem(f"a path line holds more than a path: {line!r}")
            current = line
            if current in out:
                raise SyntaxProblem(f"path {current!r} written twice")
            out[current] = []
    return out


_RUBY_STRING = r"'(?:[^'\\]|\\.)*'"
_H2O_LINE_SHAPES = [
    re.compile(shape)
    for shape in (
        r"links = \{",
        r"\}",
        r"patterns = \[",
        r"\]",
        r"  # .*",
        rf"  ({_RUBY_STRING}) => \[",
        rf"    ({_RUBY_STRING}),",
        r"  \],",
        rf"  \[Regexp\.new\(({_RUBY_STRING})\), \[",
        r"  \]\],",
    )
]
H2O_HANDLER_END = [
    "Proc.new do |env|",
    "  path = env['PATH_INFO']",
    "  found = links[path]",
    "  found ||= (patterns.find { |re, _| re.match(path) } || [nil, nil])[1]",
    "  [399, found ? { 'link' => found.join(\"\\n\") } : {}, []]",
    "end",
]


def ruby_string(literal: str) -> str:
    """The value of a single-quoted Ruby string literal."""
    return re.sub(r"\\([\\'])", r"\1", literal[1:-1])


@dataclass
class H2oPaths:
    keys: dict[str, list[str]]
    patterns: list[tuple[str, list[str]]]
    root: str


def h2o(text: str) -> H2oPaths:
    """An h2o ``paths`` fragment: the handler's exact keys, its patterns, the root."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    document = yaml.load(text, Loader=loader)
    if list(document) != ["/"] or list(document["/"]) != ["mruby.handler", "file.dir"]:
        raise SyntaxProblem(f"unexpected keys: {document!r}")
    code: str = document["/"]["mruby.handler"]
    lines = code.rstrip("\n").split("\n")
    if lines[-len(H2O_HANDLER_END) :] != H2O_HANDLER_END:
        raise SyntaxProblem("the handler's end is not the Proc")
    keys: dict[str, list[str]] = {}
    patterns: list[tuple[str, list[str]]] = []
    values: list[str] | None = None
    for line in lines[: -len(H2O_HANDLER_END)]:
        if any(not c.isprintable() for c in line):
            raise SyntaxProblem(f"an unprintable character in {line!r}")
        shape = next((s for s in _H2O_LINE_SHAPES if s.fullmatch(line)), None)
        if shape is None:
            raise SyntaxProblem(f"a handler line of no known shape: {line!r}")
        match = shape.fullmatch(line)
        assert match is not None
        if shape is _H2O_LINE_SHAPES[5]:
            values = keys.setdefault(ruby_string(match.group(1)), [])
        elif shape is _H2O_LINE_SHAPES[8]:
            values = []
            patterns.append((ruby_string(match.group(1)), values))
        elif shape is _H2O_LINE_SHAPES[6]:
            if values is None:
                raise SyntaxProblem(f"a value outside a list: {line!r}")
            values.append(ruby_string(match.group(1)))
    return H2oPaths(keys, patterns, str(document["/"]["file.dir"]))
