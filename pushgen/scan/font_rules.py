"""What style rules and ``@font-face`` rules say about fonts, for per-page font tracing.

The descriptors of a face (family, weight range, style, ``unicode-range``) and the
font properties a rule's declarations set (``font-family``, ``font-weight``,
``font-style``, the ``font`` shorthand, generated ``content``, and custom
properties as written), read from tinycss2 tokens as CSS Fonts 4 defines them; a
value that uses ``var()`` is kept as written, for the tracing to substitute per
element. :mod:`pushgen.scan.css` calls these while it scans a sheet
(:class:`FontCollector` keeps what it finds); :mod:`pushgen.build.fonts` matches
the result against a page. Pure functions: tokens or text in, values out.

Why here, with the scanners, and not in the build's ``fonts`` family: reading a
sheet's font rules is part of the one walk of a sheet that :mod:`pushgen.scan.css`
makes (no page, no file system, bytes in and values out), and the sheet's
:class:`~pushgen.model.ScanResult` carries them; matching them against a page is
the build's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

import tinycss2

from ..model import (
    UNKNOWN,
    FontDeclarations,
    FontFace,
    FontRule,
    FontSheet,
    FontStyle,
    FontWeights,
    VarValue,
)

__all__ = [
    "CONDITIONAL_AT_RULES",
    "GENERATED",
    "GENERIC_FAMILIES",
    "FontCollector",
    "face_style",
    "face_weight",
    "family_list",
    "font_declarations",
    "nest_selector",
    "read_value",
    "split_commas",
    "split_selectors",
    "style_font_declarations",
    "unicode_ranges",
]

# tinycss2 nodes carry no type hints; they are duck-typed by their `type` attribute.
_Node = Any


def split_commas(tokens: list[_Node]) -> list[list[_Node]]:
    parts: list[list[_Node]] = [[]]
    for token in tokens:
        if token.type == "literal" and token.value == ",":
            parts.append([])
        elif token.type not in ("whitespace", "comment"):
            parts[-1].append(token)
    return parts


# --- font tracing: what rules and faces say (CSS Fonts 4) ---------------------------

# Conditional group rules: what is inside applies only when the condition holds.
CONDITIONAL_AT_RULES = frozenset(
    {"media", "supports", "container", "scope", "document", "-moz-document"}
)
# A selector whose subject is generated content (CSS Pseudo-Elements 4).
GENERATED = re.compile(r"::?(?:before|after)\b", re.IGNORECASE)
# CSS Fonts 4, section 2.1.1: generic families (always available; font matching stops there).
GENERIC_FAMILIES = frozenset(
    {
        "serif", "sans-serif", "monospace", "cursive", "fantasy", "system-ui", "ui-serif",
        "ui-sans-serif", "ui-monospace", "ui-rounded", "emoji", "math", "fangsong",
    }
)  # fmt: skip
_INHERITING = frozenset({"inherit", "unset", "revert", "revert-layer"})
_UNREADABLE = frozenset({"var", "env", "attr", "if"})
# What no custom property can make readable: a value with one of these stays unknown.
_UNKNOWABLE = _UNREADABLE - {"var"}
# CSS Fonts 4, section 2.8: system font keywords of the `font` shorthand.
_SYSTEM_FONTS = frozenset({"caption", "icon", "menu", "message-box", "small-caption", "status-bar"})
_SIZE_KEYWORDS = frozenset(
    {
        "xx-small", "x-small", "small", "medium", "large", "x-large", "xx-large", "xxx-large",
        "larger", "smaller", "math",
    }
)  # fmt: skip
_UNICODE_RANGE = re.compile(r"u\+([0-9a-f?]{1,6})(?:-([0-9a-f]{1,6}))?", re.IGNORECASE)
_FONT_PROPERTIES = frozenset(
    {"font", "font-family", "font-weight", "font-style", "display", "content"}
)


def font_declarations(items: Iterable[_Node]) -> FontDeclarations | None:
    """The font-deciding values of a declaration list, the cascade within it applied.

    A later declaration of a property wins over an earlier one unless only the
    earlier is ``!important`` (CSS Cascade 5, section 6); an invalid one is
    dropped, as a browser drops it. A value that uses ``var()`` is kept as a
    :class:`~pushgen.model.VarValue`, and custom properties as written, for the
    tracing to substitute per element. ``None`` when the list sets none of them.
    """
    values: dict[str, tuple[object, bool]] = {}
    custom: dict[str, tuple[str, bool]] = {}
    for item in items:
        if item.type != "declaration":
            continue
        important = bool(item.important)
        if item.name.startswith("--"):
            # Custom property names are case-sensitive (CSS Variables 1, section 2).
            old_custom = custom.get(item.name)
            if old_custom is None or important or not old_custom[1]:
                custom[item.name] = (_serialize(item.value).strip(), important)
            continue
        if item.lower_name not in _FONT_PROPERTIES:
            continue
        tokens = [t for t in item.value if t.type not in ("whitespace", "comment")]
        parsed = _with_var(item.lower_name, item.value, tokens)
        if parsed is None:
            parsed = _FONT_VALUE_READERS[item.lower_name](tokens)
        if parsed is None:
            continue
        for name, value in parsed.items():
            old = values.get(name)
            if old is None or important or not old[1]:
                values[name] = (value, important)
    if not values and not custom:
        return None

    def get(name: str) -> Any:
        found = values.get(name)
        return None if found is None else found[0]

    return FontDeclarations(
        family=get("family"),
        weight=get("weight"),
        style=get("style"),
        display_none=get("display_none"),
        content=get("content"),
        important=frozenset(
            name for name, (_, important) in (*values.items(), *custom.items()) if important
        ),
        custom=tuple((name, text) for name, (text, _) in custom.items()),
    )


# The fields each font property sets (the `font` shorthand sets all three).
_FIELDS = {
    "font-family": ("family",),
    "font-weight": ("weight",),
    "font-style": ("style",),
    "font": ("family", "weight", "style"),
    "content": ("content",),
}


def _with_var(name: str, value: list[_Node], tokens: list[_Node]) -> dict[str, object] | None:
    """The fields of a font property whose value uses ``var()`` (and nothing unknowable)."""
    fields = _FIELDS.get(name)
    if fields is None or not _uses(tokens, {"var"}) or _uses(tokens, _UNKNOWABLE):
        return None
    found = VarValue(name, _serialize(value).strip())
    return dict.fromkeys(fields, found)


def read_value(name: str, text: str) -> dict[str, object] | None:
    """The fields font property ``name`` with value ``text`` sets; None when it is invalid.

    For a value whose ``var()`` the tracing substituted: the same readers as a
    sheet's declarations (CSS Variables 1, section 3: the value is parsed then).
    """
    tokens = [
        t
        for t in tinycss2.parse_component_value_list(text, skip_comments=True)
        if t.type not in ("whitespace", "comment")
    ]
    if any(t.type == "error" for t in tokens):
        return None
    return _FONT_VALUE_READERS[name](tokens)


def _serialize(tokens: list[_Node]) -> str:
    """``tokens`` as text; :data:`~pushgen.model.UNKNOWN` when nested too deep to write."""
    try:
        text: str = tinycss2.serialize(tokens)
    except RecursionError:  # tinycss2's serializer recurses into nested blocks
        return UNKNOWN
    return text


def style_font_declarations(text: str) -> FontDeclarations | None:
    """:func:`font_declarations` of a ``style=""`` attribute's value."""
    return font_declarations(
        tinycss2.parse_blocks_contents(text, skip_comments=True, skip_whitespace=True)
    )


