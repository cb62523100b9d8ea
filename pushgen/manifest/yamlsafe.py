"""Reading pushgen's YAML files (the manifest, ``pushgen.yaml``) safely, located.

Both files are data a person writes: they need no anchors or aliases, and no
nesting deeper than a few levels. Aliases are how a few hundred bytes expand to
gigabytes (a "billion laughs" document: every walk over the tree visits each
alias again), and deep nesting is how a recursive walk ends in RecursionError,
so :func:`compose` refuses both with the line and column where they appear.

The node tree is built here from the parser's events, without recursion,
instead of by PyYAML's composer: refusing an alias needs its event (the
composer resolves it silently), and libyaml's events with this composer are
several times faster than libyaml's own composer, which calls back into Python
for every node anyway.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from ..errors import Diagnostic, PushgenError
from ..gc_pause import paused_gc

__all__ = [
    "DEFAULT_LOADER",
    "MAX_DEPTH",
    "YamlError",
    "compose",
    "control_character",
    "control_message",
    "scalar_text",
]

# libyaml's parser when PyYAML has it (its wheels do): the same events and marks,
# many times faster. Tests pass yaml.SafeLoader to prove the pure one gives the
# same result.
DEFAULT_LOADER: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# A manifest nests 4 levels (routes -> route -> entries -> entry), a rule 5, and
# pushgen.yaml's `context:` what its templates need; 64 leaves room and keeps
# every recursive walk (PyYAML's constructor, say) far from Python's limit.
MAX_DEPTH = 64


class YamlError(PushgenError):
    """The text is not YAML pushgen reads; ``diagnostic`` says where and why."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        self.diagnostic = diagnostic
        super().__init__(str(diagnostic))


def compose(
    text: str,
    filename: str,
    *,
    loader: type[Any] | None = None,
    max_depth: int = MAX_DEPTH,
    refuse_control: bool = False,
) -> yaml.Node | None:
    """The node tree of ``text`` (one document), or None when it holds none.

    Raises :class:`YamlError` for invalid YAML, an anchor or alias, a second
    document, or nesting deeper than ``max_depth``, located in ``filename``;
    with ``refuse_control``, also for a scalar holding a control character
    (see :func:`control_character`), escaped or not.
    """
    parser = (loader or DEFAULT_LOADER)(text)
    try:
        with paused_gc():
            return _Composer(parser, filename, max_depth, refuse_control).stream()
    except yaml.YAMLError as exc:
        raise YamlError(_yaml_diagnostic(exc, text, filename)) from None
    finally:
        parser.dispose()


def _yaml_diagnostic(exc: yaml.YAMLError, text: str, filename: str) -> Diagnostic:
    mark = getattr(exc, "problem_mark", None)
    line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
    position = getattr(exc, "position", None)  # a ReaderError: a character YAML forbids
    if not mark and isinstance(position, int):
        line = text.count("\n", 0, position) + 1
        column = position - (text.rfind("\n", 0, position) + 1) + 1
    problem = getattr(exc, "problem", None) or str(exc)
    return Diagnostic(filename, line, column, f"invalid YAML: {problem}", "error")


_NO_ALIASES = "pushgen's files need no anchors or aliases; write the value out where it is used"


