"""Load, merge and validate configuration.

Sources, lowest priority first: `~/.wren/config`, `./.wren_config`, the file named by
`WREN_CONFIG_FILE`, then the `config=` mapping (or the YAML file it names) and keyword
overrides given in code. When none of wren's files exists, Lithops' file is read instead, as
Lithops finds it (`LITHOPS_CONFIG_FILE`, `./.lithops_config`, `~/.lithops/config`,
`/etc/lithops/config`), with one notice naming it. Sections are merged key by key, not
replaced. A `lithops:` section is read as `wren:`. The sections of the chosen compute and
storage backends are validated against the schemas the adapters declare, other sections are
checked by `wren.config.sections`; no configuration at all means `localhost` compute and
`localhost` storage.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from wren import plugins
from wren._errors import BackendNotFoundError, ConfigError
from wren.config.lithops_keys import notice_once
from wren.config.schema import ConfigSchema, unknown_key_message
from wren.config.sections import LITHOPS_SECTIONS, check_sections
from wren.config.wren_section import DEFAULT_BACKEND, DEFAULT_STORAGE, WREN_SECTION

logger = logging.getLogger("wren")

ENV_CONFIG_FILE = "WREN_CONFIG_FILE"
ENV_LITHOPS_CONFIG_FILE = "LITHOPS_CONFIG_FILE"
#: Lithops' machine-wide config file (read last, as Lithops does).
LITHOPS_GLOBAL_FILE = Path("/etc/lithops/config")


@attrs.frozen
class WrenConfig:
    """Validated configuration: the `wren:` section plus the chosen backends' sections."""

    wren: Mapping[str, Any]
    compute_backend: str
    storage_backend: str
    compute: Mapping[str, Any]
    storage: Mapping[str, Any]
    sections: Mapping[str, Mapping[str, Any]]
    sources: tuple[str, ...] = ()


def _named_file(variable: str) -> Path | None:
    named = os.environ.get(variable)
    if not named:
        return None
    path = Path(named).expanduser()
    if not path.is_file():
        raise ConfigError(f"{variable} names {str(path)!r}, which is not a file; "
                          f"fix the path or unset {variable}")
    return path


def lithops_config_file() -> Path | None:
    """The one file Lithops would read: `LITHOPS_CONFIG_FILE`, else the first that exists
    of `./.lithops_config`, `~/.lithops/config`, `/etc/lithops/config`."""
    named = _named_file(ENV_LITHOPS_CONFIG_FILE)
    if named is not None:
        return named
    for path in (Path.cwd() / ".lithops_config", Path.home() / ".lithops" / "config",
                 LITHOPS_GLOBAL_FILE):
        if path.is_file():
            return path
    return None


def config_files() -> list[Path]:
    """Config files in the order they are merged (later ones win): wren's, or else Lithops'."""
    candidates = [Path.home() / ".wren" / "config", Path.cwd() / ".wren_config"]
    named = _named_file(ENV_CONFIG_FILE)
    if named is not None:
        candidates.append(named)
    found = [p for p in candidates if p.is_file()]
    if found:
        return found
    lithops = lithops_config_file()
    if lithops is None:
        return []
    notice_once(("file", str(lithops)), f"no wren config found; reading Lithops config "
                                         f"{lithops} (its `lithops:` section as `wren:`)")
    return [lithops]


def _read_yaml(path: Path) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {str(path)!r} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"config file {str(path)!r} must hold sections (a YAML mapping), "
                          f"got {type(data).__name__}")
    return data


