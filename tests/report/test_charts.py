"""The report's SVG pictures from hand-made values: bars, the waterfall's order and budget,
escaping (golden-ish: the geometry that carries meaning, not every attribute)."""

from __future__ import annotations

import re

from pushgen.report.charts import MAX_BARS, bytes_chart, size_text, waterfall
from pushgen.report.content import Budget, ReportEntry, RouteReport


def _route(route: str, sizes: dict[str, tuple[str, int | None]]) -> RouteReport:
    entries = tuple(
        ReportEntry(n, path, "style", state, size, (), ("why <b>",))  # type: ignore[arg-type]
        for n, (path, (state, size)) in enumerate(sizes.items(), 1)
    )
    return RouteReport(route, None, entries, (), Budget(None, 1000), ())


def test_one_bar_a_route_and_the_biggest_when_there_are_many() -> None:
    routes = [_route(f"/p{i}", {"/a.css": ("push", 10 + i)}) for i in range(MAX_BARS + 10)]
    svg = bytes_chart(routes, Budget(None, 1000))
    shown = re.findall(r'<g class="bar" data-route="([^"]+)"', svg)
    assert len(shown) == MAX_BARS
    assert shown[0] == "/p10" and shown[-1] == f"/p{MAX_BARS + 9}"  # in route order
    assert f"The {MAX_BARS} routes with most bytes of {MAX_BARS + 10}" in svg


def test_pushes_follow_one_another_and_the_budget_line_is_at_its_bytes() -> None:
    route = _route(
        "/",
        {
            "/a.css": ("push", 300),
            "/b.css": ("push", 200),
            "/c.js": ("hint", 100),
            "/d.png": ("listed", 50),
        },
    )
    svg = waterfall(route)
    pushes = re.findall(r'<rect class="seg push" x="([\d.]+)" y="\d+" width="([\d.]+)"', svg)
    (a_x, a_w), (b_x, b_w) = ((float(x), float(w)) for x, w in pushes)
    assert b_x == a_x + a_w and a_w / b_w == 300 / 200  # one after another, by bytes
    (hint_x,) = re.findall(r'<rect class="seg hint" x="([\d.]+)"', svg)
    assert float(hint_x) == a_x  # a hint is asked for at once, not after the pushes
    (line_x,) = re.findall(r'<line class="budget" x1="([\d.]+)"', svg)
    assert round((float(line_x) - a_x) / a_w, 2) == round(1000 / 300, 2)
    assert svg.index("pushed, in order") < svg.index("hinted by the 103") < svg.index("listed only")
    assert "why &lt;b&gt;" in svg and "<b>" not in svg


def test_routes_and_paths_with_markup_are_text() -> None:
    hostile = "/<script>alert(1)</script>"
    route = _route(hostile, {'/x"><svg onload=alert(1)>.css': ("push", 10)})
    for svg in (bytes_chart([route], Budget(None, None)), waterfall(route)):
        assert "<script" not in svg and "<svg onload" not in svg
        assert "&lt;script&gt;" in svg or "&lt;svg onload=" in svg


def test_sizes_read_as_browsers_tools_show_them() -> None:
    assert [size_text(n) for n in (None, 0, 999, 1000, 41_234, 1_300_000)] == [
        "size unknown",
        "0 B",
        "999 B",
        "1.0 kB",
        "41.2 kB",
        "1.3 MB",
    ]
