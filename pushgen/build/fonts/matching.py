"""Font matching for per-page font tracing: which faces the text set in each computed font uses.

The text of a page gathered per computed (family, weight, style) (:class:`Usage`)
decides each face: the families are tried in order until one ends the search (a
generic family) or covers every character, font matching picks the faces of a
family for the weight and style (CSS Fonts 4, section 5.2), and a face with a
``unicode-range`` is used only for text with a character in it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ...model import UNKNOWN, FontFace
from .state import State

__all__ = ["FontUse", "Usage", "UsageMap", "Verdict", "chars_of", "decide", "usage_of"]

Verdict = Literal["used", "possible", "unused"]

# Generic families every browser resolves to a font it has, so font matching ends
# there (CSS Fonts 4, section 2.1.1). ui-serif, ui-monospace and the like are
# Safari's only: elsewhere a browser passes over them like a font it lacks.
_STOPPING = frozenset(
    {"serif", "sans-serif", "monospace", "cursive", "fantasy", "system-ui"}
)  # the initial value: the browser's default, a generic family

_WHITESPACE_CODES = frozenset(map(ord, " \t\n\r\f"))


@dataclass(frozen=True, slots=True)
class FontUse:
    """What tracing decided for one font path of a page, and why (for ``pushgen explain``)."""

    verdict: Verdict
    reason: str


@dataclass(slots=True)
class Usage:
    """Text set in one computed font: its characters (None: not known), by reason."""

    chars: dict[str, set[int] | None] = field(default_factory=dict)

    def add(self, reason: str, chars: set[int] | None) -> None:
        if reason not in self.chars:
            self.chars[reason] = None if chars is None else set(chars)
            return
        known = self.chars[reason]
        if known is not None:
            if chars is None:
                self.chars[reason] = None
            else:
                known |= chars


# The text of a page by computed (family list, weight, style).
UsageMap = dict[tuple[tuple[str, ...], str, str], Usage]


def usage_of(
    texts: dict[int, tuple[State, set[str]]],
    generated_texts: list[tuple[State, set[int] | None, str]],
) -> UsageMap:
    """The characters of the text set in each computed (family, weight, style), by reason."""
    usage: UsageMap = {}
    gathered = [
        (state, {ord(c) for c in chars} - _WHITESPACE_CODES, "") for state, chars in texts.values()
    ]
    for state, chars, doubt in (*gathered, *generated_texts):
        for family, family_why in state.family:
            for weight, weight_why in state.weight:
                for style, style_why in state.style:
                    key = (family, weight, style)
                    found = usage.get(key)
                    if found is None:
                        found = usage[key] = Usage()
                    found.add(doubt or family_why or weight_why or style_why, chars)
    return usage


def chars_of(text: str) -> set[int]:
    """The code points of ``text``, white space left out (it is shaped with no face)."""
    return {ord(c) for c in set(text)} - _WHITESPACE_CODES


def _select(faces: list[FontFace], weight: str, style: str) -> list[FontFace]:
    """The faces of one family font matching picks (CSS Fonts 4, section 5.2, steps 4.1-4.4)."""
    if style == UNKNOWN or weight == UNKNOWN:
        return list(faces)
    order = {
        "italic": ("italic", "oblique", "normal"),
        "oblique": ("oblique", "italic", "normal"),
    }.get(style, ("normal", "oblique", "italic"))
    same: list[FontFace] = []
    for wanted in order:
        same = [f for f in faces if f.style == wanted]
        if same:
            break
    desired = float(weight)
    inside = [f for f in same if f.weight.low <= desired <= f.weight.high]
    if inside:
        return inside
    below = [f for f in same if f.weight.high < desired]
    above = [f for f in same if f.weight.low > desired]
    near_above = [f for f in above if f.weight.low <= 500]
    if 400 <= desired <= 500 and near_above:
        chosen = min(near_above, key=lambda f: f.weight.low)
    elif desired <= 500 and below:
        chosen = max(below, key=lambda f: f.weight.high)
    elif above:
        chosen = min(above, key=lambda f: f.weight.low)
    else:
        chosen = max(below, key=lambda f: f.weight.high)
    return [f for f in same if f.weight == chosen.weight]


def _covered(face: FontFace, chars: set[int] | None) -> set[int] | None:
    """The characters of ``chars`` the face covers (None in, None out: not known)."""
    if face.ranges is None or chars is None:
        return chars
    return {c for c in chars if any(low <= c <= high for low, high in face.ranges)}


class _Marks:
    """The faces text uses so far: path -> "" (certainly used) or why only possibly."""

    def __init__(self, faces: list[tuple[FontFace, str]]) -> None:
        self.by_family: dict[str, list[FontFace]] = {}
        self.face_reason: dict[int, str] = {}
        for face, reason in faces:
            self.by_family.setdefault(face.family, []).append(face)
            self.face_reason[id(face)] = reason
        self.used: dict[str, str] = {}

    def mark(self, face: FontFace, reason: str) -> None:
        reason = reason or self.face_reason[id(face)]
        if face.path not in self.used or (self.used[face.path] and not reason):
            self.used[face.path] = reason

    def text(
        self,
        families: tuple[str, ...],
        weight: str,
        style: str,
        reason: str,
        chars: set[int] | None,
    ) -> None:
        """Mark the faces text with ``chars`` in this computed font uses."""
        by_family = self.by_family
        remaining = chars
        for family in families:
            if family == UNKNOWN:
                for family_faces in by_family.values():
                    for face in _select(family_faces, weight, style):
                        if _covered(face, chars) != set():
                            self.mark(face, reason or "a font-family set through var()")
                break
            if family in _STOPPING:
                break
            if family not in by_family:
                # A named font that is no web font here: installed or not,
                # nothing says; what follows it only possibly renders.
                reason = reason or f"after {family!r}, a font the visitor may have installed"
                continue
            for face in reversed(_select(by_family[family], weight, style)):
                covered = _covered(face, remaining)
                if covered is None:
                    self.mark(face, reason or "text generated from an unknown value")
                elif covered:
                    self.mark(face, reason)
                    assert remaining is not None
                    remaining = remaining - covered
            if remaining is not None and not remaining:
                break


def decide(faces: list[tuple[FontFace, str]], usage: UsageMap) -> dict[str, FontUse]:
    """Each face path's verdict for the text of ``usage`` (see :mod:`pushgen.build.fonts`)."""
    marks = _Marks(faces)
    for (families, weight, style), found in usage.items():
        for text_reason, chars in found.chars.items():
            marks.text(families, weight, style, text_reason, chars)
    used = marks.used
    out: dict[str, FontUse] = {}
    for face, _ in faces:
        if face.path in out and out[face.path].verdict != "unused":
            continue
        if face.path in used:
            reason = used[face.path]
            out[face.path] = FontUse("possible", reason) if reason else FontUse("used", "")
        else:
            out[face.path] = FontUse("unused", _unused(face, usage))
    return out


def _unused(face: FontFace, usage: UsageMap) -> str:
    weight = (
        f"{face.weight.low:g}"
        if face.weight.low == face.weight.high
        else f"{face.weight.low:g}-{face.weight.high:g}"
    )
    described = f"{face.family!r} at weight {weight} {face.style}"
    if face.ranges is not None and any(face.family in families for families, _, _ in usage):
        return (
            f"not hinted: no text of this page in {described} has a character of its unicode-range"
        )
    return f"not hinted: no element of this page sets text in {described}"
