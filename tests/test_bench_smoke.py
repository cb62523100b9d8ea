"""The benchmarks stay importable, and the latency proxy they rely on really delays.

The proxy is run for real between a client and a TCP echo server on 127.0.0.1.
Its one promise is behavioural: nothing crosses it in less than the delay, and
what crosses arrives intact and in order. There is no upper bound on time here
(no timed assertions in tests); how fast things go is the benchmarks' business.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

from pushgen.asgi import PushgenMiddleware
from pushgen.config import load_config
from tests.clients import REPO

pytestmark = pytest.mark.anyio

BENCH = REPO / "bench"
DELAY = 0.05


def load(name: str) -> ModuleType:
    """Import ``bench/NAME.py`` (bench/ is a folder of scripts, not a package)."""
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))  # as when run as `python bench/NAME.py`
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being made
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "name",
    [
        "latency_proxy",
        "pageload_bench",
        "runtime_bench",
        "build_bench",
        "incremental_bench",
        "scale_bench",
        "profile_build",
        "browser_bench",
        "app_bench",
        "scan_bench",
        "compress_bench",
        "push_cache_bench",
        "rules_bench",
        "url_bench",
        "slow_start_proxy",
        "push_budget_bench",
        "script_fetch_bench",
        "precision_browser",
        "trace_bench",
        "siblings_bench",
        "same_outputs",
        "generators_bench",
        "push_default_bench",
        "asgi_bench",
        "runtime_scale_bench",
    ],
)
def test_benchmark_modules_import_and_have_a_main(name: str) -> None:
    module = load(name)
    assert callable(module.main)
    assert module.__doc__


def test_asgi_bench_times_each_app_in_process() -> None:
    bench = load("asgi_bench")
    times = bench.in_process(1, requests=20)
    assert set(times) == set(bench.IN_PROCESS)
    rows = bench.in_process_table(times).splitlines()[2:]
    assert [row.split(" | ")[0].lstrip("| ") for row in rows] == list(bench.IN_PROCESS)


def test_asgi_bench_pairs_give_the_median_ratio_and_every_pair() -> None:
    bench = load("asgi_bench")
    run = load("h2load_runs").Run
    pairs = [
        bench.Pair(run(1000.0, 500.0, 0.0), run(wrapped, cpu, 1.0), index % 2 == 0)
        for index, (wrapped, cpu) in enumerate([(900.0, 550.0), (1000.0, 500.0), (1100.0, 450.0)])
    ]
    text = bench.paired_table({"page": pairs})
    summary = text.splitlines()[2]
    # Ratios 0.9, 1.0, 1.1 (req/s) and 1.1, 1.0, 0.9 (CPU): medians 1.000 with their spread.
    assert summary.startswith("| page | 3 | 1.000 (IQR 0.950-1.050, 0.900-1.100) | 1.000 ")
    assert "| page | 1 | bare | 1000 | 900 | 0.900 | 500 | 550 | 1.100 |" in text
    assert "| page | 2 | wrapped | 1000 | 1000 | 1.000 |" in text


def test_asgi_bench_counts_the_calls_the_middleware_adds() -> None:
    bench = load("asgi_bench")
    counts = bench.calls_per_request(requests=20)
    assert list(counts) == list(bench.COUNTED)
    bare, wrapped = counts.values()
    assert bare > 0 and wrapped > bare
    assert bench.calls_table(counts).splitlines()[2].endswith(" | +0 |")


def test_h2load_runs_pins_every_thread_of_a_server_to_its_cpu() -> None:
    runs = load("h2load_runs")
    cpus = runs.cpus_apart()
    if cpus is None:
        pytest.skip("one CPU, or no taskset: the benchmarks run unpinned")
    assert cpus.server != cpus.client
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    )
    try:
        runs.pin(child.pid, cpus.server)
        tasks = list(Path(f"/proc/{child.pid}/task").iterdir())
        assert tasks and all(os.sched_getaffinity(int(t.name)) == {cpus.server} for t in tasks)
    finally:
        child.communicate(b"")
    assert runs.pinning(cpus) == f"servers on CPU {cpus.server}, h2load on CPU {cpus.client}"


def test_asgi_bench_sets_by_hand_the_link_field_the_middleware_sends(tmp_path: Path) -> None:
    # The minimal repro must carry the same bytes as the middleware's Link only.
    bench = load("asgi_bench")
    site = bench.make_site(tmp_path / "site")
    link = bench.link_field(site)
    config = load_config(site)

    async def app(scope: object, receive: object, send: object) -> None:
        raise AssertionError("not called")

    middleware = PushgenMiddleware(app, manifest=config.manifest, environ={})
    plan = middleware.state.table.lookup("/")
    assert plan is not None and link.encode("latin-1") == plan.link_field
    assert link.startswith("</static/css/site.css>; rel=preload; as=style")
    times = bench.in_process(1, requests=5)
    assert "bare Starlette + Link by hand" in times


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while data := await reader.read(65536):
        writer.write(data)
        await writer.drain()
    writer.close()


async def test_latency_proxy_delays_each_direction_and_keeps_bytes_in_order() -> None:
    proxy_module = load("latency_proxy")
    echo = await asyncio.start_server(_echo, "127.0.0.1", 0)
    port = echo.sockets[0].getsockname()[1]
    try:
        async with proxy_module.LatencyProxy(("127.0.0.1", port), DELAY) as proxy:
            reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
            # One small message: out and back costs two one-way delays.
            started = time.monotonic()
            writer.write(b"ping")
            await writer.drain()
            assert await asyncio.wait_for(reader.readexactly(4), 10) == b"ping"
            assert time.monotonic() - started >= 2 * DELAY

            # Many chunks, sent while earlier ones are still on the line: every
            # byte comes back, in the order sent, and none sooner than 2 * DELAY.
            chunks = [bytes([i]) * (1000 + 7919 * i % 5000) for i in range(20)]
            started = time.monotonic()
            for chunk in chunks:
                writer.write(chunk)
                await writer.drain()
                await asyncio.sleep(0.002)
            total = sum(map(len, chunks))
            assert await asyncio.wait_for(reader.readexactly(total), 10) == b"".join(chunks)
            assert time.monotonic() - started >= 2 * DELAY

            # End of stream travels the line too, and the echo server closes back.
            writer.write_eof()
            assert await asyncio.wait_for(reader.read(), 10) == b""
            writer.close()
    finally:
        echo.close()
        await echo.wait_closed()


async def test_latency_proxy_close_cuts_open_connections() -> None:
    proxy_module = load("latency_proxy")
    echo = await asyncio.start_server(_echo, "127.0.0.1", 0)
    port = echo.sockets[0].getsockname()[1]
    try:
        proxy = proxy_module.LatencyProxy(("127.0.0.1", port), DELAY)
        await proxy.start()
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        writer.write(b"in flight")
        await writer.drain()
        await asyncio.wait_for(proxy.close(), 10)
        # The client sees the connection end instead of hanging.
        assert await asyncio.wait_for(reader.read(), 10) in (b"", b"in flight")
        writer.close()
    finally:
        echo.close()
        await echo.wait_closed()


def test_link_header_parsing_finds_preloads() -> None:
    pageload = load("pageload_bench")
    value = (
        '</a.css>; rel=preload; as=style, </f.woff2>; rel="preload"; as=font; '
        'type="font/woff2"; crossorigin, </m.js>; rel=modulepreload, '
        '<https://cdn.example>; rel=preconnect, </p.css>; rel=preload; as=style; media="a, b"'
    )
    assert pageload.preload_targets(value) == ["/a.css", "/f.woff2", "/m.js", "/p.css"]


@pytest.mark.timeout(300)
@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="needs Debian's chromium")
def test_browser_bench_runs_one_tiny_round() -> None:
    """Chromium through the delay line: every counted load measured, nothing fetched twice."""
    pytest.importorskip("playwright.sync_api", reason="needs playwright (pip)")
    bench = load("browser_bench")
    scenarios = [s for s in bench.SCENARIOS if s.key in ("none", "103")]
    samples = bench.run(5.0, 1, scenarios)
    assert set(samples) == {"none", "103"}
    for key, sample in samples.items():
        [page_load] = sample.loads
        assert all(value is not None for value in page_load.timings.values()), (key, page_load)
        assert page_load.fetches >= 10, (key, page_load)
        # A trusted certificate: a 103 preload is used, never fetched again.
        assert page_load.duplicates == [], (key, page_load.duplicates)
        # font-display: block in the bench's copy: the text paints in its web font.
        assert page_load.timings["text"] >= page_load.timings["font"], (key, page_load)
    text = bench.report(samples, 5.0)
    assert "| static, no hints |" in text and "| static, 103 Early Hints only |" in text


def test_browser_bench_checks_the_default_goal_in_every_run() -> None:
    """The goal: no slower than h2o in every run and within 0.05 RTT of the best variant."""
    bench = load("browser_bench")

    def samples(*texts: float) -> object:
        timings = {"text": None, "fcp": None, "css": None, "font": None, "module": None}
        loads = [bench.Load({**timings, "text": t}, 0.0, [], [], True, 0, 16) for t in texts]
        return bench.Samples(loads)

    # RTT 100 ms. Run 1: 103 at once best, ahead of h2o; run 2: 0.15 RTT behind h2o.
    runs = [
        bench.Run({"at-once": samples(400, 410), "h2o": samples(400, 420)}, "1.0", "1.5"),
        bench.Run({"at-once": samples(500, 520), "h2o": samples(490, 500)}, "1.5", "2.0"),
    ]
    goal = bench.goal_report(runs, 50.0)
    assert "103 at once: against h2o -0.05, +0.15 RTT" in goal, goal
    assert "behind the best 0.00, 0.15 RTT; goal met in 1 of 2 runs" in goal, goal
    table = bench.runs_table(runs, 50.0)
    assert "| run 1 (load 1.0-1.5) | run 2 (load 1.5-2.0) |" in table, table
    assert "| static, pushgen serve, 103 at once | 4.05 (4.00-4.10) | 5.10 (5.00-5.20) |" in table


def test_every_site_shape_builds_and_finds_its_assets(tmp_path: Path) -> None:
    """The build benchmarks' generated sites build without a warning, each with its assets."""
    from pushgen.build import build_site
    from pushgen.config import load_config

    shapes = load("shapes")
    assert {"default", "small", "large", "deep", "css", "modules"} <= set(shapes.SHAPES)
    for name, make in shapes.SHAPES.items():
        site = make(tmp_path / name, 30)
        result = build_site(load_config(site), jobs=1)
        assert result.pages and not result.diagnostics, name
        assert result.asset_count >= 1, name