class _Composer:
    """Events -> nodes with an explicit stack, as ``yaml.composer.Composer`` would make them."""

    def __init__(self, parser: Any, filename: str, max_depth: int, refuse_control: bool) -> None:
        self.parser = parser
        self.filename = filename
        self.max_depth = max_depth
        self.refuse_control = refuse_control
        # Plain scalars repeat (`style`, `true`): resolve each text once.
        self.tags: dict[tuple[str, tuple[bool, bool]], str] = {}

    def fail(self, event: Any, message: str) -> YamlError:
        mark = event.start_mark
        return YamlError(
            Diagnostic(self.filename, mark.line + 1, mark.column + 1, message, "error")
        )

    def stream(self) -> yaml.Node | None:
        parser = self.parser
        parser.get_event()  # StreamStart
        if parser.check_event(yaml.StreamEndEvent):
            return None
        parser.get_event()  # DocumentStart
        node = self.document()
        parser.get_event()  # DocumentEnd
        if not parser.check_event(yaml.StreamEndEvent):
            event = parser.get_event()
            raise self.fail(event, "a second YAML document ('---'); the file holds one")
        return node

    def _open(self, event: Any, depth: int, items: list[yaml.Node]) -> yaml.CollectionNode:
        """The sequence or mapping ``event`` starts at ``depth``, its nodes to be read into ``items``."""
        if event.anchor is not None:
            raise self.fail(event, f"an anchor (&{event.anchor}): {_NO_ALIASES}")
        if depth >= self.max_depth:
            raise self.fail(
                event,
                f"nested more than {self.max_depth} levels deep; pushgen's files need only a few",
            )
        node_class: type[yaml.CollectionNode] = (
            yaml.SequenceNode if type(event) is yaml.SequenceStartEvent else yaml.MappingNode
        )
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.parser.resolve(node_class, None, event.implicit)
        return node_class(tag, items, event.start_mark, None, flow_style=event.flow_style)

    def document(self) -> yaml.Node:
        parser = self.parser
        get_event = parser.get_event
        resolve = parser.resolve
        tags = self.tags
        refuse_control = self.refuse_control
        # PyYAML keys its implicit resolvers by first character ('' for null).
        resolved_first = frozenset(parser.yaml_implicit_resolvers)
        scalar_event, scalar_node = yaml.ScalarEvent, yaml.ScalarNode
        ends = (yaml.SequenceEndEvent, yaml.MappingEndEvent)
        # Open collections, each with the nodes read into it so far (a mapping's
        # keys and values alternate, paired when it ends); hot loop, so no
        # isinstance chains: a manifest is a million events.
        stack: list[tuple[yaml.CollectionNode, list[yaml.Node]]] = []
        items: list[yaml.Node] = []
        while True:
            event = get_event()
            kind = type(event)
            node: yaml.Node
            if kind is scalar_event:
                value = event.value
                if event.anchor is not None:
                    raise self.fail(event, f"an anchor (&{event.anchor}): {_NO_ALIASES}")
                if refuse_control and _CONTROL.search(value):
                    raise self.fail(event, control_message(value))
                tag = event.tag
                if tag is None or tag == "!":
                    implicit = event.implicit
                    if not implicit[0] or value[:1] not in resolved_first:
                        # Quoted, or plain with a first character no implicit
                        # type starts with (a path's '/'): a string, without
                        # calling the resolver (a third of the time otherwise).
                        tag = _STR
                    else:  # plain: its text decides (true, 12, ~, ...)
                        tag = tags.get(value)
                        if tag is None:
                            tag = tags[value] = resolve(scalar_node, value, implicit)
                # The stubs type marks as pure-Python ones; libyaml's are its own class.
                start: Any = event.start_mark
                end: Any = event.end_mark
                node = scalar_node(tag, value, start, end, style=event.style)
            elif kind in ends:
                collection, read = stack.pop()
                if isinstance(collection, yaml.MappingNode):
                    collection.value = list(zip(read[::2], read[1::2], strict=True))
                collection.end_mark = event.end_mark
                node = collection
                items = stack[-1][1] if stack else []
            elif kind is yaml.SequenceStartEvent or kind is yaml.MappingStartEvent:
                items = []
                stack.append((self._open(event, len(stack), items), items))
                continue
            elif kind is yaml.AliasEvent:
                raise self.fail(event, f"an alias (*{event.anchor}): {_NO_ALIASES}")
            else:  # pragma: no cover - the parser yields nothing else inside a document
                raise self.fail(event, f"unexpected YAML event {kind.__name__}")
            if not stack:
                return node
            items.append(node)


_STR = "tag:yaml.org,2002:str"


# C0 controls, DEL, C1 controls and the two Unicode line separators: none belongs
# in a URL path, a route or a header value, and each ends a line in some reader
# of what pushgen writes (a config comment, a YAML 1.1 scalar, a JavaScript
# string), which is how a newline in a route became a directive in an exported
# nginx config (issue 11, item 2).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def scalar_text(node: yaml.Node) -> str | None:
    """The text of a scalar node (a key or a value), or None for a mapping or sequence."""
    return node.value if isinstance(node, yaml.ScalarNode) else None


def control_character(value: str) -> str | None:
    """The first control character in ``value`` as ``U+XXXX``, or None when it has none."""
    found = _CONTROL.search(value)
    return f"U+{ord(found.group()):04X}" if found else None


def control_message(value: str) -> str:
    """What to say about ``value``, which holds a control character."""
    return (
        f"{value!r} holds a control character ({control_character(value)}); routes, paths "
        "and values pushgen puts in headers and exported configs cannot: remove it"
    )
