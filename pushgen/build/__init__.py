"""The build: render every page, copy static files, follow references, write the manifest.

The pipeline (pipeline.py) runs the phases of a site's build; its resolve phase is
site_resolve.py; output.py owns where it writes (lock, staging folder, spare, marker,
swap), static.py the static files, workers.py the rendering on every core.
from_source.py resolves any other source (pushgen/sources/: a built folder, a Quart
app), and every build finishes its manifest in finish.py. render.py, graph.py,
incremental.py (its files on disk: state_files.py), watch.py and explain.py are
the engine and its commands.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..processes import choose_workers
    from .output import BuildLockHeld
    from .pipeline import BuildResult, PageResult, build_site
    from .static import StaticFiles, static_files

__all__ = [
    "BuildLockHeld",
    "BuildResult",
    "PageResult",
    "StaticFiles",
    "build_site",
    "choose_workers",
    "static_files",
]

# Where each name lives. They are imported on first use (PEP 562), so that a
# command importing one module of this package (``pushgen scan``'s from_source.py,
# ``pushgen merge``'s merge.py) does not import the pipeline, the renderer and
# Jinja2 with it: 0.26 s of ``import pushgen.build.from_source`` under -X importtime.
_HOMES = {
    "BuildLockHeld": ".output",
    "BuildResult": ".pipeline",
    "PageResult": ".pipeline",
    "StaticFiles": ".static",
    "build_site": ".pipeline",
    "choose_workers": "..processes",
    "static_files": ".static",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home, __name__), name)
    globals()[name] = value
    return value
