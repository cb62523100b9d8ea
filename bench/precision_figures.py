"""Entries, pushes and pushed bytes per route of two manifests of one site (issue 15).

    python bench/precision_figures.py SITE BEFORE.yaml AFTER.yaml

Sizes are those of the files under SITE/static (the URL path /static/x is
SITE/static/x); a path with no such file counts 0 bytes. Prints a Markdown table.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pushgen.manifest import load_manifest
from pushgen.model import Asset


def _size(site: Path, asset: Asset) -> int:
    if asset.preconnect:
        return 0
    file = site / asset.path.lstrip("/")
    return file.stat().st_size if file.is_file() else 0


def _row(site: Path, assets: tuple[Asset, ...]) -> tuple[int, int, int, int]:
    pushed = [a for a in assets if a.push]
    hinted = [a for a in assets if a.hint and not a.push]
    return len(assets), len(pushed), sum(_size(site, a) for a in pushed), len(hinted)


def main(argv: list[str]) -> int:
    site, before_file, after_file = Path(argv[0]), argv[1], argv[2]
    before, after = load_manifest(before_file), load_manifest(after_file)
    print("| route | entries | pushed | pushed bytes | hinted only |")
    print("|---|---|---|---|---|")
    totals = [[0, 0, 0, 0], [0, 0, 0, 0]]
    for route in sorted(set(before.routes) | set(after.routes)):
        rows = [_row(site, m.routes.get(route, ())) for m in (before, after)]
        for total, row in zip(totals, rows, strict=True):
            for i, value in enumerate(row):
                total[i] += value
        cells = [f"{b} -> {a}" for b, a in zip(*rows, strict=True)]
        print(f"| {route} | " + " | ".join(cells) + " |")
    cells = [f"{b} -> {a}" for b, a in zip(*totals, strict=True)]
    print("| all routes | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
