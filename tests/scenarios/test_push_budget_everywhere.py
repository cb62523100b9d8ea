"""One meaning of ``max_pushes``: the same manifest gives the same pushes everywhere.

A site built with ``push: {max_pushes: 2}`` in pushgen.yaml, whose manifest has a
rule ``policy:`` that recomputes the pushes of ``/`` (the site's budget still
applies under it, pushgen.push_policy): the built manifest, ``pushgen explain``,
the runtime (a real Hypercorn, read with nghttp) and every export format push the
same two stylesheets. Then a server's own budget (``PUSHGEN_MAX_PUSHES`` /
``export --max-pushes``) cuts the same pushes at the runtime and in the exports.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pushgen.export import FORMATS
from pushgen.manifest import load_manifest
from pushgen.runtime.certs import DevCertificate
from tests.clients import nghttp, run_pushgen, start_hypercorn
from tests.export_syntax import apache, h2o, headers_file, nginx
from tests.sites import write_site

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Home</title>
<link rel="stylesheet" href="/static/css/a.css">
<link rel="stylesheet" href="/static/css/b.css">
<link rel="stylesheet" href="/static/css/c.css">
<script defer src="/static/js/app.js"></script>
</head><body><h1>Home</h1></body></html>
"""

SITE: dict[str, str | bytes] = {
    "pushgen.yaml": "push:\n  destinations: [style]\n  max_pushes: 2\n  max_bytes: null\n",
    "pages/index.html": PAGE,
    "static/css/a.css": "h1 { color: red }\n",
    "static/css/b.css": "h1 { color: blue }\n",
    "static/css/c.css": "h1 { color: green }\n",
    "static/js/app.js": "console.log(1);\n",
}

# The rule makes scripts pushable on `/`: the site's max_pushes (2) still holds.
RULE = "rules:\n  - match: /\n    policy: {push: [style, script]}\n"

BUDGET = ["/static/css/a.css", "/static/css/b.css"]
HINTS = [
    "</static/css/a.css>; rel=preload; as=style",
    "</static/css/b.css>; rel=preload; as=style",
    "</static/css/c.css>; rel=preload; as=style",
    "</static/js/app.js>; rel=preload; as=script",
]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = write_site(tmp_path_factory.mktemp("budget") / "site", SITE)
    built = run_pushgen(root, "build", "-q")
    assert built.returncode == 0, built.stderr
    manifest = root / "push-manifest.yaml"
    text = manifest.read_text(encoding="utf-8")
    assert "\nrules: []\n" in text
    manifest.write_text(text.replace("\nrules: []\n", "\n" + RULE), encoding="utf-8")
    return root


def _pushed_paths(link: str) -> str | None:
    """The path a server that pushes on Link headers pushes for ``link``, or None."""
    if "; rel=preload" not in link or "; nopush" in link:
        return None
    return link[1 : link.index(">")]


def exported_pushes(fmt: str, text: str) -> list[str]:
    """The paths an exported file pushes on ``/``, in the file's order."""
    if fmt == "nginx":
        (block,) = [d.block for d in nginx(text) if d.words == ("location", "=", "/")]
        assert block is not None
        links = [d.words[2] for d in block if d.words[:2] == ("add_header", "Link")]
        explicit = [d.words[1] for d in block if d.words[0] == "http2_push"]
        return [p for p in map(_pushed_paths, links) if p] + explicit
    if fmt == "h2o":
        return [p for p in map(_pushed_paths, h2o(text).keys["/"]) if p]
    if fmt == "apache":
        (location,) = [d for d in apache(text) if d.words[0] == "LocationMatch"]
        assert location.block is not None
        (module,) = [d.block for d in location.block if d.words[0] == "IfModule"]
        assert module is not None
        return [d.words[2] for d in module if d.words[:2] == ("H2PushResource", "add")]
    assert fmt == "push-manifest"
    return list(json.loads(text)["/"])


