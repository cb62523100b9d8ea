"""The runtime's settings, declared once: each with its ``PUSHGEN_*`` name, kind and default.

:class:`Options` declares them (type, kind, default, which entry point reads
it); :data:`SETTINGS` is that table by name, and ``init_app``/``create_app`` take
and check their keywords against it.

:func:`resolve` reads every setting the same way: the keyword argument, then
``app.config`` (for the Quart extension), then the environment (for the app
factory that Hypercorn's CLI runs), then the default; and checks every value,
whatever its source, with one validator, whose message names the setting as the
user wrote it.
"""

from __future__ import annotations

import inspect
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

from ..errors import ConfigError, did_you_mean
from ..hint_budget import DEFAULT_MAX_LINK_BYTES
from ..push_policy import NO_POLICY, Policy

__all__ = [
    "ENV_PREFIX",
    "SETTINGS",
    "Options",
    "Reader",
    "Setting",
    "check_keywords",
    "keyword_signature",
    "read_by",
    "resolve",
]

ENV_PREFIX = "PUSHGEN_"

Kind = Literal["bool", "seconds", "count", "path", "url_path"]


# The entry points that read settings: the Quart extension (keywords, then
# app.config), the middleware for any ASGI app (keywords, then the environment)
# and the app factory Hypercorn's CLI runs (keywords, then the environment).
Reader = Literal["init_app", "PushgenMiddleware", "create_app"]
_BOTH: frozenset[Reader] = frozenset({"init_app", "PushgenMiddleware", "create_app"})
# What an app of the user's reads: the app factory takes these from pushgen.yaml.
_EXTENSION: frozenset[Reader] = frozenset({"init_app", "PushgenMiddleware"})
_FACTORY: frozenset[Reader] = frozenset({"create_app"})


@dataclass(frozen=True, slots=True)
class Setting:
    """One setting: its keyword name, its kind, its default and who reads it."""

    name: str
    kind: Kind
    default: Any
    read_by: frozenset[Reader] = _BOTH

    @property
    def key(self) -> str:
        """Its name in ``app.config`` and in the environment."""
        return ENV_PREFIX + self.name.upper()


def _setting(kind: Kind, read_by: frozenset[Reader] = _BOTH) -> dict[str, Any]:
    """The metadata that makes a field of :class:`Options` a setting (see :data:`SETTINGS`)."""
    return {"kind": kind, "read_by": read_by}


@dataclass(frozen=True, slots=True)
class Options:
    """Every runtime setting, declared once (its type, kind, default and reader), resolved.

    :data:`SETTINGS` is this table read field by field; ``init_app`` and
    ``create_app`` take the settings they read as keywords (checked against it)
    and the extension keeps its values in one of these. ``site`` and
    ``static_max_age`` are the app factory's; ``base_path``, ``pretty_urls`` and
    ``manifest_required`` the extension's (the factory takes them from
    pushgen.yaml).
    """

    site: str | os.PathLike[str] = field(default=".", metadata=_setting("path", _FACTORY))
    # The folder the manifest's paths are served from; gives file sizes for the
    # byte budgets of manifest rules (``policy: {max_bytes: ...}``).
    output: Path | None = field(default=None, metadata=_setting("path"))
    manifest: Path = field(default=Path("push-manifest.yaml"), metadata=_setting("path"))
    push: bool = field(default=True, metadata=_setting("bool"))
    early_hints: bool = field(default=True, metadata=_setting("bool"))
    # The extension sends the 103 at once (views may think); pushgen.app
    # passes its own default for files (runtime/factory.py says why).
    early_hints_delay: float = field(default=0.0, metadata=_setting("seconds"))
    link_headers: bool = field(default=True, metadata=_setting("bool"))
    # Every push competes with the page for the connection; past a handful
    # of critical assets a push costs more than the round trip it saves
    # (the server's budget of pushgen.push_policy's max_pushes).
    max_pushes: int = field(default=10, metadata=_setting("count"))
    # Bytes of Link values a route's response and 103 carry, the most
    # important hints first (pushgen.hint_budget says why 8 KiB).
    max_link_bytes: int = field(default=DEFAULT_MAX_LINK_BYTES, metadata=_setting("count"))
    # Pushes a connection may have in flight (not yet sent); a client that
    # keeps its flow-control window shut pins each (runtime/middleware.py).
    max_pushes_in_flight: int = field(default=32, metadata=_setting("count"))
    # A cookie of what was pushed, so a returning client is pushed only what
    # changed (pushgen.runtime.pushcache).
    push_digest: bool = field(default=True, metadata=_setting("bool"))
    base_path: str = field(default="/", metadata=_setting("url_path", _EXTENSION))
    pretty_urls: bool = field(default=False, metadata=_setting("bool", _EXTENSION))
    reload_interval: float = field(default=1.0, metadata=_setting("seconds"))
    manifest_required: bool = field(default=True, metadata=_setting("bool", _EXTENSION))
    static_max_age: int = field(default=3600, metadata=_setting("count", _FACTORY))
    # Not a setting (no PUSHGEN_* key): the site's push policy (pushgen.yaml),
    # under the manifest rules' own policies; the factory passes its config's.
    policy: Policy = NO_POLICY


