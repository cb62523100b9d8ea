"""``pushgen merge``: the partial manifests of a sharded build or scan joined into one.

The parts (pushgen/manifest/partial.py) are checked to be the N parts of one
site under one configuration, each once, with no route in two of them; their
routes then go into the manifest at ``-o`` exactly as a one-machine build puts
its routes there (:func:`pushgen.manifest.update_manifest_text`: the hand rules
and comments kept byte for byte, hand edits inside ``routes`` refused), so the
file is byte-identical to the one a single ``pushgen build`` of the site writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import Diagnostic, ManifestError, PushgenError
from ..fsutil import display_path
from ..manifest import Manifest, parse_hand_part, update_manifest_text
from ..manifest.loader import manifest_text
from ..manifest.partial import Part, is_partial, read_part
from ..model import Asset
from .existing import ExistingManifest
from .finish import FinishedManifest

__all__ = ["Merged", "merge_parts"]


@dataclass(frozen=True, slots=True)
class Merged:
    """The joined manifest (written unless asked not to), and how many parts and routes."""

    finished: FinishedManifest
    parts: int
    routes: int


def merge_parts(paths: Sequence[Path], manifest: Path, *, force: bool = False) -> Merged:
    """Join the partial manifests at ``paths`` into the manifest at ``manifest`` (not written yet).

    Raises :class:`ManifestError`, located at the part (or the manifest) that is
    wrong: a file that is no part, parts of different N, a part missing or given
    twice, parts of different sites, settings or commands, a route in two parts,
    a manifest at ``manifest`` that is itself a part or holds hand edits inside
    its ``routes`` (unless ``force``).
    """
    parts = [_read(path) for path in paths]
    _check_set(parts)
    routes = _joined_routes(parts)
    existing = _existing(manifest)
    existing_text = existing.text if existing is not None else None
    filename = display_path(manifest)
    command = parts[0].mark.command
    text = update_manifest_text(
        existing_text, routes, filename=filename, force=force, command=command
    )
    rules = existing.manifest.rules if existing is not None else ()
    joined = Manifest(routes=routes, rules=rules, filename=filename)
    finished = FinishedManifest(joined, text, existing_text, manifest, [])
    return Merged(finished, len(parts), len(routes))


def _read(path: Path) -> Part:
    filename = display_path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ManifestError(
            [_error(filename, 0, f"cannot read the part: {exc.strerror}")]
        ) from None
    return read_part(data, filename)


def _error(filename: str, line: int, message: str) -> Diagnostic:
    return Diagnostic(filename, line, 1 if line else 0, message, "error")


def _check_set(parts: list[Part]) -> None:
    """Refuse parts that are not the N parts of one site, each once (every problem, located)."""
    first = parts[0]
    problems: list[Diagnostic] = []
    seen: dict[int, Part] = {}
    for part in parts:
        mark, where = part.mark, (part.filename, part.line)
        if mark.of != first.mark.of:
            problems.append(
                _error(
                    *where,
                    f"part {mark.part} of {mark.of}, but {first.filename} is one of"
                    f" {first.mark.of}: parts of one sharded build have one N",
                )
            )
            continue
        for name, mine, theirs in (
            ("settings (pushgen.yaml, options, pushgen's version)", mark.config, first.mark.config),
            ("page list", mark.site, first.mark.site),
        ):
            if mine != theirs:
                problems.append(
                    _error(
                        *where,
                        f"built with other {name} than {first.filename}"
                        f" ({mine} against {theirs}): parts of different sites or checkouts",
                    )
                )
        if mark.command != first.mark.command:
            problems.append(
                _error(
                    *where,
                    f"written by `{mark.command}`, {first.filename} by"
                    f" `{first.mark.command}`: parts of different sources",
                )
            )
        if mark.part in seen:
            problems.append(
                _error(
                    *where,
                    f"part {mark.part} of {mark.of} is given twice (also"
                    f" {seen[mark.part].filename})",
                )
            )
        seen[mark.part] = part
    missing = [str(k) for k in range(1, first.mark.of + 1) if k not in seen]
    if missing and len(missing) < first.mark.of:
        which = f"part {missing[0]} is" if len(missing) == 1 else f"parts {', '.join(missing)} are"
        problems.append(
            _error(
                first.filename,
                first.line,
                f"{which} missing of {first.mark.of}: give every part of the sharded build",
            )
        )
    if problems:
        raise ManifestError(problems)


def _joined_routes(parts: list[Part]) -> dict[str, tuple[Asset, ...]]:
    """Every part's routes; ManifestError at a route that is in two parts."""
    routes: dict[str, tuple[Asset, ...]] = {}
    owner: dict[str, Part] = {}
    problems: list[Diagnostic] = []
    for part in parts:
        for route, assets in part.manifest.routes.items():
            other = owner.get(route)
            if other is not None:
                line = part.manifest.lines.get(route, 0)
                first_line = other.manifest.lines.get(route, 0)
                problems.append(
                    _error(
                        part.filename,
                        line,
                        f"route {route!r} is in two parts (also"
                        f" {other.filename}:{first_line}): the parts overlap",
                    )
                )
                continue
            routes[route] = assets
            owner[route] = part
    if problems:
        raise ManifestError(problems)
    return routes


def _existing(path: Path) -> ExistingManifest | None:
    """The manifest at ``path`` (text and hand part), to keep its rules; refuse a part."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise PushgenError(f"cannot read {display_path(path)}: {exc.strerror}") from None
    filename = display_path(path)
    text = manifest_text(data, filename)
    if is_partial(text):
        raise ManifestError(
            [_error(filename, 1, "-o names a partial manifest: merge into the site's manifest")]
        )
    return ExistingManifest(text, parse_hand_part(text, filename))
