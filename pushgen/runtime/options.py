"""The runtime's settings, declared once: each with its ``PUSHGEN_*`` name, kind and default.

:func:`resolve` reads every setting the same way: the keyword argument, then
``app.config`` (for the Quart extension), then the environment (for the app
factory that Hypercorn's CLI runs), then the default; and checks every value,
whatever its source, with one validator, whose message names the setting as the
user wrote it.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ..errors import ConfigError
from ..hint_budget import DEFAULT_MAX_LINK_BYTES

__all__ = ["ENV_PREFIX", "SETTINGS", "Setting", "resolve"]

ENV_PREFIX = "PUSHGEN_"

Kind = Literal["bool", "seconds", "count", "path", "url_path"]


@dataclass(frozen=True, slots=True)
class Setting:
    """One setting: its keyword name, its kind and its default."""

    name: str
    kind: Kind
    default: Any

    @property
    def key(self) -> str:
        """Its name in ``app.config`` and in the environment."""
        return ENV_PREFIX + self.name.upper()


SETTINGS: Mapping[str, Setting] = {
    s.name: s
    for s in (
        Setting("site", "path", "."),
        Setting("output", "path", None),
        Setting("manifest", "path", "push-manifest.yaml"),
        Setting("push", "bool", True),
        Setting("early_hints", "bool", True),
        # The extension sends the 103 at once (views may think); pushgen.app
        # passes its own default for files (runtime/factory.py says why).
        Setting("early_hints_delay", "seconds", 0.0),
        Setting("link_headers", "bool", True),
        # Every push competes with the page for the connection; past a handful
        # of critical assets a push costs more than the round trip it saves.
        Setting("max_pushes", "count", 10),
        # Bytes of Link values a route's response and 103 carry, the most
        # important hints first (pushgen.hint_budget says why 8 KiB).
        Setting("max_link_bytes", "count", DEFAULT_MAX_LINK_BYTES),
        # Pushes a connection may have in flight (not yet sent); a client that
        # keeps its flow-control window shut pins each (runtime/middleware.py).
        Setting("max_pushes_in_flight", "count", 32),
        # A cookie of what was pushed, so a returning client is pushed only what
        # changed (pushgen.runtime.pushcache).
        Setting("push_digest", "bool", True),
        Setting("base_path", "url_path", "/"),
        Setting("pretty_urls", "bool", False),
        Setting("reload_interval", "seconds", 1.0),
        Setting("manifest_required", "bool", True),
        Setting("static_max_age", "count", 3600),
    )
}

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
