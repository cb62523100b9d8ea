"""``pushgen init``: start a site, or record a Quart app, without touching a file that exists.

A new site is the starter in ``pushgen/starter/site/`` (shipped as package data):
a layout, a page, a stylesheet with a web font and a module script with an import,
so that the first ``pushgen build`` pushes a style, a font and a module graph, and
a ``.gitignore`` naming the derived files pushgen writes there (:data:`STARTER_GITIGNORE`;
a ``.gitignore`` that exists is kept as it is, and is no reason to refuse). A
folder holding a Quart app (``--app MODULE:APP``, or an ``app.py`` that defines
one) gets only a ``pushgen.yaml`` naming it, and ``pushgen build`` renders the app.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Literal

from .config import CONFIG_NAME, find_quart_app
from .errors import PushgenError
from .fsutil import display_path

__all__ = ["STARTER_GITIGNORE", "InitConflict", "InitResult", "init_site", "starter_files"]

_STARTER = "starter/site"
_GITIGNORE = ".gitignore"

#: The starter's ``.gitignore``: what pushgen writes in a site's folder with the
#: starter's settings (output ``_site``, manifest ``push-manifest.yaml``), derived
#: and remade, never edited. The names are the build's (build/output.py,
#: build/state_files.py, build/fingerprint_files.py, build/shard.py,
#: manifest/compiled.py); tests/test_init.py builds a site every way and checks
#: that git ignores exactly what pushgen wrote. Not the manifest nor its schema:
#: the manifest is committed, and CI checks it (docs/ci.md). Held here, not in the
#: package data: setuptools leaves a dot-file out of a wheel.
STARTER_GITIGNORE = """\
# What pushgen writes here: derived from the sources, remade by `pushgen build`.
# push-manifest.yaml and its schema are not among them: commit them (docs/ci.md).
# If pushgen.yaml sets another output: or manifest:, rename the lines that name them.

# The output, and a sharded build's outputs (`pushgen build --shard K/N`).
/_site/
/_site.shard-*-of-*/
# Beside an output: the build's lock, its state, its staging folder and spare
# output, and the fingerprinted files (`fingerprint: true`).
/.*.lock
/.*.state
/.*.state.d/
/.*.state.quick
/.*.staging-*
/.*.spare-*
/.*.fingerprint/
# Beside the manifest: its compiled form, which the server loads; and a sharded
# build's partial manifests, which `pushgen merge` joins into push-manifest.yaml.
/.*.pgc
/push-manifest.shard-*-of-*.yaml
"""


@dataclass(frozen=True, slots=True)
class InitResult:
    """What ``pushgen init`` wrote: a site, or the pushgen.yaml of a Quart app."""

    root: Path
    kind: Literal["site", "app"]
    written: tuple[Path, ...]
    app: str | None = None
    kept: tuple[Path, ...] = ()  # a .gitignore that was there, left as it is

    def report(self, given: Path) -> str:
        """What was written and what to run next (from where ``pushgen init`` ran, in the
        folder it was ``given``)."""
        lines = [f"  wrote {path}" for path in self.written]
        lines += [
            f"  kept {path} as it is: pushgen init never overwrites a file"
            ' (the lines for pushgen\'s derived files: README.md, "A first site")'
            for path in self.kept
        ]
        where = "" if given == Path(".") else f"cd {shlex.quote(str(given))} && "
        if self.kind == "app":
            what, then = f"the Quart app {self.app}", "pushgen build (then `pushgen trust cert`)"
        else:
            what, then = "a starter site", "pushgen serve"
        lines.append(f"pushgen init: {what} in {self.root}; next: {where}{then}")
        return "\n".join(lines)


class InitConflict(PushgenError):
    """Files ``pushgen init`` would write already exist: nothing was written."""

    def __init__(self, root: Path, existing: tuple[Path, ...]) -> None:
        self.root, self.existing = root, existing
        names = ", ".join(display_path(path) for path in existing)
        super().__init__(
            f"{names} already exist{'s' if len(existing) == 1 else ''}; `pushgen init` never"
            f" overwrites a file, so nothing was written in {display_path(root)}: move"
            " them away or start the site in an empty folder"
        )


def starter_files() -> dict[str, bytes]:
    """The starter site: path relative to the site's folder -> its bytes."""
    files: dict[str, bytes] = {}

    def walk(node: Traversable, prefix: str) -> None:
        for child in sorted(node.iterdir(), key=lambda c: c.name):
            if child.name == "__pycache__":
                continue
            if child.is_dir():
                walk(child, f"{prefix}{child.name}/")
            else:
                files[f"{prefix}{child.name}"] = child.read_bytes()

    walk(resources.files("pushgen").joinpath(_STARTER), "")
    return files


def _app_config(app: str) -> bytes:
    return (
        "# `pushgen build` (run here) renders this Quart app through its test client\n"
        '# and writes push-manifest.yaml; README.md, "Three ways in".\n'
        f"app: {app}\n"
    ).encode()


def init_site(root: str | os.PathLike[str], *, app: str | None = None) -> InitResult:
    """Write a starter site into ``root`` (made if missing), or its pushgen.yaml for ``app``.

    ``app`` is MODULE:APP; without it, an ``app.py`` in ``root`` that defines a
    Quart app is recorded (:func:`pushgen.config.find_quart_app`). Raises
    :class:`InitConflict` naming every file that exists (nothing is written then),
    and :class:`PushgenError` when ``root`` is a file.
    """
    folder = Path(root).absolute()
    if folder.exists() and not folder.is_dir():
        raise PushgenError(f"{display_path(folder)} is a file, not a folder for a site")
    if app is None and folder.is_dir():
        app = find_quart_app(folder)
    if app is not None:
        files = {CONFIG_NAME: _app_config(app)}
    else:
        files = {**starter_files(), _GITIGNORE: STARTER_GITIGNORE.encode()}
    targets = {folder / rel: data for rel, data in files.items()}
    optional = folder / _GITIGNORE  # yours, when there is one: kept, and no conflict
    existing = tuple(
        path for path in targets if path != optional and (path.exists() or path.is_symlink())
    )
    if existing:
        raise InitConflict(folder, existing)
    written: list[Path] = []
    kept: list[Path] = []
    for path, data in targets.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        # "x": a file that appeared since the check above is still never overwritten.
        try:
            with path.open("xb") as out:
                out.write(data)
        except FileExistsError:
            if path != optional:
                raise
            kept.append(path)
            continue
        written.append(path)
    kind: Literal["site", "app"] = "app" if app is not None else "site"
    return InitResult(folder, kind, tuple(written), app, tuple(kept))
