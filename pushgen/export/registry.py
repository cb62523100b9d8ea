"""The export formats by name, and the entry point that looks one up and runs it."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ..errors import UnknownFormatError
from ..hint_budget import DEFAULT_MAX_LINK_BYTES
from ..manifest import Manifest
from ..push_policy import NO_POLICY, Policy
from .apache import APACHE
from .context import Context, ExportOptions, Format
from .firebase import FIREBASE
from .h2o import H2O
from .headers_file import CLOUDFLARE, NETLIFY
from .json_map import JSON_MAP
from .nginx import NGINX
from .push_manifest import PUSH_MANIFEST
from .result import ExportResult

__all__ = ["FORMATS", "export_manifest"]

# In the order `--help` lists them.
_TARGETS: Mapping[str, Format] = {
    f.name: f for f in (NETLIFY, CLOUDFLARE, FIREBASE, NGINX, H2O, APACHE, JSON_MAP, PUSH_MANIFEST)
}

# Format name -> what it is, for messages and `--help`.
FORMATS: Mapping[str, str] = {name: f.title for name, f in _TARGETS.items()}


def export_manifest(
    manifest: Manifest,
    format: str,
    *,
    root: str | None = None,
    pretty_urls: bool = False,
    push: bool = True,
    max_pushes: int | None = None,
    skip_patterns: bool = False,
    max_link_bytes: int = DEFAULT_MAX_LINK_BYTES,
    size_of: Callable[[str], int | None] = lambda _path: None,
    policy: Policy = NO_POLICY,
) -> ExportResult:
    """Write ``manifest`` for the target ``format`` (a key of :data:`FORMATS`).

    ``root`` is the document root on the server (h2o serves the files itself, so
    it needs it). ``pretty_urls`` adds the suffix-less paths of ``.html`` pages, as
    the runtime does. ``push=False`` writes no push instructions (nginx 1.25.1 and
    later have none). ``max_pushes`` caps pushes per response for servers; nginx
    defaults to its own cap of 10. ``skip_patterns`` leaves out pattern rules a
    target cannot express (as cuts) instead of refusing the export. ``size_of``
    gives file sizes for the rules' byte budgets. ``max_link_bytes`` bounds the
    Link values of a route as the runtime's ``PUSHGEN_MAX_LINK_BYTES`` does: the
    same entries are left out (as cuts), so no server or CDN sends a field a
    client refuses. ``policy`` is the site's push policy (``pushgen.yaml``),
    under the rules' own policies as in the runtime and ``pushgen explain``. Raises :class:`UnknownFormatError`
    for an unknown format.
    """
    target = _TARGETS.get(format)
    if target is None:
        raise UnknownFormatError(format, tuple(FORMATS))
    options = ExportOptions(
        root=root,
        pretty_urls=pretty_urls,
        push=push,
        max_pushes=max_pushes,
        skip_patterns=skip_patterns,
        max_link_bytes=max_link_bytes,
        policy=policy,
    )
    ctx = Context(manifest, target, options, size_of)
    return ctx.result(target.write(ctx))
