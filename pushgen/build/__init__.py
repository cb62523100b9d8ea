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
