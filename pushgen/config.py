"""The site configuration, ``SITE/pushgen.yaml``.

Every key is optional::

    context: {site_name: Example}   # variables for every template
    base_path: /                    # the URL prefix the site lives under
    output: _site                   # where the build writes (relative to SITE)
    manifest: push-manifest.yaml    # where the manifest goes (relative to SITE)
    pretty_urls: false              # /about.html is also served/linked as /about
    fingerprint: false              # static files also under content-hashed names
    plain: [legacy/**, guide.html]  # pages that are plain HTML: copied, never rendered
    push:
      destinations: [style, script, font]   # what is pushed; the rest is hinted only
      max_pushes: 12                # per route, counted in document order
      max_bytes: 50000              # per route, counted in document order (the default;
                                    # null for no limit)
      script_fetches: list          # what a script fetches by a literal URL (import(),
                                    # fetch()): list (the default) or hint
      fonts: used                   # push/hint a font only where the page's text uses it
                                    # (the default; `all`: every @font-face source)
    app: blog:create_app()          # `pushgen build` renders this Quart app (MODULE:APP)
    urls: [/blog/hello]             # with app: URLs of rules with arguments to render too
    request_timeout: 30             # with app: seconds a view may take to answer in full
    max_body: 50000000              # with app: bytes of a page or asset the build reads at most
    max_page_bytes: 67108864        # a larger page is not parsed (an error; 64 MiB)
    max_attributes: 1000            # nor a page with an element that has more attributes

Unknown keys are an error that names the line and the nearest valid key.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast, get_args

import yaml

from .errors import ConfigError, PushgenError, did_you_mean
from .links import normalise_base_path
from .manifest.rules import glob_matches
from .manifest.yamlsafe import YamlError, compose, control_character, control_message, scalar_text
from .model import DESTINATIONS, FontPolicy, HtmlLimits
from .push_policy import Policy

__all__ = [
    "CONFIG_NAME",
    "DEFAULT_MAX_BODY",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_PUSH_DESTINATIONS",
    "DEFAULT_REQUEST_TIMEOUT",
    "NotASiteError",
    "ScriptFetches",
    "SiteConfig",
    "find_quart_app",
    "load_config",
    "require_site",
]

CONFIG_NAME = "pushgen.yaml"
DEFAULT_PUSH_DESTINATIONS = frozenset({"style", "script", "font"})
# Pushed bytes per route, from bench/push_budget_bench.py (a push-accepting h2
# client through a delay line with TCP slow start from 10 segments, RFC 6928, and
# 20 Mbit/s; a page with 215 KB of render-blocking files; budgets 0, 50 KB,
# 100 KB, 200 KB, none). A push saves the round trip in which the browser would
# be asking for the file, and a new connection carries about one congestion
# window in it: at RTTs of 50-200 ms, 50 KB of pushes brought the render-blocking
# set in 0.81-0.86 of the time without push, and 100 KB, 200 KB or no limit did
# no better (0.82-0.89). On a repeat view every pushed byte is wasted (the
# browser's cancel arrives after the server sent them: 45 KB at 50 KB, 85 KB at
# 100 KB) and delays the page. Issue 15 saw 2.4 MB pushed per route.
DEFAULT_MAX_BYTES = 50_000
# `build --app` bounds (issue 22 item 6c): a view that never answers or streams
# forever is given up after this many seconds, and a body is read at most this far.
# Real pages take well under a second and weigh well under a megabyte.
DEFAULT_REQUEST_TIMEOUT = 30.0
DEFAULT_MAX_BODY = 50_000_000

# What the build does with a resource a script fetches through a literal URL
# (import(), fetch()). Measured in Chromium (bench/script_fetch_bench.py, issue 15):
# a hint makes every page download an import() that runs on a click; it helps a
# page whose script fetches at load (Sphinx's search index). So "list" by default;
# "hint" hints them at low priority everywhere (a rule's `set` hints one path).
ScriptFetches = Literal["list", "hint"]
_PUSH_KEYS = ("destinations", "max_pushes", "max_bytes", "script_fetches", "fonts")
# push.fonts: trace each page's fonts (pushgen/build/fonts/) or list every face.
FONT_POLICIES = ("used", "all")


@dataclass(frozen=True, slots=True)
class SiteConfig:
    """A site's layout and settings, with every path made absolute."""

    root: Path
    output: Path
    manifest: Path
    base_path: str = "/"
    context: Mapping[str, Any] = field(default_factory=dict)
    pretty_urls: bool = False
    push_destinations: frozenset[str] = DEFAULT_PUSH_DESTINATIONS
    max_pushes: int | None = None
    max_bytes: int | None = DEFAULT_MAX_BYTES
    script_fetches: ScriptFetches = "list"
    # "used": a font is pushed or hinted only for pages whose text uses it.
    fonts: FontPolicy = "used"
    config_file: Path | None = None
    # A Quart app as the source (pushgen/sources/quart_app.py): MODULE:APP, and URLs to render.
    app: str | None = None
    urls: tuple[str, ...] = ()
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT
    max_body: int = DEFAULT_MAX_BODY
    # Globs over page paths relative to pages/ ('*' within a segment, '**' across
    # them; a folder, "docs/" or "docs", means every page under it): these pages
    # are plain HTML.
    plain: tuple[str, ...] = ()
    # Bounds on one HTML page, checked before it is parsed (pushgen/scan/limits.py).
    html_limits: HtmlLimits = field(default_factory=HtmlLimits)
    # url_for('static') names files by their content hash (pushgen/build/fingerprint.py).
    fingerprint: bool = False

    def is_plain(self, source: str) -> bool:
        """Whether the page ``source`` (relative to pages/) is plain HTML, never rendered."""
        for pattern in self.plain:
            if glob_matches(pattern, source):
                return True
            if (pattern.endswith("/") or not any(c in pattern for c in "*?")) and glob_matches(
                pattern.rstrip("/") + "/**", source
            ):
                return True
        return False

    @property
    def policy(self) -> Policy:
        """The site-wide push policy (rules in the manifest may override it per route)."""
        return Policy(
            push=self.push_destinations,
            max_pushes=self.max_pushes,
            max_bytes=self.max_bytes,
            fonts=self.fonts,
        )

    @property
    def pages(self) -> Path:
        return self.root / "pages"

    @property
    def templates(self) -> Path:
        return self.root / "templates"

    @property
    def static(self) -> Path:
        return self.root / "static"


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def _col(node: yaml.Node) -> int:
    return int(node.start_mark.column) + 1


