"""Sources of pages behind one protocol: a folder another generator built, a Quart app.

Each source says what pages there are, reads a page (as an HTML scan at its
route) and a file, tells whether a file exists and its size, and where its
manifest goes (:mod:`.protocol`). The build resolves any of them with its engine
and finishes the manifest in one place (pushgen/build/from_source.py,
pushgen/build/finish.py); a source never imports the build.
"""

from __future__ import annotations

from .folder import FolderSource, folder_config, page_route
from .protocol import ManifestTarget, PageScan, Source

__all__ = ["FolderSource", "ManifestTarget", "PageScan", "Source", "folder_config", "page_route"]
