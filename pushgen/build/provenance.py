"""Where a manifest comes from: the command that writes it, and the source whose pages
``pushgen explain`` reads again.

A command that needs a manifest nobody wrote yet names the one that writes it
(``pushgen build``, ``pushgen scan DIR -m M``, ``pushgen build --app``) instead of
"No such file". The manifest's ``routes`` comment names its writer (manifest/writer.py,
``# written by pushgen scan; ...``); :func:`written_by` is the one place that reads it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..config import SiteConfig, load_config
from ..errors import NoManifestError
from ..fsutil import display_path
from ..sources.folder import folder_config

__all__ = ["ExplainSource", "explain_source", "require_manifest", "written_by"]


def require_manifest(
    path: Path, config: SiteConfig | None, site: Path | None = None, *, folder: bool = False
) -> Path:
    """``path`` when it exists; else a :class:`NoManifestError` naming what writes it.

    ``site`` is the folder the command was given (named in the command), ``folder``
    says it is a built folder (``serve --folder``). An app (``app:`` in pushgen.yaml)
    is built with --app, a site with pages/ built; with none of them, all three.
    """
    if path.exists():
        return path
    shown = display_path(path)
    where = f" {site}" if site is not None and site != Path(".") else ""
    # -m is in the command unless the path is where the site's own settings put it
    # (a config loaded with -m carries that path, so read the site's default again).
    default = load_config(config.root).manifest if config is not None else None
    given = f" -m {shown}" if path != default else ""
    if folder:
        writers: tuple[tuple[str, str], ...] = ((f"pushgen scan{where} -m {shown}", ""),)
    elif config is not None and config.app:
        writers = ((f"pushgen build{where} --app {config.app}{given}", ""),)
    elif config is not None and config.pages.is_dir():
        writers = ((f"pushgen build{where}{given}", ""),)
    else:
        writers = (
            (f"pushgen build{where}{given}", "a site with pages/"),
            (f"pushgen scan DIR -m {shown}", "a folder another generator built"),
            (f"pushgen build --app MODULE:APP{given}", "a Quart app"),
        )
    raise NoManifestError(shown, writers)


_WRITTEN_BY = re.compile(r"^routes:.*#\s*written by (?P<command>[^;\n]+)", re.MULTILINE)


def written_by(path: Path) -> str:
    """The command the manifest's ``routes`` comment says wrote them ("" when none does).

    One place reads it, so that what the comment holds (the command, perhaps with
    its arguments) can grow without changing explain.
    """
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    match = _WRITTEN_BY.search(text)
    return match.group("command").strip() if match else ""


@dataclass(frozen=True, slots=True)
class ExplainSource:
    """What ``pushgen explain`` reads pages from: at most one of a site, a folder, an app."""

    site: SiteConfig | None = None
    folder: SiteConfig | None = None  # a built folder's settings (sources/folder.py)
    app: tuple[SiteConfig, str] | None = None  # the app's folder settings and MODULE:APP


def explain_source(
    site: Path, config: SiteConfig, manifest: Path, writer: str, *, base_path: str = "/"
) -> ExplainSource:
    """The source of ``manifest`` whose pages explain reads: the app of ``app:`` or of
    ``--app SPEC`` in the writer, the site when SITE has pages/, else a built folder:
    SITE when given, or the folder the writer says ``pushgen scan`` scanned."""
    words = writer.split()
    app = config.app or (words[3] if words[1:3] == ["build", "--app"] and len(words) > 3 else "")
    if app:
        return ExplainSource(app=(config, app))
    if config.pages.is_dir():
        return ExplainSource(site=config)
    folder: Path | None = site if site != Path(".") else None
    if folder is None and words[:2] == ["pushgen", "scan"] and len(words) > 2:
        folder = Path(words[2]) if Path(words[2]).is_dir() else None
    if folder is None:
        return ExplainSource()
    return ExplainSource(folder=folder_config(folder, manifest, base_path=base_path))
