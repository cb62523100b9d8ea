"""A `pushgen verify --json` result for the report's tests, in the shared format (version 1)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HOSTILE = '/"><img src=x onerror="document.title=1"><script>document.title=2</script>'


def _route(route: str, *, ok: bool, status: int = 200, **lists: Any) -> dict[str, Any]:
    """A route with every key the format has (pushgen/verify/schema.json requires them all)."""
    keys = ("misses", "needless", "duplicates", "early_hints", "preload_warnings", "fetched")
    data = {"route": route, "status": status, "protocol": "h2", "ok": ok}
    return data | {key: lists.get(key, []) for key in keys}


def verify_result(*, hostile: bool = False, fetched: tuple[str, ...] = ()) -> dict[str, Any]:
    """The example site's `/` failing: a miss, a needless hint, a duplicate; `/docs/` ok.

    ``fetched`` adds requests of `/` served by the 103, as a real load has them.
    """
    routes: list[dict[str, Any]] = [
        {
            "route": "/",
            "status": 200,
            "protocol": "h2",
            "ok": False,
            "misses": [
                {
                    "path": "/static/css/extra.css",
                    "type": "style",
                    "why": "fetched by the parser (render-blocking), not pushed or hinted by"
                    " the manifest",
                }
            ],
            "needless": [
                {"path": "/static/css/print.css", "state": "hint", "why": "hinted, never fetched"}
            ],
            "duplicates": [{"path": "/static/js/app.js", "count": 2}],
            "early_hints": ["/static/css/site.css"],
            "preload_warnings": [
                "The resource https://localhost/static/css/print.css was preloaded using link"
                " preload but not used within a few seconds from the window's load event."
            ],
            "fetched": [
                {
                    "path": "/static/css/site.css",
                    "type": "Stylesheet",
                    "initiator": "parser",
                    "from_early_hints": True,
                    "bytes": 3500,
                    "render_blocking": "blocking",
                },
                {
                    "path": "/static/css/extra.css",
                    "type": "Stylesheet",
                    "initiator": "parser",
                    "from_early_hints": False,
                    "bytes": 120,
                    "render_blocking": "blocking",
                },
            ]
            + [
                {
                    "path": path,
                    "type": "Script",
                    "initiator": "parser",
                    "from_early_hints": True,
                    "bytes": 100,
                    "render_blocking": "blocking",
                }
                for path in fetched
            ],
        },
        _route("/docs/", ok=True),
    ]
    if hostile:
        miss = {"path": HOSTILE, "type": "style", "why": HOSTILE}
        routes.append(_route(HOSTILE, ok=False, status=404, misses=[miss]))
    return {
        "version": 1,
        "tool": "pushgen verify",
        "manifest": "push-manifest.yaml",
        "browser": "Chromium 156.0",
        "routes": routes,
        "summary": {
            "routes": len(routes),
            "misses": 1,
            "needless": 1,
            "duplicates": 1,
            "ok": False,
        },
        "timing": None,
    }


def write_verify_result(
    path: Path, *, hostile: bool = False, fetched: tuple[str, ...] = ()
) -> Path:
    data = verify_result(hostile=hostile, fetched=fetched)
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    return path