def test_build_bench_shapes_table_has_every_run(tmp_path: Path) -> None:
    bench = load("build_bench")
    doc = tmp_path / "performance.md"
    assert (
        bench.main(["--shape", "deep", "--pages", "20", "--rounds", "1", "--markdown", str(doc)])
        == 0
    )
    text = doc.read_text()
    for run in ("floor", "render+parse", "one core", "build -j1", "build -j2", "default"):
        assert f"| deep | 20 | {run} |" in text
    assert "<!-- build_shapes:begin -->" in text


def test_build_bench_times_only_the_named_runs_of_each_named_shape(tmp_path: Path) -> None:
    # Issue 27's goals name two runs (one core, two cores) at 10,000 pages: the
    # bench times those beside the floor alone, for several shapes in one table.
    bench = load("build_bench")
    doc = tmp_path / "performance.md"
    argv = ["--shape", "small", "css", "--pages", "15", "--rounds", "1"]
    argv += ["--runs", "one core", "build -j2", "--markdown", str(doc)]
    assert bench.main(argv) == 0
    text = doc.read_text()
    rows = [line.split(" | ")[:3] for line in text.splitlines() if line.startswith("| ")]
    assert [row for row in rows if row[1] == "15"] == [
        [f"| {shape}", "15", run]
        for shape in ("small", "css")
        for run in ("floor", "one core", "build -j2")
    ]
    assert '--shape small css --pages 15 --rounds 1 --runs "one core" "build -j2"' in text
    assert re.search(r"load average \d+\.\d\d before, \d+\.\d\d after", text)


