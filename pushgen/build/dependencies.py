"""Which templates a page depends on, and so which pages a template change renders again.

Every template's stat (size, mtime, ctime, inode) and content hash, and the templates it names
(``extends``, ``include``, ``import``, ``from``: found statically, with a regex
for the usual literal tags and ``jinja2.meta`` otherwise; a name computed at
render time makes a page depend on all, :data:`~pushgen.build.incremental.ALL`).
The state (incremental.py) keeps them between builds.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from pathlib import Path

import jinja2
import jinja2.meta

from ..config import SiteConfig
from ..errors import Diagnostic
from ..fsutil import SourceFile, walk_sources
from .incremental import ALL, TemplateFile
from .render import Page

__all__ = ["changed_templates", "pages_to_render", "scan_templates", "template_closure"]


def _walk(root: Path, config: SiteConfig, skipped: list[Diagnostic] | None) -> Iterable[SourceFile]:
    """Every file of ``root`` that belongs to the site (its ``rel`` is its name as the
    loader knows it); what does not goes into ``skipped`` as warnings."""
    found = walk_sources(root, config.root)
    if skipped is not None:
        display = _display_root(root, config)
        skipped.extend(Diagnostic(f"{display}{rel}", 0, 0, why) for rel, why in found.skipped)
    return found.files


def _display_root(root: Path, config: SiteConfig) -> str:
    try:
        return f"{root.relative_to(config.root).as_posix()}/"
    except ValueError:
        return f"{root}/"


_PARSER = jinja2.Environment()
# A tag that names templates: {% extends/include/import/from ... %}.
_TAG = re.compile(r"\{%[-+]?\s*(?:extends|include|import|from)\b[^%]*%\}")
# The same tag when it names them only by string literals (the usual case).
_LITERAL_TAG = re.compile(
    r"""\{%[-+]?\s*(?:extends|include|import|from)\s+(?P<names>(?:["'][^"']+["']\s*,?\s*)+|\[\s*(?:["'][^"']+["']\s*,?\s*)+\])"""
    r"""(?:\s+(?:as\s+\w+|import\s+[\w\s,]+|ignore\s+missing|with(?:out)?\s+context))*\s*[-+]?%\}"""
)
_STRING = re.compile(r"""["']([^"']+)["']""")


def _names(source: str) -> frozenset[str]:
    """The templates ``source`` names. A regex reads the usual literal tags; anything
    else goes to Jinja's parser (a tag in a comment only adds a dependency)."""
    tags = _TAG.findall(source)
    if not tags:
        return frozenset()
    literal = [_LITERAL_TAG.fullmatch(tag) for tag in tags]
    if all(literal):
        return frozenset(
            name for match in literal if match for name in _STRING.findall(match.group("names"))
        )
    try:
        found = jinja2.meta.find_referenced_templates(_PARSER.parse(source))
        return frozenset(ALL if name is None else name for name in found)
    except jinja2.TemplateSyntaxError:
        # The render reports the error; until it is fixed, assume the worst.
        return frozenset({ALL})


def scan_templates(
    config: SiteConfig,
    previous: dict[str, TemplateFile],
    skipped: list[Diagnostic] | None = None,
) -> dict[str, TemplateFile]:
    """Every template by loader name (pages first, as the loader searches), with what it names.

    A file whose stat (size, mtime, ctime, inode) matches ``previous`` is not read
    again. Links out of
    the site and special files are not templates (see fsutil.walk_sources); they
    are reported in ``skipped``.
    """
    result: dict[str, TemplateFile] = {}
    for root in (config.pages, config.templates):
        for name, path, st in _walk(root, config, skipped):
            if name in result:
                continue  # shadowed: the loader finds the page of that name first
            old = previous.get(name)
            if old is not None and old.same_file(path, st):
                result[name] = old
                continue
            try:
                data = Path(path).read_bytes()
            except OSError:
                continue
            text = data.decode("utf-8", errors="replace")
            digest = hashlib.sha256(data).hexdigest()
            result[name] = TemplateFile(
                path, st.st_size, st.st_mtime_ns, digest, _names(text), st.st_ctime_ns, st.st_ino
            )
    return result


def template_closure(name: str, templates: dict[str, TemplateFile]) -> frozenset[str]:
    """``name`` and every template it reaches; contains :data:`ALL` when that is unknowable."""
    seen: set[str] = set()
    stack = [name]
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        template = templates.get(current)
        if template is not None:
            stack.extend(template.names - seen)
    return frozenset(seen)


def changed_templates(old: dict[str, TemplateFile], new: dict[str, TemplateFile]) -> set[str]:
    """Names whose content changed, appeared or disappeared."""
    changed = {name for name in new if name not in old or old[name].digest != new[name].digest}
    changed.update(name for name in old if name not in new)
    return changed


def pages_to_render(
    pages: list[Page], old: dict[str, TemplateFile], new: dict[str, TemplateFile]
) -> set[str]:
    """Sources of the pages whose output may differ from the last build's: those
    whose template closure (see template_closure), in the old templates or the new,
    holds a changed template or :data:`ALL`.

    Found backwards from what changed, over the names of both versions at once (a
    closure per page costs 1 s at 50,000 pages). That is the same set: a template
    whose names differ between the two changed, so a path that mixes old and new
    names reaches a changed template first on one that both versions share.
    """
    changed = changed_templates(old, new)
    if not changed:
        return set()
    named_by: dict[str, set[str]] = {}
    for templates in (old, new) if old is not new else (new,):
        for name, template in templates.items():
            for target in template.names:
                named_by.setdefault(target, set()).add(name)
    # ALL is in a closure when a template in it names ALL: a seed like a change.
    reached = set(changed) | {ALL}
    stack = list(reached)
    while stack:
        for name in named_by.get(stack.pop(), ()):
            if name not in reached:
                reached.add(name)
                stack.append(name)
    return {page.source for page in pages if page.source in reached}
