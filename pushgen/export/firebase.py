"""Firebase Hosting: the ``hosting.headers`` of a ``firebase.json``, to merge into yours."""

from __future__ import annotations

import json
import re
from dataclasses import replace

from .blocks import layout, route_blocks
from .context import Context, Format
from .patterns import pattern_regex, regex_escape

__all__ = ["FIREBASE"]

# Characters that mean something in Firebase's glob syntax beyond * ** and ?
# (extglobs such as @(a|b), sets, braces, negation).
_FIREBASE_GLOB_SPECIAL = re.compile(r"[\[\]{}()!@+|\\?*]")


def _firebase(ctx: Context) -> str:
    """``hosting.headers``: ``source`` globs (``*`` one segment, ``**`` any), or ``regex`` (RE2).

    "Specify either source or regex"; a glob ``source`` or an RE2 ``regex`` is matched
    against the request URL path (https://firebase.google.com/docs/hosting/full-config#headers).
    """
    blocks = route_blocks(ctx)
    exact, patterns = blocks.exact, blocks.patterns
    regex: dict[str, re.Pattern[str]] = {}
    match_key: dict[str, tuple[str, str]] = {}
    for block in patterns:
        assert block.pattern is not None
        tokens = block.tokens
        expression = pattern_regex(tokens)
        regex[block.route] = re.compile(expression + r"\Z")
        literal_ok = all(
            t.kind != "lit" or not _FIREBASE_GLOB_SPECIAL.search(t.value) for t in tokens
        )
        if block.pattern.kind == "glob" and literal_ok:
            glob = "**" if block.route in ("*", "**") else block.route
            match_key[block.route] = ("source", glob)
        else:
            match_key[block.route] = ("regex", f"^{expression}$")
    for block in exact:
        if _FIREBASE_GLOB_SPECIAL.search(block.route):
            match_key[block.route] = ("regex", f"^{regex_escape(block.route)}$")
        else:
            match_key[block.route] = ("source", block.route)
    exact = [replace(b, hints=tuple(h for h in b.hints if h.link)) for b in exact]
    patterns = [replace(b, hints=tuple(h for h in b.hints if h.link)) for b in patterns]
    laid = layout(
        ctx, [b for b in exact if b.hints], [b for b in patterns if b.hints], regex, "override"
    )
    exact, patterns = laid.exact, laid.patterns
    # Later rules replace the Link header of earlier ones on the same request
    # (firebase/firebase-tools#9467), so routes come after the patterns.
    headers = []
    for block in patterns + exact:
        key, value = match_key[block.route]
        headers.append({key: value, "headers": [{"key": "Link", "value": ", ".join(block.links)}]})
    # JSON has no comments: this is firebase.json's shape, to merge into yours.
    document = {"hosting": {"headers": headers}}
    return json.dumps(document, indent=2, ensure_ascii=True) + "\n"


FIREBASE = Format(
    "firebase", "Firebase Hosting headers (firebase.json)", _firebase, text=False, regex=True
)