def test_build_bench_floor_writes_every_page_and_copies_the_static_files(tmp_path: Path) -> None:
    bench = load("build_bench")
    site = load("shapes").SHAPES["default"](tmp_path / "site", 12)
    bench.floor(site)
    out = bench.floor_output(site)
    pages = sorted(p.relative_to(site / "pages") for p in (site / "pages").rglob("*.html"))
    assert sorted(p.relative_to(out) for p in out.rglob("*.html")) == pages
    static = sorted(p.relative_to(site) for p in (site / "static").rglob("*") if p.is_file())
    assert all((out / rel).is_file() for rel in static) and static


def test_profile_build_breaks_the_build_into_its_phases(tmp_path: Path) -> None:
    bench = load("profile_build")
    doc = tmp_path / "performance.md"
    assert bench.main(["--pages", "20", "--rounds", "1", "--markdown", str(doc)]) == 0
    text = doc.read_text()
    for row in ("start-up and imports", "render", "resolve", "manifest", "save", "jinja2 render"):
        assert f"| {row}" in text or f"|   one process: {row}" in text, row


def test_profile_build_splits_the_build_over_the_floor_by_what_the_code_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bench = load("profile_build")
    argv = ["--pages", "15", "--shape", "default", "--jobs", "1", "--against-floor"]
    assert bench.main(argv) == 0
    rows = {
        cells[0]: [float(cell.rstrip("%")) for cell in cells[1:4]]
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("| ") and not line.startswith("| where")
        for cells in [[cell.strip() for cell in line.strip("|").split("|")]]
    }
    assert set(rows) == {group for group, _ in bench.GROUPS} | {bench.OTHER} | {
        next(name for name in rows if name.startswith("total (x floor "))
    }
    # Both render with Jinja2 and parse every sheet with tinycss2; only the build
    # scans (its compression runs in a forked helper unless the process is pinned).
    for both in ("Jinja2 (render, compile)", "tinycss2"):
        assert rows[both][0] > 0 and rows[both][1] > 0, both
    scan = rows["pushgen's HTML and CSS scan"]
    assert scan[1] > scan[0]


