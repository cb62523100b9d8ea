"""What each route and each pattern rule sends, laid out for a target.

Every target starts from the same blocks: one per route of the manifest (the
entries the runtime would send, :meth:`Manifest.assets`) and one per pattern rule
that adds entries (the entries of a path it matches). :func:`layout` then fits
them to how the target combines rules that match one request, and the server
targets share :func:`server_blocks` (push limit, then layout).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import PurePosixPath
from typing import Literal
from urllib.parse import unquote

from ..errors import LinkFieldError
from ..fsutil import EXPORT_MARK
from ..hint_budget import MAX_LINK_BYTES_SETTING, FittedLinks, fit_links, importance
from ..hint_budget import Hint as BudgetHint
from ..links import link_value, route_aliases
from ..manifest import Manifest
from ..manifest.rules import PrefixIndex, resolve_route
from ..model import Asset
from ..push_policy import within_max_pushes
from ..urls import unroutable, wire_path
from .context import Block, Context, Hint
from .patterns import pattern_regex, pattern_tokens, regex_prefix, sample_path
from .result import Cut
from .text import comment

__all__ = [
    "Blocks",
    "FittedHints",
    "apply_push_limit",
    "fit_hints",
    "header",
    "layout",
    "pushes_on_link",
    "route_blocks",
    "rule_line",
    "server_aliases",
    "server_blocks",
    "source_name",
    "target_matches",
]

# How a target combines the rules that match one request (see layout).
Mode = Literal["merge", "first", "override"]


@dataclass(frozen=True)
class Blocks:
    """A target's blocks: the routes' (exact paths) and the pattern rules', each in order."""

    exact: list[Block]
    patterns: list[Block]


@dataclass(frozen=True)
class FittedHints:
    """The Link values of some hints that fit a field, and the hints whose values do not."""

    links: FittedLinks
    left_out: list[Hint]


def route_blocks(ctx: Context) -> Blocks:
    """The blocks of the manifest's routes, then of its pattern rules."""
    return Blocks(_exact_blocks(ctx), _pattern_blocks(ctx))


def _refuse_unsafe(ctx: Context, route: str, line: int, *, pattern: bool) -> bool:
    """Refuse (an error at ``line``) a route or match a text target cannot write
    (:func:`pushgen.urls.unroutable`); True if so."""
    if not ctx.format.text:
        return False
    why = unroutable(route)
    if why is None:
        return False
    what = "rule `match: " + comment(route) + "`" if pattern else "route " + comment(route)
    message = (
        f"{what}: {why}, a control character the {ctx.title} cannot "
        "carry (it would end a comment or a directive); remove it from the "
        + ("rule's match" if pattern else "page's name or the rule's match")
    )
    ctx.error(line, message)
    return True


def _hints(
    ctx: Context, block_route: str, line: int, assets: Iterable[Asset], *, pattern: bool = False
) -> tuple[Hint, ...]:
    """What a route or rule sends: its entries' Link values, within the Link budget."""
    out: list[Hint] = []
    for asset in assets:
        try:
            link = link_value(asset)
        except LinkFieldError as exc:
            ctx.cuts.append(Cut(block_route, asset.path, f"not hinted: {exc}", line, pattern))
            link = None
        if link is None and not asset.push:
            continue
        out.append(Hint(wire_path(asset.path), link, asset.push, importance(asset)))
    return _within_budget(ctx, Cut(block_route, None, "", line, pattern), out)


def fit_hints(hints: Sequence[Hint], max_bytes: int) -> FittedHints:
    """Which Link values of ``hints`` fit a field of ``max_bytes`` (pushgen.hint_budget), and
    the hints whose values are left out, in order."""
    linked = [h for h in hints if h.link is not None]
    fitted = fit_links([BudgetHint(h.link or "", h.rank) for h in linked], max_bytes)
    # Values are one per entry path, so a value names its entry.
    dropped = set(fitted.dropped)
    return FittedHints(fitted, [h for h in linked if h.link in dropped])


