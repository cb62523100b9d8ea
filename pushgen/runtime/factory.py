"""The ASGI app factory: a built site served with push, 103 Early Hints and ``Link`` headers.

:func:`site_app` is the file server (every URL answered from the output folder
through :func:`pushgen.runtime.files.find_file`, the site's ``404.html`` too);
:func:`check_output` refuses to serve a folder that holds the site's sources;
:func:`create_app` puts them together with the extension.

``pushgen serve`` calls it; in production Hypercorn's own CLI can call it in every
worker::

    PUSHGEN_SITE=/srv/site hypercorn "pushgen.app:create_app()" \\
        --workers 4 --bind 0.0.0.0:443 --certfile cert.pem --keyfile key.pem

Each argument left as None is read from the environment:

=========================  =================================================
``site``                   ``PUSHGEN_SITE`` (default: the current folder)
``output``                 ``PUSHGEN_OUTPUT`` (default: ``output:`` of pushgen.yaml)
``manifest``               ``PUSHGEN_MANIFEST`` (default: ``manifest:`` of pushgen.yaml)
``push``                   ``PUSHGEN_PUSH`` (``1``/``0``, ``true``/``false``, ...)
``early_hints``            ``PUSHGEN_EARLY_HINTS``
``early_hints_delay``      ``PUSHGEN_EARLY_HINTS_DELAY`` (seconds; default 0: at once)
``link_headers``           ``PUSHGEN_LINK_HEADERS``
``max_pushes``             ``PUSHGEN_MAX_PUSHES``
``max_link_bytes``         ``PUSHGEN_MAX_LINK_BYTES`` (bytes of a route's Link values)
``max_pushes_in_flight``   ``PUSHGEN_MAX_PUSHES_IN_FLIGHT`` (per connection)
``push_digest``            ``PUSHGEN_PUSH_DIGEST`` (a cookie of pushed assets)
``reload_interval``        ``PUSHGEN_RELOAD_INTERVAL`` (seconds; 0 stops watching)
``static_max_age``         ``PUSHGEN_STATIC_MAX_AGE`` (seconds)
=========================  =================================================

Nothing is built here: a missing output is an error that says to run
``pushgen build``.

A page's 103 Early Hints goes out at once, before the file is read; with
``early_hints_delay`` above 0 it waits that many seconds and is sent only if the
response has not started by then (a huge file, a slow disk).
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from quart import Quart, Response, request, send_file
from quart.typing import ResponseTypes
from quart.utils import run_sync

from ..config import CONFIG_NAME, SiteConfig, load_config
from ..errors import PushgenError
from ..fsutil import check_output_location
from ..links import normalise_base_path
from .encodings import IMMUTABLE_CACHE_CONTROL, Siblings, fingerprinted
from .files import Found, content_type, file_response, find_file
from .options import ENV_PREFIX, SETTINGS, check_keywords, keyword_signature, read_by, resolve
from .quart import init_app
from .server import refuse_shared_quic_socket

__all__ = [
    "DEFAULT_EARLY_HINTS_DELAY",
    "DEFAULT_STATIC_MAX_AGE",
    "ENV_PREFIX",
    "REPORT_PATH",
    "check_output",
    "config_app",
    "create_app",
    "mount_report",
    "site_app",
]

# A 103 at once, even for files that are ready at once (issue 27, decided in
# Chromium by bench/browser_bench.py, docs/performance.md "Page load in Chromium"):
# Chromium starts the 103's preloads before it has parsed the 200's Link field even
# when both arrive together (37 of 40 loads over h2, 40 of 40 over h3), so the page
# painted its web-font text 0.16-0.48 RTT sooner than with a 2 ms delay in 3 of 3
# quiet runs, and level with h2o. What the 103 costs the server is measured in
# bench/runtime_bench.py against the same app with push, 103 and Link off.
DEFAULT_EARLY_HINTS_DELAY = 0.0

# Pages are revalidated on every use (a 304 is cheap), so a rebuild shows at
# once; other files may be reused for an hour without asking, a compromise for
# file names that carry no content hash.
DEFAULT_STATIC_MAX_AGE: int = SETTINGS["static_max_age"].default
_HTML_CACHE_CONTROL = "no-cache"


def check_output(config: SiteConfig) -> None:
    """Refuse to serve an output folder that holds, or could hold, the site's sources.

    Raises :class:`PushgenError` when the output folder is the site folder or
    contains it, when it holds a ``pushgen.yaml``, or when it does not exist yet.
    """
    output, root = config.output, config.root
    # Serving pages/ or templates/ (or a folder in them) would send Jinja2 sources;
    # the build refuses the same folders (one check for both).
    check_output_location(
        output, root, (config.pages, config.templates, config.static), CONFIG_NAME
    )
    if not output.is_dir():
        raise PushgenError(f"no built output at {output}; run `pushgen build {root}` first")


def site_app(
    output: str | os.PathLike[str],
    *,
    base_path: str = "/",
    pretty_urls: bool = False,
    static_max_age: int = DEFAULT_STATIC_MAX_AGE,
) -> Quart:
    """A Quart app that serves the files of the built ``output`` folder under ``base_path``.

    GET and HEAD only. HTML is sent with ``Cache-Control: no-cache``, files
    whose names carry a content hash with ``immutable`` and a year, other
    files with ``public, max-age=static_max_age``; a file with ``.br``/``.gz``
    siblings (:mod:`pushgen.precompress`) as the one ``Accept-Encoding`` picks,
    with ``Vary: Accept-Encoding``, when that sibling is inside the output and
    decompresses to the file's bytes (:class:`~pushgen.runtime.encodings.Siblings`);
    every file with an ``ETag``
    and ``Last-Modified`` and a 304 to a matching conditional request. A folder
    without its slash is redirected (308) to it, so relative links in its
    ``index.html`` resolve. With ``pretty_urls`` ``/about`` serves ``about.html``.
    """
    folder = Path(output)
    base = normalise_base_path(base_path)
    # No built-in /static route: every URL is answered from the output folder.
    app = Quart("pushgen.runtime.factory", static_folder=None)
    # "/a//b" must reach the view (and 404 there), not be merged and redirected.
    app.url_map.merge_slashes = False
    # Cache-Control is set per response below; without this send_file would also
    # add a 12-hour Expires that contradicts `no-cache` on pages.
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = None
    siblings = Siblings()

    async def not_found(_error: Exception) -> ResponseTypes:
        # The same containment as every other file: a 404.html that is a link
        # out of the output (to /etc/passwd, say) is not the site's 404 page.
        page = find_file(folder, "/404.html")
        if page is not None and page.kind == "file":
            response = await send_file(page.path, mimetype="text/html")
        else:
            response = Response("404 Not Found\n", mimetype="text/plain")
        response.status_code = 404
        response.headers["Cache-Control"] = _HTML_CACHE_CONTROL
        return response

    async def view(subpath: str = "") -> ResponseTypes:
        # The site's URL space: with a base path the full path (root_path
        # included, per the ASGI spec) is matched against it; without one, the
        # path below the mount point.
        path = request.scope["path"] if base != "/" else request.path
        found = find_file(folder, quote(path, safe="/"), base_path=base, pretty_urls=pretty_urls)
        if found is None:
            return await not_found(LookupError(path))
        if found.kind == "redirect":
            return _slash_redirect()
        return await _send_found(found, siblings, static_max_age)

    app.add_url_rule("/", "file", view, methods=["GET"], defaults={"subpath": ""})
    app.add_url_rule("/<path:subpath>", "file", view, methods=["GET"])
    app.register_error_handler(404, not_found)
    return app


def _slash_redirect() -> Response:
    """308 to the requested folder with its slash, so its index.html's relative links resolve."""
    # Built from the decoded path, never from the request target: in absolute form
    # (`GET http://evil.example/docs`, RFC 9112 §3.2.2, or that URL as an HTTP/2
    # :path) the raw target names another host, and echoing it made an open
    # redirect. A path-absolute reference names this server (RFC 9110 §10.2.2); the
    # path has no empty segment (find_file refuses those), so it cannot start with "//".
    location = quote(request.scope.get("root_path", "") + request.path, safe="/") + "/"
    if request.query_string:
        location += "?" + request.query_string.decode("latin-1")
    return Response("", status=308, headers={"Location": location})


