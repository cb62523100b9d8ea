"""Which elements of a page a selector matches, for font tracing (pushgen.build.fonts).

A selector of a stylesheet rule is compiled once per process (:func:`compile_selectors`):
what a static document cannot decide is dropped and noted (``:hover``, pseudo-elements
other than ``::before``/``::after``), cssselect translates the rest to XPath, and the
id, class or tag its subject must have is kept as its key. :func:`match_selector` runs
it against a :class:`PageIndex` of the page: a selector whose key the page lacks, or
any class or id it needs, matches nothing without a search; a lone key is its own
answer; a chain of tags, classes and ids joined by descendant and child combinators
is matched from the subject up through its ancestors (several times faster than the
XPath, and the same elements); XPath takes the rest.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Literal

from cssselect import HTMLTranslator, SelectorError, parse
from lxml import etree

from ...scan.font_rules import split_selectors

__all__ = [
    "KEY_ONLY",
    "Compound",
    "Matched",
    "PageIndex",
    "Selector",
    "SubjectKey",
    "compile_selectors",
    "match_selector",
    "with_attribute",
]

_Element = Any  # lxml elements carry no type hints

# Pseudo-classes cssselect evaluates on a static document as a browser would on a
# fresh load (a fresh profile has visited nothing: :link is every link).
_STATIC_PSEUDO_CLASSES = frozenset(
    {
        "first-child", "last-child", "only-child", "first-of-type", "last-of-type",
        "only-of-type", "nth-child", "nth-last-child", "nth-of-type", "nth-last-of-type",
        "empty", "root", "not", "is", "where", "has", "link", "any-link", "checked",
        "disabled", "enabled",
    }
)  # fmt: skip
_PSEUDO = re.compile(r"(::?)(-?[a-zA-Z][\w-]*)(\()?")
_SIMPLE = re.compile(r"[a-zA-Z][\w-]*|\.[\w-]+|#[\w-]+")
_KEY = re.compile(r"#([\w-]+)|\.([\w-]+)|^([a-zA-Z][\w-]*)")
_GROUPS = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|\"[^\"]*\"|'[^']*'")
_TRANSLATOR = HTMLTranslator()


@dataclass(frozen=True, slots=True)
class SubjectKey:
    """What the subject of a selector must have: an id, a class or a tag, by name."""

    kind: Literal["id", "class", "tag"]
    name: str


@dataclass(frozen=True, slots=True)
class Selector:
    """One selector of a rule's list, compiled once per build (see :func:`compile_selectors`)."""

    # etree.XPath; None when cssselect cannot read the selector; KEY_ONLY for a lone
    # tag, class or id, whose key decides the match (no XPath is compiled for it).
    xpath: Any
    key: SubjectKey | None
    simple: bool  # the key alone decides the match
    # Compounds of tag, classes and ids joined by descendant and child combinators,
    # matched here without XPath (see _chain); None for every other selector.
    chain: tuple[Compound, ...] | None
    # The classes and ids every element of a match needs (outside :not() and the
    # like), for selectors with a key: a page lacking one is not searched.
    required: tuple[tuple[str, str], ...]
    specificity: tuple[int, int, int]
    pseudo: str  # "", "before" or "after"
    reason: str  # why it only possibly matches, "" when it matches as written


_compiled: dict[str, tuple[Selector, ...]] = {}


def compile_selectors(selector_list: str) -> tuple[Selector, ...]:
    """The selectors of ``selector_list``, compiled to XPath once per process."""
    found = _compiled.get(selector_list)
    if found is None:
        found = _compiled[selector_list] = tuple(
            _compile_one(part) for part in split_selectors(selector_list)
        )
    return found


# The xpath of a selector its key alone decides (see Selector).
KEY_ONLY = "key only"
# A lone tag, class or id whose name is a plain ASCII identifier, and its specificity
# (Selectors 4, section 17: an id counts in the first place, a class the second, a tag
# the third).
_LONE = re.compile(r"(?P<tag>[a-zA-Z][a-zA-Z0-9_-]*)|(?P<mark>[.#])-?[a-zA-Z_][a-zA-Z0-9_-]*")
_LONE_SPECIFICITY = {"#": (1, 0, 0), ".": (0, 1, 0), "": (0, 0, 1)}