def _within_budget(ctx: Context, where: Cut, hints: list[Hint]) -> tuple[Hint, ...]:
    """``hints`` without the Link values the runtime would leave out (one cut says so).

    A target sends a route's values as its Link field(s) just as the runtime
    does, and a field over a client's limit loses the whole response, so the
    same budget (:func:`pushgen.hint_budget.fit_links`) keeps the same entries.
    A pushed entry whose value is left out is still pushed, as by the runtime.
    """
    fitted = fit_hints(hints, ctx.options.max_link_bytes)
    left_out = fitted.left_out
    if not left_out:
        return tuple(hints)
    reason = _budget_reason(fitted.links, [h.path for h in left_out])
    ctx.cuts.append(replace(where, reason=reason))
    gone = set(left_out)
    out = [replace(h, link=None) if h in gone else h for h in hints]
    return tuple(h for h in out if h.link is not None or h.push)


def _budget_reason(fitted: FittedLinks, left_out: Sequence[str]) -> str:
    """The cut's words: how many entries the budget left out, which, and what to do."""
    more = len(left_out) - 3
    shown = ", ".join(left_out[:3]) + (f" and {more:,} more" if more > 0 else "")
    return (
        f"{len(left_out):,} of its {len(fitted.kept) + len(left_out):,} Link values left out "
        f"({shown}): together they take {fitted.wanted_bytes:,} bytes, over the "
        f"{fitted.max_bytes:,}-byte bound ({MAX_LINK_BYTES_SETTING}) that keeps a response "
        "within every client's header limits; pushed and render-blocking entries are kept "
        "first, as the runtime keeps them. Hint fewer assets (a rule's "
        "`set: [{path: ..., hint: false}]`)"
    )


def rule_line(manifest: Manifest, route: str) -> int:
    """The line of ``route`` in the manifest: its key, or the exact rule naming it (0: none)."""
    line = manifest.lines.get(route, 0)
    if line:
        return line
    index = manifest.rule_index
    return next((index.rules[i].line for i in index.exact.get(route, ())), 0)


def _exact_blocks(ctx: Context) -> list[Block]:
    """Every route of the manifest (generated ones and exact rule routes) that sends something."""
    manifest = ctx.manifest
    blocks: list[Block] = []
    for route in sorted(manifest.all_routes):
        line = rule_line(manifest, route)
        if _refuse_unsafe(ctx, route, line, pattern=False):
            continue
        hints = _hints(
            ctx, route, line, manifest.assets(route, policy=ctx.options.policy, size_of=ctx.size_of)
        )
        if hints:
            blocks.append(Block(route, line, hints, None, route))
    return blocks


def _pattern_blocks(ctx: Context) -> list[Block]:
    """One block per distinct pattern that rules ``add`` entries to, with a sample path's entries."""
    manifest = ctx.manifest
    blocks: list[Block] = []
    seen: set[str] = set()
    for rule in manifest.patterns:
        if not rule.add or rule.match.text in seen:
            continue
        seen.add(rule.match.text)
        if _refuse_unsafe(ctx, rule.match.text, rule.line, pattern=True):
            continue
        tokens = pattern_tokens(rule.match)
        if isinstance(tokens, str):
            ctx.error(rule.line, f"rule `match: {comment(rule.match.text)}`: {tokens}")
            continue
        sample = sample_path(tokens)
        if not rule.match.matches(sample):  # pragma: no cover - samples are built to match
            sample = "/"
        decisions = resolve_route(
            sample,
            (),
            manifest.rule_index.matching(sample),
            policy=ctx.options.policy,
            size_of=ctx.size_of,
            source=manifest.filename,
        )
        assets = [d.asset for d in decisions if not d.removed]
        hints = _hints(ctx, rule.match.text, rule.line, assets, pattern=True)
        if not hints:
            continue
        block = Block(rule.match.text, rule.line, hints, rule.match, sample, tuple(tokens))
        blocks.append(block)
        widened = [t for t in tokens if t.widened]
        if widened and ctx.format.regex:
            # A target's expression cannot compare numbers: the pattern is written
            # wider, so hints (and pushes) also reach the values the app's rule
            # leaves out. Harmless for the page: a preload is a fetch the page may not
            # use (a console warning, some bandwidth), never a different response.
            for token in widened:
                ctx.cut(
                    block,
                    None,
                    f"widened: <{token.converter}:{token.value}> is written as {token.regex}, "
                    f"without its {token.widened} check: hints also reach the values outside it",
                )
    return blocks