def _unreadable(tokens: list[_Node]) -> bool:
    return _uses(tokens, _UNREADABLE)


def _uses(tokens: list[_Node], functions: frozenset[str] | set[str]) -> bool:
    """Whether ``tokens`` call one of ``functions`` at any depth."""
    stack = [iter(tokens)]
    while stack:
        token = next(stack[-1], None)
        if token is None:
            stack.pop()
        elif token.type == "function":
            if token.lower_name in functions:
                return True
            stack.append(iter(token.arguments))
    return False


def family_list(tokens: list[_Node]) -> tuple[str, ...] | None:
    """A ``font-family`` value as case-folded names (CSS Fonts 4, section 2.1)."""
    if _unreadable(tokens):
        return (UNKNOWN,)
    names: list[str] = []
    for part in split_commas(tokens):
        if len(part) == 1 and part[0].type == "string":
            names.append(part[0].value.lower())
        elif part and all(t.type == "ident" for t in part):
            name = " ".join(t.lower_value for t in part)
            if len(part) == 1 and name in _INHERITING:
                return ("inherit",) if not names and len(tokens) == 1 else None
            if len(part) == 1 and name == "initial":
                return ("serif",) if len(tokens) == 1 else None
            names.append(name)
        else:
            return None
    return tuple(names) or None


