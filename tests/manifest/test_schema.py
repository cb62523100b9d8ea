"""The JSON Schema of push manifests: it accepts what the build writes, rejects what the loader does.

Editors validate through it (yaml-language-server, via the modeline the build
writes), so it must agree with ``manifest.py``, the authority.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
import yaml

from pushgen.cli import main
from pushgen.errors import ManifestError
from pushgen.manifest import SCHEMA_NAME, parse_manifest
from pushgen.manifest.schema import SCHEMA_ID, manifest_schema, schema_text
from tests.sites import SMALL_SITE, write_site

EXAMPLE = Path(__file__).resolve().parents[2] / "site_example"
MODELINE = "# yaml-language-server: $schema=push-manifest.schema.json\n"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    schema = manifest_schema()
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def errors(validator: jsonschema.Draft7Validator, text: str) -> list[str]:
    return [error.message for error in validator.iter_errors(yaml.safe_load(text))]


def test_the_schema_is_draft_07_with_an_id() -> None:
    schema = manifest_schema()
    # yaml-language-server validates draft-07 (issue 12 item 6).
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert schema["$id"] == SCHEMA_ID
    assert set(schema["properties"]) == {"version", "rules", "routes"}


def test_pushgen_schema_prints_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    out = capsys.readouterr().out
    assert out == schema_text()
    assert json.loads(out) == manifest_schema()
    assert out == json.dumps(manifest_schema(), indent=2, sort_keys=True) + "\n"


# --- what the build writes is valid -----------------------------------------------------


def test_the_manifest_built_from_small_site_is_valid(
    tmp_path: Path, validator: jsonschema.Draft7Validator
) -> None:
    site = write_site(tmp_path / "site", SMALL_SITE)
    assert main(["build", str(site)]) == 0
    text = (site / "push-manifest.yaml").read_text()
    assert text.startswith(MODELINE)
    assert errors(validator, text) == []
    # The schema file the modeline names is next to the manifest, and is `pushgen schema`.
    assert (site / SCHEMA_NAME).read_text() == schema_text()


def test_the_manifest_built_from_site_example_is_valid(
    tmp_path: Path, validator: jsonschema.Draft7Validator
) -> None:
    site = tmp_path / "example"
    shutil.copytree(EXAMPLE, site, ignore=shutil.ignore_patterns("_site", ".*"))
    (site / "push-manifest.yaml").unlink()  # a fresh manifest, as a new site gets
    assert main(["build", str(site)]) == 0
    text = (site / "push-manifest.yaml").read_text()
    assert text.startswith(MODELINE)
    data = yaml.safe_load(text)
    assert len(data["routes"]) == 6
    assert errors(validator, text) == []
    assert (site / SCHEMA_NAME).read_text() == schema_text()


def test_the_shipped_example_manifest_is_valid(validator: jsonschema.Draft7Validator) -> None:
    text = (EXAMPLE / "push-manifest.yaml").read_text()
    assert errors(validator, text) == []
    parse_manifest(text)


def test_the_schema_file_goes_next_to_a_manifest_kept_elsewhere(tmp_path: Path) -> None:
    site = write_site(tmp_path / "site", SMALL_SITE)
    elsewhere = tmp_path / "deploy" / "push.yaml"
    elsewhere.parent.mkdir()
    assert main(["build", str(site), "-m", str(elsewhere)]) == 0
    assert (elsewhere.parent / SCHEMA_NAME).read_text() == schema_text()
    assert not (site / SCHEMA_NAME).exists()


def test_an_up_to_date_schema_file_is_not_rewritten(tmp_path: Path) -> None:
    site = write_site(tmp_path / "site", SMALL_SITE)
    assert main(["build", str(site)]) == 0
    before = (site / SCHEMA_NAME).stat().st_mtime_ns
    assert main(["build", str(site)]) == 0
    assert (site / SCHEMA_NAME).stat().st_mtime_ns == before
    (site / SCHEMA_NAME).write_text("{}\n")  # stale: replaced
    assert main(["build", str(site)]) == 0
    assert (site / SCHEMA_NAME).read_text() == schema_text()


# --- schema and loader agree --------------------------------------------------------------

HAND_WRITTEN = """\
version: 1
rules:
  - match: /blog/<slug>
    add:
      - {path: /static/css/blog.css, as: style}
      - {path: /static/fonts/f.woff2, as: font, type: font/woff2, crossorigin: anonymous}
      - {path: /static/js/app.js, as: script, module: true, crossorigin: use-credentials}
      - {path: /static/img/cover.png, as: image, push: false, media: "(min-width: 40em)"}
  - match: "/docs/**"
    set:
      - {path: "/static/img/*", hint: false}
      - {path: /static/css/print.css, push: false, media: print, as: style, type: text/css}
    remove: [/static/js/analytics.js, "/static/js/legacy/**"]
  - match: "*"
    policy: {push: [style, font], max_pushes: 4, max_bytes: 100000}
