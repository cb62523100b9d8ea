"""The report's stylesheet, inlined into the page: system fonts, light and dark themes.

Colours are chosen for a contrast of at least 4.5:1 against their background in
both themes (WCAG 2.2, 1.4.3); the dark theme follows ``prefers-color-scheme``.
"""

from __future__ import annotations

__all__ = ["STYLE"]

STYLE = """
:root {
  color-scheme: light dark;
  --bg: #ffffff; --fg: #1f2328; --muted: #57606a; --line: #d0d7de; --panel: #f6f8fa;
  --accent: #0550ae; --push: #1f6feb; --hint: #1a7f37; --listed: #6e7781; --removed: #cf222e;
  --miss: #cf222e; --needless: #9a6700; --budget: #bc4c00;
  --font: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  --mono: ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, "Liberation Mono", monospace;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0d1117; --fg: #e6edf3; --muted: #9198a1; --line: #30363d; --panel: #161b22;
    --accent: #58a6ff; --push: #388bfd; --hint: #3fb950; --listed: #8b949e; --removed: #f85149;
    --miss: #ff7b72; --needless: #d29922; --budget: #f0883e;
  }
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 15px/1.55 var(--font); }
header.top { border-bottom: 1px solid var(--line); background: var(--panel); }
header.top .inner, main, footer { max-width: 1200px; margin: 0 auto; padding: 0 24px; }
header.top .inner { padding-top: 20px; padding-bottom: 12px; }
h1 { font-size: 1.6rem; margin: 0 0 4px; letter-spacing: -0.01em; }
h2 { font-size: 1.3rem; margin: 40px 0 12px; padding-bottom: 6px; border-bottom: 1px solid var(--line); }
h3 { font-size: 1.05rem; margin: 24px 0 8px; }
.sub { color: var(--muted); margin: 0; overflow-wrap: anywhere; }
nav { display: flex; flex-wrap: wrap; gap: 4px 18px; margin-top: 12px; }
nav a { color: var(--accent); text-decoration: none; font-weight: 600; }
nav a:hover { text-decoration: underline; }
a { color: var(--accent); }
code, .mono { font-family: var(--mono); font-size: 0.9em; overflow-wrap: anywhere; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 12px; margin: 16px 0; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; background: var(--panel); }
.card .n { font-size: 1.5rem; font-weight: 650; display: block; }
.card .what { color: var(--muted); font-size: 0.85rem; }
.card.bad .n { color: var(--miss); }
.card.good .n { color: var(--hint); }
.legend { display: flex; flex-wrap: wrap; gap: 6px 16px; color: var(--muted); font-size: 0.85rem; margin: 4px 0 8px; }
.legend span::before { content: ""; display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; vertical-align: -1px; background: currentColor; }
.legend .push::before { background: var(--push); } .legend .hint::before { background: var(--hint); }
.legend .listed::before { background: var(--listed); }
svg.chart { width: 100%; height: auto; display: block; font: 12px var(--font); }
svg.chart text { fill: var(--fg); }
svg.chart text.value, svg.chart text.lane { fill: var(--muted); }
svg.chart text.lane { font-weight: 600; }
svg.chart .seg.push { fill: var(--push); } svg.chart .seg.hint { fill: var(--hint); }
svg.chart .seg.listed { fill: var(--listed); }
svg.chart .budget { stroke: var(--budget); stroke-width: 2; stroke-dasharray: 5 4; }
svg.chart text.budget-label { fill: var(--budget); font-weight: 600; }
.scroll { overflow-x: auto; border: 1px solid var(--line); border-radius: 8px; }
table { border-collapse: collapse; width: 100%; font-size: 0.9rem; }
th, td { text-align: left; vertical-align: top; padding: 6px 10px; border-bottom: 1px solid var(--line); }
th { background: var(--panel); font-weight: 600; white-space: nowrap; }
tr:last-child td { border-bottom: 0; }
table.findings td:nth-child(-n+3), table.nearest td:first-child { white-space: nowrap; }
table.findings td:nth-child(-n+3) code, table.nearest td code { overflow-wrap: normal; }
td.num, th.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
.badge { display: inline-block; padding: 0 7px; border-radius: 10px; font-size: 0.78rem; font-weight: 600; color: #fff; white-space: nowrap; }
.badge.push { background: var(--push); } .badge.hint { background: var(--hint); }
.badge.listed { background: var(--listed); } .badge.removed { background: var(--removed); }
.badge.miss { background: var(--miss); } .badge.needless, .badge.duplicate { background: var(--needless); }
.badge.ok { background: var(--hint); }
@media (prefers-color-scheme: dark) { .badge { color: #0d1117; } }
tr.removed td.path { text-decoration: line-through; color: var(--muted); }
.why { margin: 0; padding-left: 1.1em; color: var(--muted); }
.why li { margin: 0; }
.via { color: var(--fg); }
.meter { display: inline-block; width: 90px; height: 8px; border-radius: 4px; background: var(--line); vertical-align: middle; margin-right: 6px; overflow: hidden; }
.meter i { display: block; height: 100%; background: var(--push); }
.meter.over i { background: var(--budget); }
details.route { border: 1px solid var(--line); border-radius: 8px; margin: 12px 0; background: var(--bg); }
details.route > summary { cursor: pointer; padding: 10px 14px; background: var(--panel); border-radius: 8px; list-style-position: inside; }
details.route[open] > summary { border-bottom: 1px solid var(--line); border-radius: 8px 8px 0 0; }
details.route > summary code { font-size: 1rem; font-weight: 650; }
details.route .body { padding: 8px 14px 14px; }
.counts { color: var(--muted); margin-left: 8px; }
.problems { color: var(--miss); margin: 8px 0; padding-left: 1.2em; }
.browser { margin-top: 12px; padding: 10px 14px; border-left: 4px solid var(--accent); background: var(--panel); border-radius: 0 8px 8px 0; }
.browser h4 { margin: 0 0 6px; font-size: 0.95rem; }
.browser ul { margin: 4px 0 8px; padding-left: 1.2em; }
.note { color: var(--muted); font-size: 0.85rem; }
.empty { color: var(--muted); font-style: italic; }
footer { color: var(--muted); font-size: 0.85rem; padding-top: 32px; padding-bottom: 32px; }
@media (max-width: 640px) {
  body { font-size: 14px; }
  header.top .inner, main, footer { padding-left: 12px; padding-right: 12px; }
  th, td { padding: 5px 6px; }
  .hide-narrow { display: none; }
}
"""