def _weight(tokens: list[_Node]) -> str | None:
    if _unreadable(tokens):
        return UNKNOWN
    if len(tokens) != 1:
        return None
    token = tokens[0]
    if token.type == "number" and 1 <= token.value <= 1000:
        return f"{token.value:g}"
    if token.type == "ident":
        word = token.lower_value
        if word in ("normal", "initial"):
            return "400"
        if word == "bold":
            return "700"
        if word in ("bolder", "lighter"):
            return str(word)
        if word in _INHERITING:
            return "inherit"
    return None


def _style(tokens: list[_Node]) -> str | None:
    if _unreadable(tokens):
        return UNKNOWN
    if not tokens or tokens[0].type != "ident":
        return None
    word = tokens[0].lower_value
    if word in ("normal", "italic", "initial") and len(tokens) == 1:
        return "normal" if word == "initial" else str(word)
    if word == "oblique" and len(tokens) <= 2:
        return "oblique"
    if word in _INHERITING and len(tokens) == 1:
        return "inherit"
    return None


def _shorthand(tokens: list[_Node]) -> dict[str, object] | None:
    """The ``font`` shorthand: style, variant, weight, stretch, size[/line-height], family.

    CSS Fonts 4, section 2.8: what it does not name is reset (style and weight to
    normal); a system font keyword sets the system font.
    """
    if _unreadable(tokens):
        return {"family": (UNKNOWN,), "weight": UNKNOWN, "style": UNKNOWN}
    if len(tokens) == 1 and tokens[0].type == "ident":
        word = tokens[0].lower_value
        if word in _SYSTEM_FONTS:
            return {"family": ("system-ui",), "weight": "400", "style": "normal"}
        if word in _INHERITING:
            return {"family": ("inherit",), "weight": "inherit", "style": "inherit"}
        if word == "initial":
            return {"family": ("serif",), "weight": "400", "style": "normal"}
        return None
    weight, style = "400", "normal"
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.type == "ident" and token.lower_value not in _SIZE_KEYWORDS:
            word = token.lower_value
            if word in ("italic", "oblique"):
                style = str(word)
                if (
                    word == "oblique"
                    and index + 1 < len(tokens)
                    and tokens[index + 1].type == "dimension"
                ):
                    index += 1
            elif word in ("bold", "bolder", "lighter"):
                weight = "700" if word == "bold" else str(word)
            index += 1
        elif token.type == "number" and index + 1 < len(tokens):
            weight = f"{token.value:g}"
            index += 1
        else:
            break
    if index >= len(tokens) or not (
        token.type in ("dimension", "percentage", "function")
        or (token.type == "ident" and token.lower_value in _SIZE_KEYWORDS)
        or (token.type == "number" and token.value == 0)
    ):
        return None  # no font size: the declaration is invalid
    index += 1
    if index < len(tokens) and tokens[index].type == "literal" and tokens[index].value == "/":
        index += 2
    family = family_list(tokens[index:])
    if family is None or family[0] == "inherit":
        return None
    return {"family": family, "weight": weight, "style": style}


def _content(tokens: list[_Node]) -> str | None:
    if (
        len(tokens) == 1
        and tokens[0].type == "ident"
        and tokens[0].lower_value in ("none", "normal")
    ):
        return ""
    text = []
    for token in tokens:
        if token.type == "string":
            text.append(token.value)
        elif token.type == "literal" and token.value == "/":
            break  # what follows is alternative text, not rendered
        else:
            return UNKNOWN
    return "".join(text) or None


_FONT_VALUE_READERS: dict[str, Callable[[list[_Node]], dict[str, object] | None]] = {
    "font-family": lambda t: None if (v := family_list(t)) is None else {"family": v},
    "font-weight": lambda t: None if (v := _weight(t)) is None else {"weight": v},
    "font-style": lambda t: None if (v := _style(t)) is None else {"style": v},
    "font": _shorthand,
    "display": lambda t: (
        {"display_none": len(t) == 1 and t[0].type == "ident" and t[0].lower_value == "none"}
        if not _unreadable(t)
        else None
    ),
    "content": lambda t: None if (v := _content(t)) is None else {"content": v},
}


