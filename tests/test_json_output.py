"""``--format json`` and ``--format github``: what CI reads, validated against the shipped schema."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
import yaml

from pushgen.cli import main
from pushgen.errors import Diagnostic
from pushgen.outcome import OUTCOME_SCHEMA_ID, outcome_schema, workflow_command
from tests.clients import REPO
from tests.sites import SMALL_SITE, write_site

VALIDATOR = jsonschema.Draft7Validator(outcome_schema())


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = write_site(tmp_path / "site", SMALL_SITE)
    monkeypatch.chdir(root)  # paths in diagnostics are relative to here, as in CI
    return root


def document(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    """Standard output as one JSON document, valid against the schema."""
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.endswith("\n"), out  # one document, one line
    report: dict[str, Any] = json.loads(out)
    VALIDATOR.validate(report)
    return report


def test_the_schema_is_a_valid_draft_7_schema_and_shipped_in_the_package(
    capsys: pytest.CaptureFixture[str],
) -> None:
    jsonschema.Draft7Validator.check_schema(outcome_schema())
    assert outcome_schema()["$id"] == OUTCOME_SCHEMA_ID
    assert (resources.files("pushgen") / "outcome.schema.json").is_file()
    assert main(["schema", "--json-output"]) == 0
    assert json.loads(capsys.readouterr().out) == outcome_schema()


def test_a_build_with_a_warning(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (site / "static" / "css" / "docs.css").write_text('@import "gone.css";\n')
    assert main(["build", "--format", "json"]) == 0
    report = document(capsys)
    assert report["command"] == "build" and report["status"] == "ok" and report["exit_code"] == 0
    assert report["diagnostics"] == [
        {
            "file": "static/css/docs.css",
            "line": 1,
            "column": 0,
            "severity": "warning",
            "code": None,
            "message": "stylesheet /static/css/gone.css is not in the output"
            " (missing file static/css/gone.css) (in 1 page: pages/docs/index.html)",
        }
    ]
    summary = report["summary"]
    assert {k: summary[k] for k in ("pages", "routes", "warnings", "errors")} == {
        "pages": 3,
        "routes": 3,
        "warnings": 1,
        "errors": 0,
    }
    assert report["manifest"] == "push-manifest.yaml" and report["written"] is True
    assert {"read", "render", "resolve", "save"} <= set(report["phases"])
    # Run again: nothing changed, and the document says so.
    assert main(["build", "--json"]) == 0
    again = document(capsys)
    assert again["unchanged"] is True and again["summary"]["warnings"] == 1


def test_check_stale_carries_the_diff(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", "-q"]) == 0
    (site / "static" / "css" / "docs.css").write_text('@import "extra.css";\n')
    (site / "static" / "css" / "extra.css").write_text("p { margin: 0 }\n")
    capsys.readouterr()
    assert main(["build", "--check", "--json"]) == 1
    report = document(capsys)
    assert (report["status"], report["exit_code"], report["written"]) == ("stale", 1, False)
    assert "+    - {path: /static/css/extra.css, as: style}" in report["diff"]
    assert main(["build", "--check", "--json"]) == 1
    capsys.readouterr()
    assert main(["build", "-q"]) == 0 and main(["build", "--check", "--json"]) == 0
    fresh = document(capsys)
    assert (fresh["status"], fresh["diff"]) == ("ok", None)


def test_strict_failure_is_a_document_of_errors(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (site / "static" / "css" / "docs.css").write_text('@import "gone.css";\n')
    assert main(["build", "--strict", "--json"]) == 1
    report = document(capsys)
    assert report["status"] == "failed" and report["written"] is False
    assert [(d["file"], d["line"], d["severity"]) for d in report["diagnostics"]] == [
        ("static/css/docs.css", 1, "error")
    ]
    assert report["summary"] == {"warnings": 0, "errors": 1}


def test_a_bad_config_is_a_located_document(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (site / "pushgen.yaml").write_text("context: {}\noutptu: x\n")
    assert main(["build", "--json"]) == 1
    report = document(capsys)
    assert report["status"] == "failed"
    [diagnostic] = report["diagnostics"]
    assert (diagnostic["file"], diagnostic["line"], diagnostic["column"]) == ("pushgen.yaml", 2, 1)
    assert diagnostic["message"] == "unknown key 'outptu'; did you mean 'output'?"


def test_scan_and_check(site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", "-q"]) == 0
    scanned = tmp_path / "scanned.yaml"
    assert main(["scan", "_site", "-m", str(scanned), "--json"]) == 0
    report = document(capsys)
    assert report["command"] == "scan" and report["summary"]["pages"] == 3
    assert report["written"] is True and scanned.is_file()
    lines = scanned.read_text().splitlines(keepends=True)
    entry = next(
        i for i, line in enumerate(lines) if line.startswith("    - {") and "style" in line
    )
    lines[entry] = lines[entry].replace("as: style", "as: styel")
    scanned.write_text("".join(lines))
    assert main(["check", str(scanned), "--json"]) == 1
    report = document(capsys)
    assert report["command"] == "check" and report["status"] == "errors"
    [error] = [d for d in report["diagnostics"] if d["severity"] == "error"]
    assert error["line"] > 0 and "'styel' is not a Fetch destination" in error["message"]
    assert set(report["summary"]) == {"warnings", "errors"}


def test_an_app_build(tmp_path: Path) -> None:
    # In a process of its own: importing the example app must not leak into this one.
    copy = tmp_path / "quart_app"
    shutil.copytree(
        REPO / "examples" / "quart_app",
        copy,
        ignore=shutil.ignore_patterns("__pycache__", "push-manifest*"),
    )
    done = subprocess.run(
        [sys.executable, "-m", "pushgen", "build", "--json"],
        cwd=copy, capture_output=True, text=True, timeout=120, check=False,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    VALIDATOR.validate(report)
    # The app is pushgen.yaml's (app:), so this is an app build.
    assert report["command"] == "build --app" and report["summary"]["pages"] == 6


def test_github_format_prints_workflow_commands(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (site / "static" / "css" / "docs.css").write_text('@import "gone.css";\n')
    assert main(["build", "--format", "github"]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        "::warning file=static/css/docs.css,line=1,title=pushgen::stylesheet"
        " /static/css/gone.css is not in the output (missing file static/css/gone.css)"
        " (in 1 page: pages/docs/index.html)"
    ]
    assert "warning:" not in captured.err  # said once, as the annotation
    assert re.search(r"^built .*1 warning, 0 errors", captured.err, re.M)


@pytest.mark.parametrize(
    ("diagnostic", "line"),
    [
        (Diagnostic("a.css", 0, 0, "no line"), "::warning file=a.css,title=pushgen::no line"),
        (
            Diagnostic("templates/x, y.html", 3, 7, "100% bad\nsecond line", "error"),
            "::error file=templates/x%2C y.html,line=3,col=7,title=pushgen::100%25 bad%0Asecond line",
        ),
        (
            Diagnostic("GET /a:b", 2, 0, "x: y"),
            "::warning file=GET /a%3Ab,line=2,title=pushgen::x: y",
        ),
        (
            Diagnostic("caf\udce9.html", 1, 0, "m"),
            "::warning file=caf\\xe9.html,line=1,title=pushgen::m",
        ),
    ],
)
def test_workflow_command_escapes(diagnostic: Diagnostic, line: str) -> None:
    assert workflow_command(diagnostic) == line


CI_DOCS = (REPO / "docs" / "ci.md").read_text(encoding="utf-8")


def _block(marker: str) -> str:
    found = re.search(f"<!-- {marker} -->\n```[a-z]*\n(.*?)```", CI_DOCS, re.DOTALL)
    assert found is not None, marker
    return found.group(1)


def test_the_example_document_of_docs_ci_md_is_valid() -> None:
    VALIDATOR.validate(json.loads(_block("report-example")))


def test_the_pushgen_steps_of_the_docs_workflow_run(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    workflow = yaml.safe_load(_block("ci-workflow"))
    steps = workflow["jobs"]["manifest"]["steps"]
    commands = [step["run"] for step in steps if step.get("run", "").startswith("pushgen ")]
    assert len(commands) == 2
    (site / "static" / "css" / "docs.css").write_text('@import "gone.css";\n')
    assert main(["build", "-q"]) == 0
    capsys.readouterr()
    for command in commands:
        words, _, redirect = command.partition(">")
        assert main(shlex.split(words)[1:]) == 0, command
        out = capsys.readouterr().out
        if redirect:
            VALIDATOR.validate(json.loads(out))
        else:
            assert out.startswith("::warning file=static/css/docs.css,line=1,"), out


def test_json_is_one_document_so_no_watch(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", "--json", "--watch"]) == 2
    assert "--format json prints one document: no --watch" in capsys.readouterr().err
