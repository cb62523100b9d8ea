"""pushgen: push a page's critical assets before the browser asks for them.

The build half renders a Jinja2 site and writes a push manifest (route -> the
assets it needs, in order); the runtime half reads it and, per route, sends HTTP/2
pushes, 103 Early Hints and ``Link: rel=preload`` headers.

Names are imported on first use, so ``import pushgen.manifest`` in a server does
not pull in the build's dependencies.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .build import BuildResult, build_site
    from .config import SiteConfig, load_config
    from .errors import BuildError, ConfigError, Diagnostic, ManifestError, PushgenError
    from .manifest import Manifest, dump_manifest, load_manifest, parse_manifest
    from .model import Asset

_HOMES = {
    "Asset": "model",
    "BuildError": "errors",
    "BuildResult": "build",
    "ConfigError": "errors",
    "Diagnostic": "errors",
    "Manifest": "manifest",
    "ManifestError": "errors",
    "PushgenError": "errors",
    "SiteConfig": "config",
    "build_site": "build",
    "dump_manifest": "manifest",
    "load_config": "config",
    "load_manifest": "manifest",
    "parse_manifest": "manifest",
}

__all__ = [
    "Asset",
    "BuildError",
    "BuildResult",
    "ConfigError",
    "Diagnostic",
    "Manifest",
    "ManifestError",
    "PushgenError",
    "SiteConfig",
    "build_site",
    "dump_manifest",
    "load_config",
    "load_manifest",
    "parse_manifest",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'pushgen' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{home}", __name__), name)