def face_weight(tokens: list[_Node]) -> FontWeights:
    """A face's ``font-weight`` descriptor: one weight or a range (default 400)."""
    numbers: list[float] = []
    for token in tokens:
        if token.type == "number":
            numbers.append(float(token.value))
        elif token.type == "ident" and token.lower_value in ("normal", "bold"):
            numbers.append(700.0 if token.lower_value == "bold" else 400.0)
        elif token.type == "ident" and token.lower_value == "auto":
            return FontWeights(1.0, 1000.0)
    if not numbers:
        return FontWeights(400.0, 400.0)
    low, high = numbers[0], numbers[-1]
    return FontWeights(min(low, high), max(low, high))


def face_style(tokens: list[_Node]) -> FontStyle:
    word = tokens[0].lower_value if tokens and tokens[0].type == "ident" else "normal"
    if word == "italic":
        return "italic"
    if word == "oblique":
        return "oblique"
    return "normal"


def unicode_ranges(text: str) -> tuple[tuple[int, int], ...] | None:
    """``unicode-range`` as code point ranges (CSS Fonts 4, section 4.5); None: every character."""
    ranges: list[tuple[int, int]] = []
    for match in _UNICODE_RANGE.finditer(text):
        start, end = match.group(1), match.group(2)
        if "?" in start:
            ranges.append((int(start.replace("?", "0"), 16), int(start.replace("?", "f"), 16)))
        else:
            ranges.append((int(start, 16), int(end or start, 16)))
    return tuple(ranges) or None


def split_selectors(text: str) -> list[str]:
    """A selector list's selectors (commas inside parentheses and brackets stay)."""
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:index].strip())
            start = index + 1
    parts.append(text[start:].strip())
    return [p for p in parts if p]


def nest_selector(parent: str, child: str) -> str:
    """``child`` nested in a rule for ``parent``, as an absolute selector (CSS Nesting 1)."""
    outer = f":is({parent})" if "," in parent else parent
    return ", ".join(
        part.replace("&", outer) if "&" in part else f"{outer} {part}"
        for part in split_selectors(child)
    )


class FontCollector:
    """What the walk of one sheet keeps for font tracing (see :mod:`pushgen.scan.css`).

    The faces and font rules found, and the context of the rule being walked: the
    conditional rules around it, the style rules it is nested in (CSS Nesting 1),
    and whether it sits in a rule whose declarations never style an element
    (``@keyframes``, ``@starting-style``).
    """

    def __init__(self) -> None:
        self.faces: list[FontFace] = []
        self.rules: list[FontRule] = []
        self.conditions: list[str] = []
        self.selectors: list[str] = []
        self.inert = 0
        self.registered: list[str] = []

    def sheet(self) -> FontSheet | None:
        """The faces and rules found; None when there are neither."""
        if self.faces or self.rules or self.registered:
            return FontSheet(tuple(self.faces), tuple(self.rules), tuple(self.registered))
        return None

    def register(self, name: str) -> None:
        """Note ``@property NAME`` (a custom property's name: case-sensitive, ``--`` first)."""
        if name.startswith("--") and not self.inert:
            self.registered.append(name)

    def nested(self, selector: str) -> str:
        """``selector`` made absolute when it is nested in the current style rule."""
        return nest_selector(self.selectors[-1], selector) if self.selectors else selector

    def rule(self, selector: str, items: list[_Node], line: int) -> None:
        """Keep a style rule that decides a font (see :mod:`pushgen.scan.css`)."""
        if self.inert or not selector:
            return
        found = font_declarations(items)
        if found is None:
            return
        sets_font = bool(found.custom) or not (
            found.family is None and found.weight is None and found.style is None
        )
        # Only content or display: kept for what generates text, ::before and ::after
        # (icon fonts), not for every display rule of a theme.
        if not sets_font and (found.content is None or not GENERATED.search(selector)):
            return
        self.rules.append(
            FontRule(selector, found, line, tuple(self.conditions), bool(self.selectors))
        )

    def face(
        self, descriptors: dict[str, list[_Node]], ranges: str | None, path: str, line: int
    ) -> None:
        """Keep the descriptors font matching uses (CSS Fonts 4, section 4).

        ``ranges`` is the ``unicode-range`` descriptor as written, None without one.
        """
        if self.inert:
            return
        family = family_list(descriptors.get("font-family", []))
        if family is None or len(family) != 1 or family[0] in GENERIC_FAMILIES:
            return  # a face needs one family name; browsers drop the rule otherwise
        weight = face_weight(descriptors.get("font-weight", []))
        style = face_style(descriptors.get("font-style", []))
        code_points = None if ranges is None else unicode_ranges(ranges)
        self.faces.append(
            FontFace(family[0], weight, style, code_points, path, line, tuple(self.conditions))
        )
