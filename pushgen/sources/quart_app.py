"""A Quart app as the source: its pages rendered by the app itself, through its test client.

``pushgen build --app MODULE:APP`` (or ``MODULE:factory()``, or ``app:`` in
pushgen.yaml), run in the folder the app lives in, renders what Frozen-Flask
would freeze, with no server and no network:

1. every GET rule without arguments;
2. for rules with arguments, the URLs listed in pushgen.yaml (``urls:``) and those
   yielded by generators registered with :func:`pushgen.quart.url_generator`;
3. links (``<a href>``) in rendered pages that match a GET rule of the app, up to
   ``max_pages`` pages in all.

Assets are requested from the app too (its static folder, blueprints' static
folders, any route), so what is scanned is what is served. Each page goes through
the build's engine (see pushgen/build/from_source.py). For every rule with arguments, the
manifest gets a route in Quart syntax (``/blog/<slug>``) holding the entries that
every rendered URL of the rule needs (their intersection, in page order): the
runtime matches it for URLs the build never saw
(:meth:`pushgen.manifest.Manifest.generated`). A rendered URL that needs more
keeps an exact route.

Bad input never stops the rest: an app that cannot be imported is one located
error; a view that raises or answers an error, a redirect (and its loops), an
answer that is not HTML, a generator that raises are each a warning naming the
URL, the rule and the view's ``file:line`` (errors under ``--strict``). So is a
view that takes longer than ``request_timeout`` seconds to answer in full (one
that never answers or streams forever), or whose body passes ``max_body`` bytes:
the body is taken in the chunks the app sends and abandoned past the bound, so
memory stays bounded (issue 22 item 6c).
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from quart import Quart

from ..config import SiteConfig
from ..errors import BuildError, Diagnostic, PushgenError, RoutePatternError
from ..fsutil import display_path
from ..manifest.rules import RoutePattern
from ..manifest.writer import SourceKind
from ..model import Asset
from ..progress import Progress, phase
from .protocol import ManifestTarget, PageScan, scan_rendered
from .quart_client import Crawl, RenderedPage, user_frame

__all__ = [
    "DEFAULT_MAX_PAGES",
    "AppSource",
    "AppSpec",
    "load_app",
    "load_object",
    "rule_routes",
    "runtime_quiet",
]

# Pages rendered at most (rules, urls:, generators and links together).
DEFAULT_MAX_PAGES = 10_000


@dataclass(frozen=True, slots=True)
class AppSpec:
    """``MODULE:APP`` or ``MODULE:factory()``."""

    module: str
    attribute: str
    call: bool

    @classmethod
    def parse(cls, text: str) -> AppSpec:
        module, _, attribute = text.partition(":")
        attribute = attribute or "app"
        call = attribute.endswith("()")
        attribute = attribute.removesuffix("()")
        if (
            not all(part.isidentifier() for part in module.split("."))
            or not attribute.isidentifier()
        ):
            raise PushgenError(
                f"--app {text!r}: write MODULE:APP or MODULE:factory(), e.g. blog:app"
            )
        return cls(module, attribute, call)

    def __str__(self) -> str:
        return f"{self.module}:{self.attribute}{'()' if self.call else ''}"


def load_app(spec: AppSpec, root: Path) -> Quart:
    """Import the Quart app ``spec`` names from ``root``; raise :class:`BuildError` with where
    it failed, or when it is no Quart app."""
    app = load_object(spec, root)
    if not isinstance(app, Quart):
        what = f"--app {spec}"
        raise BuildError(
            [
                Diagnostic(
                    what,
                    0,
                    0,
                    f"names an object of type {type(app).__name__}, not a Quart app",
                    "error",
                )
            ]
        )
    return app


def load_object(spec: AppSpec, root: Path) -> object:
    """Import whatever ``spec`` names from ``root`` (any app: the caller checks its kind);
    raise :class:`BuildError` with where it failed."""
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    what = f"--app {spec}"
    try:
        module = importlib.import_module(spec.module)
        target = getattr(module, spec.attribute)
        app = target() if spec.call else target
    except SyntaxError as exc:
        raise BuildError(
            [
                Diagnostic(
                    display_path(exc.filename or spec.module),
                    exc.lineno or 0,
                    exc.offset or 0,
                    f"{what}: cannot import: {exc.msg}",
                    "error",
                )
            ]
        ) from None
    except Exception as exc:
        where = user_frame(exc.__traceback__, root)
        message = f"cannot load the app: {type(exc).__name__}: {exc}"
        if isinstance(exc, ModuleNotFoundError) and exc.name == spec.module:
            message += f" (run pushgen where the app lives; looked in {root})"
        if where.file:  # the user's line that raised: the message says which app
            located = Diagnostic(where.file, where.line, 0, f"{what}: {message}", "error")
            raise BuildError([located]) from None
        raise BuildError([Diagnostic(what, 0, 0, message, "error")]) from None
    return app


def _is_runtime_rule(rule: str) -> bool:
    """Whether pushgen's runtime matches URLs by ``rule`` (a Quart rule with variables)."""
    try:
        return RoutePattern.parse(rule).kind == "rule"
    except RoutePatternError:
        return False  # a converter pushgen's runtime cannot match: exact routes only


