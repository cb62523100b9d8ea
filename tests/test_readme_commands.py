"""Every command of the README and docs runs as written (issue 23, "The first hour").

Each fenced ``sh`` block of README.md, docs/*.md and examples/*/README.md is run
or carries ``<!-- not run: REASON -->`` (tests/doc_shell.py reads the markers).
The blocks run, as a newcomer types them, in a copy of this checkout (its tracked
and new files, no .venv), with:

- ``.venv/bin`` on PATH, made by the README's own ``scripts/example`` (its real
  ``scripts/setup``: ``python3 -m venv`` and ``pip install -e .`` from the index);
  mkdocs, which the README asks the reader to install, comes from the test venv;
- HOME, PUSHGEN_CAROOT and pip's cache in the test's temporary folder (no XDG_*),
  so ``~/.cache/pushgen``, the NSS database and the local CA are the test's own.

A command that starts a server (``pushgen serve``, ``hypercorn``,
``scripts/example``) is started, asked for ``/`` with nghttp (a 200, Link preload
headers and pushes), then stopped with Ctrl-C. Every other command must exit 0,
and some are checked further (:data:`CHECKS`). The only changes made to a command
are :data:`SUBSTITUTIONS`, each where the README itself says the thing can be chosen.

A block that starts with ``pip install`` (the README's install block, docs/deploy.md's
HTTP/3 one) runs in "the virtualenv you work in": a new one, with pipx installed into
it first, so ``pip install .``, ``pipx install .`` and ``pip install '.[h3]'`` really
install from the package index (about a minute on this machine, with a network).
A block marked ``<!-- run after: COMMANDS -->`` stands on what COMMANDS make (a
``site/`` the docs call yours). The blocks share one copy, in the documents' order.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.clients import free_port, nghttp, wait_for_port
from tests.doc_shell import ROOT, Background, Shell, ShellBlock, documents, shell_blocks

BLOCKS = [block for doc in documents() for block in shell_blocks(doc)]
RUN = [block for block in BLOCKS if block.not_run is None]
_SERVER = re.compile(r"(^|&&\s*)(pushgen serve|hypercorn|scripts/example)\b")
_SERVING = re.compile(r"serving at (https://127\.0\.0\.1:\d+/)")


@dataclass(frozen=True, slots=True)
class Substitution:
    """A change the test makes to a command, and where the docs say it may be made."""

    pattern: str
    replacement: str
    why: str


SUBSTITUTIONS = (
    Substitution(
        r"^scripts/example\b",
        "scripts/example --port 0",
        "README: `scripts/example --port P` serves on another port (0: any free one)",
    ),
    Substitution(
        r"\bpushgen serve\b(?!.*--port)",
        "pushgen serve --port 0",
        "README's Commands: `pushgen serve [--port P]`; docs/deploy.md: `--port 0` any free port",
    ),
    Substitution(
        r"\bhypercorn (\S+)",
        r"hypercorn \1 --bind 127.0.0.1:{port}",
        "README: Hypercorn listens on 127.0.0.1:8000 unless `--bind HOST:PORT` says otherwise",
    ),
    Substitution(
        r"\bpushgen trust install\b(?!.*--no-system)",
        "pushgen trust install --no-system",
        "the test runs as root, where --system would change this machine's own trust store; "
        "the NSS database in the test's HOME is the one browsers read",
    ),
)


def substituted(command: str, port: int) -> str:
    for sub in SUBSTITUTIONS:
        command = re.sub(sub.pattern, sub.replacement.replace("{port}", str(port)), command)
    return command


# After a command matching the pattern, this shell command must exit 0 in the same folder.
CHECKS = (
    (r"^pip install \.\s", "pushgen --help && ! python -c 'import aioquic'"),
    (r"^pipx install \.", "~/.local/bin/pushgen --help"),
    (r"^pushgen init mysite", "test -f mysite/pages/index.html"),
    (r"^pushgen trust install", 'certutil -L -d "sql:$HOME/.pki/nssdb" | grep -q pushgen'),
    (r"^pushgen trust cert", "test -f ~/.cache/pushgen/localhost-cert.pem"),
    (r"pushgen build( --app \S+)?\s*(#|$)", "grep -q '^routes:' push-manifest.yaml"),
    (r"^pushgen build site/?\s*(#|$)", "grep -q '^routes:' site/push-manifest.yaml"),
    (r"^pushgen scan", "grep -q '^routes:' push-manifest.yaml"),
    (r"mkdocs build", "test -f site/index.html"),
    (
        r"^pushgen export .*-o (site/_site/_headers|pushgen-headers\.json)",
        "test -s site/_site/_headers || test -s pushgen-headers.json",
    ),
    (r"^pip install '\.\[h3\]'", "python -c 'import aioquic'"),
    (r"^pushgen export .*-o build/push-manifest\.json", "test -s build/push-manifest.json"),
    (r"^pushgen import .*-o site/push-manifest\.yaml", "grep -q '^rules:' site/push-manifest.yaml"),
)


@pytest.fixture(scope="module")
def newcomer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shell]:
    """A copy of this checkout and a shell in it, as a newcomer's machine has them."""
    top = tmp_path_factory.mktemp("newcomer")
    checkout = top / "pushgen"
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    for name in filter(None, listed):
        if (ROOT / name).is_file():
            (checkout / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, checkout / name)
    tools = top / "tools"  # what the README asks a reader to install besides pushgen
    tools.mkdir()
    (tools / "mkdocs").symlink_to(Path(sys.executable).parent / "mkdocs")
    env = {
        "HOME": str(top / "home"),
        "PUSHGEN_CAROOT": str(top / "caroot"),
        "PIP_CACHE_DIR": str(top / "pip-cache"),
        "PATH": f"{checkout / '.venv' / 'bin'}:{tools}:/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "TERM": "dumb",
    }
    (top / "home").mkdir()
    (top / "scratch").mkdir()
    yield Shell(checkout, checkout, env, top / "scratch")


