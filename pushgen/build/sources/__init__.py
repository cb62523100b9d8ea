"""Sources other than pushgen's own site layout: a folder another generator built, a Quart app.

Each source turns what it finds into HTML scans of pages at their routes and a way
to read the files those pages reference; :mod:`.resolve` follows the references
with the build's engine (:class:`pushgen.build.graph.Resolver`) and writes the routes
into the manifest the way ``pushgen build`` does (hand rules kept byte for byte).
"""

from __future__ import annotations

from .folder import FolderSource, scan_folder
from .resolve import SourceResult

__all__ = ["FolderSource", "SourceResult", "scan_folder"]