@pytest.mark.timeout(300)
def test_scale_bench_builds_in_a_child_and_reports_memory(tmp_path: Path) -> None:
    bench = load("scale_bench")
    doc = tmp_path / "performance.md"
    assert bench.main(["--pages", "40", "--shape", "small", "--markdown", str(doc)]) == 0
    rows = [line for line in doc.read_text().splitlines() if line.startswith("| 40 |")]
    kinds = ["full build", "one page", "no change", "one page, spare"]
    assert [row.split(" | ")[1] for row in rows] == kinds
    # One page edited: one rendered; nothing edited: none.
    assert [row.split(" | ")[9] for row in rows] == ["40", "1", "0", "1"]


def test_the_slow_start_window_sends_ten_segments_then_doubles_per_round_trip() -> None:
    window = load("slow_start_proxy").Window(rtt=0.1, bytes_per_second=1e12)
    mss = 1448
    leaves = [round(window.send(0.0, mss), 6) for _ in range(10 + 20 + 1)]
    assert leaves[:10] == [0.0] * 10  # the initial window (RFC 6928), at once
    assert set(leaves[10:30]) == {0.1}  # acknowledged: twice as many
    assert leaves[30] == 0.2


def test_the_slow_start_window_spaces_segments_by_the_bandwidth() -> None:
    window = load("slow_start_proxy").Window(rtt=0.1, bytes_per_second=1000.0)
    assert [window.send(0.0, 500) for _ in range(3)] == [0.0, 0.5, 1.0]


