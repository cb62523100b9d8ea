"""Who may replace a manifest's generated ``routes``: the source that wrote them, and a layout
the writer can replace as a block of lines (pushgen.manifest.writer asks before it writes).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Literal

import yaml

from ..errors import Diagnostic, ManifestError
from .yamlsafe import YamlError, compose, scalar_text

__all__ = [
    "ROUTES_KEY_LINE",
    "SourceKind",
    "refuse_other_source",
    "refuse_unwritable",
    "routes_source",
    "same_but_source",
    "source_kind",
]

# The first line that starts with ``routes:``, where str.splitlines ends lines.
ROUTES_KEY_LINE = re.compile(
    "(?:\\A|(?<=[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]))"
    "routes:[^\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]*"
)


# The routes of a manifest come from one source; the ``routes:`` line names the
# command that wrote them (``pushgen build``, ``pushgen build --app app:app``,
# ``pushgen scan DIR``), so that another source does not silently replace them
# (a forgotten ``--app`` would write the routes of an empty site over an app's).
# "build" is a plain ``pushgen build``: a site, or the app its pushgen.yaml names.
SourceKind = Literal["build", "app", "folder"]
_WRITTEN_BY = re.compile(r"#\s*written by (?P<command>[^;]*?)\s*;")


def source_kind(command: str) -> SourceKind:
    """The kind of source ``command`` (as a ``routes:`` line names it) reads."""
    words = command.split()
    if words[1:2] == ["scan"]:
        return "folder"
    return "app" if "--app" in words else "build"


def routes_source(text: str) -> str | None:
    """The command the ``routes:`` line of ``text`` says wrote its routes (None: no such line,
    or written by hand). Manifests from before the command named its argument read as
    ``pushgen build --app`` and ``pushgen scan``, and keep their kind."""
    line = ROUTES_KEY_LINE.search(text)
    found = _WRITTEN_BY.search(line.group()) if line is not None else None
    return found.group("command") if found is not None else None


def same_but_source(a: str, b: str) -> bool:
    """Whether manifest texts ``a`` and ``b`` differ at most in the command their ``routes:``
    lines name (``--check`` of one app run as ``build --app X`` and as plain ``build``)."""
    if a == b:
        return True

    def unnamed(text: str) -> str:
        line = ROUTES_KEY_LINE.search(text)
        if line is None:
            return text
        plain = _WRITTEN_BY.sub("# written by ;", line.group(), count=1)
        return text[: line.start()] + plain + text[line.end() :]

    return unnamed(a) == unnamed(b)


def refuse_other_source(
    line: str, index: int, command: str, accepts: Collection[SourceKind], filename: str
) -> None:
    """Raise when the routes on ``line`` (the file's line ``index + 1``) came from a source
    of another kind than ``accepts``: replacing them would lose them."""
    found = _WRITTEN_BY.search(line)
    if found is None or source_kind(found.group("command")) in accepts:
        return
    recorded = found.group("command")
    raise ManifestError(
        [
            Diagnostic(
                filename,
                index + 1,
                1,
                f"these routes were written by `{recorded}`, another source than `{command}`,"
                f" which would replace them with its own: run `{recorded}` to update them, or"
                f" give `{command}` --force to replace them",
                "error",
            )
        ]
    )


def refuse_unwritable(text: str, filename: str) -> None:
    """Refuse a manifest whose ``routes`` the build cannot replace as a block of lines.

    The build finds ``routes:`` at the start of a line; a manifest in flow style
    (``{"version": 1, ...}``, as JSON) or with a quoted key would get a second
    ``routes`` appended and stop parsing.
    """
    try:
        root = compose(text, filename)
    except YamlError as exc:
        raise ManifestError([exc.diagnostic]) from None
    if not isinstance(root, yaml.MappingNode):
        return
    if root.flow_style:
        problem = "the manifest is one flow mapping ({...}, as JSON)"
    elif any(scalar_text(key) == "routes" for key, _ in root.value):
        problem = "its 'routes' key is quoted or indented"
    else:
        return
    mark = root.start_mark
    raise ManifestError(
        [
            Diagnostic(
                filename,
                mark.line + 1,
                mark.column + 1,
                f"{problem}, so the build cannot replace its generated routes; write it in block "
                "style with `routes:` at the start of a line (docs/manifest.md)",
                "error",
            )
        ]
    )
