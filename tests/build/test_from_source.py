"""The one path from any source to a manifest (pushgen/build/from_source.py, finish.py).

The source here is a fake: pages and files held in memory by the test, behind the
same protocol a built folder and a Quart app implement (pushgen/sources/protocol.py).
What the path writes is read back from disk.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from pushgen.build.from_source import build_source
from pushgen.config import SiteConfig
from pushgen.errors import BuildError, Diagnostic
from pushgen.manifest import SCHEMA_NAME, load_manifest
from pushgen.manifest.schema import schema_text
from pushgen.model import Asset
from pushgen.progress import Progress
from pushgen.scan.html import scan_html
from pushgen.sources.protocol import ManifestTarget, PageScan, Source
from pushgen.urls import document_url

HOME = b"""<!doctype html><html><head>
<link rel="stylesheet" href="/css/site.css">
<script type="module" src="/js/app.js"></script>
</head><body><h1>home</h1><img src="/img/missing.png"></body></html>"""

ABOUT = b"""<!doctype html><html><head>
<link rel="stylesheet" href="/css/site.css">
</head><body><p>about</p></body></html>"""

FILES = {
    "css/site.css": b'@import "base.css";\nbody { color: black }\n',
    "css/base.css": b"h1 { margin: 0 }\n",
    "js/app.js": b'import "./util.js";\n',
    "js/util.js": b"export const x = 1;\n",
}


@dataclass
class MemorySource:
    """A source whose pages (route -> HTML) and files (output path -> bytes) are in memory."""

    pages: dict[str, bytes]
    files: dict[str, bytes]
    manifest: Path
    protected: Path | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    opened: bool = False
    closed: bool = False

    resolve_phase = "resolve"
    resolve_unit = "page"
    forks = False

    def open(self, progress: Progress) -> Sequence[str]:
        self.opened = True
        return list(self.pages)

    def close(self) -> None:
        self.closed = True

    def scan_page(self, key: str) -> PageScan | Diagnostic:
        html = self.pages[key]
        if not html:
            return Diagnostic(f"memory:{key}", 0, 0, "an empty page: skipped")
        display = f"memory:{key}"
        scan = scan_html(html, document_url(key), filename=display)
        return PageScan(key, display, scan, lambda: html)

    def read(self, relpath: str) -> bytes | None:
        return self.files.get(relpath)

    def exists(self, relpath: str) -> bool:
        return relpath in self.files

    def size_of(self, path: str) -> int | None:
        data = self.files.get(path.lstrip("/"))
        return len(data) if data is not None else None

    def known(self) -> set[str]:
        return set(self.files)

    def fold(self, routes: dict[str, tuple[Asset, ...]]) -> dict[str, tuple[Asset, ...]]:
        return routes

    def target(self) -> ManifestTarget:
        return ManifestTarget(self.manifest, "pushgen scan memory", protected=self.protected)


def make(tmp_path: Path, pages: dict[str, bytes] | None = None) -> tuple[MemorySource, SiteConfig]:
    manifest = tmp_path / "push-manifest.yaml"
    source = MemorySource(pages or {"/": HOME, "/about/": ABOUT}, dict(FILES), manifest)
    config = SiteConfig(root=tmp_path, output=tmp_path, manifest=manifest)
    return source, config


def entries(assets: tuple[Asset, ...]) -> list[tuple[str, str]]:
    return [(asset.path, asset.destination) for asset in assets]


def test_a_fake_source_is_resolved_and_its_manifest_written(tmp_path: Path) -> None:
    source: Source
    source, config = make(tmp_path)
    result = build_source(source, config)

    # The source was opened and let go of; every page resolved through the build's engine.
    assert source.opened and source.closed
    assert [page.route for page in result.pages] == ["/", "/about/"]
    assert result.written and result.page_count == 2
    written = config.manifest.read_text(encoding="utf-8")
    assert written == result.manifest_text
    assert "pushgen scan memory" in written  # the routes' writer, as the target names it
    manifest = load_manifest(config.manifest)
    assert entries(manifest.routes["/"]) == [
        ("/css/site.css", "style"),
        ("/css/base.css", "style"),
        ("/js/app.js", "script"),
        ("/js/util.js", "script"),
    ]
    assert entries(manifest.routes["/about/"]) == [
        ("/css/site.css", "style"),
        ("/css/base.css", "style"),
    ]
    # The schema the modeline names, beside the manifest.
    assert (tmp_path / SCHEMA_NAME).read_text(encoding="utf-8") == schema_text()
    # What the pages ask for and the source does not have: a located warning.
    assert [(d.file, d.severity) for d in result.diagnostics] == [("memory:/", "warning")]
    assert "/img/missing.png" in result.diagnostics[0].message
    assert "2 pages, 4 assets, 2 routes, 1 warning, 0 errors" in result.summary()


def test_a_second_run_leaves_the_manifest_as_it_was(tmp_path: Path) -> None:
    source, config = make(tmp_path)
    first = build_source(source, config)
    inode = config.manifest.stat().st_ino  # an atomic rewrite would be a new file
    again = build_source(make(tmp_path)[0], config)
    assert again.manifest_text == first.manifest_text
    assert config.manifest.stat().st_ino == inode


def test_a_page_left_out_is_counted_and_said_first(tmp_path: Path) -> None:
    source, config = make(tmp_path, {"/": HOME, "/empty/": b"", "/about/": ABOUT})
    result = build_source(source, config, write=False)
    assert [page.route for page in result.pages] == ["/", "/about/"]
    assert result.page_count == 3 and result.left_out == 1
    assert result.diagnostics[0].message == "an empty page: skipped"
    # write=False: nothing on disk.
    assert not config.manifest.exists() and not (tmp_path / SCHEMA_NAME).exists()
    assert not result.written


def test_strict_writes_nothing_and_makes_every_problem_an_error(tmp_path: Path) -> None:
    source, config = make(tmp_path)
    with pytest.raises(BuildError) as raised:
        build_source(source, config, strict=True)
    assert [d.severity for d in raised.value.diagnostics] == ["error"]
    assert source.closed
    assert not config.manifest.exists()


def test_no_schema_inside_a_protected_folder(tmp_path: Path) -> None:
    source, config = make(tmp_path)
    source.protected = tmp_path
    build_source(source, config)
    assert config.manifest.is_file()
    assert not (tmp_path / SCHEMA_NAME).exists()


def test_the_hand_part_is_kept_and_a_hand_edit_in_the_routes_refused(tmp_path: Path) -> None:
    source, config = make(tmp_path)
    text = build_source(source, config).manifest_text
    # A rule (with a comment) written by hand, naming a file the source does not have.
    ruled = text.replace(
        "rules: []\n",
        "rules:\n  # mine\n  - match: /about/\n    add: [{path: /css/gone.css, as: style}]\n",
    )
    config.manifest.write_text(ruled, encoding="utf-8")
    again = build_source(make(tmp_path)[0], config)
    assert config.manifest.read_text(encoding="utf-8") == ruled  # kept byte for byte
    assert [rule.match.text for rule in again.manifest.rules] == ["/about/"]
    assert any("/css/gone.css" in d.message for d in again.diagnostics)

    # An edit inside the generated routes stops the build, located, and writes nothing;
    # force discards it.
    edited = ruled.replace("- {path: /css/base.css, as: style}", "- {path: /x.css, as: style}", 1)
    config.manifest.write_text(edited, encoding="utf-8")
    with pytest.raises(BuildError) as raised:
        build_source(make(tmp_path)[0], config)
    [error] = raised.value.diagnostics
    assert error.file.endswith("push-manifest.yaml") and error.line > 0
    assert config.manifest.read_text(encoding="utf-8") == edited
    build_source(make(tmp_path)[0], config, force=True)
    assert config.manifest.read_text(encoding="utf-8") == ruled