def test_trace_bench_compares_both_tracings_on_a_tiny_site(
    capsys: pytest.CaptureFixture[str],
) -> None:
    bench = load("trace_bench")
    assert bench.main(["--pages", "20", "--rounds", "1", "--shapes", "css"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| css |")]
    assert len(rows) == 1
    traced = int(rows[0].split("|")[2])
    assert traced > 0


@pytest.mark.timeout(600)
def test_same_outputs_finds_the_current_tree_the_same_as_itself(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bench = load("same_outputs")
    argv = ["--old", str(REPO), "--new", str(REPO), "--only", "site_example"]
    assert bench.main([*argv, "--work", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1].endswith(" comparisons, 0 DIFFERENT"), lines
    assert lines[:-1] and all(line.startswith("same ") for line in lines[:-1]), lines
    compared = "\n".join(lines)
    for what in (
        "pushgen build site_example -j 1 (exit 0, stdout, stderr)",
        "site_example: manifest (site_example/push-manifest.yaml)",
        "site_example: schema (site_example/push-manifest.schema.json)",
        "site_example: output (site_example/_site/), ",
        "site_example: export nginx (exports/site_example.nginx)",
    ):
        assert f"same       {what}" in compared, what


def test_same_outputs_names_the_first_difference() -> None:
    bench = load("same_outputs")
    argv = ("build", "site_example")
    old = bench.Outcome(
        ("json",),
        (bench.Run(argv, 0, b"built\n", b"a\nb\n"),),
        {"site_example/_site/a.html": b"x", "site_example/_site/b.html": b"1\n2\n"},
    )
    new = bench.Outcome(
        ("json",),
        (bench.Run(argv, 0, b"built\n", b"a\nc\n"),),
        {"site_example/_site/a.html": b"x", "site_example/_site/b.html": b"1\n3\n"},
    )
    lines = [c.line() for c in bench.compare(old, new, bench.CASES)]
    assert lines == [
        "same       export formats (json)",
        "DIFFERENT  pushgen build site_example (exit 0, stdout, stderr): standard error, "
        "line 2: b'b' -> b'c'",
        "DIFFERENT  site_example: output (site_example/_site/), 2 files: "
        "site_example/_site/b.html: line 2: b'2' -> b'3'",
    ]


def test_same_outputs_normalises_durations_heartbeats_and_spare_tokens() -> None:
    normalised = load("same_outputs")._normalised(
        b"render: 700/1000 pages ...\nrender: 1000 pages in 3.21s\n"
        b"kept ._site.spare-0123456789abcdef\n"
    )
    assert normalised == b"render: 1000 pages in <time>\nkept ._site.spare-<token>\n"


def test_incremental_bench_reports_each_rebuild_against_the_full_build_and_a_stat(
    tmp_path: Path,
) -> None:
    bench = load("incremental_bench")
    doc = tmp_path / "performance.md"
    assert bench.main(["--pages", "12", "--rounds", "1", "--markdown", str(doc)]) == 0
    rows = {
        row.split(" | ")[1]: row.split(" | ")
        for row in doc.read_text().splitlines()
        if row.startswith("| 12 |")
    }
    assert list(rows) == list(bench.KINDS)
    # rendered, resolved, traced: nothing for no change; none traced for the edits
    # that leave every font rule as it was (the new @import adds a sheet without fonts).
    assert rows["no change"][5:8] == ["0", "0", "0"]
    assert rows["one page"][5] == "1"
    assert rows["css, fonts kept"][5:8] == ["0", "0", "0"]
    assert rows["css, new ref"][5] == "0" and rows["css, new ref"][7] == "0"


def test_scan_bench_profiles_one_scan_by_cpu_time(capsys: pytest.CaptureFixture[str]) -> None:
    bench = load("scan_bench")
    assert bench.main(["--pages", "20", "--profile", "5"]) == 0
    out = capsys.readouterr().out
    assert "Ordered by: internal time" in out
    assert "(_parse)" in out or "html" in out  # the scan's own functions are in it
    # ... and the same profile summed by what the code does, per page.
    assert re.search(r"\| pushgen's HTML and CSS scan \| \d+ \| \d+% \|", out)
    assert re.search(r"\| total \| \d+ \| 100% \|", out)


def test_scan_bench_times_scan_cpu_on_a_kept_folder(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bench = load("scan_bench")
    folder = tmp_path / "site"
    for _ in range(2):  # the second run scans the folder the first built
        assert bench.main(["--pages", "12", "--cpu", "2", "--folder", str(folder)]) == 0
    first, second = capsys.readouterr().out.strip().splitlines()
    assert first.startswith("1") and ", scan -j1; CPU us a page: " in first
    digest = re.search(r"; manifest ([0-9a-f]{16})$", first)
    assert digest is not None and second.endswith(digest.group(0))


def test_scan_bench_times_font_tracing_alone(capsys: pytest.CaptureFixture[str]) -> None:
    bench = load("scan_bench")
    assert bench.main(["--pages", "12", "--trace", "2"]) == 0
    out = capsys.readouterr().out
    # Every page of build_bench's site links the font's sheet: each one is traced.
    assert out.startswith("12 pages traced; CPU us a page: ")
    assert re.search(r"; \d+\.\d function calls a page; verdicts [0-9a-f]{16}$", out.strip())