def _compile_one(text: str) -> Selector:
    lone = _LONE.fullmatch(text)
    if lone is not None:
        # Icon sheets hold thousands of these (`.fa-star`): cssselect would parse
        # and compile each to an XPath that no page runs (the key decides).
        specificity = _LONE_SPECIFICITY[lone.group("mark") or ""]
        return Selector(KEY_ONLY, _subject_key(text), True, None, (), specificity, "", "")
    static = _strip_dynamic(text)
    stripped, pseudo, reason = static.text, static.pseudo, static.reason
    try:
        selectors = parse(stripped)
        if len(selectors) != 1:
            raise SelectorError(stripped)
        selector = selectors[0]
        if selector.pseudo_element is not None:
            # A pseudo-element cssselect knows but we did not strip: match its element.
            reason = reason or f"pseudo-element ::{selector.pseudo_element}"
            selector.pseudo_element = None
        xpath = etree.XPath(_TRANSLATOR.selector_to_xpath(selector, prefix="descendant-or-self::"))
        specificity = selector.specificity()
    except (SelectorError, etree.XPathError, ValueError, TypeError, RecursionError):
        return Selector(
            None,
            None,
            False,
            None,
            (),
            (0, 0, 0),
            pseudo,
            f"a selector pushgen cannot match ({text})",
        )
    simple = bool(_SIMPLE.fullmatch(stripped))
    key = _subject_key(stripped)
    chain = _chain(stripped) if key is not None and not simple else None
    required = _required(stripped) if key is not None and not simple else ()
    return Selector(xpath, key, simple, chain, required, specificity, pseudo, reason)


_REQUIRED = re.compile(r"([.#])([\w-]+)")


def _required(text: str) -> tuple[tuple[str, str], ...]:
    """The classes and ids ``text`` names outside parentheses and brackets (no escapes in it)."""
    flat = _without_groups(text)
    return tuple(
        dict.fromkeys(
            ("class" if mark == "." else "id", name) for mark, name in _REQUIRED.findall(flat)
        )
    )


@dataclass(frozen=True, slots=True)
class Compound:
    """One compound of a selector chain, and the combinator before it ("" for the first)."""

    combinator: Literal["", " ", ">"]
    tag: str | None  # lower case; None for any element
    ids: tuple[str, ...]
    classes: tuple[str, ...]


_COMPOUND = re.compile(r"(\*|[a-zA-Z][\w-]*)?((?:[.#]-?[a-zA-Z_][\w-]*)*)")
_COMBINATOR = re.compile(r"[ \t\n\r\f]*>[ \t\n\r\f]*|[ \t\n\r\f]+")
_PART = re.compile(r"([.#])(-?[a-zA-Z_][\w-]*)")


def _chain(text: str) -> tuple[Compound, ...] | None:
    """``text`` as compounds of tag, ``.class`` and ``#id`` joined by `` `` and ``>``, or None.

    Most selectors of real sheets are such chains (``.rst-content .section h1``);
    matching them from the subject up through its ancestors is several times
    faster than evaluating cssselect's XPath from the root, and gives the same
    elements (checked against it by tests/build/test_fonts_equivalence.py).
    """
    steps: list[Compound] = []
    combinator: Literal["", " ", ">"] = ""
    position = 0
    while True:
        match = _COMPOUND.match(text, position)
        if match is None or match.end() == position:
            return None
        tag, rest = match.groups()
        parts = _PART.findall(rest)
        steps.append(
            Compound(
                combinator,
                None if tag in (None, "*") else tag.lower(),
                tuple(name for kind, name in parts if kind == "#"),
                tuple(name for kind, name in parts if kind == "."),
            )
        )
        position = match.end()
        if position == len(text):
            return tuple(steps)
        between = _COMBINATOR.match(text, position)
        if between is None:
            return None
        combinator = ">" if ">" in between.group() else " "
        position = between.end()


@dataclass(frozen=True, slots=True)
class _Static:
    """A selector as a static document decides it (see :func:`_strip_dynamic`)."""

    text: str  # without dynamic pseudo-classes and the pseudo-elements not matched
    pseudo: str  # the generated-content pseudo-element: "", "before" or "after"
    reason: str  # why it only possibly matches ("" when it matches as written)


