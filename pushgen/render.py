"""Rendering pages with Jinja2, with the same ``url_for`` a Quart app offers.

A page is any ``.html`` file under ``SITE/pages``; layouts, partials and macros
live in ``SITE/templates``. Both folders are on the loader's search path, so a
page ``{% extends "base.html" %}`` finds ``templates/base.html``.

Routes follow the file path: ``pages/index.html`` -> ``/``,
``pages/docs/index.html`` -> ``/docs/``, ``pages/about.html`` -> ``/about.html``
(``/about`` with ``pretty_urls``). ``url_for`` endpoints are the page path without
``.html``, dots for slashes: ``index``, ``docs.index``, ``about``; plus ``static``
with ``filename=``, as in Quart.
"""

from __future__ import annotations

import codecs
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote, urlencode

import jinja2

from .config import SiteConfig
from .decode import decode_html
from .errors import Diagnostic

__all__ = ["Page", "RenderError", "Renderer", "discover_pages"]

_BOMS = {"utf-16le": codecs.BOM_UTF16_LE, "utf-16be": codecs.BOM_UTF16_BE}


@dataclass(frozen=True, slots=True)
class Page:
    """One page of the site: where its template is and where it is served."""

    source: str  # template name, relative to SITE/pages, with '/' separators
    route: str  # URL path the page is served at, base path included
    endpoint: str  # url_for name
    output: str  # file path relative to the output folder

    @property
    def display(self) -> str:
        return f"pages/{self.source}"


def _page_for(source: str, config: SiteConfig) -> Page:
    stem = source[: -len(".html")]
    parts = stem.split("/")
    if parts[-1] == "index":
        url = "/".join(parts[:-1])
        url = url + "/" if url else ""
    elif config.pretty_urls:
        url = stem
    else:
        url = source
    return Page(
        source=source,
        route=config.base_path + quote(url, safe="/"),
        endpoint=".".join(parts),
        output=source,
    )


def discover_pages(config: SiteConfig) -> list[Page]:
    """Every page of the site, sorted by source path (deterministic build order)."""
    root = config.pages
    if not root.is_dir():
        return []
    sources: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        # Dot-directories (.git, editor folders) hold no pages.
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        rel = os.path.relpath(dirpath, root)
        for name in filenames:
            if name.endswith(".html") and not name.startswith("."):
                sources.append(name if rel == "." else f"{rel}/{name}".replace(os.sep, "/"))
    return [_page_for(s, config) for s in sorted(sources)]


class _CharsetLoader(jinja2.FileSystemLoader):
    """A loader that reads each template in the charset it declares (BOM or <meta charset>)."""

    def __init__(self, searchpath: list[Path]) -> None:
        super().__init__([str(p) for p in searchpath])
        self.encodings: dict[str, str] = {}

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        for searchpath in self.searchpath:
            pieces = jinja2.loaders.split_template_path(template)
            filename = os.path.join(searchpath, *pieces)
            try:
                data = Path(filename).read_bytes()
                mtime = os.path.getmtime(filename)
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                continue
            decoded = decode_html(data)
            self.encodings[template] = decoded.encoding

            def uptodate(filename: str = filename, mtime: float = mtime) -> bool:
                try:
                    return os.path.getmtime(filename) == mtime
                except OSError:
                    return False

            return decoded.text, os.path.normpath(filename), uptodate
        raise jinja2.TemplateNotFound(template)


class RenderError(Exception):
    """A page failed to render; ``diagnostic`` says where (template file and line)."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        self.diagnostic = diagnostic
        super().__init__(str(diagnostic))


class Renderer:
    """Renders the pages of one site. Create one per process; it caches compiled templates."""

    def __init__(self, config: SiteConfig, pages: list[Page]) -> None:
        self.config = config
        self._endpoints = {p.endpoint: p.route for p in pages}
        self._loader = _CharsetLoader([config.pages, config.templates])
        self.environment = jinja2.Environment(
            loader=self._loader,
            autoescape=jinja2.select_autoescape(["html", "htm", "xml"]),
            cache_size=-1,
            auto_reload=False,
            keep_trailing_newline=True,
        )
        self.environment.globals.update(dict(config.context))
        self.environment.globals["site"] = dict(config.context)
        self.environment.globals["url_for"] = self.url_for

    def url_for(self, endpoint: str, **values: Any) -> str:
        """Quart's ``url_for`` for a static build: ``static`` files and page endpoints."""
        values.pop("_external", None)
        anchor = values.pop("_anchor", None)
        if endpoint == "static":
            filename = values.pop("filename", None)
            if not filename:
                raise ValueError("url_for('static') needs filename=")
            url = f"{self.config.base_path}static/{quote(str(filename).lstrip('/'), safe='/')}"
        elif endpoint in self._endpoints:
            url = self._endpoints[endpoint]
        else:
            close = [e for e in self._endpoints if e.endswith(endpoint) or endpoint in e][:3]
            hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
            raise ValueError(f"url_for: no page or endpoint named {endpoint!r}{hint}")
        if values:
            url += "?" + urlencode(values)
        if anchor:
            url += "#" + quote(str(anchor))
        return url

    def render(self, page: Page) -> bytes:
        """Render ``page`` to bytes in its declared charset. Raises :class:`RenderError`."""
        try:
            template = self.environment.get_template(page.source)
            text = template.render(
                page={"route": page.route, "source": page.source, "endpoint": page.endpoint}
            )
        except jinja2.TemplateSyntaxError as exc:
            raise RenderError(
                Diagnostic(
                    self._display(exc.filename) or page.display,
                    exc.lineno,
                    0,
                    exc.message or "syntax error",
                    "error",
                )
            ) from None
        except jinja2.TemplateNotFound as exc:
            raise RenderError(
                Diagnostic(
                    *self._template_location(exc.__traceback__, page),
                    f"template not found: {exc.name}",
                    "error",
                )
            ) from None
        except Exception as exc:  # a template raised while rendering: locate it in the template
            raise RenderError(
                Diagnostic(
                    *self._template_location(exc.__traceback__, page),
                    f"{type(exc).__name__}: {exc}",
                    "error",
                )
            ) from None
        encoding = self._loader.encodings.get(page.source, "utf-8")
        data = text.encode(encoding, errors="xmlcharrefreplace")
        if encoding in _BOMS:
            # UTF-16 is only recognised by its byte order mark (no <meta> can say
            # it), so the output keeps the one the template had.
            data = _BOMS[encoding] + data
        return data

    def _display(self, filename: str | None) -> str | None:
        if not filename:
            return None
        try:
            return os.path.relpath(filename, self.config.root).replace(os.sep, "/")
        except ValueError:
            return filename

    def _template_location(self, tb: TracebackType | None, page: Page) -> tuple[str, int, int]:
        # Jinja2 rewrites tracebacks so that template frames carry the template's
        # file name and line: the innermost such frame is where the error is.
        where: tuple[str, int, int] = (page.display, 0, 0)
        roots = (str(self.config.pages), str(self.config.templates))
        for frame_tb in _walk(tb):
            filename = frame_tb.tb_frame.f_code.co_filename
            if filename.startswith(roots):
                where = (self._display(filename) or filename, frame_tb.tb_lineno, 0)
        return where


def _walk(tb: TracebackType | None) -> Iterator[TracebackType]:
    while tb is not None:
        yield tb
        tb = tb.tb_next