def load_config(
    root: str | os.PathLike[str],
    *,
    output: str | os.PathLike[str] | None = None,
    manifest: str | os.PathLike[str] | None = None,
) -> SiteConfig:
    """Read ``ROOT/pushgen.yaml`` (if present); ``output``/``manifest`` override it."""
    root_path = Path(root).resolve()
    config_file = root_path / CONFIG_NAME
    values: dict[str, Any] = {}
    shown = str(config_file)
    if config_file.is_file():
        try:
            text = config_file.read_text(encoding="utf-8-sig")
            node = compose(text, shown)
        except UnicodeDecodeError:
            raise ConfigError("not UTF-8 text", file=shown) from None
        except YamlError as exc:
            found = exc.diagnostic
            raise ConfigError(
                found.message, file=shown, line=found.line, column=found.column
            ) from None
        if node is not None:
            values = _read_mapping(node, shown)
    else:
        config_file = None  # type: ignore[assignment]

    # The keys' values are SiteConfig's fields (its defaults for those not given),
    # but for the paths, made absolute here, and the HTML limits, one value.
    base_path = normalise_base_path(values.pop("base_path", "/"))
    out_name, man_name = values.pop("output", "_site"), values.pop("manifest", _MANIFEST_NAME)
    out = Path(output) if output is not None else root_path / out_name
    man = Path(manifest) if manifest is not None else root_path / man_name
    limits = {k: values.pop(k) for k in _HTML_LIMIT_KEYS if k in values}
    return SiteConfig(
        root=root_path,
        output=out.resolve(),
        manifest=man.resolve(),
        base_path=base_path,
        config_file=config_file,
        html_limits=HtmlLimits(**limits),
        **values,
    )


def _error(message: str, node: yaml.Node, shown: str) -> ConfigError:
    return ConfigError(message, file=shown, line=_line(node), column=_col(node))


