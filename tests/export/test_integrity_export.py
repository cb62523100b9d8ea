"""Subresource Integrity in the exports: every format that writes ``Link`` values
carries ``integrity="..."`` (the runtime's own value, pushgen.links.link_value), and
push_manifest.json, which cannot carry it, leaves such an entry out with a cut."""

from __future__ import annotations

import pytest

from pushgen.export import FORMATS, export_manifest
from pushgen.links import link_value
from pushgen.manifest import Manifest
from pushgen.model import Asset

SHA256 = "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
STYLE = Asset("/css/site.css", "style", crossorigin="anonymous", integrity=SHA256)
SCRIPT = Asset("/js/app.js", "script", push=False, integrity=SHA256)
PLAIN = Asset("/js/plain.js", "script")
MANIFEST = Manifest(routes={"/": (STYLE, SCRIPT, PLAIN)})
LINK_FORMATS = sorted(set(FORMATS) - {"push-manifest"})


@pytest.mark.parametrize("fmt", LINK_FORMATS)
def test_every_link_format_carries_the_integrity(fmt: str) -> None:
    result = export_manifest(MANIFEST, fmt, root="/srv/site")
    assert result.ok and result.cuts == ()
    for asset in (STYLE, SCRIPT):
        value = link_value(asset)
        assert value is not None and f'integrity="{SHA256}"' in value
        # Each format quotes in its own way; the hash and the parameter name get through.
        assert "integrity=" in result.text
        assert result.text.count(SHA256) >= 2, result.text


def test_push_manifest_leaves_out_what_has_integrity_and_says_so() -> None:
    result = export_manifest(MANIFEST, "push-manifest")
    assert result.ok
    assert "/css/site.css" not in result.text
    assert SHA256 not in result.text
    assert "/js/plain.js" in result.text
    cuts = {cut.path: cut.reason for cut in result.cuts}
    assert "integrity" in cuts["/css/site.css"]
    assert "hint only" in cuts["/js/app.js"]  # not pushed: the format lists pushes only