def rule_routes(
    pages: list[tuple[str, str]], routes: dict[str, tuple[Asset, ...]]
) -> dict[str, tuple[Asset, ...]]:
    """Routes with each rule with arguments folded: its rendered URLs' common entries under the rule.

    ``pages`` are (url, rule) pairs; ``routes`` every rendered URL's entries. A
    URL whose entries are exactly its rule's is left to the rule route.
    """
    by_rule: dict[str, list[str]] = {}
    # Each rule once: parsing compiles it with werkzeug (about 1.4 ms), and a rule
    # has as many rendered URLs as its generator yields (0.28 s of a 0.78 s build
    # of 200 pages went to parsing the same rule again).
    foldable: dict[str, bool] = {}
    for url, rule in pages:
        if "<" in rule and url in routes:
            if rule not in foldable:
                foldable[rule] = _is_runtime_rule(rule)
            if foldable[rule]:
                by_rule.setdefault(rule, []).append(url)
    out = dict(routes)
    for rule, urls in by_rule.items():
        first = routes[urls[0]]
        common = tuple(a for a in first if all(a in routes[u] for u in urls[1:]))
        out[rule] = common
        for url in urls:
            if routes[url] == common:
                del out[url]
    return out


@contextlib.contextmanager
def runtime_quiet() -> Iterator[None]:
    """Silence the app's pushgen extension (the "pushgen" logger) while the build renders it.

    It says what it makes of the manifest as it loads and serves ("no manifest
    yet; serving without hints"): news to a server, not to the build that is about
    to write that manifest and reports its problems itself.
    """
    logger = logging.getLogger("pushgen")
    was = logger.disabled
    logger.disabled = True
    try:
        yield
    finally:
        logger.disabled = was


# The sources whose routes an app build may replace (pushgen/manifest/writer.py).
_APP: tuple[SourceKind, ...] = ("app",)
_APP_OR_BUILD: tuple[SourceKind, ...] = ("build", "app")


class AppSource:
    """A loaded Quart app as a source: its pages rendered, and its assets requested,
    through its test client on a private event loop (see the module docs)."""

    resolve_phase = "resolve"
    resolve_unit = "page"
    forks = False  # one event loop and one test client serve every request

    def __init__(self, app: Quart, config: SiteConfig, *, max_pages: int, command: str) -> None:
        self._app, self._config, self._max_pages = app, config, max_pages
        self._command = command
        self._crawl: Crawl | None = None
        self._rendered: dict[str, RenderedPage] = {}

    @property
    def crawl(self) -> Crawl:
        assert self._crawl is not None, "the app's pages are rendered by open()"
        return self._crawl

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return self.crawl.diagnostics

    def open(self, progress: Progress) -> Sequence[str]:
        """Start the app and render its pages (phase ``render``); their URLs."""
        config = self._config
        self._crawl = crawl = Crawl(
            self._app,
            config.root,
            self._max_pages,
            request_timeout=config.request_timeout,
            max_body=config.max_body,
        )
        with phase(progress, "render"):
            urls = [*crawl.rule_urls(), *config.urls, *crawl.generated_urls()]
            self._rendered = {page.url: page for page in crawl.crawl(urls, progress)}
        return list(self._rendered)

    def close(self) -> None:
        if self._crawl is not None:
            self._crawl.close()

    def scan_page(self, key: str) -> PageScan:
        return scan_rendered(key, self._rendered[key].html, self._config.html_limits)

    def read(self, relpath: str) -> bytes | None:
        return self.crawl.read(relpath)

    def exists(self, relpath: str) -> bool:
        return self.crawl.exists(relpath)

    def size_of(self, path: str) -> int | None:
        return self.crawl.size_of(path)

    def known(self) -> set[str]:
        return {rel for rel, asset in self.crawl.assets.items() if asset.found}

    def fold(self, routes: dict[str, tuple[Asset, ...]]) -> dict[str, tuple[Asset, ...]]:
        """Each rule with arguments folded into its route (see :func:`rule_routes`)."""
        return rule_routes([(p.url, p.rule) for p in self._rendered.values()], routes)

    def target(self) -> ManifestTarget:
        # A plain `pushgen build` where pushgen.yaml names the app renders this same app.
        accepts = _APP_OR_BUILD if self._config.app else _APP
        return ManifestTarget(self._config.manifest, self._command, accepts)
