"""Interrupted and concurrent builds: SIGKILL at any moment, two builds at once.

The site has 1,500 pages and 300 static files, so a build takes a second or
two. Before every attempt its layout links one more stylesheet, so that each
build changes every page *and* the manifest: an output or manifest that mixed
two builds would show.

* ``pushgen build`` runs in a subprocess and is killed with SIGKILL at ten
  moments spread over its run (seeded, so a failure can be replayed). After
  each kill the previous output folder and manifest are byte-identical to what
  they were, ``pushgen check --site`` accepts them and a running ``pushgen
  serve`` answers every page from them; after the last, a normal build cleans
  the stale staging folders and succeeds.
* A parallel build killed while its workers render leaves no process behind
  holding the lock: the next build runs.
* Fault injection kills the build at each file-system step after rendering
  (before the swap, after it, before the state file); whatever is on disk
  afterwards must be the previous build or the new one, never half of each,
  except in the one-syscall window between the output exchange and the
  manifest rename, where each file is whole but from different builds.
* Two builds at once: one is refused with a message naming the other, or they
  run one after the other; the output is never a mix.

The first versions of these tests found two bugs, fixed in 555d69e: forked
render workers kept the build lock after the build was killed, and the
manifest was replaced only after the old output had been deleted.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pushgen.build import build_site
from pushgen.cli import main
from pushgen.config import load_config
from tests.clients import REPO, ServerProcess, h2_get
from tests.sites import SMALL_SITE, write_site

pytestmark = pytest.mark.timeout(300)

PAGES = 1_500
KILLS = 10
SEED = 20_240_605


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def start_build(site: Path, *args: str, script: str | None = None) -> subprocess.Popen[bytes]:
    """``python -m pushgen build SITE ARGS`` (or ``script``) in its own process group."""
    argv = [sys.executable, "-c", script, str(site), *args] if script else [
        sys.executable, "-m", "pushgen", "build", str(site), *args
    ]  # fmt: skip
    return subprocess.Popen(
        argv,
        cwd=REPO,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its workers too can be found (and stopped) by group
    )


def group_members(process: subprocess.Popen[bytes]) -> list[int]:
    """The live processes of the process group of ``process`` (zombies hold nothing: not counted)."""
    return [
        pid
        for pid in map(int, filter(str.isdigit, os.listdir("/proc")))
        if _pgid(pid) == process.pid and not _zombie(pid)
    ]


def _zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # gone
    return stat.rpartition(")")[2].split()[0] in ("Z", "X")


def stop_group(process: subprocess.Popen[bytes]) -> list[int]:
    """SIGKILL whatever is left of the process group of ``process``; the pids that were alive."""
    alive = group_members(process)
    for pid in alive:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return alive


def _pgid(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except (ProcessLookupError, PermissionError):
        return None


# --- the site ------------------------------------------------------------------------------


def make_big_site(root: Path) -> Path:
    files: dict[str, str | bytes] = dict(SMALL_SITE)
    body = "<p>lorem ipsum dolor sit amet</p>" * 40
    for i in range(PAGES):
        files[f"pages/p/{i:04d}.html"] = (
            '{% extends "base.html" %}{% block body %}' + body + f"<p>{i}</p>{{% endblock %}}"
        )
    rng = random.Random(SEED)
    for i in range(300):
        files[f"static/data/{i:03d}.bin"] = rng.randbytes(8_000)
    return write_site(root, files)


def next_round(site: Path, round_: int) -> None:
    """Make the next build differ from the last on every page and in the manifest."""
    (site / "static" / "css" / f"round-{round_}.css").write_text(f"/* {round_} */\n")
    base = site / "templates" / "base.html"
    text = base.read_text(encoding="utf-8")
    link = f'<link rel="stylesheet" href="/static/css/round-{round_}.css">\n'
    base.write_text(text.replace("{% block head %}", link + "{% block head %}", 1))


def snapshot(site: Path) -> dict[str, str]:
    """Every file of the output and the manifest, by relative path -> sha256."""
    out: dict[str, str] = {}
    for folder in (site / "_site",):
        for dirpath, _, filenames in os.walk(folder):
            for name in filenames:
                path = Path(dirpath, name)
                out[str(path.relative_to(site))] = hashlib.sha256(path.read_bytes()).hexdigest()
    out["push-manifest.yaml"] = hashlib.sha256(
        (site / "push-manifest.yaml").read_bytes()
    ).hexdigest()
    return out


def staging_dirs(site: Path) -> list[Path]:
    return sorted(site.glob("._site.staging-*"))


def spare_dirs(site: Path) -> list[Path]:
    return sorted(site.glob("._site.spare-*"))


@pytest.fixture(scope="module")
def big_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = make_big_site(tmp_path_factory.mktemp("interrupted") / "site")
    build_site(load_config(site), jobs=2)
    return site


def usable(
    site: Path, server: ServerProcess | None, rng: random.Random, *, check: bool = True
) -> None:
    """``pushgen check`` accepts the manifest against the output; a server answers pages."""
    if check:
        manifest, output = str(site / "push-manifest.yaml"), str(site / "_site")
        assert main(["check", manifest, "--site", output, "--base-path", "/"]) == 0
    if server is None:
        return
    for route in ("/", f"/p/{rng.randrange(PAGES):04d}.html", "/docs/"):
        exchange = h2_get("127.0.0.1", server.port, route)
        assert exchange.status == 200, route
        file = route[1:] + ("index.html" if route.endswith("/") else "")
        assert exchange.body == (site / "_site" / file).read_bytes(), route
        assert exchange.pushes, route  # the manifest is in service
        for path, pushed in exchange.pushes.items():
            assert pushed.status == 200, (route, path)


# --- SIGKILL at random moments ----------------------------------------------------------------

# Prints how long after start the output swap began, then runs the real build.
_TIMED = """
import sys, time
started = time.monotonic()
import pushgen.build.output as build
swap = build.swap_directory
def timed(staged, target, **kwargs):
    print(f"SWAP {time.monotonic() - started:.3f}", flush=True)
    swap(staged, target, **kwargs)
