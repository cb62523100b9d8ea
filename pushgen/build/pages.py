"""The pages of a pushgen site: every ``.html`` file under ``SITE/pages``, its route and endpoint.

Routes follow the file path: ``pages/index.html`` -> ``/``,
``pages/docs/index.html`` -> ``/docs/``, ``pages/about.html`` -> ``/about.html``
(``/about`` with ``pretty_urls``). ``url_for`` endpoints are the page path without
``.html``, dots for slashes: ``index``, ``docs.index``, ``about``. A page no URL can
reach, or one that would be written over a static file, stops the build with the
file named.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from urllib.parse import quote

from ..config import SiteConfig
from ..errors import BuildError, Diagnostic

__all__ = ["Page", "discover_pages"]


@dataclass(frozen=True, slots=True)
class Page:
    """One page of the site: where its template is and where it is served."""

    source: str  # template name, relative to SITE/pages, with '/' separators
    route: str  # URL path the page is served at, base path included
    endpoint: str  # url_for name
    output: str  # file path relative to the output folder
    plain: bool = False  # plain HTML (pushgen.yaml's ``plain:``): copied, never rendered

    @property
    def display(self) -> str:
        return f"pages/{self.source}"


# A URL path that percent-encoding leaves as it is (most page names).
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~/-]*")


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
    if not _UNRESERVED.fullmatch(url):
        url = quote(url, safe="/")
    return Page(
        source=source,
        route=config.base_path + url,
        endpoint=".".join(parts),
        output=source,
        plain=config.is_plain(source),
    )


# A backslash is a "/" to a browser in an http(s) URL (WHATWG URL Standard, path
# state), and control characters are removed from URLs or cannot be sent in a
# request line: a page whose name holds one would be built but never served.
_UNSERVABLE = re.compile(r"[\\\x00-\x1f\x7f-\x9f]")


def discover_pages(config: SiteConfig) -> list[Page]:
    """Every page of the site, sorted by source path (deterministic build order).

    Raises :class:`BuildError` for pages no URL can reach (a backslash or a control
    character in the name) and for a page under ``pages/static/`` that would be
    written over a file of ``static/``, naming every such file.
    """
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
    sources.sort()
    problems = [d for s in sources for d in _page_name_problems(s, config)]
    if problems:
        raise BuildError(problems)
    return [_page_for(s, config) for s in sources]


def _page_name_problems(source: str, config: SiteConfig) -> list[Diagnostic]:
    """Why page ``source`` cannot be built: a name no URL reaches, or a clash with static/."""
    shown = f"pages/{source}"
    try:
        source.encode("utf-8")
    except UnicodeEncodeError:
        # A name that is not UTF-8 reaches Python as surrogate escapes (PEP 383);
        # URLs are percent-encoded UTF-8 (WHATWG URL Standard), so none names it.
        message = "the page's name is not UTF-8, which no URL can name: rename the file"
        return [Diagnostic(shown, 0, 0, message, "error")]
    bad = _UNSERVABLE.search(source)
    if bad is not None:
        what = "a backslash" if bad.group() == "\\" else f"the control character {bad.group()!r}"
        return [
            Diagnostic(
                repr(shown)[1:-1],
                0,
                0,
                f"the page's name holds {what}, which no URL can reach (browsers read"
                " '\\' as '/' and drop or refuse control characters): rename the file",
                "error",
            )
        ]
    if not source.startswith("static/"):
        return []
    # pages/static/x.html is written to OUT/static/x.html, where static/x.html goes
    # too; and pages/static/a/x.html needs the folder OUT/static/a, which a file
    # static/a would be.
    parts = source.split("/")[1:]
    for depth in range(1, len(parts) + 1):
        theirs = "static/" + "/".join(parts[:depth])
        other = config.static.joinpath(*parts[:depth])
        if depth == len(parts) and os.path.lexists(other):
            clash = f"this page and {theirs} would both be written to {theirs} in the output"
        elif depth < len(parts) and os.path.isfile(other):
            clash = (
                f"this page needs the folder {theirs} in the output, where the file {theirs} goes"
            )
        else:
            continue
        return [Diagnostic(shown, 0, 0, f"{clash}: rename or move one of them", "error")]
    return []


# A page that says it is plain HTML, in an HTML comment among its first 1024 bytes
