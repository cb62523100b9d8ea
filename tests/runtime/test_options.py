"""The runtime's settings: one declaration, one order of sources, one validator."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pushgen.errors import ConfigError
from pushgen.runtime.options import SETTINGS, resolve


def test_keyword_then_config_then_environment_then_default() -> None:
    names = ("max_pushes", "push", "reload_interval", "base_path")
    config = {"PUSHGEN_MAX_PUSHES": 3, "PUSHGEN_PUSH": False}
    environ = {"PUSHGEN_MAX_PUSHES": "7", "PUSHGEN_PUSH": "1", "PUSHGEN_RELOAD_INTERVAL": " 2.5 "}
    given: dict[str, Any] = {"max_pushes": 1}
    assert resolve(names, given, config=config, environ=environ) == {
        "max_pushes": 1,
        "push": False,
        "reload_interval": 2.5,
        "base_path": "/",
    }
    assert resolve(names, {}, environ=environ)["max_pushes"] == 7
    assert resolve(names, {}, defaults={"base_path": "/blog/"})["base_path"] == "/blog/"


def test_every_setting_has_a_pushgen_key_and_a_default_of_its_kind() -> None:
    for setting in SETTINGS.values():
        assert setting.key == "PUSHGEN_" + setting.name.upper()
        if setting.default is not None:
            assert resolve([setting.name], {setting.name: setting.default}) == {
                setting.name: setting.default
            }


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("push", "yes", "PUSHGEN_PUSH must be True or False, not 'yes'"),
        ("max_pushes", 1.5, "PUSHGEN_MAX_PUSHES must be a whole number >= 0, not 1.5"),
        ("max_pushes", True, "PUSHGEN_MAX_PUSHES must be a whole number >= 0, not True"),
        ("early_hints_delay", float("nan"), "PUSHGEN_EARLY_HINTS_DELAY must be a number >= 0"),
        ("reload_interval", -1, "PUSHGEN_RELOAD_INTERVAL must be a number >= 0, not -1"),
        ("manifest", 3, "PUSHGEN_MANIFEST must be a file or folder path, not 3"),
        ("base_path", b"/", "PUSHGEN_BASE_PATH must be a URL path like /blog/"),
    ],
)
def test_a_bad_value_names_its_setting(name: str, value: object, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve([name], {name: value})
    assert str(caught.value).startswith(message)
    # The same value from app.config: the same message.
    with pytest.raises(ConfigError) as again:
        resolve([name], {}, config={SETTINGS[name].key: value})
    assert str(again.value) == str(caught.value)


def test_an_empty_path_in_the_environment_is_unset() -> None:
    assert resolve(["output"], {}, environ={"PUSHGEN_OUTPUT": ""}) == {"output": None}


def test_the_wire_bounds_are_settings() -> None:
    # Issue 22: the Link field's byte budget and the pushes a connection may have in flight.
    assert resolve(["max_link_bytes", "max_pushes_in_flight"], {}) == {
        "max_link_bytes": 8192,
        "max_pushes_in_flight": 32,
    }
    environ = {"PUSHGEN_MAX_LINK_BYTES": "16384", "PUSHGEN_MAX_PUSHES_IN_FLIGHT": "4"}
    assert resolve(["max_link_bytes", "max_pushes_in_flight"], {}, environ=environ) == {
        "max_link_bytes": 16384,
        "max_pushes_in_flight": 4,
    }
    with pytest.raises(ConfigError) as caught:
        resolve(["max_link_bytes"], {}, environ={"PUSHGEN_MAX_LINK_BYTES": "8k"})
    assert str(caught.value) == (
        "environment variable PUSHGEN_MAX_LINK_BYTES='8k' must be a whole number >= 0"
    )


# --- docs/deploy.md documents every setting -------------------------------------------------

DEPLOY = Path(__file__).resolve().parents[2] / "docs" / "deploy.md"


def _deploy_table() -> dict[str, str]:
    """The environment table of docs/deploy.md: variable -> its default cell."""
    rows = re.findall(r"^\| `(PUSHGEN_\w+)` \| .* \| (.*) \|$", DEPLOY.read_text(), re.MULTILINE)
    return dict(rows)


def _init_app_keys() -> set[str]:
    """The ``app.config`` keys docs/deploy.md lists for ``init_app``."""
    text = DEPLOY.read_text()
    start = text.index('Keyword arguments win over `app.config["PUSHGEN_*"]`')
    listed = text[start : text.index("which win over the defaults", start)]
    return set(re.findall(r"`(PUSHGEN_\w+)`", listed))


def _parameters(function: Callable[..., Any], *not_settings: str) -> set[str]:
    return {p for p in inspect.signature(function).parameters if p not in not_settings}


def test_deploy_md_documents_every_setting_where_it_is_read() -> None:
    from pushgen.app import DEFAULT_EARLY_HINTS_DELAY, create_app
    from pushgen.quart import init_app

    # The environment, read by create_app (pushgen serve, Hypercorn's CLI): the table.
    from_environment = _parameters(create_app, "environ")
    table = _deploy_table()
    assert set(table) == {SETTINGS[name].key for name in from_environment}
    # app.config, read by init_app: the list beside its example.
    from_config = _parameters(init_app, "app", "policy")
    assert _init_app_keys() == {SETTINGS[name].key for name in from_config}
    # Between them, every setting; none documented that is not one.
    assert from_environment | from_config == set(SETTINGS)
    # The table's defaults are create_app's (its own early_hints_delay, runtime/factory.py).
    defaults = {s.key: s.default for s in SETTINGS.values()}
    defaults["PUSHGEN_EARLY_HINTS_DELAY"] = DEFAULT_EARLY_HINTS_DELAY
    for name in from_environment:
        setting = SETTINGS[name]
        cell = table[setting.key].strip("`")
        if setting.kind == "bool":
            assert cell == ("1" if defaults[setting.key] else "0"), setting.key
        elif setting.kind in ("count", "seconds"):
            assert float(cell.replace(",", "")) == defaults[setting.key], setting.key


# --- the entry points take the table's settings as keywords --------------------------------


def test_init_app_refuses_an_unknown_option_by_name() -> None:
    from quart import Quart

    from pushgen.quart import init_app

    # On main a mistyped keyword was a bare TypeError from Python.
    with pytest.raises(ConfigError) as caught:
        init_app(Quart(__name__), manifest="m.yaml", max_push=3)
    assert (
        str(caught.value)
        == "init_app() got an unknown option 'max_push'; did you mean 'max_pushes'?"
    )
    with pytest.raises(ConfigError) as other:
        init_app(Quart(__name__), static_max_age=60)
    assert str(other.value) == (
        "init_app() takes no option 'static_max_age': only pushgen.app.create_app takes it"
    )


def test_create_app_refuses_an_unknown_option_by_name(tmp_path: Path) -> None:
    from pushgen.app import create_app

    with pytest.raises(ConfigError) as caught:
        create_app(tmp_path, environ={}, zzz=1)
    assert str(caught.value).startswith("create_app() got an unknown option 'zzz'; valid keys: ")
    with pytest.raises(ConfigError) as other:
        create_app(tmp_path, environ={}, base_path="/blog/")
    assert (
        str(other.value)
        == "create_app() takes no option 'base_path': the site's pushgen.yaml sets it"
    )


def test_an_ill_typed_keyword_names_its_setting(tmp_path: Path) -> None:
    from quart import Quart

    from pushgen.app import create_app
    from pushgen.quart import init_app

    with pytest.raises(
        ConfigError, match=r"^PUSHGEN_MAX_PUSHES must be a whole number >= 0, not 'x'"
    ):
        init_app(Quart(__name__), max_pushes="x")
    with pytest.raises(ConfigError, match=r"^PUSHGEN_PUSH must be True or False, not 2"):
        create_app(tmp_path, environ={}, push=2)


def test_every_setting_one_entry_point_lacks_says_why() -> None:
    from typing import get_args

    from pushgen.runtime.options import _READ_ELSEWHERE, Reader

    lacking = {
        (reader, name)
        for name, setting in SETTINGS.items()
        for reader in get_args(Reader)
        if reader not in setting.read_by
    }
    assert set(_READ_ELSEWHERE) == lacking


def test_the_options_object_is_the_table() -> None:
    from dataclasses import fields

    from pushgen.quart import Options, init_app

    assert [f.name for f in fields(Options) if f.name != "policy"] == list(SETTINGS)
    defaults = Options()
    for setting in SETTINGS.values():
        assert getattr(defaults, setting.name) == setting.default
    # The keywords init_app shows are the settings it reads, with the site's policy.
    shown = inspect.signature(init_app).parameters
    assert list(shown) == [
        "app",
        "policy",
        *(n for n, s in SETTINGS.items() if "init_app" in s.read_by),
    ]