def _order(ctx: Context, patterns: list[Block], *, specific_first: bool) -> list[Block]:
    """Pattern blocks ordered by how many pattern rules that add entries their sample path meets."""
    index = ctx.manifest.rule_index

    def key(block: Block) -> tuple[int, int]:
        count = sum(1 for i in index.matching_patterns(block.sample) if index.rules[i].add)
        return (-count if specific_first else count, block.line)

    return sorted(patterns, key=key)


def target_matches(pattern: re.Pattern[str], path: str) -> bool:
    """Whether a target's pattern applies to ``path``: servers match the decoded path,
    CDNs the path as written, so either counts."""
    return pattern.match(path) is not None or pattern.match(unquote(path)) is not None


class _Applying:
    """The pattern blocks a target applies to a path, in their order, without trying each.

    A target's expression starts with the pattern's first literal (decoded or not,
    as the target writes it), so only the blocks whose literal prefix the path (or
    the decoded path) starts with are tried (:class:`PrefixIndex`); trying every
    block for every block was quadratic (issue 22 item 7).
    """

    def __init__(
        self, blocks: Sequence[Block], regex: Mapping[str, re.Pattern[str]], decoded: bool
    ) -> None:
        self.blocks = blocks
        self.regex = regex
        self.index = PrefixIndex(regex_prefix(b.tokens, decode=decoded) for b in blocks)

    def positions(self, path: str) -> list[int]:
        """Positions (in ``blocks``) of the blocks whose target pattern matches ``path``."""
        candidates = set(self.index.candidates(path)).union(self.index.candidates(unquote(path)))
        blocks, regex = self.blocks, self.regex
        return [i for i in sorted(candidates) if target_matches(regex[blocks[i].route], path)]


def layout(
    ctx: Context,
    exact: list[Block],
    patterns: list[Block],
    regex: Mapping[str, re.Pattern[str]],
    mode: Mode,
    names: Mapping[str, str] | None = None,
    *,
    decoded: bool = False,
) -> Blocks:
    """Fit the blocks to how the target combines rules that match one request.

    ``mode`` is "merge" (every matching rule adds its headers: Netlify, Cloudflare,
    Apache), "first" (one location or handler entry wins, exact ones first: nginx,
    h2o) or "override" (every matching rule applies and a later one replaces the
    same header: Firebase). ``regex`` gives, per pattern text, what the target's
    own pattern matches (its literals percent-decoded when ``decoded``); ``names``
    the path a route is written as, when the target serves it under another
    (Cloudflare drops ``.html``). Returns the exact and pattern blocks to write, in
    order.
    """
    if mode == "merge":
        return _merge(ctx, exact, patterns, regex, names, decoded)
    first = mode == "first"
    ordered = _order(ctx, patterns, specific_first=first)
    applying = _Applying(ordered, regex, decoded)
    for block in ordered:
        found = applying.positions(block.sample)
        winner = ordered[found[0 if first else -1]] if found else block
        if winner is not block and winner.hints != block.hints:
            where = "comes first" if first else "comes later"
            does = "sends its entries instead" if first else "replaces its Link header"
            ctx.cut(
                block,
                None,
                f"paths like {block.sample} also match `{winner.route}`, which {where} "
                f"in the {ctx.title} and {does}",
            )
    return Blocks(exact, ordered)


def _merge(
    ctx: Context,
    exact: list[Block],
    patterns: list[Block],
    regex: Mapping[str, re.Pattern[str]],
    names: Mapping[str, str] | None,
    decoded: bool,
) -> Blocks:
    """Each pattern block carries only what the blocks before it (more general ones) do not
    already send for its sample path; each route what the patterns do not."""
    ordered = _order(ctx, patterns, specific_first=False)
    before = _Applying(ordered, regex, decoded)
    reduced: list[Block] = []
    for position, block in enumerate(ordered):
        found = (i for i in before.positions(block.sample) if i < position)
        covered = {h.path for i in found for h in reduced[i].hints}
        reduced.append(replace(block, hints=tuple(h for h in block.hints if h.path not in covered)))
    reduced = [b for b in reduced if b.hints]
    matching = _Applying(reduced, regex, decoded)
    routes: list[Block] = []
    for block in exact:
        written = names.get(block.route, block.route) if names else block.route
        applying = [reduced[i] for i in matching.positions(written)]
        covered_hints = {h.path: h for b in applying for h in b.hints}
        own = {h.path: h for h in block.hints}
        for path, hint in covered_hints.items():
            if own.get(path) != hint:
                source = next(b.route for b in applying if hint in b.hints)
                what = "adds it" if path not in own else "sends it differently"
                ctx.cut(
                    block,
                    path,
                    f"the {ctx.title} also applies `{source}` to this route, which {what}",
                )
        kept = tuple(h for h in block.hints if h.path not in covered_hints)
        if kept:
            routes.append(replace(block, hints=kept))
    return Blocks(routes, reduced)