build.swap_directory = timed
from pushgen.cli import main
sys.exit(main(["build", *sys.argv[1:]]))
"""


def test_sigkill_at_random_moments_leaves_the_previous_build(
    big_site: Path, start_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    site = big_site
    rng = random.Random(SEED)
    server: ServerProcess = start_server(
        site, build_if_stale=False, env={"PUSHGEN_RELOAD_INTERVAL": "0.2"}
    )
    # Calibrate: how long until the output is swapped, in a build that runs to its end.
    next_round(site, 0)
    calibration = start_build(site, "-j", "1", script=_TIMED)
    out, err = calibration.communicate(timeout=120)
    assert calibration.returncode == 0, err.decode()
    swap_at = float(out.decode().split("SWAP ")[1].split()[0])
    assert swap_at > 0.5, "the site builds too fast for kill points to mean anything"
    kills: list[tuple[float, int, str]] = []
    for attempt in range(1, KILLS + 1):
        before = snapshot(site)
        next_round(site, attempt)
        # One point in each tenth of the run up to the swap, at a random place in it.
        at = swap_at * (attempt - 1 + rng.uniform(0.05, 0.95)) / KILLS
        process = start_build(site, "-j", "1")
        time.sleep(at)
        os.kill(process.pid, signal.SIGKILL)  # not reaped yet: the pid is still this build's
        process.wait(timeout=30)
        # A -j1 build's helper processes get their SIGKILL (PR_SET_PDEATHSIG) as the
        # build dies, and die once out of the system call they are in: a moment.
        deadline = time.monotonic() + 10
        while group_members(process) and time.monotonic() < deadline:
            time.sleep(0.02)
        leftover = stop_group(process)
        assert leftover == [], f"kill at {at:.2f}s left processes {leftover}"
        staged = len(staging_dirs(site))
        if snapshot(site) == before:
            outcome = "previous build intact"
        else:
            # A busy machine ran this build faster than the calibration and past its
            # swap: then it must be the whole new build, never a mix.
            outcome = "finished" if process.returncode == 0 else "killed after the swap"
            marker = f"round-{attempt}.css"
            assert marker in (site / "_site" / "p" / "0007.html").read_text(), outcome
            assert main(["build", str(site), "--check", "-j", "1"]) == 0, outcome
        kills.append((at, staged, outcome))
        # Byte-identical files check the same; `pushgen check` (1 s here) runs twice.
        usable(site, server, rng, check=attempt in (1, KILLS))
    capsys.readouterr()
    # A normal build after all that: stale staging folders go, the latest sources win.
    assert main(["build", str(site), "-j", "1"]) == 0
    assert staging_dirs(site) == []
    assert f"round-{KILLS}.css" in (site / "_site" / "p" / "0007.html").read_text()
    assert main(["build", str(site), "--check", "-j", "1"]) == 0
    usable(site, server, rng)
    print(
        f"swap at {swap_at:.2f}s; kills at "
        + ", ".join(f"{at:.2f}s ({outcome}, staging left: {n})" for at, n, outcome in kills)
    )
    assert any(n for _, n, _ in kills), "no kill landed while a staging folder existed"
    # Most kill points come before the swap (the loop above checks every one).
    assert sum(outcome == "previous build intact" for *_, outcome in kills) >= KILLS // 2
    assert not any(
        line for line in server.log().splitlines() if "Traceback" in line or "[ERROR]" in line
    ), server.log()[-3000:]


def test_sigkill_of_a_parallel_build_leaves_no_process_holding_the_lock(big_site: Path) -> None:
    site = big_site
    next_round(site, 100)
    process = start_build(site, "-j", "2", "--full")
    try:
        deadline = time.monotonic() + 30
        # Kill once the workers are rendering: pages appear in the staging folder.
        while not any(d.joinpath("p").is_dir() for d in staging_dirs(site)):
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.01)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        # The workers die by themselves (PR_SET_PDEATHSIG sends them SIGKILL when
        # the build dies). That takes a moment on a busy machine, so wait for it
        # with a generous deadline instead of a fixed 0.5 s; nothing here kills
        # them, so a worker that outlived its build still fails the test.
        deadline = time.monotonic() + 60
        while (alive := group_members(process)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert alive == [], "workers outlived the killed build"
        again = subprocess.run(
            [sys.executable, "-m", "pushgen", "build", str(site), "-j", "1"],
            cwd=REPO, env=_env(), capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        leftover = stop_group(process)
        assert (again.returncode, leftover) == (0, []), again.stderr
    finally:
        stop_group(process)
        # Whatever the outcome, leave the site built for the next test.
        assert main(["build", str(site), "-j", "1"]) == 0


# --- fault injection at each file-system step -----------------------------------------------

_INJECT = """
import os, signal, sys, types
import pushgen.build.output as output
import pushgen.build.pipeline as build
import pushgen.fsutil as fsutil
point = sys.argv[1]
def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)
if point == "before-swap":
    output.swap_directory = die