def _strip_dynamic(text: str) -> _Static:
    """``text`` without what a static document cannot decide, the pseudo-element, a reason.

    Dynamic pseudo-classes (``:hover``, ``:focus``...) and pseudo-elements other than
    ``::before``/``::after`` are dropped, so the rest is matched: a rule that may
    apply counts as possibly applying. A functional pseudo-class holding one drops
    whole (``:not(:hover)``).
    """
    out: list[str] = []
    pseudo = ""
    reason = ""
    index = 0
    while index < len(text):
        char = text[index]
        end = _literal_end(text, index)
        if end is not None:
            out.append(text[index:end])
            index = end
            continue
        match = _PSEUDO.match(text, index) if char == ":" else None
        if match is None:
            out.append(char)
            index += 1
            continue
        colons, name, paren = match.groups()
        name = name.lower()
        end = match.end()
        if paren:
            depth = 1
            while end < len(text) and depth:
                depth += {"(": 1, ")": -1}.get(text[end], 0)
                end += 1
        whole = text[index:end]
        kind = _pseudo_kind(colons, name, bool(paren), whole)
        if kind == "generated":
            pseudo = name
        elif kind != "static":
            reason = reason or f"{kind} {whole}"
        else:
            out.append(":link" if name == "any-link" else whole)
        if kind != "static":
            previous = "".join(out).rstrip(" ")
            if not previous or previous[-1] in ">+~(," or (out and out[-1] == " "):
                out.append("*")
        index = end
    return _Static("".join(out).strip() or "*", pseudo, reason)


def _literal_end(text: str, index: int) -> int | None:
    """Where a string, an attribute selector or an escape starting at ``index`` ends, or None."""
    char = text[index]
    if char in "\"'":
        end = text.find(char, index + 1)
        return len(text) if end < 0 else end + 1
    if char == "[":
        end = index + 1
        quote = ""
        while end < len(text) and (quote or text[end] != "]"):
            if quote and text[end] == quote:
                quote = ""
            elif not quote and text[end] in "\"'":
                quote = text[end]
            end += 1
        return end + 1
    if char == "\\":
        return index + 2
    return None


def _pseudo_kind(
    colons: str, name: str, paren: bool, whole: str
) -> Literal["generated", "pseudo-element", "pseudo-class", "static"]:
    """What a pseudo-class or pseudo-element (``whole``) is to a static document."""
    if name in ("before", "after"):
        return "generated"
    if colons == "::" or name in (
        "first-line",
        "first-letter",
        "marker",
        "placeholder",
        "selection",
    ):
        return "pseudo-element"
    if name not in _STATIC_PSEUDO_CLASSES or (
        paren and _strip_dynamic(whole[len(colons) + len(name) + 1 : -1]).reason
    ):
        return "pseudo-class"
    return "static"


def _without_groups(text: str) -> str:
    """``text`` without its parenthesised, bracketed and quoted parts (innermost first)."""
    flat = text
    while True:
        shorter = _GROUPS.sub("", flat)
        if shorter == flat:
            break
        flat = shorter
    return flat


def _subject_key(text: str) -> SubjectKey | None:
    """What the subject of ``text`` must have (an id, class or tag), to skip pages without it."""
    if "\\" in text or '"' in text or "'" in text:
        return None  # escapes and strings: the XPath alone decides
    flat = _without_groups(text)
    last = re.split(r"[\s>+~]+", flat.strip())[-1]
    match = _KEY.search(last)
    if match is None:
        return None
    if match.group(1):
        return SubjectKey("id", match.group(1))
    if match.group(2):
        return SubjectKey("class", match.group(2))
    return SubjectKey("tag", match.group(3).lower())


# The values of an attribute on every element, the root (<html class="dark">)
# included: iterfind(".//*[@class]") left the root out, and a rule for a class on
# <html> was never matched. Selecting the attributes themselves walks the tree in
# libxml2 four times faster than an element test with a predicate.
_ATTRIBUTE_VALUES = {
    name: etree.XPath(f"descendant-or-self::*/@{name}") for name in ("class", "id", "style")
}


def with_attribute(root: _Element, name: str) -> list[tuple[_Element, str]]:
    """Each element of ``root`` (itself included) with attribute ``name``, and its value.

    The value as a plain ``str``: lxml's result holds its element, and with it the
    whole page, in any cache that keeps it (the build caches style attributes).
    """
    return [(value.getparent(), str(value)) for value in _ATTRIBUTE_VALUES[name](root)]


# From how many tags one walk for all (PageIndex.fetch_tags) is cheaper than a walk
# for each: grouping the elements in Python costs about what a walk of lxml's C
# filter does for two or three tags.
_TAGS_AT_ONCE = 3


