"""One shard of a sharded build or scan: which pages are its, and the partial manifest it writes.

``pushgen build --shard K/N`` (and ``scan --shard K/N``) renders or scans only the
pages whose route (a scan: whose path in the folder) hashes to part K of N. The
hash is of the key alone, never of its position, so adding a page moves no other
page between shards. Each shard writes a partial manifest
(pushgen/manifest/partial.py) with fingerprints of the settings and of the whole
site's page list, which ``pushgen merge`` (build/merge.py) checks before joining
the parts. docs/sharding.md has the workflow.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

from ..config import SiteConfig
from ..errors import BuildError, Diagnostic, PushgenError
from ..fsutil import display_path
from ..manifest import Manifest
from ..manifest.partial import PartMark, is_partial, partial_text
from ..manifest.writer import BUILD_COMMAND
from ..model import Asset
from ..progress import Progress
from ..sources.folder import FolderSource
from .finish import FinishedManifest
from .render import Page
from .state import config_key

__all__ = [
    "Shard",
    "ShardError",
    "ShardFolderSource",
    "config_fingerprint",
    "folder_mark",
    "shard_manifest",
    "site_fingerprint",
    "site_mark",
]

_SPEC = re.compile(r"([0-9]+)/([0-9]+)")
_Keyed = TypeVar("_Keyed")


class ShardError(PushgenError):
    """A ``--shard`` that names no part (``5/4``), or a shard's file that is not pushgen's."""


@dataclass(frozen=True, slots=True)
class Shard:
    """Part ``part`` (from 1) of ``of`` disjoint parts of a site's pages."""

    part: int
    of: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        """``K/N`` as a shard; :class:`ShardError` saying why when it names none."""
        found = _SPEC.fullmatch(text.strip())
        if found is None:
            raise ShardError(f"--shard {text!r}: give K/N, part K of N parts (1/4, 2/4, ...)")
        part, of = int(found[1]), int(found[2])
        if not 1 <= part <= of:
            raise ShardError(f"--shard {text}: K is a part from 1 to N ({of})")
        return cls(part, of)

    def owns(self, key: str) -> bool:
        """Whether the page ``key`` (its route, or its path in a scanned folder) is this part's."""
        digest = hashlib.sha256(key.encode("utf-8", "surrogateescape")).digest()
        return int.from_bytes(digest[:8], "big") % self.of == self.part - 1

    def select(self, items: Iterable[_Keyed], key: str = "route") -> list[_Keyed]:
        """The ``items`` whose attribute ``key`` this part owns, in their order."""
        return [item for item in items if self.owns(getattr(item, key))]

    def beside(self, path: Path) -> Path:
        """Where this part's copy of ``path`` goes by default: ``_site.shard-2-of-4``,
        ``push-manifest.shard-2-of-4.yaml``, never the one-machine build's own."""
        return path.with_name(f"{path.stem}.shard-{self.part}-of-{self.of}{path.suffix}")


def config_fingerprint(config: SiteConfig, *extra: str) -> str:
    """A fingerprint of the settings every page depends on (and pushgen's code), the same
    on every machine: the site's folder, output and manifest paths are left out."""
    where = Path("/")
    key = config_key(replace(config, root=where, output=where, manifest=where))
    return hashlib.sha256(repr((key, extra)).encode()).hexdigest()[:12]


def site_fingerprint(keys: Iterable[str]) -> str:
    """A fingerprint of a site's whole page list (every shard sees all of it)."""
    digest = hashlib.sha256()
    for key in sorted(keys):
        digest.update(key.encode("utf-8", "surrogateescape") + b"\0")
    return digest.hexdigest()[:12]


def site_mark(shard: Shard, config: SiteConfig, pages: Iterable[Page]) -> PartMark:
    """The mark of ``shard``'s partial manifest of a pushgen site of ``pages`` (all of them)."""
    return PartMark(
        shard.part,
        shard.of,
        config_fingerprint(config),
        site_fingerprint(page.route for page in pages),
        BUILD_COMMAND,
    )


def folder_mark(
    source: ShardFolderSource, config: SiteConfig, command: str, exclude: tuple[str, ...]
) -> PartMark:
    """The mark of the partial manifest of a scan of ``source`` (once it is open)."""
    return PartMark(
        source.shard.part,
        source.shard.of,
        config_fingerprint(config, *exclude),
        site_fingerprint(source.every_page),
        command,
    )


def shard_manifest(
    mark: PartMark,
    routes: dict[str, tuple[Asset, ...]],
    path: Path,
    diagnostics: list[Diagnostic],
    *,
    strict: bool,
) -> FinishedManifest:
    """The partial manifest of ``mark``'s part, ready to be written at ``path``.

    Hand rules belong to the joined manifest (``pushgen merge`` keeps them), so none
    are checked here. :class:`ShardError` when ``path`` holds a file that is not a
    partial manifest (pushgen does not overwrite what it did not write);
    ``strict`` raises :class:`BuildError` as a build does when anything was found.
    """
    if strict and diagnostics:
        raise BuildError([replace(d, severity="error") for d in diagnostics])
    existing = _existing_partial(path)
    text = partial_text(mark, routes)
    return FinishedManifest(Manifest(routes=routes), text, existing, path, diagnostics)


def _existing_partial(path: Path) -> str | None:
    """The partial manifest at ``path`` (to be replaced), None when there is none."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ShardError(f"cannot read {display_path(path)}: {exc}") from None
    if not is_partial(text):
        raise ShardError(
            f"{display_path(path)} exists and is not a partial manifest: a shard writes"
            " only its own (give it another -m)"
        )
    return text


@dataclass(slots=True)
class ShardFolderSource(FolderSource):
    """A built folder whose pages are only those ``shard`` owns (by path in the folder)."""

    shard: Shard = field(default_factory=lambda: Shard(1, 1))
    every_page: list[str] = field(default_factory=list)  # the whole folder's, for the mark

    def open(self, progress: Progress) -> Sequence[str]:
        """Walk the folder; this part's pages (output paths), sorted."""
        self.every_page = list(FolderSource.open(self, progress))
        return [key for key in self.every_page if self.shard.owns(key)]
