"""Making the report of a site from its files, and writing it where it may be written.

A report file is written atomically, and only over a file ``pushgen report``
wrote before (its generator mark, :data:`GENERATOR`): never over anything else.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..build.provenance import require_manifest, written_by
from ..config import load_config
from ..errors import PushgenError
from ..fsutil import atomic_write
from ..manifest import load_manifest
from ..sources.folder import folder_config
from ..verify.result import VerifyResult
from .content import Report, make_report
from .html import GENERATOR, render_html

__all__ = ["ReportOutputError", "site_report", "write_report"]


class ReportOutputError(PushgenError):
    """The report's output file is something ``pushgen report`` did not write."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path, self.reason = path, reason
        super().__init__(f"{path}: {reason}")


def site_report(
    site: str | os.PathLike[str],
    *,
    manifest: str | os.PathLike[str] | None = None,
    verify: str | os.PathLike[str] | None = None,
) -> Report:
    """The report of ``site`` (its pushgen.yaml, pages and output) and its manifest.

    A folder that is no pushgen site (no pushgen.yaml, no pages/) is taken, with
    ``manifest``, as a built folder like ``pushgen scan`` reads: its own output.

    Raises :class:`~pushgen.errors.PushgenError` subclasses (a bad pushgen.yaml,
    manifest or verify result) that say where the problem is.
    """
    config = load_config(site, manifest=manifest)
    folder = False
    if config.config_file is None and not config.pages.is_dir() and manifest is not None:
        # Not a pushgen site: a folder another generator built (`pushgen scan`), its
        # own output, whose pages give the chains and files the sizes.
        config, folder = folder_config(site, manifest), True
    result = VerifyResult.read(Path(verify)) if verify is not None else None
    name = Path(verify).name if verify is not None else ""
    return make_report(
        load_manifest(require_manifest(config.manifest, config, Path(site), folder=folder)),
        config=config,
        verify=result,
        verify_name=name,
        folder=folder,
        writer=written_by(config.manifest),
    )


def _ours(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    return GENERATOR.encode() in head


def write_report(path: str | os.PathLike[str], report: Report) -> None:
    """Write ``report`` as HTML to ``path``, atomically; never over a file it did not write."""
    target = Path(path)
    if target.is_dir():
        raise ReportOutputError(target, "is a folder; name the report's file, like -o report.html")
    if target.exists() and not _ours(target):
        raise ReportOutputError(
            target,
            "exists and was not written by pushgen report; remove it or choose another -o",
        )
    if not target.parent.is_dir():
        raise ReportOutputError(target, f"its folder {target.parent} does not exist")
    try:
        atomic_write(target, render_html(report).encode("utf-8"))
    except OSError as exc:
        raise ReportOutputError(target, f"cannot be written ({exc.strerror})") from None
