"""Exporting a push manifest to CDNs and web servers: one configuration text per target.

Every target gets, per route, the entries the runtime would send
(:meth:`Manifest.assets`: generated entries with the rules and their policies
applied), written in the target's own syntax:

==============  ===================================================================
``netlify``     Netlify ``_headers``: a path line, then indented ``Link:`` lines
``cloudflare``  Cloudflare Pages ``_headers``: the same syntax, within its limits
``firebase``    Firebase Hosting ``firebase.json``: ``hosting.headers`` with globs
``nginx``       an nginx include file: a ``location`` per route with ``add_header``
``h2o``         an h2o ``paths`` fragment: an mruby handler adding ``link`` headers
``apache``      an Apache httpd include file: ``<LocationMatch>`` with ``Header add``
``json``        a plain JSON map, route -> ``Link`` header value
==============  ===================================================================

``push-manifest`` (``push_manifest.json``, :mod:`pushgen.export.push_manifest`) is
one more format, and the module also imports that format into a manifest.

Only hinted entries become ``Link`` values (the same values as the runtime's,
:func:`pushgen.links.link_value`). Servers that push on ``Link: rel=preload``
(nginx ``http2_push_preload``, h2o, Apache ``mod_http2``) get ``; nopush`` on
entries that are hinted but not pushed, and a push-only instruction for entries
that are pushed but not hinted. CDNs do not push, so push-only entries are left
out of their files.

Route patterns (rules whose ``match`` is a glob or a Quart rule and that ``add``
entries) become the target's own pattern syntax — a regular expression location,
a splat or a placeholder — and are refused, naming the rule's line, where the
target has nothing equivalent. Where a target cannot carry everything (a limit on
rules or on header length, a push limit, a character it cannot write) the entry
is left out and the result says so in :attr:`ExportResult.cuts`.

Everything here is pure: a :class:`~pushgen.manifest.Manifest` in, text and
what was cut out. The CLI decides what to do with them.

The package: :mod:`.registry` (format name -> :class:`~.context.Format`, and
:func:`export_manifest`), one module per format (:mod:`.headers_file` for Netlify
and Cloudflare, :mod:`.firebase`, :mod:`.json_map`, :mod:`.nginx`, :mod:`.h2o`,
:mod:`.apache`, :mod:`.push_manifest`), :mod:`.blocks` (what each route and
pattern sends, laid out for a target), :mod:`.patterns` (route patterns through
Werkzeug's parser), :mod:`.context` (one export as it runs) and :mod:`.result`.
"""

from __future__ import annotations

from .headers_file import CLOUDFLARE_MAX_LINE, CLOUDFLARE_MAX_RULES
from .nginx import NGINX_MAX_PUSHES
from .registry import FORMATS, export_manifest
from .result import Cut, ExportResult

__all__ = [
    "CLOUDFLARE_MAX_LINE",
    "CLOUDFLARE_MAX_RULES",
    "FORMATS",
    "NGINX_MAX_PUSHES",
    "Cut",
    "ExportResult",
    "export_manifest",
]
