"""One page of an app at a time, whichever kind of app it is: what ``pushgen explain`` renders.

The build crawls an app through its source (:class:`~pushgen.sources.quart_app.AppSource`
for a Quart app, :class:`~pushgen.sources.asgi_app.AsgiAppSource` for any other ASGI
app: Starlette, FastAPI, Django). ``pushgen explain ROUTE`` renders only the URL it is
asked about, through the same clients (Quart's test client, or httpx's
``ASGITransport`` with the app's lifespan run around it), so the chain it shows is
that of the page the build scanned. The app is loaded as the build loads it:
:func:`app_client` is the one place that says which client an app gets.

Quart and httpx are imported here only when an app of their kind is loaded: a scan
of a folder never imports them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..config import SiteConfig
from ..errors import BuildError, Diagnostic, PushgenError

if TYPE_CHECKING:
    from .asgi_app import AsgiClient

__all__ = ["AppPages", "app_pages", "require_httpx"]


@dataclass(frozen=True, slots=True)
class AppPages:
    """A loaded app's pages and assets, through its client (see :func:`app_pages`)."""

    render: Callable[[str], bytes | None]  # a URL's HTML, None when it is not a page
    read: Callable[[str], bytes | None]  # an asset by output path
    exists: Callable[[str], bool]
    size_of: Callable[[str], int | None]  # an asset's size by URL path
    diagnostics: list[Diagnostic]  # why a URL was not a page


def require_httpx(what: str) -> None:
    """Raise a located :class:`BuildError` saying what to install when httpx, which renders
    an ASGI app that is not Quart, is missing (``what``: the app as the user named it)."""
    try:
        import httpx  # noqa: F401 (only asked whether it is there)
    except ModuleNotFoundError as exc:
        if exc.name != "httpx":
            raise
        message = (
            f"{what} is no Quart app: rendering another ASGI app needs httpx "
            "(pip install 'pushgen[asgi]')"
        )
        raise BuildError([Diagnostic(what, 0, 0, message, "error")]) from None


@contextlib.contextmanager
def app_pages(config: SiteConfig, app: str | None = None) -> Iterator[AppPages]:
    """The app ``app`` (default ``config.app``) loaded as the build loads it, to render
    single URLs (``pushgen explain``): a Quart app through its test client, any other
    ASGI app through httpx. Raises :class:`BuildError` as an app build does (an app that
    does not load, no ASGI app, httpx missing, a lifespan startup that fails)."""
    from .quart_app import AppSpec, load_object, runtime_quiet

    text = app or config.app
    if not text:
        raise PushgenError("no app: give --app MODULE:APP or `app:` in pushgen.yaml")
    spec = AppSpec.parse(text)
    with runtime_quiet():
        loaded = load_object(spec, config.root)
        with _pages(loaded, config, f"--app {spec}") as pages:
            yield pages


def _pages(
    loaded: object, config: SiteConfig, what: str
) -> contextlib.AbstractContextManager[AppPages]:
    """The pages of ``loaded``, through the client of its kind (see from_source.build_app)."""
    from quart import Quart

    if isinstance(loaded, Quart):
        return _quart_pages(loaded, config)
    require_httpx(what)
    from .asgi_app import check_asgi

    return _asgi_pages(check_asgi(loaded, what), config)


@contextlib.contextmanager
def _quart_pages(app: Any, config: SiteConfig) -> Iterator[AppPages]:
    """A Quart app's single pages through its test client (quart_client.Crawl)."""
    from .quart_client import Crawl

    crawl = Crawl(app, config.root, 1)
    try:

        def render(url: str) -> bytes | None:
            page = crawl.render(url)
            return page.html if page is not None else None

        yield AppPages(render, crawl.read, crawl.exists, crawl.size_of, crawl.diagnostics)
    finally:
        crawl.close()


@contextlib.contextmanager
def _asgi_pages(app: Callable[..., Any], config: SiteConfig) -> Iterator[AppPages]:
    """Any other ASGI app's single pages through httpx, its lifespan started around them."""
    from .asgi_app import started_client

    client = started_client(app, config)
    diagnostics: list[Diagnostic] = []
    try:
        yield AppPages(
            lambda url: _asgi_render(client, url, diagnostics),
            client.read,
            client.exists,
            client.size_of,
            diagnostics,
        )
    finally:
        client.close()


def _asgi_render(client: AsgiClient, url: str, diagnostics: list[Diagnostic]) -> bytes | None:
    """The HTML the app answers GET ``url`` with; None, and why, when the answer is no page.

    A page is what the build takes for one (sources/asgi_app.py): a 200 of
    ``text/html``; a view that raises is a warning here, never a traceback.
    """
    try:
        answer = client.get(url)
    except Exception as exc:
        diagnostics.append(Diagnostic("app", 0, 0, f"GET {url}: {type(exc).__name__}: {exc}"))
        return None
    if answer.status != 200 or answer.content_type != "text/html":
        what = f"answered {answer.status} {answer.content_type or 'with no type'}"
        diagnostics.append(Diagnostic("app", 0, 0, f"GET {url}: {what}, not a page"))
        return None
    return answer.body