SETTINGS: Mapping[str, Setting] = {
    f.name: Setting(f.name, f.metadata["kind"], f.default, f.metadata["read_by"])
    for f in fields(Options)
    if "kind" in f.metadata
}


def read_by(reader: Reader) -> tuple[str, ...]:
    """The settings ``reader`` takes as keywords, in :data:`SETTINGS` order."""
    return tuple(name for name, s in SETTINGS.items() if reader in s.read_by)


# Why an entry point does not take a setting the other one reads.
_READ_ELSEWHERE: Mapping[tuple[Reader, str], str] = {
    ("init_app", "site"): "only pushgen.app.create_app takes it",
    ("init_app", "static_max_age"): "only pushgen.app.create_app takes it",
    ("PushgenMiddleware", "site"): "only pushgen.app.create_app takes it",
    ("PushgenMiddleware", "static_max_age"): "only pushgen.app.create_app takes it",
    ("create_app", "base_path"): "the site's pushgen.yaml sets it",
    ("create_app", "pretty_urls"): "the site's pushgen.yaml sets it",
    ("create_app", "manifest_required"): "only pushgen.quart.init_app takes it",
}


def check_keywords(reader: Reader, given: Mapping[str, Any], *, extra: Iterable[str] = ()) -> None:
    """Raise :class:`ConfigError` for a keyword of ``given`` that ``reader`` does not take.

    The message names the keyword, the nearest setting and what the setting is
    read from when another entry point reads it.
    """
    known = (*read_by(reader), *extra)
    for name in given:
        if name in known:
            continue
        if name in SETTINGS:
            raise ConfigError(
                f"{reader}() takes no option {name!r}: {_READ_ELSEWHERE[reader, name]}"
            )
        raise ConfigError(
            f"{reader}() got an unknown option {name!r}{did_you_mean(name, known, listed=True)}"
        )


# What a keyword of each kind accepts (None: unset, read from the next source).
_KEYWORD_TYPES: Mapping[Kind, str] = {
    "bool": "bool | None",
    "seconds": "float | None",
    "count": "int | None",
    "path": "str | os.PathLike[str] | None",
    "url_path": "str | None",
}


def keyword_signature(reader: Reader, *first: inspect.Parameter) -> inspect.Signature:
    """The signature ``reader`` shows (help(), IDEs): ``first``, then its settings as keywords."""
    keywords = [
        inspect.Parameter(
            name,
            inspect.Parameter.KEYWORD_ONLY,
            default=None,
            annotation=_KEYWORD_TYPES[SETTINGS[name].kind],
        )
        for name in read_by(reader)
        if name not in {p.name for p in first}
    ]
    return inspect.Signature([*first, *keywords])


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})
_EXPECTED: Mapping[Kind, str] = {
    "bool": "True or False",
    "seconds": "a number >= 0",
    "count": "a whole number >= 0",
    "path": "a file or folder path",
    "url_path": "a URL path like /blog/",
}


def _valid(kind: Kind, value: Any) -> Any:
    """``value`` as the kind's type, or None when it is not one."""
    if kind == "bool":
        return value if isinstance(value, bool) else None
    if kind in ("seconds", "count"):
        # `not value >= 0` also refuses NaN, which compares false with everything.
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
            return None
        if kind == "count":
            return int(value) if math.isfinite(value) and value == int(value) else None
        return float(value)
    if kind == "path":
        return value if isinstance(value, (str, os.PathLike)) else None
    return value if isinstance(value, str) else None


def _from_text(kind: Kind, text: str) -> Any:
    """A setting's value from an environment variable's text (None when it is not one)."""
    value = text.strip()
    if kind == "bool":
        low = value.lower()
        return True if low in _TRUE else False if low in _FALSE else None
    if kind in ("seconds", "count"):
        try:
            return float(value)
        except ValueError:
            return None
    return text


def resolve(
    names: Iterable[str],
    given: Mapping[str, Any],
    *,
    config: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    defaults: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Every setting in ``names``: from ``given`` (None is unset), ``config``, ``environ``, default.

    ``defaults`` replaces a setting's declared default. Raises
    :class:`ConfigError` naming the setting (and the environment variable's text)
    when a value is not of its kind. An empty path in the environment is unset.
    """
    values: dict[str, Any] = {}
    for name in names:
        setting = SETTINGS[name]
        value, source = given.get(name), setting.key
        if value is None and config is not None:
            value = config.get(setting.key)
        if value is None and environ is not None and setting.key in environ:
            text = environ[setting.key]
            if setting.kind in ("path", "url_path") and not text:
                text_value = None
            else:
                text_value = _from_text(setting.kind, text)
                source = f"environment variable {setting.key}={text!r}"
                if text_value is None:
                    raise ConfigError(f"{source} must be {_text_expected(setting.kind)}")
            value = text_value
        if value is None:
            values[name] = (defaults or {}).get(name, setting.default)
            continue
        checked = _valid(setting.kind, value)
        if checked is None:
            if source == setting.key:
                source = f"{setting.key} must be {_EXPECTED[setting.kind]}, not {value!r}"
                raise ConfigError(source)
            raise ConfigError(f"{source} must be {_text_expected(setting.kind)}")
        values[name] = checked
    return values


def _text_expected(kind: Kind) -> str:
    return "1 or 0 (true/false)" if kind == "bool" else _EXPECTED[kind]