elif point == "after-exchange":
    # swap_directory exchanges the folders, commits the manifest, then keeps the
    # old folder as the spare (or removes it): die there.
    fsutil._retire = die
elif point == "claiming-spare":
    # The spare is renamed into the staging folder and checked file by file.
    output.claim_spare = die
elif point == "syncing-spare":
    # After the swap: the old output, now the spare, is brought up to the new one.
    output.sync_spare = die
elif point == "before-manifest":
    # The new manifest is staged (written durably) before anything is replaced.
    output.stage_file = die
elif point == "between-exchange-and-rename":
    # The one-syscall window: the output is exchanged, the manifest not yet renamed.
    output.os = types.SimpleNamespace(**{**vars(os), "replace": die})
elif point == "before-state":
    build.save_state = die
from pushgen.cli import main
sys.exit(main(["build", *sys.argv[2:]]))
"""


@pytest.mark.parametrize(
    "point",
    [
        "claiming-spare",
        "before-swap",
        "after-exchange",
        "syncing-spare",
        "before-manifest",
        "between-exchange-and-rename",
        "before-state",
    ],
)
def test_a_kill_at_each_step_leaves_the_old_build_or_the_new_one(
    tmp_path: Path, point: str, capsys: pytest.CaptureFixture[str]
) -> None:
    site = write_site(tmp_path / "site", dict(SMALL_SITE))
    assert main(["build", str(site), "-j", "1"]) == 0
    assert main(["build", str(site), "-j", "1"]) == 0  # keeps a spare of the output
    assert spare_dirs(site)
    old = snapshot(site)
    next_round(site, 1)
    expected_manifest = build_site(load_config(site), write=False, jobs=1).manifest_text
    process = subprocess.run(
        [sys.executable, "-c", _INJECT, point, str(site), "-j", "1"],
        cwd=REPO, env=_env(), capture_output=True, timeout=120, check=False,
    )  # fmt: skip
    assert process.returncode == -signal.SIGKILL, process.stderr.decode()
    now = snapshot(site)
    manifest = (site / "push-manifest.yaml").read_text(encoding="utf-8")
    output_is_new = "round-1.css" in (site / "_site" / "index.html").read_text()
    if now == old:
        outcome = "old"
    elif output_is_new and manifest == expected_manifest:
        outcome = "new"
    else:
        outcome = f"mixed (output {'new' if output_is_new else 'old'}, manifest " + (
            "new)" if manifest == expected_manifest else "old)"
        )
    if point == "between-exchange-and-rename":
        # Two files cannot be replaced in one step: a kill in the window between
        # the two renames leaves the new output with the old manifest, each whole.
        assert outcome == "mixed (output new, manifest old)", outcome
    else:
        assert outcome in ("old", "new"), outcome
    capsys.readouterr()
    # Whatever was left, the next build repairs it and matches a full build.
    assert main(["build", str(site), "-j", "1"]) == 0
    assert staging_dirs(site) == []
    assert len(spare_dirs(site)) <= 1
    incremental = snapshot(site)
    assert main(["build", str(site), "--full", "-j", "1"]) == 0
    assert snapshot(site) == incremental


# --- two builds at once ----------------------------------------------------------------------------


@pytest.fixture
def small_site(tmp_path: Path) -> Iterator[Path]:
    files: dict[str, str | bytes] = dict(SMALL_SITE)
    for i in range(400):
        files[f"pages/p/{i:03d}.html"] = (
            '{% extends "base.html" %}{% block body %}<p>' + str(i) + "</p>{% endblock %}"
        )
    site = write_site(tmp_path / "site", files)
    assert build_site(load_config(site), jobs=1).written
    yield site


def test_a_second_build_is_refused_while_the_first_runs(small_site: Path) -> None:
    site = small_site
    next_round(site, 1)
    first = start_build(site, "-j", "1", "--full")
    deadline = time.monotonic() + 30
    while not staging_dirs(site):
        assert time.monotonic() < deadline and first.poll() is None, "the first build never staged"
        time.sleep(0.005)
    # Held still while the second runs: a fast first build could otherwise end
    # before the second has started, on a busy machine or a quick one.
    os.kill(first.pid, signal.SIGSTOP)
    try:
        second = subprocess.run(
            [sys.executable, "-m", "pushgen", "build", str(site), "-j", "1"],
            cwd=REPO, env=_env(), capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    finally:
        os.kill(first.pid, signal.SIGCONT)
    _, first_err = first.communicate(timeout=60)
    assert first.returncode == 0, first_err.decode()
    assert second.returncode == 1
    assert f"another build is writing {site / '_site'} (pid {first.pid})" in second.stderr
    assert "Traceback" not in second.stderr
    assert main(["build", str(site), "--check", "-j", "1"]) == 0


def test_builds_started_together_never_mix(small_site: Path) -> None:
    site = small_site
    outcomes: list[tuple[int, int]] = []
    for round_ in range(1, 6):
        next_round(site, round_)
        expected_manifest = build_site(load_config(site), write=False, jobs=1).manifest_text
        a = start_build(site, "-j", "1")
        b = start_build(site, "-j", "1")
        a_err, b_err = a.communicate(timeout=120)[1], b.communicate(timeout=120)[1]
        codes = (a.returncode, b.returncode)
        outcomes.append(codes)
        assert codes in ((0, 0), (0, 1), (1, 0)), (a_err.decode(), b_err.decode())
        for code, err in ((a.returncode, a_err), (b.returncode, b_err)):
            if code == 1:
                assert b"another build is writing" in err, err.decode()
        assert (site / "push-manifest.yaml").read_text(encoding="utf-8") == expected_manifest
        assert f"round-{round_}.css" in (site / "_site" / "p" / "399.html").read_text()
        assert staging_dirs(site) == []
    print(f"exit codes of two builds started together: {outcomes}")