def exported_hints(fmt: str, text: str) -> list[str]:
    """The Link values a CDN format sends on ``/``."""
    if fmt in ("netlify", "cloudflare"):
        # Cloudflare joins the values into one line, Netlify writes one line each.
        lines = [value for name, value in headers_file(text)["/"] if name == "Link"]
        return [v for line in lines for v in re.split(r", (?=<)", line)]
    if fmt == "firebase":
        (entry,) = [h for h in json.loads(text)["hosting"]["headers"] if h.get("source") == "/"]
        return re.split(r", (?=<)", entry["headers"][0]["value"])
    assert fmt == "json"
    return re.split(r", (?=<)", json.loads(text)["/"])


def export(site: Path, fmt: str, *args: str) -> str:
    done = run_pushgen(site, "export", "--format", fmt, "--root", str(site / "_site"), *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def served(site: Path, dev_cert: DevCertificate, log: Path, env: dict[str, str]) -> list[str]:
    """The paths a real Hypercorn running ``pushgen.app:create_app()`` pushes on ``/``."""
    process = start_hypercorn(
        "pushgen.app:create_app()",
        log,
        certfile=dev_cert.certfile,
        keyfile=dev_cert.keyfile,
        env={"PUSHGEN_SITE": str(site), **env},
    )
    try:
        result = nghttp(process.url)
        assert result.returncode == 0, result.output
        (page,) = [f for f in result.received("HEADERS") if f.status == 200 and f.header("link")]
        assert page.header("link") == ", ".join(HINTS)
        return [str(p.header(":path")) for p in result.received("PUSH_PROMISE")]
    finally:
        process.stop()


PUSH_FORMATS = ["nginx", "h2o", "apache", "push-manifest"]
CDN_FORMATS = ["netlify", "cloudflare", "firebase", "json"]


def test_every_format_is_read_here() -> None:
    assert sorted(PUSH_FORMATS + CDN_FORMATS) == sorted(FORMATS)


def test_the_built_manifest_keeps_the_sites_budget(site: Path) -> None:
    manifest = load_manifest(site / "push-manifest.yaml")
    assert [a.path for a in manifest.routes["/"] if a.push] == BUDGET


def test_explain_applies_the_sites_budget_under_the_rules_policy(site: Path) -> None:
    done = run_pushgen(site, "explain", "/")
    assert done.returncode == 0, done.stderr
    assert "2 pushed, 2 hinted only" in done.stdout
    assert done.stdout.count("hint only: over the budget of 2 pushes") == 2


@pytest.mark.parametrize("fmt", PUSH_FORMATS)
def test_every_server_export_pushes_what_the_budget_allows(site: Path, fmt: str) -> None:
    # On main the export left the site's policy out: a rule's policy recomputed
    # the pushes without pushgen.yaml's max_pushes, and all four were pushed.
    assert exported_pushes(fmt, export(site, fmt)) == BUDGET


@pytest.mark.parametrize("fmt", CDN_FORMATS)
def test_every_cdn_export_hints_what_the_runtime_hints(site: Path, fmt: str) -> None:
    assert exported_hints(fmt, export(site, fmt)) == HINTS


def test_the_runtime_pushes_what_the_manifest_and_exports_push(
    site: Path, dev_cert: DevCertificate, tmp_path: Path
) -> None:
    assert served(site, dev_cert, tmp_path / "hypercorn.log", {}) == BUDGET


def test_a_servers_own_budget_cuts_the_same_pushes_at_runtime_and_in_exports(
    site: Path, dev_cert: DevCertificate, tmp_path: Path
) -> None:
    env = {"PUSHGEN_MAX_PUSHES": "1"}
    assert served(site, dev_cert, tmp_path / "hypercorn.log", env) == BUDGET[:1]
    for fmt in ("nginx", "h2o", "apache"):
        assert exported_pushes(fmt, export(site, fmt, "--max-pushes", "1")) == BUDGET[:1], fmt
