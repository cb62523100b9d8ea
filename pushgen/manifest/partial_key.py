"""The key that marks a partial manifest, and what the loader says at it (see partial.py,
which reads and writes partial manifests and so imports the loader this module serves)."""

from __future__ import annotations

__all__ = ["PARTIAL_REFUSAL", "SHARD_KEY"]

#: The top-level key that marks a partial manifest, one shard's (docs/sharding.md).
SHARD_KEY = "shard"

#: What the loader says at a partial manifest's ``shard:`` key.
PARTIAL_REFUSAL = (
    "this is a partial manifest, one part of a sharded build (`--shard K/N`), not to be"
    " served or checked on its own: join every part with `pushgen merge PART... -o MANIFEST`"
    " and use that (docs/sharding.md)"
)
