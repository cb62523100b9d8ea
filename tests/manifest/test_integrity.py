"""The manifest's ``integrity`` key: written, read back, validated with a located error."""

from __future__ import annotations

import pytest

from pushgen.errors import ManifestError
from pushgen.manifest import Manifest, dump_manifest, parse_manifest
from pushgen.model import Asset

SHA256 = "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
SHA384 = "sha384-OLBgp1GsljhM2TJ+sbHjaiH9txEUvgdDTAzHv2P24donTt6/529l+9Ua0vFImLlb"


def test_integrity_round_trips_through_the_writer_and_the_loader() -> None:
    manifest = Manifest(
        routes={
            "/": (
                Asset("/css/site.css", "style", crossorigin="anonymous", integrity=SHA256),
                Asset("/js/app.js", "script", module=True, integrity=f"{SHA256} {SHA384}"),
                Asset("/js/plain.js", "script"),
            )
        }
    )
    text = dump_manifest(manifest)
    assert f"integrity: {SHA256}" in text or f'integrity: "{SHA256}"' in text
    assert parse_manifest(text).routes == manifest.routes


def test_a_rule_can_set_integrity() -> None:
    text = (
        "version: 1\n"
        "rules:\n"
        f"  - {{match: /, set: [{{path: /a.css, integrity: {SHA384}}}]}}\n"
        "routes:\n"
        f"  /: [{{path: /a.css, as: style, integrity: {SHA256}}}]\n"
    )
    assert parse_manifest(text).assets("/")[0].integrity == SHA384


@pytest.mark.parametrize(
    "entry",
    [
        pytest.param("{path: /a.css, as: style, integrity: md5-abc}", id="unknown-algorithm"),
        pytest.param("{path: /a.css, as: style, integrity: sha256}", id="no-hash"),
        pytest.param("{path: /a.css, as: style, integrity: 'sha256-a, sha384-b'}", id="comma"),
        pytest.param("{path: /a.css, as: style, integrity: ''}", id="empty"),
        pytest.param("{path: /a.css, as: style, integrity: 12}", id="not-a-string"),
    ],
)
def test_a_bad_integrity_is_a_located_error(entry: str) -> None:
    text = f"version: 1\nroutes:\n  /:\n    - {entry}\n"
    # The error points at the value: the column after "integrity: " on line 4.
    column = len("    - ") + entry.index("integrity: ") + len("integrity: ") + 1
    with pytest.raises(ManifestError) as info:
        parse_manifest(text, "m.yaml")
    [diagnostic] = info.value.diagnostics
    assert (diagnostic.file, diagnostic.line, diagnostic.column) == ("m.yaml", 4, column)
    assert "integrity" in diagnostic.message


def test_a_bad_integrity_in_a_rule_is_a_located_error() -> None:
    text = "version: 1\nrules:\n  - {match: /, set: [{path: /a.css, integrity: sha1-x}]}\n"
    with pytest.raises(ManifestError) as info:
        parse_manifest(text, "m.yaml")
    [diagnostic] = info.value.diagnostics
    assert diagnostic.line == 3
    assert "SRI metadata" in diagnostic.message
