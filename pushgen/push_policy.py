"""The push policy: which of a route's entries are pushed, and the budgets that stop pushing.

One owner for the push verdict and its words, on the ground floor: the site's
policy (``pushgen.yaml``), a manifest rule's ``policy:`` (pushgen.manifest.rules),
the build's notes (pushgen.build.graph) and the runtime's route plans all stand
on it, so ``pushgen explain`` shows the same reasons whichever decided.

``max_pushes`` means one thing wherever it is set: at most that many entries of
one route are pushed (the PUSH_PROMISEs of one response), counted in document
order from the top; the entries after the budget keep their hint and are not
pushed. ``None`` is no count limit. It is set at two levels, the second applied
after the first (:func:`over_max_pushes` is the one count for both):

* the push policy (``push.max_pushes`` of pushgen.yaml, a rule's ``policy:``),
  decided when a route is resolved: by the build, ``pushgen explain``, the runtime
  and every export alike. Default ``None`` (``max_bytes`` bounds the pushes).
* the server that sends the pushes: pushgen's runtime (``PUSHGEN_MAX_PUSHES``,
  default 10, pushgen.runtime.options) and ``pushgen export --max-pushes`` for the
  servers that push (default: that server's own limit, nginx's 10, none for h2o
  and Apache). :func:`within_max_pushes` applies it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from .model import Asset, FontPolicy

__all__ = [
    "NO_POLICY",
    "Decision",
    "Policy",
    "apply_policy",
    "media_matches_screen",
    "media_query_list",
    "over_max_pushes",
    "push_refusal",
    "within_max_pushes",
]


@dataclass(frozen=True, slots=True)
class Policy:
    """Which destinations are pushed and how much, per route, in document order.

    ``None`` fields inherit from the policy below (a rule's policy over the site's).
    """

    push: frozenset[str] | None = None
    max_pushes: int | None = None
    max_bytes: int | None = None
    # "used": fonts as the build traced them per page; "all": every generated font
    # entry hinted (and pushed by the policy), as without tracing.
    fonts: FontPolicy | None = None

    def over(self, base: Policy) -> Policy:
        """This policy with unset fields taken from ``base``."""
        return Policy(
            push=self.push if self.push is not None else base.push,
            max_pushes=self.max_pushes if self.max_pushes is not None else base.max_pushes,
            max_bytes=self.max_bytes if self.max_bytes is not None else base.max_bytes,
            fonts=self.fonts if self.fonts is not None else base.fonts,
        )

    @property
    def empty(self) -> bool:
        return (
            self.push is None
            and self.max_pushes is None
            and self.max_bytes is None
            and self.fonts is None
        )


# The empty policy: every field inherits (a default argument, shared).
NO_POLICY = Policy()


@dataclass(frozen=True, slots=True)
class Decision:
    """An entry of a route after rules and policy, and the reasons for its state."""

    asset: Asset
    reasons: tuple[str, ...] = ()
    removed: bool = False
    # Set when a rule fixed `push` explicitly: the policy then leaves it alone.
    pinned_push: bool = False
    added_by: int = 0


def media_matches_screen(media: str | None) -> bool:
    """False only for a media query list a screen never matches, like ``print``.

    A stylesheet for print is fetched at low priority and does not block
    rendering, so pushing it spends bandwidth the critical assets need. The list
    matches when any of its queries does (:func:`media_query_list` splits it).
    """
    if media is None:
        return True
    queries = [_COMMENT.sub(" ", q).strip().lower() for q in media_query_list(media)]
    queries = [q for q in queries if q]
    if not queries:
        return True
    for query in queries:
        words = query.replace("(", " (").split()
        if words == ["not", "all"]:
            continue  # no medium: what an import under two media types applies under
        first = words[1] if words[0] in ("only", "not") and len(words) > 1 else words[0]
        if words[0] == "not" or first in ("all", "screen") or first.startswith("("):
            return True
    return False


# A CSS comment, to the end of the text when it is not closed (CSS Syntax 3 §4.3.2).
_COMMENT = re.compile(r"/\*.*?(?:\*/|\Z)", re.DOTALL)
# What closes each block a media query may hold: (), [] and {} (a function's
# arguments close with ")" too).
_CLOSES = {"(": ")", "[": "]", "{": "}"}
# What may hide a comma from the list: a block, a string, an escape, a comment.
_NESTING = "([{\"'\\/"


def media_query_list(media: str) -> tuple[str, ...]:
    """The media queries of a media query list, as written, each stripped; empty ones left out.

    Media Queries 4 parses the list as a comma-separated list of component values
    (https://drafts.csswg.org/mediaqueries-4/#mq-list, CSS Syntax 3
    https://drafts.csswg.org/css-syntax-3/#parse-comma-separated-list-of-component-values):
    only a comma at the top level separates two queries, never one inside a block
    (``(min-resolution: 2dppx)``, ``[...]``), a function's arguments
    (``max(1px, 2px)``), a string, a comment, or one that is escaped (``\\,``).
    A block left open runs to the end, as the tokenizer reads it. Pure string
    scanning: the runtime, which decides pushes too, never loads a CSS parser.
    """
    if not any(c in media for c in _NESTING):  # the common case: every comma separates
        return tuple(q.strip() for q in media.split(",") if q.strip())
    queries: list[str] = []
    closers: list[str] = []  # the blocks open at this point, innermost last
    start = i = 0
    while i < len(media):
        c = media[i]
        if c == "\\":  # an escape: the next code point is no separator
            i += 2
            continue
        if c in "\"'":
            i = _string_end(media, i)
            continue
        if media.startswith("/*", i):
            found = _COMMENT.match(media, i)
            i = found.end() if found is not None else len(media)
            continue
        if c in _CLOSES:
            closers.append(_CLOSES[c])
        elif closers and c == closers[-1]:
            closers.pop()
        elif c == "," and not closers:
            queries.append(media[start:i])
            start = i + 1
        i += 1
    queries.append(media[start:])
    return tuple(q.strip() for q in queries if q.strip())


def _string_end(text: str, start: int) -> int:
    """Where the string that opens at ``text[start]`` ends (after its closing quote).

    It also ends before a newline (a bad string) or at the end of the text; a
    backslash escapes the next code point (CSS Syntax 3 §4.3.5).
    """
    quote, i = text[start], start + 1
    while i < len(text):
        c = text[i]
        if c == quote:
            return i + 1
        if c == "\n":
            return i
        i += 2 if c == "\\" else 1
    return len(text)


def push_refusal(
    destination: str, media: str | None, push: frozenset[str], *, hint: bool = True
) -> str | None:
    """Why a ``push`` list of destinations does not push an entry, or None when it does.

    The one wording of the push verdict: the build's notes (graph.py) and the
    rules' decisions (:func:`apply_policy`) both use it, so ``pushgen explain``
    shows the same words whichever decided. Stylesheets are pushed only for
    media a screen uses (:func:`media_matches_screen`).
    """
    if destination not in push:
        pushed = ", ".join(sorted(push)) or "nothing"
        return f"hint only: {destination} is not a pushed destination (push: {pushed})"
    if destination == "style" and not media_matches_screen(media):
        return f"hint only: stylesheet for media {media!r}, which screens do not use"
    if not hint:
        return "hint only: not hinted, so not pushed"
    return None


def over_max_pushes(pushed: int, max_pushes: int | None) -> bool:
    """Whether one more push is over a budget of ``max_pushes`` once ``pushed`` are pushed.

    The one count of ``max_pushes`` (see the module's docstring): the policy's
    budget (:func:`apply_policy`) and a server's (:func:`within_max_pushes`).
    """
    return max_pushes is not None and pushed >= max_pushes


def within_max_pushes(pushes: Iterable[bool], max_pushes: int | None) -> tuple[bool, ...]:
    """The ``push`` flags of a route's entries once a server's ``max_pushes`` applies.

    The first ``max_pushes`` pushed entries stay pushed, the later ones are not
    pushed (their hints are the caller's to keep).
    """
    out: list[bool] = []
    pushed = 0
    for push in pushes:
        push = push and not over_max_pushes(pushed, max_pushes)
        pushed += push
        out.append(push)
    return tuple(out)


def apply_policy(
    decisions: list[Decision], policy: Policy, size_of: Callable[[str], int | None]
) -> list[Decision]:
    """Recompute ``push`` of every entry a rule did not pin, by ``policy``, in order.

    Budgets count pushed entries from the top of the route: once ``max_pushes``
    entries or ``max_bytes`` bytes are pushed, the rest are only hinted, since
    pushing more than the first round trip can carry delays the page.
    """
    pushes = 0
    pushed_bytes = 0
    out: list[Decision] = []
    for decision in decisions:
        asset = decision.asset
        if decision.removed:
            out.append(decision)
            continue
        if decision.pinned_push:
            if asset.push:
                pushes += 1
                pushed_bytes += size_of(asset.path) or 0
            out.append(decision)
            continue
        reasons = list(decision.reasons)
        push = asset.push
        if policy.push is not None:
            refusal = push_refusal(asset.destination, asset.media, policy.push, hint=asset.hint)
            push = refusal is None
            if refusal is not None:
                reasons.append(refusal)
        if push and policy.max_pushes is not None and over_max_pushes(pushes, policy.max_pushes):
            push = False
            reasons.append(f"hint only: over the budget of {policy.max_pushes} pushes")
        if push and policy.max_bytes is not None:
            size = size_of(asset.path)
            if size is not None and pushed_bytes + size > policy.max_bytes:
                push = False
                reasons.append(
                    f"hint only: over the budget of {policy.max_bytes} pushed bytes ({size} more)"
                )
        if push:
            pushes += 1
            pushed_bytes += size_of(asset.path) or 0
        out.append(
            Decision(
                replace(asset, push=push),
                tuple(reasons),
                decision.removed,
                False,
                decision.added_by,
            )
        )
    return out
