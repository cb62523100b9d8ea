"""The JSON Schema of a push manifest, for editors (yaml-language-server) and `pushgen schema`.

The loader in manifest.py is the authority (it reports lines and suggests keys);
this schema mirrors it so that editors can validate and complete while typing.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from ..model import CROSSORIGIN_VALUES, DESTINATIONS, FETCHPRIORITY_VALUES, SRI_HASH

__all__ = ["DRAFT", "SCHEMA_ID", "manifest_schema", "schema_text"]

SCHEMA_ID = "https://pushgen.invalid/schemas/push-manifest-1.json"
DRAFT = "http://json-schema.org/draft-07/schema#"

# No control character (C0, DEL, C1, U+2028/2029), which the loader refuses in
# every string (yamlsafe.control_character).
_NO_CONTROL = "^[^\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029]*$"

# An absolute path, ASCII without spaces or '#', and no '.' or '..' segment
# (also spelled %2e), as the loader requires.
_NO_DOT_SEGMENT = "(?!.*/(\\.|%2[eE]){1,2}(/|\\?|$))"
_PATH = {
    "type": "string",
    "pattern": f"^/(?!/){_NO_DOT_SEGMENT}[\\x21\\x22\\x24-\\x7e]*$",
    "description": "Absolute URL path on this site (percent-encoded).",
}
_PATH_GLOB = {
    "type": "string",
    "pattern": f"^/{_NO_DOT_SEGMENT}[\\x21\\x22\\x24-\\x7e]*$",
    "description": "A path, or a glob: '*' within a segment, '**' across segments.",
}
_AS = {"enum": sorted(DESTINATIONS), "description": "Fetch destination (the `as` of rel=preload)."}


def _entry_properties() -> dict[str, Any]:
    return {
        "path": _PATH,
        "as": _AS,
        "type": {
            "type": "string",
            "pattern": _NO_CONTROL,
            "description": "MIME type, so a browser skips what it cannot use.",
        },
        "crossorigin": {
            "enum": sorted(CROSSORIGIN_VALUES),
            "description": "CORS mode; fonts and module scripts need it.",
        },
        "media": {
            "type": "string",
            "pattern": _NO_CONTROL,
            "description": "Media query list; the hint applies only where it matches.",
        },
        "module": {
            "type": "boolean",
            "description": "A module script: hinted as rel=modulepreload.",
        },
        "push": {"type": "boolean", "description": "Send a PUSH_PROMISE (default true)."},
        "hint": {
            "type": "boolean",
            "description": "Announce in 103 Early Hints and Link headers (default true).",
        },
        "imagesrcset": {
            "type": "string",
            "pattern": _NO_CONTROL,
            "description": "An image hint's candidates (a srcset): the browser preloads the one it will use.",
        },
        "imagesizes": {
            "type": "string",
            "pattern": _NO_CONTROL,
            "description": "The sizes that go with imagesrcset.",
        },
        "fetchpriority": {
            "enum": sorted(FETCHPRIORITY_VALUES),
            "description": "The hint's fetch priority; high for the likely LCP image.",
        },
        "integrity": {
            "type": "string",
            "pattern": f"^{SRI_HASH}(?: {SRI_HASH})*$",
            "description": "The page element's Subresource Integrity metadata, which the"
            " hint must carry for the browser to use it.",
        },
    }


_PRECONNECT_ENTRY = {
    "type": "object",
    "additionalProperties": False,
    "required": ["preconnect"],
    "properties": {
        "preconnect": {
            "type": "string",
            "pattern": "^https?://[a-z0-9.\\-\\[\\]:]+$",
            "description": "Another origin the first render needs: hinted as rel=preconnect.",
        },
        "crossorigin": {
            "enum": sorted(CROSSORIGIN_VALUES),
            "description": "Connect for CORS fetches (fonts, module scripts).",
        },
        "hint": {"type": "boolean", "description": "Announce it (default true)."},
    },
}


@cache
def manifest_schema() -> dict[str, Any]:
    """The schema as a dictionary."""
    entry = {
        "type": "object",
        "additionalProperties": False,
        "required": ["path", "as"],
        "properties": _entry_properties(),
    }
    any_entry = {"anyOf": [entry, _PRECONNECT_ENTRY]}
    rule = _rule_schema(any_entry)
    return {
        # Draft-07: what yaml-language-server validates (its 2020-12 support was
        # reverted), and nothing here needs a later draft.
        "$schema": DRAFT,
        "$id": SCHEMA_ID,
        "title": "pushgen push manifest",
        "type": "object",
        "anyOf": [{"required": ["routes"]}, {"required": ["rules"]}],
        "additionalProperties": False,
        "properties": {
            "version": {"const": 1},
            "rules": {
                "type": ["array", "null"],
                "items": rule,
                "description": "Hand-written; kept by every build.",
            },
            "routes": {
                "type": ["object", "null"],
                "description": "Written by pushgen build: route -> entries in the order the page needs them.",
                "propertyNames": {"pattern": "^/[^\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029]*$"},
                "additionalProperties": {"type": ["array", "null"], "items": any_entry},
            },
        },
    }


def _policy_schema() -> dict[str, Any]:
    """The schema of a rule's ``policy`` (pushgen.push_policy.Policy)."""
    return {
        "type": "object",
        "additionalProperties": False,
        "description": "Push policy for the matching routes; unset keys keep the site's (pushgen.yaml).",
        "properties": {
            "push": {
                "type": "array",
                "items": _AS,
                "description": "Destinations that are pushed; others are hinted only.",
            },
            "max_pushes": {
                "type": "integer",
                "minimum": 0,
                "description": "Pushes per route, in document order.",
            },
            "max_bytes": {
                "type": "integer",
                "minimum": 0,
                "description": "Pushed bytes per route, in document order.",
            },
            "fonts": {
                "enum": ["used", "all"],
                "description": "all: hint (and push by policy) every font the build found,"
                " not only those each page's text uses.",
            },
        },
    }


def _rule_schema(any_entry: dict[str, Any]) -> dict[str, Any]:
    """The schema of one hand-written rule (``match`` and what it adds, sets, removes)."""
    change_props = {k: v for k, v in _entry_properties().items() if k != "path"}
    change_props["path"] = _PATH_GLOB
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["match"],
        # A rule that changes nothing is an error for the loader too.
        "anyOf": [{"required": [key]} for key in ("add", "set", "remove", "policy")],
        "properties": {
            "match": {
                "type": "string",
                "pattern": "^(/|\\*\\*?$)[^\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029]*$",
                "description": "A route (/docs/), a glob (/blog/*, /**), or a Quart rule (/blog/<slug>, /u/<int:id>).",
            },
            "add": {
                "type": "array",
                "items": any_entry,
                "description": "Entries to add to matching routes.",
            },
            "set": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["path"],
                    "minProperties": 2,
                    "properties": change_props,
                },
                "description": "Change attributes of entries whose path matches.",
            },
            "remove": {
                "type": "array",
                "items": _PATH_GLOB,
                "description": "Entries to drop: not pushed, not hinted.",
            },
            "policy": _policy_schema(),
        },
    }


def schema_text() -> str:
    """The schema as stable, indented JSON text."""
    return json.dumps(manifest_schema(), indent=2, sort_keys=True) + "\n"