class PageIndex:
    """The page's elements by tag, class and id, made on first use.

    Rules whose subject needs an id, class or tag the page lacks are skipped
    without running their XPath (browsers hash rules the same way). Tags are
    found by lxml's C filter; classes and ids are read from the elements that
    have them.
    """

    def __init__(self, root: _Element) -> None:
        self.root = root
        self._tags: dict[str, list[_Element]] = {}
        self._attributes: dict[str, dict[str, list[_Element]]] = {}

    def get(self, kind: str, name: str) -> list[_Element]:
        if kind == "tag":
            found = self._tags.get(name)
            if found is None:
                found = self._tags[name] = self._elements(name)
            return found
        return self.table(kind).get(name, [])

    def _elements(self, tag: str) -> list[_Element]:
        """The elements of ``tag`` in document order.

        ``html`` (a sheet's ``html { font-family: ... }``) is the parsed page's root,
        found without a walk of the page: HTML Standard, "in body" insertion mode,
        a later ``<html>`` start tag only adds its attributes to the document element,
        and libxml2's HTML parser drops it too, so no other element is an ``html``.
        """
        root = self.root
        if tag == "html" and root.tag == "html" and root.getparent() is None:
            return [root]
        return list(root.iter(tag))

    def fetch_tags(self, names: Collection[str]) -> None:
        """Find the elements of each tag of ``names`` in one walk of the tree.

        A walk per tag (:meth:`get`) costs as much as one for all of them: a sheet
        with rules for many tags (``p``, ``li``, ``h1``...``h6``, ``code``) would walk
        the page once for each. lxml's C filter picks the elements of any of the
        tags; they are grouped here, each tag's in document order as :meth:`get`
        finds them.
        """
        wanted = [name for name in names if name not in self._tags]
        if len(wanted) < _TAGS_AT_ONCE:
            return
        found: dict[str, list[_Element]] = {name: [] for name in wanted}
        for element in self.root.iter(*wanted):
            elements = found.get(element.tag)
            if elements is None:
                return  # not one of the names as written: each tag walks alone
            elements.append(element)
        self._tags.update(found)

    def table(self, kind: str) -> dict[str, list[_Element]]:
        """The page's elements by each value of attribute ``kind`` ("class" or "id")."""
        table = self._attributes.get(kind)
        if table is None:
            table = self._attributes[kind] = {}
            for element, value in with_attribute(self.root, kind):
                for word in set(value.split()) if kind == "class" else (value,):
                    table.setdefault(word, []).append(element)
        return table


@dataclass(frozen=True, slots=True)
class Matched:
    """The elements a selector matches on a page, and why only possibly ("" when for certain)."""

    elements: list[_Element]
    reason: str


def match_selector(selector: Selector, root: _Element, index: PageIndex) -> Matched | None:
    """The elements ``selector`` matches and why only possibly ("" when for certain).

    None when the page lacks the id, class or tag its subject needs.
    """
    reason = selector.reason
    key = selector.key
    if selector.xpath is not None and key is not None:
        candidates = index.get(key.kind, key.name)
        if not candidates:
            return None
        if selector.simple:
            return Matched(candidates, reason)
        if any(not index.get(kind, name) for kind, name in selector.required):
            return Matched([], reason)  # an ancestor's class or id the page lacks
        chain = selector.chain
        if chain is not None:
            last = len(chain) - 1
            return Matched([e for e in candidates if _chain_matches(e, chain, last, root)], reason)
    if selector.xpath is not None:
        try:
            return Matched(list(selector.xpath(root)), reason)
        except etree.XPathError:
            pass  # cssselect wrote what libxml2 cannot run: not decidable either
    return Matched(list(root.iter(etree.Element)), reason or "a selector pushgen cannot match")


# XML whitespace: what XPath's normalize-space() collapses in cssselect's class test.
_XML_SPACES = str.maketrans("\t\n\r", "   ")


def _compound_matches(element: _Element, compound: Compound) -> bool:
    """Whether ``element`` matches ``compound`` as cssselect's XPath for it does."""
    if compound.tag is not None and element.tag != compound.tag:
        return False
    if compound.ids and any(element.get("id") != name for name in compound.ids):
        return False
    if compound.classes:
        value = element.get("class")
        if value is None:
            return False
        words = value.translate(_XML_SPACES).split(" ")
        return all(name in words for name in compound.classes)
    return True


def _chain_matches(
    element: _Element, chain: tuple[Compound, ...], step: int, root: _Element
) -> bool:
    """Whether ``element`` matches ``chain[: step + 1]``, its ancestors up to ``root`` the rest."""
    compound = chain[step]
    if not _compound_matches(element, compound):
        return False
    if step == 0:
        return True
    if compound.combinator == ">":
        parent = None if element is root else element.getparent()
        return parent is not None and _chain_matches(parent, chain, step - 1, root)
    while element is not root:
        element = element.getparent()
        if element is None:
            return False
        if _chain_matches(element, chain, step - 1, root):
            return True
    return False