def _read_mapping(node: yaml.Node, shown: str) -> dict[str, Any]:
    if not isinstance(node, yaml.MappingNode):
        raise ConfigError(
            "pushgen.yaml must be a mapping of settings", file=shown, line=_line(node)
        )
    loader = yaml.SafeLoader("")
    values: dict[str, Any] = {}
    for key_node, value_node in node.value:
        key = scalar_text(key_node)
        if key not in _KEYS:
            hint = did_you_mean(str(key), _KEYS, listed=True)
            raise _error(f"unknown key {key!r}{hint}", key_node, shown)
        if key in values:
            raise _error(f"key {key!r} appears twice", key_node, shown)
        try:
            # Bounded: compose refused aliases and deep nesting.
            value = loader.construct_object(value_node, deep=True)
        except (yaml.YAMLError, ValueError, OverflowError) as exc:
            # A tag PyYAML cannot construct, or a timestamp such as 2024-13-45.
            problem = getattr(exc, "problem", None) or str(exc)
            raise _error(f"cannot read this value: {problem}", value_node, shown) from None
        values.update(_READERS[key](key, value_node, value, shown))
    return values


# --- each key's reader: its checked value as SiteConfig's fields -------------------


def _read_context(key: str, node: yaml.Node, value: Any, shown: str) -> dict[str, Any]:
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise _error("'context' must be a mapping of template variables", node, shown)
    return {key: value}


def _read_urls(key: str, node: yaml.Node, value: Any, shown: str) -> dict[str, Any]:
    if not isinstance(value, list) or not all(
        isinstance(u, str) and u.startswith("/") for u in value
    ):
        raise _error("'urls' must be a list of URL paths like [/blog/hello]", node, shown)
    return {key: tuple(value)}


def _read_text(key: str, node: yaml.Node, value: Any, shown: str) -> dict[str, Any]:
    if not isinstance(value, str) or not value:
        raise _error(f"{key!r} must be a non-empty string", node, shown)
    if control_character(value):
        # base_path reaches every Link header; output and manifest name files.
        raise _error(control_message(value), node, shown)
    return {key: value}


def _read_positive(key: str, node: yaml.Node, value: Any, shown: str) -> dict[str, Any]:
    number = (int, float) if key == "request_timeout" else (int,)
    if not isinstance(value, number) or isinstance(value, bool) or not value > 0:
        what = "seconds" if key == "request_timeout" else "bytes (an integer)"
        raise _error(f"{key!r} must be a positive number of {what}", node, shown)
    return {key: value}


def _read_flag(key: str, node: yaml.Node, value: Any, shown: str) -> dict[str, Any]:
    if not isinstance(value, bool):
        raise _error(f"{key!r} must be true or false", node, shown)
    return {key: value}


def _read_limit(key: str, node: yaml.Node, value: Any, shown: str) -> dict[str, Any]:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _error(f"{key!r} must be a whole number, 1 or more", node, shown)
    return {key: value}


def _read_push(_key: str, node: yaml.Node, value: Any, shown: str) -> dict[str, Any]:
    if not isinstance(value, dict) or not isinstance(node, yaml.MappingNode):
        raise _error("'push' must be a mapping", node, shown)
    result: dict[str, Any] = {}
    for key_node, value_node in node.value:
        key = key_node.value
        if key not in _PUSH_KEYS:
            hint = did_you_mean(str(key), _PUSH_KEYS, listed=True)
            raise _error(f"unknown key {key!r} under 'push'{hint}", key_node, shown)
        item = value[key]
        if key == "destinations":
            if not isinstance(item, list) or not all(isinstance(i, str) for i in item):
                raise _error(
                    "'push.destinations' must be a list like [style, script, font]",
                    value_node,
                    shown,
                )
            for index, name in enumerate(item):
                if name not in DESTINATIONS:
                    # At the word itself (a flow or block list's item), as the manifest does.
                    at = (
                        value_node.value[index]
                        if isinstance(value_node, yaml.SequenceNode)
                        else value_node
                    )
                    hint = did_you_mean(name, DESTINATIONS)
                    raise _error(f"{name!r} is not a Fetch destination{hint}", at, shown)
            result["push_destinations"] = frozenset(item)
        elif key == "script_fetches":
            if item not in get_args(ScriptFetches):
                raise _error(
                    "'push.script_fetches' must be list (the default) or hint", value_node, shown
                )
            result[key] = item
        elif key == "fonts":
            if item not in FONT_POLICIES:
                raise _error(
                    "'push.fonts' must be 'used' (fonts the page's text uses)"
                    " or 'all' (every @font-face source)",
                    value_node,
                    shown,
                )
            result["fonts"] = cast(FontPolicy, item)
        else:
            # null: no limit (max_bytes has a default, see DEFAULT_MAX_BYTES).
            if item is not None and (
                isinstance(item, bool) or not isinstance(item, int) or item < 0
            ):
                raise _error(
                    f"'push.{key}' must be a whole number, 0 or more, or null for no limit",
                    value_node,
                    shown,
                )
            result[key] = item
    return result


