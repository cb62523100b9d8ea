"""A fingerprinted site_example through a real ``pushgen serve``: every asset of its manifest immutable."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from pushgen.build import build_site
from pushgen.config import load_config
from pushgen.runtime.encodings import IMMUTABLE_CACHE_CONTROL, fingerprinted
from tests.clients import ServerProcess

SITE_EXAMPLE = Path(__file__).parents[2] / "site_example"


def _head(url: str) -> dict[str, str]:
    """The final response's headers curl gets for ``url`` over HTTP/2 (status as
    ``:status``); a 103 before it (a page's Early Hints) is passed over."""
    done = subprocess.run(
        ["curl", "-sk", "--http2", "-o", "/dev/null", "-D", "-", url],
        capture_output=True, timeout=30, check=True, text=True,
    )  # fmt: skip
    lines = done.stdout.strip().split("\n\n")[-1].splitlines()
    headers = {n.strip().lower(): v.strip() for n, _, v in (x.partition(":") for x in lines[1:])}
    headers[":status"] = lines[0].split()[1]
    headers[":version"] = lines[0].split()[0]
    return headers


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_every_asset_of_a_fingerprinted_site_example_is_served_immutable(
    tmp_path: Path, start_server: Any
) -> None:
    root = tmp_path / "site"
    shutil.copytree(SITE_EXAMPLE, root, ignore=shutil.ignore_patterns("_site", "._site*"))
    with (root / "pushgen.yaml").open("a", encoding="utf-8") as fh:
        fh.write("fingerprint: true\n")
    build_site(load_config(root), jobs=1)
    routes = (root / "push-manifest.yaml").read_text().split("\nroutes:", 1)[1]
    assets = set(re.findall(r"path: (/static/\S+?),", routes))
    # Every asset, those named by url_for, inside stylesheets and modules, and by hand
    # (docs/install.html's relative links, on purpose), is listed under its hashed name.
    plain = {a for a in assets if not fingerprinted(a)}
    assert len(assets) > 15 and plain == set(), plain
    install = (root / "_site" / "docs" / "install.html").read_text(encoding="utf-8")
    assert re.search(r'href="\.\./static/css/docs\.[0-9a-f]{8,64}\.css"', install), install
    server: ServerProcess = start_server(root, build_if_stale=False)
    base = server.url.rstrip("/")
    for path in sorted(assets):
        headers = _head(base + path)
        assert (headers[":status"], headers[":version"]) == ("200", "HTTP/2"), (path, headers)
        assert headers.get("cache-control") == IMMUTABLE_CACHE_CONTROL, (path, headers)
    # Pages are revalidated every time: they are what carries the new names.
    page = _head(base + "/")
    assert page[":status"] == "200" and page["cache-control"] == "no-cache"
    # The plain name keeps working, with a plain name's caching.
    site_css = _head(base + "/static/css/site.css")
    assert site_css[":status"] == "200" and "immutable" not in site_css["cache-control"]
