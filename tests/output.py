"""Reading what a command printed on standard error: its phase lines apart from the rest.

Off a terminal, a build or a scan prints a line as each phase ends
(``render: 300 pages in 2.94s``, ``save: done in 0.02s``; see pushgen/console.py); a test about a
failure's message looks at the other lines.
"""

from __future__ import annotations

import re

# A phase's line: its name, the pages it counted (when it counts pages), its time.
PHASE_LINE = re.compile(
    r"(?P<phase>[a-z]+): (?:(?P<pages>\d+) (?:pages?|\.html files?)|done) in \d+\.\d\ds"
)
# A long phase's line on the way: ``render: 2500/5000 pages ...``.
HEARTBEAT_LINE = re.compile(r"[a-z]+: \d+/(?:\d+|\?) (?:pages|\.html files) \.\.\.")


def phase_lines(stderr: str) -> list[tuple[str, int | None]]:
    """The phases that ended, in order, with the pages each counted (None: it counts none)."""
    found = []
    for line in stderr.splitlines():
        match = PHASE_LINE.fullmatch(line)
        if match:
            pages = match.group("pages")
            found.append((match.group("phase"), int(pages) if pages is not None else None))
    return found


def problem_lines(stderr: str) -> list[str]:
    """The lines of ``stderr`` that are not about phases (errors, warnings, the summary)."""
    return [
        line
        for line in stderr.strip().splitlines()
        if not PHASE_LINE.fullmatch(line) and not HEARTBEAT_LINE.fullmatch(line)
    ]
