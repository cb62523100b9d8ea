"""What ``pushgen report`` shows, as values: every route's entries with explain's reasons.

:func:`make_report` explains every route of a manifest through
:func:`pushgen.build.explain.explain_routes` (the reasons and chains are
explain's, never restated here), adds each entry's size in the built output and
the push budget that applies to the route, and, given a ``pushgen verify``
result, what the browser fetched beside each entry. The HTML is drawn from these
values by :mod:`.html`; nothing here writes or prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..build.explain import EntryState, Explanation, explain_routes
from ..config import SiteConfig
from ..errors import counted
from ..manifest import Manifest
from ..manifest.rules import Rule
from ..push_policy import Policy
from ..site_files import file_size
from ..verify.browser import Fetched
from ..verify.compare import RouteVerdict
from ..verify.result import VerifyResult

__all__ = [
    "Budget",
    "Report",
    "ReportEntry",
    "RouteReport",
    "RuleUse",
    "Verdict",
    "make_report",
]

# What verify said about an entry: "" when it said nothing (or was not run).
Verdict = Literal["", "needless", "duplicate"]


@dataclass(frozen=True, slots=True)
class Budget:
    """The push budget of a route: at most so many pushes, so many bytes (None: no limit)."""

    max_pushes: int | None
    max_bytes: int | None

    def use(self, pushes: int, pushed_bytes: int) -> float:
        """How much of the budget ``pushes`` and ``pushed_bytes`` take (1.0 is all of it)."""
        shares = [0.0]
        if self.max_pushes:
            shares.append(pushes / self.max_pushes)
        if self.max_bytes:
            shares.append(pushed_bytes / self.max_bytes)
        return max(shares)


@dataclass(frozen=True, slots=True)
class ReportEntry:
    """One entry of a route, as explain explains it, with its size and the browser's view."""

    number: int
    path: str
    destination: str
    state: EntryState
    size: int | None
    chain: tuple[str, ...]
    reasons: tuple[str, ...]
    fetched: Fetched | None = None
    verdict: Verdict = ""


@dataclass(frozen=True, slots=True)
class RouteReport:
    """One route: its entries in manifest order, its budget, rules and verify's findings."""

    route: str
    page: str | None
    entries: tuple[ReportEntry, ...]
    problems: tuple[str, ...]
    budget: Budget
    rules: tuple[int, ...]  # lines of the rules that match it
    verified: RouteVerdict | None = None

    def of(self, state: EntryState) -> tuple[ReportEntry, ...]:
        return tuple(e for e in self.entries if e.state == state)

    def bytes_of(self, state: EntryState) -> int:
        return sum(e.size or 0 for e in self.of(state))

    @property
    def budget_use(self) -> float:
        return self.budget.use(len(self.of("push")), self.bytes_of("push"))

    @property
    def unlisted(self) -> tuple[Fetched, ...]:
        """What the browser fetched that the route does not list at all."""
        if self.verified is None:
            return ()
        listed = {e.path for e in self.entries}
        return tuple(f for f in self.verified.fetched if f.path not in listed)


@dataclass(frozen=True, slots=True)
class RuleUse:
    """A hand rule of the manifest and the routes it matched."""

    line: int
    match: str
    kind: str
    does: tuple[str, ...]  # "adds /x.css", "sets push: false on /static/img/*", ...
    routes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Report:
    """The whole report: the manifest's routes, its rules, and verify's result if given."""

    manifest: str
    site: str | None
    budget: Budget
    routes: tuple[RouteReport, ...]
    rules: tuple[RuleUse, ...]
    verify: VerifyResult | None = None
    verify_name: str = ""  # the verify result's file name, as the page names it

    def summary(self) -> str:
        """One line: routes, entries by state, rules, and verify's verdict when given."""
        entries = [e for r in self.routes for e in r.entries]
        states = ", ".join(
            f"{sum(e.state == s for e in entries)} {word}"
            for s, word in (("push", "pushed"), ("hint", "hinted only"), ("listed", "listed only"))
        )
        line = f"{counted(len(self.routes), 'route')}, {states}, {counted(len(self.rules), 'rule')}"
        if self.verify is not None:
            line += f"; verify {'passed' if self.verify.ok else 'failed'}"
        return line

    def nearest_budget(self, count: int = 5) -> tuple[RouteReport, ...]:
        """The routes whose pushes take most of their budget, most first."""
        ranked = sorted(self.routes, key=lambda r: -r.budget_use)
        return tuple(r for r in ranked[:count] if r.of("push"))


