"""The report as one self-contained HTML page: overview, verify's findings, routes, rules.

Inline CSS (:mod:`.style`) and SVG (:mod:`.charts`), no script, no font, image or
stylesheet from anywhere; a Content-Security-Policy (``default-src 'none'``)
makes sure of it, so the file opens the same without a network and a string
that slipped past :func:`~.charts.escape` could still not run.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..errors import counted
from .charts import bytes_chart, escape, size_text, waterfall
from .content import Report, ReportEntry, RouteReport, RuleUse
from .style import STYLE

__all__ = ["GENERATOR", "render_html"]

# Marks a file as pushgen report's: it may write over such a file, and no other.
GENERATOR = '<meta name="generator" content="pushgen report">'

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
_STATE_WORDS = {"push": "pushed", "hint": "hinted", "listed": "listed only", "removed": "removed"}


def _card(number: object, what: str, tone: str = "") -> str:
    return (
        f'<div class="card {tone}"><span class="n">{escape(number)}</span>'
        f'<span class="what">{escape(what)}</span></div>'
    )


def _table(head: Iterable[tuple[str, str]], rows: Iterable[str], cls: str = "") -> str:
    cells = "".join(f'<th class="{c}">{escape(h)}</th>' for h, c in head)
    return (
        f'<div class="scroll"><table class="{cls}"><thead><tr>{cells}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _anchor(report: Report, route: RouteReport) -> str:
    return f"route-{report.routes.index(route) + 1}"


def _meter(use: float) -> str:
    over = " over" if use > 1 else ""
    return f'<span class="meter{over}"><i style="width:{min(use, 1) * 100:.0f}%"></i></span>{use * 100:.0f}%'


def _overview(report: Report) -> str:
    routes = report.routes
    entries = [e for r in routes for e in r.entries]
    count = {s: sum(e.state == s for e in entries) for s in ("push", "hint", "listed", "removed")}
    cards = [
        _card(len(routes), "route" if len(routes) == 1 else "routes"),
        _card(count["push"], "pushed entries"),
        _card(count["hint"], "hinted only"),
        _card(count["listed"], "listed only"),
        _card(size_text(sum(r.bytes_of("push") for r in routes)), "pushed in all"),
        _card(len(report.rules), "hand rules"),
    ]
    if report.verify is not None:
        ok = report.verify.ok
        cards.append(_card("pass" if ok else "fail", "pushgen verify", "good" if ok else "bad"))
    budget = report.budget
    limits = [f"{budget.max_pushes} pushes"] if budget.max_pushes else []
    if budget.max_bytes:
        limits.append(size_text(budget.max_bytes))
    per_route = f" ({escape(', '.join(limits))} a route)" if limits else ""
    nearest = [
        f'<tr><td><a href="#{_anchor(report, r)}"><code>{escape(r.route)}</code></a></td>'
        f'<td class="num">{len(r.of("push"))}'
        f"{f' / {r.budget.max_pushes}' if r.budget.max_pushes else ''}</td>"
        f'<td class="num">{escape(size_text(r.bytes_of("push")))}'
        f"{f' / {escape(size_text(r.budget.max_bytes))}' if r.budget.max_bytes else ''}</td>"
        f"<td>{_meter(r.budget_use)}</td></tr>"
        for r in report.nearest_budget()
    ]
    return (
        '<section id="overview"><h2>Overview</h2>'
        f'<div class="cards">{"".join(cards)}</div>'
        "<h3>Bytes per route</h3>"
        '<div class="legend"><span class="push">pushed</span><span class="hint">hinted by the 103'
        '</span><span class="listed">listed only</span></div>'
        f"{bytes_chart(routes, budget)}"
        f"<h3>Nearest the push budget{per_route}</h3>"
        + (
            _table(
                [("route", ""), ("pushes", "num"), ("pushed bytes", "num"), ("budget used", "")],
                nearest,
                "nearest",
            )
            if nearest
            else '<p class="empty">No route pushes anything.</p>'
        )
        + "</section>"
    )


def _why(entry: ReportEntry) -> str:
    items = []
    if entry.chain:
        via = " \u2192 ".join(escape(link) for link in entry.chain)
        items.append(f'<li class="via">via <code>{via}</code></li>')
    items.extend(f"<li>{escape(reason)}</li>" for reason in entry.reasons)
    return f'<ul class="why">{"".join(items)}</ul>' if items else ""


def _browser_cell(entry: ReportEntry) -> str:
    if entry.verdict:
        word = "never fetched" if entry.verdict == "needless" else "fetched twice"
        return f'<span class="badge {entry.verdict}">{word}</span>'
    if entry.fetched is None:
        return '<span class="note">not fetched</span>'
    how = "from the 103" if entry.fetched.from_early_hints else entry.fetched.initiator
    return f'fetched <span class="note">{escape(how)}</span>'


def _entry_row(entry: ReportEntry, with_browser: bool) -> str:
    browser = f"<td>{_browser_cell(entry)}</td>" if with_browser else ""
    return (
        f'<tr class="{entry.state}"><td class="num">{entry.number}</td>'
        f'<td><span class="badge {entry.state}">{_STATE_WORDS[entry.state]}</span></td>'
        f'<td class="hide-narrow">{escape(entry.destination)}</td>'
        f'<td class="path"><code>{escape(entry.path)}</code>{_why(entry)}</td>'
        f'<td class="num">{escape(size_text(entry.size)) if entry.size is not None else ""}</td>'
        f"{browser}</tr>"
    )


def _list(title: str, items: Iterable[str]) -> str:
    shown = list(items)
    if not shown:
        return ""
    return f"<p><strong>{escape(title)}</strong></p><ul>{''.join(shown)}</ul>"


def _browser(route: RouteReport) -> str:
    found = route.verified
    if found is None:
        return ""
    state = (
        '<span class="badge ok">ok</span>' if found.ok else '<span class="badge miss">fails</span>'
    )
    unlisted = [
        f'<li><code>{escape(f.path)}</code> <span class="note">{escape(f.resource_type)}, '
        f"{escape(f.initiator)}{', render-blocking' if f.render_blocking == 'blocking' else ''}"
        "</span></li>"
        for f in route.unlisted
    ]
    return (
        f'<div class="browser"><h4>In the browser {state} '
        f'<span class="note">status {found.status}, {escape(found.protocol or "?")}</span></h4>'
        + _list(
            "Missed: render-blocking, neither pushed nor hinted",
            (
                f"<li><code>{escape(m.path)}</code> {escape(m.type)}: {escape(m.why)}</li>"
                for m in found.misses
            ),
        )
        + _list(
            "Needless: sent, never used",
            (
                f"<li><code>{escape(n.path)}</code> {escape(n.state)}: {escape(n.why)}</li>"
                for n in found.needless
            ),
        )
        + _list(
            "Fetched more than once",
            (f"<li><code>{escape(d.path)}</code> {d.count} times</li>" for d in found.duplicates),
        )
        + _list(
            "Served by the 103", (f"<li><code>{escape(p)}</code></li>" for p in found.early_hints)
        )
        + _list("Chromium's warnings", (f"<li>{escape(w)}</li>" for w in found.preload_warnings))
        + _list("Fetched, not in the manifest", unlisted)
        + "</div>"
    )


def _route(report: Report, route: RouteReport, open_: bool) -> str:
    counts = ", ".join(
        f"{len(route.of(s))} {_STATE_WORDS[s]}"
        for s in ("push", "hint", "listed", "removed")
        if route.of(s)
    )
    page = f" \u00b7 {escape(route.page)}" if route.page else ""
    problems = "".join(f"<li>{escape(p)}</li>" for p in route.problems)
    if problems:
        problems = f'<ul class="problems">{problems}</ul>'
    with_browser = route.verified is not None
    head = [
        ("#", "num"),
        ("state", ""),
        ("as", "hide-narrow"),
        ("entry and why", ""),
        ("size", "num"),
    ]
    if with_browser:
        head.append(("browser", ""))
    table = _table(head, (_entry_row(e, with_browser) for e in route.entries), "entries")
    return (
        f'<details class="route" id="{_anchor(report, route)}"{" open" if open_ else ""}>'
        f"<summary><code>{escape(route.route)}</code>"
        f'<span class="counts">{escape(counts or "no entries")}{page}</span></summary>'
        f'<div class="body">{problems}'
        + (waterfall(route) if route.entries else '<p class="empty">No entries.</p>')
        + table
        + _browser(route)
        + "</div></details>"
    )


def _routes(report: Report) -> str:
    index = [
        f'<tr><td><a href="#{_anchor(report, r)}"><code>{escape(r.route)}</code></a></td>'
        f'<td class="hide-narrow">{escape(r.page or "")}</td>'
        + "".join(f'<td class="num">{len(r.of(s))}</td>' for s in ("push", "hint", "listed"))
        + f'<td class="num">{escape(size_text(r.bytes_of("push")))}</td></tr>'
        for r in report.routes
    ]
    head = [("route", ""), ("page", "hide-narrow"), ("pushed", "num"), ("hinted", "num")]
    head += [("listed", "num"), ("pushed bytes", "num")]
    open_ = len(report.routes) <= 8
    return (
        '<section id="routes"><h2>Routes</h2>'
        + _table(head, index, "route-index")
        + "".join(_route(report, r, open_) for r in report.routes)
        + "</section>"
    )


_NO_ROUTE = '<span class="badge needless">no route</span>'


def _rule_row(report: Report, rule: RuleUse) -> str:
    does = "<br>".join(escape(d) for d in rule.does) or '<span class="note">nothing</span>'
    routes = ", ".join(f"<code>{escape(r)}</code>" for r in rule.routes)
    return (
        f"<tr><td><code>{escape(report.manifest)}:{rule.line}</code></td>"
        f'<td><code>{escape(rule.match)}</code> <span class="note">{escape(rule.kind)}</span></td>'
        f"<td>{does}</td>"
        f"<td>{routes or _NO_ROUTE}</td></tr>"
    )


def _rules(report: Report) -> str:
    rows = [_rule_row(report, rule) for rule in report.rules]
    body = (
        _table(
            [("rule", ""), ("match", ""), ("does", ""), ("routes it matched", "")], rows, "rules"
        )
        if rows
        else '<p class="empty">The manifest has no hand rules: every entry is as the build wrote it.</p>'
    )
    return f'<section id="rules"><h2>Rules</h2>{body}</section>'


def _verify(report: Report) -> str:
    result = report.verify
    if result is None:
        return ""
    rows = []
    for found in result.routes:
        for miss in found.misses:
            rows.append((found.route, "miss", miss.path, miss.why))
        for entry in found.needless:
            rows.append((found.route, "needless", entry.path, entry.why))
        for dup in found.duplicates:
            rows.append((found.route, "duplicate", dup.path, f"fetched {dup.count} times"))
    table = _table(
        [("route", ""), ("finding", ""), ("asset", ""), ("why", "")],
        (
            f'<tr><td><code>{escape(r)}</code></td><td><span class="badge {k}">{k}</span></td>'
            f"<td><code>{escape(p)}</code></td><td>{escape(w)}</td></tr>"
            for r, k, p, w in rows
        ),
        "findings",
    )
    browser = f" in {escape(result.browser)}" if result.browser else ""
    name = f" ({escape(report.verify_name)})" if report.verify_name else ""
    verdict = (
        "every route loads with what it needs, and nothing it does not"
        if result.ok
        else counted(len(rows), "finding")
    )
    return (
        f'<section id="verify"><h2>Verify</h2><p>{counted(len(result.routes), "route")} loaded'
        f"{browser}{name}: {escape(verdict)}.</p>" + (table if rows else "") + "</section>"
    )


def render_html(report: Report) -> str:
    """The report page, one self-contained HTML document."""
    title = f"pushgen report: {report.site or report.manifest}"
    site = f" \u00b7 site {escape(report.site)}" if report.site else ""
    links = (
        ["overview", "verify", "routes", "rules"]
        if report.verify
        else ["overview", "routes", "rules"]
    )
    nav = "".join(f'<a href="#{name}">{name.capitalize()}</a>' for name in links)
    return (
        "<!doctype html>\n"
        f'<html lang="en"><head><meta charset="utf-8">{GENERATOR}'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        f'<header class="top"><div class="inner"><h1>pushgen report</h1>'
        f'<p class="sub">manifest {escape(report.manifest)}{site}</p>'
        f"<nav>{nav}</nav></div></header><main>"
        + _overview(report)
        + _verify(report)
        + _routes(report)
        + _rules(report)
        + "</main><footer>Made by <code>pushgen report</code>. The reasons are "
        "<code>pushgen explain</code>'s; pushing and hinting follow the manifest's rules and policy."
        "</footer></body></html>\n"
    )
