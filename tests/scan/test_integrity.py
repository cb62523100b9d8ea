"""Subresource Integrity in the scan: the element's ``integrity`` reaches its reference
as the browser reads it (pushgen.model.integrity_metadata), so that a hint can carry it."""

from __future__ import annotations

import pytest

from pushgen.model import integrity_metadata, integrity_problem
from pushgen.scan.html import scan_html
from pushgen.urls import document_url

PAGE = document_url("/index.html")
SHA256 = "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
SHA384 = "sha384-OLBgp1GsljhM2TJ+sbHjaiH9txEUvgdDTAzHv2P24donTt6/529l+9Ua0vFImLlb"


def integrities(html: str) -> list[tuple[str, str, str | None]]:
    result = scan_html(html.encode(), PAGE, filename="index.html")
    assert result.diagnostics == ()
    return [(ref.path, ref.kind, ref.integrity) for ref in result.references]


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        pytest.param(
            f'<link rel=stylesheet href=/a.css integrity="{SHA256}" crossorigin=anonymous>',
            [("/a.css", "stylesheet", SHA256)],
            id="stylesheet",
        ),
        pytest.param(
            f'<script src=/a.js integrity="{SHA256}"></script>',
            [("/a.js", "script", SHA256)],
            id="classic-script",
        ),
        pytest.param(
            f'<script type=module src=/m.js integrity="{SHA384}"></script>',
            [("/m.js", "script", SHA384)],
            id="module-script",
        ),
        pytest.param(
            f'<link rel=modulepreload href=/m.js integrity="{SHA256}">'
            f'<link rel=preload as=script href=/p.js integrity="{SHA256}">',
            [("/m.js", "modulepreload", SHA256), ("/p.js", "preload", SHA256)],
            id="preloads",
        ),
        pytest.param(
            f'<link rel=stylesheet href=/a.css integrity="\n  {SHA256}\t {SHA384}  ">',
            [("/a.css", "stylesheet", f"{SHA256} {SHA384}")],
            id="several-hashes-in-one-line",
        ),
        pytest.param(
            f'<script src=/a.js integrity="md5-AAAA {SHA256}?opt not-a-hash"></script>',
            [("/a.js", "script", f"{SHA256}?opt")],
            id="unknown-algorithms-ignored-as-browsers-do",
        ),
        pytest.param(
            '<script src=/a.js integrity="md5-AAAA"></script><script src=/b.js integrity></script>',
            [("/a.js", "script", None), ("/b.js", "script", None)],
            id="nothing-valid-is-no-integrity",
        ),
        pytest.param(
            f'<link rel=icon href=/i.png integrity="{SHA256}"><img src=/x.png integrity="{SHA256}">',
            [("/i.png", "icon", None), ("/x.png", "image", None)],
            id="not-on-icons-and-images",
        ),
    ],
)
def test_integrity_reaches_the_reference(
    html: str, expected: list[tuple[str, str, str | None]]
) -> None:
    assert integrities(html) == expected


def test_integrity_metadata_keeps_what_a_browser_keeps() -> None:
    assert integrity_metadata(None) is None
    assert integrity_metadata("  ") is None
    assert integrity_metadata(f"sha1-abc {SHA256}") == SHA256


@pytest.mark.parametrize(
    "value",
    [SHA256, f"{SHA256} {SHA384}", "sha512-abc_-=", f"{SHA256}?x"],
)
def test_valid_manifest_integrity(value: str) -> None:
    assert integrity_problem(value) is None


@pytest.mark.parametrize(
    "value",
    ["", "sha1-abc", "sha256", "sha256-", f"{SHA256}  {SHA384}", "md5-abc", "sha256-a b"],
)
def test_invalid_manifest_integrity(value: str) -> None:
    problem = integrity_problem(value)
    assert problem is not None and "SRI metadata" in problem
