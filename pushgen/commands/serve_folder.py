"""``pushgen serve DIR --folder``: a folder another generator built, served as it is with its manifest.

The files are served by :func:`pushgen.runtime.factory.site_app` (nothing outside the
folder, no dot-files, 404.html for what is missing) and the manifest's pushes,
103 Early Hints and Link headers by :func:`pushgen.quart.init_app`; nothing is
built and nothing is written into the folder.
"""

from __future__ import annotations

import os

from quart import Quart

from ..errors import PushgenError
from ..runtime.certs import certificate_pair
from ..runtime.factory import DEFAULT_EARLY_HINTS_DELAY, DEFAULT_STATIC_MAX_AGE, config_app
from ..runtime.server import DEFAULT_HOST, DEFAULT_PORT
from ..sources.folder import folder_config
from .serve_site import cannot_serve, serve_app

__all__ = ["folder_app", "serve_folder"]


def folder_app(
    folder: str | os.PathLike[str],
    manifest: str | os.PathLike[str],
    *,
    base_path: str = "/",
    early_hints_delay: float | None = None,
) -> Quart:
    """A Quart app serving ``folder`` under ``base_path`` with ``manifest``'s pushes and hints."""
    config = folder_config(folder, manifest, base_path=base_path)
    if not config.output.is_dir():
        raise PushgenError(f"no folder at {config.output}")
    return config_app(
        config,
        static_max_age=DEFAULT_STATIC_MAX_AGE,
        early_hints_delay=(
            DEFAULT_EARLY_HINTS_DELAY if early_hints_delay is None else early_hints_delay
        ),
    )


def serve_folder(
    folder: str | os.PathLike[str],
    manifest: str | os.PathLike[str],
    *,
    base_path: str = "/",
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    certfile: str | os.PathLike[str] | None = None,
    keyfile: str | os.PathLike[str] | None = None,
    early_hints_delay: float | None = None,
    quic: bool = False,
) -> int:
    """Serve ``folder`` over HTTP/2 + TLS until Ctrl-C; return the exit code (1 when it cannot start).

    ``quic`` adds HTTP/3 on the same port over UDP.
    """
    try:
        pair = certificate_pair(certfile, keyfile)
        app = folder_app(folder, manifest, base_path=base_path, early_hints_delay=early_hints_delay)
        return serve_app(app, host=host, port=port, pair=pair, quic=quic)
    except PushgenError as exc:
        return cannot_serve(exc)
