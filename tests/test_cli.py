"""The CLI, called in-process: exit codes, messages, --check."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pushgen.cli import main
from tests.clients import REPO, run_pushgen
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


# --- nothing written where it does not belong ------------------------------------------


def _entries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_a_folder_that_is_not_a_site_is_an_error_and_stays_as_it_was(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "todo.txt").write_text("x\n")
    assert main(["build", str(folder)]) == 1
    err = capsys.readouterr().err
    assert f"error: {folder} is not a pushgen site, so nothing was written there" in err
    assert f"start one with `pushgen init {folder}`" in err
    assert main(["serve", str(folder), "--port", "0"]) == 1
    assert "is not a pushgen site" in capsys.readouterr().err
    assert _entries(folder) == ["todo.txt"]


def test_serving_a_mistyped_folder_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", str(tmp_path / "typo"), "--port", "0"]) == 2
    assert f"site folder {tmp_path / 'typo'} does not exist" in capsys.readouterr().err
    assert _entries(tmp_path) == []


_APP = """\
from quart import Quart

import pushgen.quart

app = pushgen.quart.init_app(
    Quart(__name__), manifest="push-manifest.yaml", manifest_required=False
)


@app.get("/")
async def index():
    return '<link rel="stylesheet" href="/static/site.css"><script src="/static/a.js"></script>'
"""


@pytest.fixture
def app_folder(tmp_path: Path) -> Path:
    """A Quart app's folder with no pushgen.yaml, its manifest built with --app."""
    folder = tmp_path / "app"
    (folder / "static").mkdir(parents=True)
    (folder / "app.py").write_text(_APP)
    (folder / "static" / "site.css").write_text("p { margin: 0 }\n")
    (folder / "static" / "a.js").write_text("1;\n")
    done = run_pushgen(folder, "build", "--app", "app:app")
    assert done.returncode == 0, done.stderr
    return folder


def test_forgetting_app_leaves_the_apps_manifest_and_folder_alone(app_folder: Path) -> None:
    before = (app_folder / "push-manifest.yaml").read_bytes()
    entries = _entries(app_folder)
    done = run_pushgen(app_folder, "build")
    assert done.returncode == 1
    assert (
        f"{app_folder}/app.py holds a Quart app: run `pushgen build --app app:app` there"
        in done.stderr
    ), done.stderr
    assert (app_folder / "push-manifest.yaml").read_bytes() == before
    assert _entries(app_folder) == entries  # no _site, no state files


def test_another_source_does_not_replace_the_routes_without_force(app_folder: Path) -> None:
    # The folder becomes a site too (pages/): its build would replace the app's routes.
    (app_folder / "pages").mkdir()
    (app_folder / "pages" / "index.html").write_text("<p>hello</p>\n")
    before = (app_folder / "push-manifest.yaml").read_text()
    done = run_pushgen(app_folder, "build")
    assert done.returncode == 1
    line = before.splitlines().index(
        next(x for x in before.splitlines() if x.startswith("routes:"))
    )
    assert (
        f"push-manifest.yaml:{line + 1}:1: error: these routes were written by"
        " `pushgen build --app app:app`, another source than `pushgen build`, which would"
        " replace them with its own: run `pushgen build --app app:app` to update them, or give"
        " `pushgen build` --force to replace them"
    ) in done.stderr, done.stderr
    assert (app_folder / "push-manifest.yaml").read_text() == before
    # --check says the same (a source switch, not a diff), and writes nothing.
    done = run_pushgen(app_folder, "build", "--check")
    assert done.returncode == 1 and "another source" in done.stderr and done.stdout == ""
    done = run_pushgen(app_folder, "build", "--force")
    assert done.returncode == 0, done.stderr
    assert "routes:  # written by pushgen build;" in (app_folder / "push-manifest.yaml").read_text()


def test_check_is_up_to_date_whichever_way_the_app_was_named(app_folder: Path) -> None:
    # `app:` in pushgen.yaml: plain `build` and `build --app app:app` render the same app.
    (app_folder / "pushgen.yaml").write_text("app: app:app\n")
    for build, check in ((["--app", "app:app"], []), ([], ["--app", "app:app"])):
        done = run_pushgen(app_folder, "build", *build)
        assert done.returncode == 0, done.stderr
        done = run_pushgen(app_folder, "build", "--check", *check)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "up to date" in done.stderr and done.stdout == ""


def test_ctrl_c_in_build_watch_exits_130(site: Path, tmp_path: Path) -> None:
    log = tmp_path / "watch.log"
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "pushgen", "build", str(site), "--watch"],
            stdout=out, stderr=subprocess.STDOUT, env=env,
            # Ctrl-C's default: a process started with SIGINT ignored keeps ignoring
            # it (Python installs its handler only if SIGINT is not ignored), and
            # the test run may have inherited it ignored (a background job's shell).
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )  # fmt: skip
    try:
        for _ in range(600):  # bounded: 30 s at most
            if "watching" in log.read_text() or process.poll() is not None:
                break
            time.sleep(0.05)
        assert "watching" in log.read_text(), log.read_text()
        process.send_signal(signal.SIGINT)
        try:  # generous: once, in a full run on a loaded machine, 30 s were not enough
            code = process.wait(timeout=90)
        except subprocess.TimeoutExpired:
            pytest.fail(f"no exit 90 s after Ctrl-C; its output:\n{log.read_text()}")
        assert code == 130, log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert "Traceback" not in log.read_text()


def test_trust_cert_prints_the_development_certificate_and_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("PUSHGEN_CAROOT", str(tmp_path / "caroot"))
    assert main(["trust", "cert"]) == 0
    out = capsys.readouterr().out
    folder = tmp_path / "cache" / "pushgen"
    assert out == (
        f"certfile: {folder / 'localhost-cert.pem'}\nkeyfile: {folder / 'localhost-key.pem'}\n"
    )
    assert (folder / "localhost-cert.pem").is_file() and (folder / "localhost-key.pem").is_file()


def test_serve_refuses_an_apps_folder_instead_of_building_pages_over_its_manifest(
    app_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (app_folder / "pushgen.yaml").write_text("app: app:app\n")
    before = (app_folder / "push-manifest.yaml").read_bytes()
    entries = _entries(app_folder)
    assert main(["serve", str(app_folder), "--port", "0"]) == 1
    err = capsys.readouterr().err
    assert "names the Quart app app:app: `pushgen serve` serves a built site, not an app" in err
    assert "`pushgen trust cert`" in err
    assert (app_folder / "push-manifest.yaml").read_bytes() == before
    assert _entries(app_folder) == entries