def merge(base: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """Merge two config mappings section by section (update wins key by key)."""
    out = {name: dict(body) if isinstance(body, Mapping) else body
           for name, body in base.items()}
    for name, body in update.items():
        name = "wren" if name == "lithops" else name
        if isinstance(body, Mapping) and isinstance(out.get(name), dict):
            out[name].update(body)
        elif body is None:
            out.setdefault(name, {})
        else:
            out[name] = dict(body) if isinstance(body, Mapping) else body
    return out


def read_config_files() -> tuple[dict[str, Any], tuple[str, ...]]:
    merged: dict[str, Any] = {}
    paths = config_files()
    for path in paths:
        merged = merge(merged, _read_yaml(path))
    return merged, tuple(str(p) for p in paths)


def _section_schema(compute_cls: Any, storage_cls: Any, section: str) -> ConfigSchema | None:
    schema: ConfigSchema | None = None
    for cls in (compute_cls, storage_cls):
        own = cls.config_schema
        if own.section == section:
            schema = own if schema is None else schema.merged_with(own)
    return schema


ConfigSource = Mapping[str, Any] | str | os.PathLike[str]


def _explicit(config: ConfigSource) -> tuple[Mapping[str, Any], tuple[str, ...]]:
    """The `config=` argument as sections: a mapping as it is, a path read as YAML."""
    if isinstance(config, (str, os.PathLike)):
        path = Path(config).expanduser()
        if not path.is_file():
            raise ConfigError(f"config={str(config)!r} names no file; give the path of a YAML "
                              "config file or a mapping of sections")
        return _read_yaml(path), (str(path),)
    if not isinstance(config, Mapping):
        raise ConfigError("config= must be a mapping of sections, e.g. "
                          "{'wren': {'backend': 'localhost'}}, or the path of a YAML file")
    return config, ()


def _section_body(name: str, body: Any) -> dict[str, Any]:
    if body is None:
        return {}
    if not isinstance(body, Mapping):
        raise ConfigError(f"section {name!r} must be a mapping of keys to values, got {body!r}")
    return dict(body)


def _backend_class(group: str, name: str) -> Any:
    """The adapter class registered as `name`; for a Lithops backend that no installed wren
    package provides, the error says so."""
    try:
        return plugins.load(group, name)
    except BackendNotFoundError as exc:
        if name in LITHOPS_SECTIONS and name not in plugins.registered(group):
            raise BackendNotFoundError(f"{exc}. {name!r} is a Lithops backend; no installed "
                                       "wren package provides it") from exc
        raise


def load_config(config: ConfigSource | None = None, *, backend: str | None = None,
                storage: str | None = None, overrides: Mapping[str, Any] | None = None,
                read_files: bool = True) -> WrenConfig:
    """Build the validated configuration for one executor (`config`: a mapping of
    sections or the path of a YAML file, merged over the config files)."""
    raw, sources = read_config_files() if read_files else ({}, ())
    if config is not None:
        explicit, named = _explicit(config)
        raw, sources = merge(raw, explicit), sources + named
    wren_raw = _section_body("wren", raw.get("wren"))
    overrides = dict(overrides or {})
    lithops_only = {key.name for key in WREN_SECTION.lithops} - set(WREN_SECTION.key_names())
    for key in lithops_only:  # e.g. FunctionExecutor(rabbitmq_monitor=True), as in Lithops
        if overrides.get(key) is not None:
            wren_raw[key] = overrides.pop(key)
    wren_raw = WREN_SECTION.translate(wren_raw)
    if backend is not None:
        wren_raw["backend"] = backend
    if storage is not None:
        wren_raw["storage"] = storage
    compute_name = str(wren_raw.get("backend") or DEFAULT_BACKEND)
    storage_name = str(wren_raw.get("storage") or DEFAULT_STORAGE)
    compute_cls = _backend_class(plugins.COMPUTE_GROUP, compute_name)
    storage_cls = _backend_class(plugins.STORAGE_GROUP, storage_name)
    compute_section = compute_cls.config_schema.section
    storage_section = storage_cls.config_schema.section

    sections = check_sections({name: _section_body(name, body) for name, body in raw.items()
                               if name != "wren"}, (compute_section, storage_section))
    for key, value in overrides.items():
        if value is None:
            continue
        if WREN_SECTION.get(key) is not None:
            wren_raw[key] = value
        elif compute_cls.config_schema.get(key) is not None:
            sections.setdefault(compute_section, {})[key] = value
        elif storage_cls.config_schema.get(key) is not None:
            sections.setdefault(storage_section, {})[key] = value
        else:
            valid = (set(WREN_SECTION.key_names()) | set(compute_cls.config_schema.key_names())
                     | set(storage_cls.config_schema.key_names()))
            raise ConfigError(unknown_key_message(f"wren/{compute_name}/{storage_name} "
                                                  "options", key, valid))
    wren_settings = WREN_SECTION.validate(wren_raw)
    validated: dict[str, dict[str, Any]] = {}
    for section in {compute_section, storage_section}:
        schema = _section_schema(compute_cls, storage_cls, section)
        assert schema is not None
        validated[section] = schema.validate(schema.with_inherited(sections))
    return WrenConfig(
        wren=wren_settings, compute_backend=compute_name, storage_backend=storage_name,
        compute=validated[compute_section], storage=validated[storage_section],
        sections={**sections, **validated}, sources=sources)
