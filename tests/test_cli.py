"""The CLI, called in-process: exit codes, messages, --check."""

from __future__ import annotations

from pathlib import Path

import pytest

from pushgen.cli import main
from tests.sites import SMALL_SITE, write_site


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return write_site(tmp_path / "site", SMALL_SITE)


def test_build_prints_a_one_line_summary(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", str(site)]) == 0
    err = capsys.readouterr().err
    assert "3 pages, " in err and " routes, 0 warnings, 0 errors in " in err
    assert (site / "push-manifest.yaml").is_file()


def test_output_and_manifest_options(site: Path, tmp_path: Path) -> None:
    assert (
        main(["build", str(site), "-o", str(tmp_path / "out"), "-m", str(tmp_path / "m.yaml")]) == 0
    )
    assert (tmp_path / "out" / "index.html").is_file()
    assert (tmp_path / "m.yaml").read_text().count("/static/css/site.css") == 3


def test_check_passes_when_fresh_and_fails_with_a_diff_when_stale(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["build", str(site)]) == 0
    assert main(["build", str(site), "--check"]) == 0
    capsys.readouterr()
    (site / "static" / "css" / "docs.css").write_text('@import "extra.css";\n')
    (site / "static" / "css" / "extra.css").write_text("p { margin: 0 }\n")
    assert main(["build", str(site), "--check"]) == 1
    captured = capsys.readouterr()
    assert "+    - {path: /static/css/extra.css, as: style}" in captured.out
    assert "stale:" in captured.err
    assert "extra.css" not in (site / "push-manifest.yaml").read_text()  # --check writes nothing


def test_strict_turns_warnings_into_exit_1(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (site / "static" / "css" / "docs.css").write_text('@import "gone.css";\n')
    assert main(["build", str(site)]) == 0
    assert main(["build", str(site), "--strict"]) == 1
    err = capsys.readouterr().err
    assert "static/css/docs.css:1: error:" in err and "previous output left as it was" in err


def test_bad_config_is_exit_1_with_the_line(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (site / "pushgen.yaml").write_text("context: {}\noutptu: x\n")
    assert main(["build", str(site)]) == 1
    assert (
        "pushgen.yaml:2:1: unknown key 'outptu'; did you mean 'output'?" in capsys.readouterr().err
    )


def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", "--no-such-flag"]) == 2
    assert main(["build", str(tmp_path / "missing")]) == 2
    assert main(["frobnicate"]) == 2


def test_serve_early_hints_delay_must_be_a_number_of_seconds(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["serve", "--early-hints-delay", "-1"]) == 2
    assert main(["serve", "--early-hints-delay", "2ms"]) == 2
    assert "--early-hints-delay" in capsys.readouterr().err


def test_serve_help_gives_the_early_hints_delay_default(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from pushgen.app import DEFAULT_EARLY_HINTS_DELAY

    assert main(["serve", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "--early-hints-delay SECONDS" in out
    assert "0 sends a 103 on every page at once" in out
    assert f"or {DEFAULT_EARLY_HINTS_DELAY:g}]" in out