async def _send_found(found: Found, siblings: Siblings, static_max_age: int) -> Response:
    """The found file (or the sibling ``Accept-Encoding`` picks) with its caching headers."""
    mimetype = content_type(found.path)
    # A field sent as several lines is one comma-separated list (RFC 9110 §5.3).
    accept_encoding = ", ".join(request.headers.getlist("Accept-Encoding"))
    chosen = await siblings.representation(
        found, accept_encoding, ranged="Range" in request.headers
    )
    # The sibling's own ETag (Quart's is made of path, size and time) tells
    # the encodings apart, so a 304 answers only for the body the client has.
    response = await file_response(chosen.path, mimetype)
    if chosen.coding is not None:
        response.headers["Content-Encoding"] = chosen.coding
    if chosen.varies:
        response.vary.add("Accept-Encoding")
    if mimetype == "text/html":
        response.headers["Cache-Control"] = _HTML_CACHE_CONTROL
    elif fingerprinted(found.path):
        response.headers["Cache-Control"] = IMMUTABLE_CACHE_CONTROL
    else:
        response.headers["Cache-Control"] = f"public, max-age={static_max_age}"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def create_app(
    site: str | os.PathLike[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    **options: Any,
) -> Quart:
    """A Quart app serving the built ``site`` with the pushgen extension.

    ``options`` are the settings the app factory reads (the module docs; an
    unknown one is a :class:`~pushgen.errors.ConfigError` naming it). Those left
    as None come from ``environ`` (default ``os.environ``), then from the site's
    ``pushgen.yaml`` and the defaults. Raises :class:`~pushgen.errors.PushgenError`
    (a ``ConfigError``, ``ManifestError`` with ``file:line:col`` diagnostics, or a
    refusal to serve the output) when the app cannot serve.
    """
    check_keywords("create_app", options)
    refuse_shared_quic_socket()
    env = os.environ if environ is None else environ
    given = {name: site if name == "site" else options.get(name) for name in read_by("create_app")}
    # output and manifest default to pushgen.yaml's (None here); the delay to
    # this module's, not the extension's (see the constant).
    values = resolve(
        given,
        given,
        environ=env,
        defaults={"manifest": None, "early_hints_delay": DEFAULT_EARLY_HINTS_DELAY},
    )
    config = load_config(
        values.pop("site"), output=values.pop("output"), manifest=values.pop("manifest")
    )
    check_output(config)
    return config_app(config, **values)


# What help() and editors show: the settings the factory reads, as keywords.
create_app.__signature__ = keyword_signature(  # type: ignore[attr-defined]
    "create_app",
    inspect.Parameter(
        "site",
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        default=None,
        annotation="str | os.PathLike[str] | None",
    ),
    inspect.Parameter(
        "environ",
        inspect.Parameter.KEYWORD_ONLY,
        default=None,
        annotation="Mapping[str, str] | None",
    ),
)


def config_app(config: SiteConfig, *, static_max_age: int, **options: Any) -> Quart:
    """The output of ``config`` served by :func:`site_app` with the extension on it.

    ``options`` are :func:`~pushgen.quart.init_app`'s keyword arguments beyond
    what ``config`` says (push, early_hints_delay, ...).
    """
    app = site_app(
        config.output,
        base_path=config.base_path,
        pretty_urls=config.pretty_urls,
        static_max_age=static_max_age,
    )
    return init_app(
        app,
        manifest=config.manifest,
        output=config.output,
        policy=config.policy,
        base_path=config.base_path,
        pretty_urls=config.pretty_urls,
        **options,
    )


# Where `pushgen serve --report` shows the report: a name no generator writes a
# page under (the leading underscore), outside any base path.
REPORT_PATH = "/_pushgen/"


def mount_report(app: Quart, page: Callable[[], bytes]) -> Quart:
    """Serve ``page()`` (the report's HTML, made by the commands side) at :data:`REPORT_PATH`.

    Development only: ``pushgen serve --report`` calls it, nothing else does, so
    the path is a 404 by default. ``page`` runs in a worker thread, since it may
    remake the report after a rebuild.
    """

    async def report() -> Response:
        body = await run_sync(page)()
        return Response(
            body,
            mimetype="text/html",
            headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
        )

    app.add_url_rule(REPORT_PATH, "pushgen_report", report, methods=["GET"])
    return app