def _check_server(server: Background, url: str) -> None:
    """nghttp gets ``/``: a 200 with Link preload headers, and pushes."""
    got = nghttp(url)
    assert got.returncode == 0, got.output
    assert re.search(r"recv \(stream_id=\d+\) :status: 200", got.output), got.output
    assert re.search(r"recv \(stream_id=\d+\) link: <[^>]+>; rel=(pre|module)", got.output), (
        got.output
    )
    assert "PUSH_PROMISE" in got.output, got.output


def _serve(shell: Shell, command: str, block: ShellBlock, n: int) -> None:
    port = free_port()
    server = shell.start(substituted(command, port), shell.scratch / f"{block.line}-{n}.log")
    try:
        url = f"https://127.0.0.1:{port}/"
        for _ in range(3000):  # scripts/example installs first: up to 300 s
            found = _SERVING.search(server.log())
            if found or server.process.poll() is not None:
                break
            if "hypercorn" in command and "Running on" in server.log():
                break
            time.sleep(0.1)
        if found := _SERVING.search(server.log()):
            url = found.group(1)
        assert server.process.poll() is None, f"{block.where}: {command}\n{server.log()}"
        wait_for_port("127.0.0.1", int(url.rsplit(":", 1)[1].rstrip("/")))
        server.follow_cd()
        _check_server(server, url)
    finally:
        server.stop()
    assert "Traceback" not in server.log(), server.log()


def run_block(shell: Shell, block: ShellBlock) -> None:
    """Run a block's commands in order, each to exit 0 and its checks; servers started and stopped."""
    shell.cwd = shell.checkout / block.run_in
    if block.after:
        made = shell.run(block.after)
        assert made.returncode == 0, f"{block.where}: `{block.after}`:\n{made.output}"
    for n, command in enumerate(block.commands):
        if _SERVER.search(command):
            _serve(shell, command, block, n)
            continue
        ran = shell.run(substituted(command, 0))
        assert ran.returncode == 0, (
            f"{block.where}: `{command}` exited {ran.returncode}:\n{ran.output}"
        )
        assert "Traceback" not in ran.output, ran.output
        for pattern, check in CHECKS:
            if re.search(pattern, command):
                done = shell.run(check)
                assert done.returncode == 0, (
                    f"{block.where}: after `{command}`: `{check}`:\n{done.output}"
                )


def test_every_sh_block_is_run_or_says_why_not() -> None:
    assert {block.doc for block in RUN} >= {"README.md"}
    unexplained = [block.where for block in BLOCKS if block.not_run == ""]
    assert unexplained == [], "a `<!-- not run: -->` marker needs its reason"
    for block in RUN:
        assert (ROOT / block.run_in).is_dir(), f"{block.where}: no folder {block.run_in}"


def test_substitutions_only_where_the_readme_allows_them() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "scripts/example --port" in readme
    assert "[--port P]" in readme
    assert "--bind" in readme
    assert (
        substituted("cd mysite && pushgen serve   # x", 5)
        == "cd mysite && pushgen serve --port 0   # x"
    )
    assert substituted("hypercorn app:app --certfile c", 5).startswith(
        "hypercorn app:app --bind 127.0.0.1:5 "
    )


@pytest.mark.timeout(900)
@pytest.mark.parametrize("block", RUN, ids=[block.where for block in RUN])
def test_the_block_runs_as_written(newcomer: Shell, block: ShellBlock) -> None:
    if not (newcomer.checkout / ".venv" / "bin" / "pushgen").exists():
        setup = newcomer.run("scripts/setup", timeout=600)  # scripts/example's first half
        assert setup.returncode == 0, setup.output
    if block.commands[0].startswith("pip install"):
        venv = newcomer.scratch / "venv"
        made = newcomer.run(f"python3 -m venv {venv} && {venv}/bin/pip install -q pipx")
        assert made.returncode == 0, made.output
        path = f"{venv}/bin:{newcomer.env['PATH']}"
        shell = Shell(
            newcomer.checkout, newcomer.checkout, {**newcomer.env, "PATH": path}, newcomer.scratch
        )
        run_block(shell, block)
        return
    run_block(newcomer, block)


def test_blocks_are_read_with_their_markers(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text(
        "<!-- not run: a production host -->\n```sh\ndeploy\n```\n\n"
        "1. In a list:\n\n   <!-- run in: examples -->\n   ```sh\n"
        "   # a comment line\n   hypercorn app:app \\\n       --bind x   # trailing\n   ```\n"
        "<!-- run after: pushgen init site -->\n\n```sh\nls site\n```\n```yaml\nnot: sh\n```\n",
        encoding="utf-8",
    )
    blocks = shell_blocks(tmp_path / "README.md", tmp_path)
    assert blocks == [
        ShellBlock("README.md", 2, ("deploy",), not_run="a production host"),
        ShellBlock(
            "README.md", 9, ("hypercorn app:app  --bind x   # trailing",), run_in="examples"
        ),
        ShellBlock("README.md", 16, ("ls site",), after="pushgen init site"),
    ]
