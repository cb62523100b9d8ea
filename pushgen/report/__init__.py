"""``pushgen report``: the whole site's push plan as one self-contained HTML page.

:func:`make_report` gathers the values (every route explained as ``pushgen
explain`` explains it, sizes, budgets, rules, and a ``pushgen verify`` result
when given); :func:`render_html` draws them. ``pushgen serve --report`` shows
the same page at ``/_pushgen/``.
"""

from __future__ import annotations

from .content import Report, make_report
from .html import render_html
from .write import ReportOutputError, site_report, write_report

__all__ = [
    "Report",
    "ReportOutputError",
    "make_report",
    "render_html",
    "site_report",
    "write_report",
]
