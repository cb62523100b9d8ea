"""The manifest room: the push manifest's model, its reader and writer, its rules,
its JSON Schema and the checks ``pushgen check`` runs.

``pushgen.manifest.check`` is not imported here: it uses the runtime's Link
serializer, and the runtime imports this package, so the check is imported as
its own module by the few callers that need it.
"""

from __future__ import annotations

from .document import MANIFEST_VERSION, Manifest
from .loader import load_manifest, parse_manifest
from .writer import (
    HEADER,
    SCHEMA_NAME,
    dump_manifest,
    parse_hand_part,
    routes_checksum,
    update_manifest_text,
    yaml_scalar,
)

__all__ = [
    "HEADER",
    "MANIFEST_VERSION",
    "SCHEMA_NAME",
    "Manifest",
    "dump_manifest",
    "load_manifest",
    "parse_hand_part",
    "parse_manifest",
    "routes_checksum",
    "update_manifest_text",
    "yaml_scalar",
]