def _read_plain(key: str, node: yaml.Node, value: Any, shown: str) -> dict[str, Any]:
    if value is None:
        return {key: ()}
    if not isinstance(value, list) or not isinstance(node, yaml.SequenceNode):
        raise _error(
            "'plain' must be a list of page globs relative to pages/, like [docs/**, legacy.html]",
            node,
            shown,
        )
    for item, item_node in zip(value, node.value, strict=True):
        if not isinstance(item, str) or not item.strip("/"):
            raise _error(
                "each 'plain' item must be a page path or glob relative to pages/, like docs/**",
                item_node,
                shown,
            )
    return {key: tuple(item.lstrip("/") for item in value)}


# The keys of pushgen.yaml, declared once, in the order messages list them: each
# with its reader, which checks the value and gives SiteConfig's fields (the
# defaults of those not given are SiteConfig's own; docs/config.md documents
# each key, tests/test_config_docs.py holds them together).
_Reader = Callable[[str, yaml.Node, Any, str], dict[str, Any]]
_READERS: Mapping[str, _Reader] = {
    "context": _read_context,
    "base_path": _read_text,
    "output": _read_text,
    "manifest": _read_text,
    "pretty_urls": _read_flag,
    "fingerprint": _read_flag,
    "plain": _read_plain,
    "push": _read_push,
    "app": _read_text,
    "urls": _read_urls,
    "request_timeout": _read_positive,
    "max_body": _read_positive,
    "max_page_bytes": _read_limit,
    "max_attributes": _read_limit,
}
_KEYS = tuple(_READERS)
# Two keys that make one field, SiteConfig.html_limits (pushgen/scan/limits.py).
_HTML_LIMIT_KEYS = ("max_page_bytes", "max_attributes")
_MANIFEST_NAME = "push-manifest.yaml"


# --- what makes a folder a site --------------------------------------------------


class NotASiteError(PushgenError):
    """A build or serve was pointed at a folder that is not a site: nothing was written.

    ``app`` is the Quart app found in the folder's ``app.py`` (MODULE:APP), if any.
    """

    def __init__(self, root: Path, app: str | None) -> None:
        self.root, self.app = root, app
        if app is not None:
            todo = (
                f"{root / 'app.py'} holds a Quart app: run `pushgen build --app {app}` there,"
                " or `pushgen init` to record it in pushgen.yaml"
            )
        else:
            todo = f"start one with `pushgen init {root}`, or name the site's folder"
        super().__init__(
            f"{root} is not a pushgen site, so nothing was written there: a site has pages/"
            " (pages/index.html is /) or a pushgen.yaml (`app: MODULE:APP` for a Quart app);"
            f" {todo}"
        )


def require_site(config: SiteConfig) -> None:
    """Raise :class:`NotASiteError` unless ``config.root`` is a site.

    A site has ``pages/`` or ``pushgen.yaml`` (which may name an ``app:``). Any
    other folder (a mistyped path, an app's folder where ``--app`` was forgotten)
    would otherwise get an empty output folder and a manifest with no routes,
    written over whatever manifest was there.
    """
    if config.config_file is None and not config.pages.is_dir():
        raise NotASiteError(config.root, find_quart_app(config.root))


def find_quart_app(folder: str | os.PathLike[str], module: str = "app") -> str | None:
    """The Quart app ``folder/MODULE.py`` defines, as MODULE:APP (or MODULE:factory()).

    Read, never imported (importing runs the app's code): a module-level
    assignment whose value calls ``Quart(...)`` (directly or wrapped, as in
    ``pushgen.quart.init_app(Quart(__name__))``), else a ``create_app`` function
    in a module that mentions Quart. None when there is no such file or app.
    """
    try:
        tree = ast.parse(Path(folder, f"{module}.py").read_bytes())
    except (OSError, SyntaxError, ValueError):
        return None
    mentions_quart = False
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [alias.name for alias in node.names]
            mentions_quart |= any(n.split(".")[0] == "quart" for n in names) or (
                isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "quart"
            )
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and any(_calls_quart(call) for call in ast.walk(node.value))
        ):
            return f"{module}:{node.targets[0].id}"
    factories = [
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == "create_app"
    ]
    return f"{module}:create_app()" if factories and mentions_quart else None


def _calls_quart(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    return name == "Quart"