routes:
  /:
    - {path: /static/css/site.css, as: style}
  /empty.html: []
  /nothing.html:
"""

VALID = [
    pytest.param(
        "version: 1\nroutes:\n  /: [{path: /a.css, as: style,"
        " integrity: 'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU= sha512-a_b-?x'}]\n",
        id="integrity",
    ),
    pytest.param(HAND_WRITTEN, id="every-key"),
    pytest.param("version: 1\nrules:\n  - {match: /, remove: [/a.js]}\n", id="rules-only"),
    pytest.param("version: 1\nroutes: {}\n", id="no-routes"),
    pytest.param("routes:\n  /: []\nrules:\n", id="no-version-null-rules"),
]

# Each is wrong in one way; both the schema and the loader must say so.
INVALID = [
    pytest.param(
        "version: 1\nroutes:\n  /: [{path: /a.css, as: style, integrity: sha1-abc}]\n",
        id="integrity-unknown-algorithm",
    ),
    pytest.param(
        "version: 1\nroutes:\n  /: [{path: /a.css, as: style, integrity: 'sha256-a  sha384-b'}]\n",
        id="integrity-two-spaces",
    ),
    pytest.param("version: 2\nroutes: {}\n", id="version"),
    pytest.param("version: 1\nroute: {}\n", id="unknown-top-key"),
    pytest.param("version: 1\nroutes:\n  docs/: []\n", id="route-not-a-path"),
    pytest.param("version: 1\nroutes: [/]\n", id="routes-not-a-mapping"),
    pytest.param("version: 1\nroutes:\n  /: [{path: /a.css}]\n", id="entry-without-as"),
    pytest.param("version: 1\nroutes:\n  /: [{as: style}]\n", id="entry-without-path"),
    pytest.param("version: 1\nroutes:\n  /: [{path: /a.css, as: styel}]\n", id="as"),
    pytest.param("version: 1\nroutes:\n  /: [{path: a.css, as: style}]\n", id="relative-path"),
    pytest.param("version: 1\nroutes:\n  /: [{path: //cdn/a.css, as: style}]\n", id="other-host"),
    pytest.param("version: 1\nroutes:\n  /: [{path: /a b.css, as: style}]\n", id="space"),
    pytest.param(
        "version: 1\nroutes:\n  /: [{path: /a.css, as: style, pusj: true}]\n", id="entry-key"
    ),
    pytest.param(
        "version: 1\nroutes:\n  /: [{path: /a.css, as: style, push: 1}]\n", id="push-not-bool"
    ),
    pytest.param(
        "version: 1\nroutes:\n  /: [{path: /f, as: font, crossorigin: anon}]\n", id="crossorigin"
    ),
    pytest.param("version: 1\nroutes:\n  /: [/a.css]\n", id="bare-path"),
    pytest.param("version: 1\nrules: {match: /}\n", id="rules-not-a-list"),
    pytest.param("version: 1\nrules:\n  - {remove: [/a.js]}\n", id="rule-without-match"),
    pytest.param("version: 1\nrules:\n  - {match: /, remov: [/a.js]}\n", id="rule-key"),
    pytest.param(
        "version: 1\nrules:\n  - {match: /, add: [{path: /a.css}]}\n", id="add-without-as"
    ),
    pytest.param(
        "version: 1\nrules:\n  - {match: /, set: [{push: false}]}\n", id="set-without-path"
    ),
    pytest.param(
        "version: 1\nrules:\n  - {match: /, set: [{path: /a, pushh: false}]}\n", id="set-key"
    ),
    pytest.param("version: 1\nrules:\n  - {match: /, set: [{path: /a, as: css}]}\n", id="set-as"),
    pytest.param("version: 1\nrules:\n  - {match: /, remove: [a.js]}\n", id="remove-relative"),
    pytest.param("version: 1\nrules:\n  - {match: /, remove: /a.js}\n", id="remove-not-a-list"),
    pytest.param(
        "version: 1\nrules:\n  - {match: /, policy: {max_pushes: -1}}\n", id="negative-budget"
    ),
    pytest.param(
        "version: 1\nrules:\n  - {match: /, policy: {max_bytes: 1.5}}\n", id="fractional-budget"
    ),
    pytest.param("version: 1\nrules:\n  - {match: /, policy: {max_push: 1}}\n", id="policy-key"),
    pytest.param(
        "version: 1\nrules:\n  - {match: /, policy: {push: [css]}}\n", id="policy-destination"
    ),
    pytest.param(
        "version: 1\nrules:\n  - {match: /, policy: {push: style}}\n", id="policy-push-not-a-list"
    ),
    pytest.param('version: 1\nroutes:\n  "/a\\nb": []\n', id="control-in-route"),
    pytest.param(
        'version: 1\nrules:\n  - {match: "/x\\r", remove: [/a.js]}\n', id="control-in-match"
    ),
    pytest.param(
        'version: 1\nroutes:\n  /: [{path: /a.css, as: style, media: "a\\u2028"}]\n',
        id="control-in-media",
    ),
    pytest.param(
        'version: 1\nroutes:\n  /: [{path: /a.css, as: style, type: "t\\x85"}]\n',
        id="control-in-type",
    ),
]


@pytest.mark.parametrize("text", VALID)
def test_valid_manifests_pass_both(validator: jsonschema.Draft7Validator, text: str) -> None:
    assert errors(validator, text) == []
    parse_manifest(text)


@pytest.mark.parametrize("text", INVALID)
def test_invalid_manifests_fail_both(validator: jsonschema.Draft7Validator, text: str) -> None:
    assert errors(validator, text) != []
    with pytest.raises(ManifestError):
        parse_manifest(text)


def test_the_schema_describes_every_key_an_editor_completes() -> None:
    schema: dict[str, Any] = manifest_schema()
    entry = schema["properties"]["routes"]["additionalProperties"]["items"]["anyOf"][0]
    rule = schema["properties"]["rules"]["items"]
    assert list(entry["properties"]) == [
        "path",
        "as",
        "type",
        "crossorigin",
        "media",
        "module",
        "push",
        "hint",
        "imagesrcset",
        "imagesizes",
        "fetchpriority",
        "integrity",
    ]
    assert set(rule["properties"]) == {"match", "add", "set", "remove", "policy"}
    assert set(rule["properties"]["policy"]["properties"]) == {
        "push",
        "max_pushes",
        "max_bytes",
        "fonts",
    }
    described = [
        entry["properties"],
        rule["properties"],
        rule["properties"]["policy"]["properties"],
    ]
    missing = [
        key for props in described for key, value in props.items() if "description" not in value
    ]
    assert missing == []


@pytest.mark.parametrize(
    "text",
    [
        "version: 1\nrules:\n  - {match: /, set: [{path: /a.css}]}\n",
        "version: 1\nroutes:\n  /: [{path: /static/../x.css, as: style}]\n",
        "version: 1\nroutes:\n  /: [{path: '/a#b.css', as: style}]\n",
        "version: 1\nrules:\n  - {match: /}\n",
        "version: 1\nrules:\n  - {match: blog/*, remove: [/a.js]}\n",
    ],
    ids=["set-nothing", "dot-dot", "hash", "rule-nothing", "match-relative"],
)
def test_the_schema_rejects_what_the_loader_rejects(
    validator: jsonschema.Draft7Validator, text: str
) -> None:
    with pytest.raises(ManifestError):
        parse_manifest(text)
    assert errors(validator, text) != []
