"""The manifest already on disk: read before a build so its hand edits survive, and its
rules checked against what the build found. Shared by every source (a site, a built
folder, a Quart app)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..config import SiteConfig
from ..errors import BuildError, Diagnostic, ManifestError, PushgenError
from ..fsutil import display_path
from ..manifest import Manifest, parse_hand_part
from ..manifest.check import rule_problems
from ..manifest.loader import manifest_text
from ..manifest.rules import Rule
from ..model import Asset

__all__ = ["ExistingManifest", "check_rules", "read_existing_manifest"]


@dataclass(frozen=True, slots=True)
class ExistingManifest:
    """The manifest on disk: its text (to write nothing when unchanged) and parsed."""

    text: str
    manifest: Manifest


def read_existing_manifest(config: SiteConfig) -> ExistingManifest | None:
    """The manifest on disk (text and parsed), so the build can keep its hand edits; None
    when there is none.

    A manifest that does not parse stops the build: overwriting it would lose
    whatever its author was in the middle of writing.
    """
    try:
        data = config.manifest.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise PushgenError(f"cannot read {config.manifest}: {exc.strerror}") from None
    display = display_path(config.manifest)
    try:
        text = manifest_text(data, display)
        return ExistingManifest(text, parse_hand_part(text, display))
    except ManifestError as exc:
        raise BuildError(exc.diagnostics) from None


def check_rules(
    rules: tuple[Rule, ...],
    routes: dict[str, tuple[Asset, ...]],
    known: set[str],
    config: SiteConfig,
    existing: Manifest | None,
) -> list[Diagnostic]:
    """Warnings for hand rules that point at nothing after this build."""
    if existing is None:
        return []
    return rule_problems(
        replace(existing, rules=rules), routes, output_files=known, base_path=config.base_path
    )