def server_blocks(
    ctx: Context,
    exact: list[Block],
    patterns: list[Block],
    mode: Mode,
    *,
    max_pushes: int | None,
    limit: str = "",
) -> Blocks:
    """A server target's opening: the push limit on every block, then :func:`layout`.

    Servers match the decoded path, so the patterns' expressions are decoded too.
    """
    push = ctx.options.push
    exact = apply_push_limit(ctx, exact, max_pushes, push, limit)
    patterns = apply_push_limit(ctx, patterns, max_pushes, push, limit)
    regex = {
        b.route: re.compile(pattern_regex(b.tokens, decode=True) + r"\Z")
        for b in patterns
        if b.pattern
    }
    return layout(ctx, exact, patterns, regex, mode, decoded=True)


# --- common helpers -----------------------------------------------------------------


def header(ctx: Context, lines: Sequence[str]) -> list[str]:
    """The opening comment lines (``#`` comments): who wrote the file, then ``lines``.

    The first line starts with :data:`~pushgen.fsutil.EXPORT_MARK`, by which a build
    knows an exported ``_headers`` in its output as pushgen's (build/output.py).
    """
    name, mark = source_name(ctx), "#"
    out = [f"{EXPORT_MARK} --format {ctx.format.name}` from {name}; do not edit:"]
    out.append(f"{mark} change the manifest and export again.")
    out.extend(f"{mark} {line}".rstrip() for line in lines)
    return out


def source_name(ctx: Context) -> str:
    """The manifest's file name, for comments."""
    return comment(PurePosixPath(ctx.filename).name)


def server_aliases(manifest: Manifest, route: str, pretty_urls: bool) -> list[str]:
    """The paths a server answers for ``route`` with the page itself (not a redirect).

    An alias that is a route of its own belongs to that route, as in the runtime.
    """
    aliases = list(route_aliases(route, pretty_urls=pretty_urls))
    # Not manifest.all_routes: a set of every route made anew for each route.
    routes, exact = manifest.routes, manifest.rule_index.exact
    return [
        a
        for a in aliases
        if a + "/" not in aliases and (a == route or (a not in routes and a not in exact))
    ]


def apply_push_limit(
    ctx: Context, blocks: list[Block], max_pushes: int | None, push: bool, limit: str = ""
) -> list[Block]:
    """Turn pushes beyond ``max_pushes`` (or all, without ``push``) into hints only."""
    limit = limit or f"the limit of {max_pushes} pushes per response"
    out = []
    for block in blocks:
        hints: list[Hint] = []
        kept = within_max_pushes((h.push and push for h in block.hints), max_pushes)
        for hint, keep in zip(block.hints, kept, strict=True):
            if hint.push and push and not keep:
                action = "not pushed" if hint.link else "left out (push only)"
                ctx.cut(block, hint.path, f"{action}: over {limit}")
            if hint.push and not keep:
                hint = replace(hint, push=False)
            if hint.link is None and not hint.push:
                continue
            hints.append(hint)
        if hints:
            out.append(replace(block, hints=tuple(hints)))
    return out


def pushes_on_link(link: str | None) -> bool:
    """Whether a server that pushes on Link headers pushes this value: rel=preload only.

    nginx, h2o and mod_http2 read ``rel=preload`` (https://w3c.github.io/preload/#server-push-http-2);
    ``rel=modulepreload`` is not pushed, so module scripts are pushed by path.
    """
    return link is not None and "; rel=preload;" in link + ";"
