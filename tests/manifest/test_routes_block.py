"""A routes block read by its lines (routes_block.py) takes only what the loader takes.

The compiled form and ``pushgen merge`` read a block whose checksum holds by its
lines instead of as YAML; a route key the loader refuses (not a path, a control
character) must send them to the YAML, which says where it is wrong, never into a
compiled manifest or a merged one.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pushgen.errors import ManifestError
from pushgen.manifest import Manifest, dump_manifest, parse_manifest
from pushgen.manifest.compiled import compiled_path, read_manifest, write_compiled
from pushgen.manifest.routes_block import read_routes_block
from pushgen.model import Asset

STYLE = Asset("/static/css/site.css", "style")


@pytest.mark.parametrize(
    ("route", "said"),
    [
        ("1abc", "route '1abc' must be a URL path starting with '/'"),
        ("/a\x01b", "holds a control character (U+0001)"),
    ],
)
def test_a_route_the_loader_refuses_is_not_compiled(tmp_path: Path, route: str, said: str) -> None:
    # The writer writes any route it is given (quoted), and signs the block.
    text = dump_manifest(Manifest(routes={"/": (STYLE,), route: (STYLE,)}))
    path = tmp_path / "push-manifest.yaml"
    path.write_text(text, encoding="utf-8")
    assert read_routes_block(text, str(path)) is None
    assert not write_compiled(path, text)
    assert not compiled_path(path).exists()
    with pytest.raises(ManifestError) as raised:
        read_manifest(path)
    [error] = raised.value.diagnostics
    assert said in error.message
    assert error.line == len(text.splitlines()) - 1  # the key line of the last route


def test_the_writers_keys_are_read_as_their_routes(tmp_path: Path) -> None:
    routes = {
        r: (STYLE,) for r in ("/", "/a b/", "/café/", "/search?q=1", "/yes", "/e6", "/x#y", '/"q"/')
    }
    text = dump_manifest(Manifest(routes=routes))
    block = read_routes_block(text, "m.yaml")
    assert block is not None
    assert block.keys == sorted(routes)
    assert block.keys == list(parse_manifest(text, "m.yaml").routes)
