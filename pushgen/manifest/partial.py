"""A partial manifest: the routes of one shard of a sharded build (docs/sharding.md).

``pushgen build --shard K/N`` and ``pushgen scan --shard K/N`` write the routes of
their part of the site as a manifest with one more top-level key, ``shard:``,
which says which part it is and fingerprints what it was made from::

    shard: {part: 2, of: 4, config: 0123456789ab, site: 0123456789ab, command: "pushgen build"}

The loader refuses that key with :data:`PARTIAL_REFUSAL` (so ``pushgen serve``,
``check`` and ``explain`` say what the file is instead of serving a quarter of a
site); ``pushgen merge`` reads the parts here (:func:`read_part`) and joins them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from ..errors import Diagnostic, ManifestError
from ..model import Asset
from .document import Manifest
from .loader import manifest_text, parse_manifest
from .partial_key import PARTIAL_REFUSAL, SHARD_KEY
from .routes_block import blank_routes, read_routes_block
from .writer import dump_manifest

__all__ = [
    "PARTIAL_REFUSAL",
    "SHARD_KEY",
    "Part",
    "PartMark",
    "is_partial",
    "partial_text",
    "read_part",
]

# The one line the writer makes (partial_text); read back as written, nothing looser.
_MARK_LINE = re.compile(
    r"^shard: \{part: (?P<part>[0-9]+), of: (?P<of>[0-9]+), config: (?P<config>[0-9a-f]+),"
    r" site: (?P<site>[0-9a-f]+), command: (?P<command>\"(?:[^\"\\]|\\.)*\")\}$",
    re.MULTILINE,
)


@dataclass(frozen=True, slots=True)
class PartMark:
    """Which part a partial manifest is, and fingerprints of what it was made from.

    ``config`` fingerprints the settings every page depends on (the pushgen code
    too); ``site`` the list of every page of the whole site, which each shard
    sees in full: parts with different fingerprints are of different sites,
    settings or checkouts and cannot be joined. ``command`` writes the routes
    (``pushgen build``, ``pushgen scan DIR``), as the joined manifest will name it.
    """

    part: int  # K, from 1
    of: int  # N
    config: str
    site: str
    command: str

    def line(self) -> str:
        """The ``shard:`` line of a partial manifest (a JSON string is a YAML one too)."""
        return (
            f"{SHARD_KEY}: {{part: {self.part}, of: {self.of}, config: {self.config},"
            f" site: {self.site}, command: {json.dumps(self.command)}}}\n"
        )


def partial_text(mark: PartMark, routes: dict[str, tuple[Asset, ...]]) -> str:
    """The text of the partial manifest of ``mark``'s part, holding ``routes``."""
    header = (
        f"# Partial push manifest: part {mark.part} of {mark.of} of a sharded `{mark.command}`.\n"
        "# Not for serving: `pushgen merge` joins the parts into one manifest"
        " (docs/sharding.md).\n"
        f"{mark.line()}"
    )
    return dump_manifest(Manifest(routes=routes), header=header, command=mark.command)


def is_partial(text: str) -> bool:
    """Whether ``text`` is a partial manifest (it has a ``shard:`` line as the writer makes it)."""
    return _MARK_LINE.search(text) is not None


@dataclass(frozen=True, slots=True)
class Part:
    """A partial manifest read back: where it is, its mark, and its routes (with their lines)."""

    filename: str
    line: int  # of the ``shard:`` key
    mark: PartMark
    manifest: Manifest


def read_part(data: bytes, filename: str) -> Part:
    """Read the partial manifest ``data`` (the file ``filename``); ManifestError, located,
    when it is none or does not parse."""
    text = manifest_text(data, filename)
    found = _MARK_LINE.search(text)
    if found is None:
        raise ManifestError(
            [
                Diagnostic(
                    filename,
                    1,
                    1,
                    "not a partial manifest (it has no `shard:` line): give `pushgen merge`"
                    " the manifests `--shard K/N` builds and scans wrote",
                    "error",
                )
            ]
        )
    line = text.count("\n", 0, found.start()) + 1
    mark = PartMark(
        part=int(found["part"]),
        of=int(found["of"]),
        config=found["config"],
        site=found["site"],
        command=str(json.loads(found["command"])),
    )
    # The mark's line blanked, so that the loader reads the rest (and its lines stay the file's).
    rest = text[: found.start()] + text[found.end() :]
    return Part(filename, line, mark, _part_manifest(rest, filename))


def _part_manifest(text: str, filename: str) -> Manifest:
    """The routes (and their lines) of a partial manifest's ``text``, its mark blanked.

    The block the writer signed is read by its lines, each distinct entry parsed
    once (routes_block.py): 25,000 routes through YAML took seconds a part (issue
    27). The rest of the file is parsed as YAML all the same (its lines kept), so
    a part is refused wherever it is wrong; a block that is not exactly the
    writer's is parsed whole, and the loader says where.
    """
    block = read_routes_block(text, filename)
    if block is None:
        return parse_manifest(text, filename)
    parse_manifest(blank_routes(text), filename)  # the part outside its routes, validated
    assets, refs, starts = block.assets, block.refs, block.starts
    routes = {
        key: tuple([assets[j] for j in refs[starts[i] : starts[i + 1]]])
        for i, key in enumerate(block.keys)
    }
    return Manifest(
        routes=routes, lines=dict(zip(block.keys, block.lines, strict=True)), filename=filename
    )