def _routes(manifest: Manifest) -> list[str]:
    """The generated routes in file order, then the routes only exact rules name."""
    return [*manifest.routes, *sorted(manifest.all_routes - set(manifest.routes))]


def _budget(base: Policy, rules: tuple[Rule, ...]) -> Budget:
    # Rules' policies apply in file order over the site's (Policy.over), as they do
    # when the route is resolved (manifest.rules.resolve_route).
    effective = Policy()
    for rule in rules:
        effective = rule.policy.over(effective)
    policy = effective.over(base)
    return Budget(policy.max_pushes, policy.max_bytes)


def _entries(
    explanation: Explanation, config: SiteConfig | None, verified: RouteVerdict | None
) -> tuple[ReportEntry, ...]:
    fetched = {f.path: f for f in verified.fetched} if verified else {}
    needless = {n.path for n in verified.needless} if verified else set()
    duplicated = {d.path for d in verified.duplicates} if verified else set()
    out = []
    for entry in explanation.entries:
        asset = entry.decision.asset
        size = None
        if config is not None and asset.path.startswith("/"):
            size = file_size(config.output, asset.path, base_path=config.base_path)
        verdict: Verdict = ""
        if asset.path in needless:
            verdict = "needless"
        elif asset.path in duplicated:
            verdict = "duplicate"
        out.append(
            ReportEntry(
                entry.number,
                asset.path,
                asset.destination,
                entry.state,
                size,
                entry.chain,
                entry.reasons,
                fetched.get(asset.path),
                verdict,
            )
        )
    return tuple(out)


def _rule_does(rule: Rule) -> tuple[str, ...]:
    does = [f"adds {asset.path}" for asset in rule.add]
    for change in rule.set:
        values = ", ".join(
            f"{k}: {str(v).lower() if isinstance(v, bool) else v}" for k, v in change.values.items()
        )
        does.append(f"sets {values} on {change.path}")
    does.extend(f"removes {path}" for path in rule.remove)
    policy = rule.policy
    if policy.push is not None:
        does.append(f"pushes {', '.join(sorted(policy.push)) or 'nothing'}")
    if policy.max_pushes is not None:
        does.append(f"at most {policy.max_pushes} pushes")
    if policy.max_bytes is not None:
        does.append(f"at most {policy.max_bytes} pushed bytes")
    if policy.fonts is not None:
        does.append(f"fonts: {policy.fonts}")
    return tuple(does)


def _shown(filename: str, config: SiteConfig | None) -> str:
    """The manifest's name as the report shows it: relative to the site when inside it."""
    if config is not None and Path(filename).is_relative_to(config.root):
        return str(Path(filename).relative_to(config.root))
    return filename


def make_report(
    manifest: Manifest,
    *,
    config: SiteConfig | None = None,
    verify: VerifyResult | None = None,
    verify_name: str = "",
    folder: bool = False,
    writer: str = "",
) -> Report:
    """The report of ``manifest``; ``config`` (a site with pages, or with ``folder`` a
    built folder's settings) adds chains and sizes. ``writer`` is the command that wrote
    the manifest's routes (pushgen.build.provenance.written_by), as explain names it."""
    routes = _routes(manifest)
    base = config.policy if config is not None else Policy()
    # Chains come from rendering the site's pages or reading the built folder's, as
    # explain does; an app is not loaded (explain renders one page a route through
    # it), and its entries keep the manifest's reasons.
    pages = config if config is not None and not folder and config.pages.is_dir() else None
    walked = config if folder else None
    explanations = explain_routes(manifest, routes, pages, folder=walked, writer=writer)
    verdicts = {v.route: v for v in verify.routes} if verify is not None else {}
    reports = []
    for route, explanation in zip(routes, explanations, strict=True):
        rules = manifest.rule_index.matching(route)
        verified = verdicts.get(route)
        reports.append(
            RouteReport(
                route,
                explanation.page.display if explanation.page else explanation.source or None,
                _entries(explanation, config, verified),
                explanation.problems,
                _budget(base, rules),
                tuple(rule.line for rule in rules),
                verified,
            )
        )
    uses = tuple(
        RuleUse(
            rule.line,
            rule.match.text,
            rule.match.kind,
            _rule_does(rule),
            tuple(r.route for r in reports if rule.line in r.rules),
        )
        for rule in manifest.rules
    )
    return Report(
        _shown(manifest.filename, config),
        config.root.name if config is not None else None,
        Budget(base.max_pushes, base.max_bytes),
        tuple(reports),
        uses,
        verify,
        verify_name,
    )
