"""The keyword arguments Lithops and PyWren-IBM executors take, read into wren's configuration.

`FunctionExecutor(...)` accepts what a Lithops 3.8 script passes (`mode`, `config_file`,
`monitoring`, `log_level=False`, any key of the compute backend's section such as
`max_workers`, `worker_processes`, `remote_invoker`) and the older names (`type`, `workers`,
`compute_backend`, `storage_backend`). Each one is either honoured, by becoming the config
override it stands for, or refused with an error that names what to write instead; none is
dropped silently. Keys that are no names of Lithops go on to the config loader, which
refuses unknown keys with its "did you mean" message.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from wren import plugins
from wren._errors import ConfigError, InvalidInputError, NotSupportedError
from wren.config.loader import WrenConfig, _read_yaml, load_config, merge
from wren.config.wren_section import DEFAULT_BACKEND
from wren.ports import capabilities

#: Older keyword -> the keyword (or config key) that replaced it.
RENAMED = {
    "compute_backend": "backend",
    "storage_backend": "storage",
    "type": "mode",
    "workers": "max_workers",
}

#: Keywords wren cannot honour as given, with what to write instead.
REFUSED = {
    "compute_backend_region": "set `region` in the compute backend's config section, e.g. "
                              "config={'<backend>': {'region': '<region>'}}",
    "storage_backend_region": "set `region` in the storage backend's config section, e.g. "
                              "config={'<storage>': {'region': '<region>'}}",
}

#: Lithops' execution modes; wren picks the platform from `backend` alone.
MODES = ("localhost", "serverless", "standalone")


def standalone_refusal(what: str) -> NotSupportedError:
    """The error for Lithops' standalone (virtual machine) mode, which wren does not have."""
    names = ", ".join(repr(n) for n in plugins.installed(plugins.COMPUTE_GROUP))
    return NotSupportedError(
        what, "standalone",
        "wren has no standalone (virtual machine) mode: run on a serverless or container "
        f"compute backend with ServerlessExecutor(backend=...) or FunctionExecutor(backend="
        f"...) (installed: {names or 'none'}), or on this machine with LocalhostExecutor()")


def log_level_setting(log_level: Any) -> str | None:
    """Lithops' `log_level`: False (the default: as configured) and None (no logs, which is
    wren's default) both leave the config alone; a level name is read case-insensitively."""
    if log_level is None or log_level is False:
        return None
    if isinstance(log_level, str):
        return log_level.upper()
    raise InvalidInputError(f"log_level={log_level!r}: give a level name such as 'INFO' or "
                            "'DEBUG', or None for no logs")


def _renamed(given: dict[str, Any], named: dict[str, Any]) -> None:
    """Move the older keywords of `given` onto their new names in `named` (or `given`)."""
    for old, new in RENAMED.items():
        value = given.pop(old, None)
        if value is None:
            continue
        target = named if new in named else given
        if target.get(new) is not None and target[new] != value:
            raise InvalidInputError(f"{old}={value!r} and {new}={target[new]!r} disagree; "
                                    f"{old} is the older name of {new}: give only {new}")
        target[new] = value
    for old, hint in REFUSED.items():
        if given.get(old) is not None:
            raise InvalidInputError(f"{old}= is not an executor keyword in wren: {hint}")
        given.pop(old, None)


def _config_source(config: Any, config_file: Any) -> Any:
    if config_file is None:
        return config
    path = Path(config_file).expanduser()
    if not path.is_file():
        raise ConfigError(f"config_file={str(path)!r} is not a file")
    if config is not None and not isinstance(config, Mapping):
        raise InvalidInputError("give the config file either as config_file= or as config=, "
                                "not both")
    return merge(_read_yaml(path), config or {})


def _backend_for_mode(mode: Any, backend: str | None) -> str | None:
    if mode is None or mode == "serverless":
        return backend
    if mode == "standalone":
        raise standalone_refusal("mode='standalone'")
    if mode != "localhost":
        raise InvalidInputError(f"mode={mode!r}: Lithops' modes are {', '.join(MODES)}; wren "
                                "picks the platform from backend= alone")
    if backend is None:
        return DEFAULT_BACKEND
    if capabilities.SHARED_FILESYSTEM not in plugins.compute_backend_class(backend).capabilities:
        raise InvalidInputError(f"mode='localhost' runs on this machine, but backend="
                                f"{backend!r} does not; drop one of the two")
    return backend


def _check_serverless(config: WrenConfig) -> None:
    compute_cls = plugins.compute_backend_class(config.compute_backend)
    if capabilities.SHARED_FILESYSTEM in compute_cls.capabilities:
        others = [name for name in plugins.installed(plugins.COMPUTE_GROUP)
                  if capabilities.SHARED_FILESYSTEM not in
                  plugins.compute_backend_class(name).capabilities]
        choice = (f"pass backend= one of {', '.join(map(repr, others))}" if others else
                  "install a serverless adapter, e.g. pip install wren-backend-knative")
        raise ConfigError(f"mode='serverless' but the configured compute backend "
                          f"{config.compute_backend!r} runs on this machine: {choice}, or set "
                          "`backend` in the `wren` config section")


def executor_config(backend: str | None, storage: str | None, config: Any,
                    named: Mapping[str, Any], overrides: Mapping[str, Any]) -> WrenConfig:
    """The validated configuration for `FunctionExecutor(backend=..., storage=...,
    config=..., **named, **overrides)`: `named` holds the keywords the executor's signature
    spells out (`runtime`, `runtime_memory`, `log_level`, `mode`, `config_file`,
    `monitoring`), `overrides` the rest, Lithops' names included."""
    if isinstance(storage, Mapping):
        raise InvalidInputError("the second argument of FunctionExecutor is the storage "
                                "backend's name (Lithops' is config): pass config=... by name")
    given = dict(overrides)
    explicit = {"backend": backend, "storage": storage, **named}
    _renamed(given, explicit)
    mode = explicit.pop("mode", None)
    if mode is None and explicit.get("backend") in ("serverless", "standalone"):
        mode = explicit.pop("backend")  # Lithops' first positional is `mode`; no backend has it
    source = _config_source(config, explicit.pop("config_file", None))
    compute = _backend_for_mode(mode, explicit.pop("backend", None))
    storage_name = explicit.pop("storage", None)
    explicit["log_level"] = log_level_setting(explicit.get("log_level"))
    remote_invoker = given.pop("remote_invoker", None)
    settings = {**explicit, **given}
    loaded = load_config(source, backend=compute, storage=storage_name, overrides=settings)
    if mode == "serverless":
        _check_serverless(loaded)
    if remote_invoker is None:
        return loaded
    compute_cls = plugins.compute_backend_class(loaded.compute_backend)
    if capabilities.REMOTE_INVOKER in compute_cls.capabilities:
        return load_config(source, backend=compute, storage=storage_name,
                           overrides={**settings, "remote_invoker": remote_invoker})
    if remote_invoker:
        raise NotSupportedError(
            "remote_invoker=True", loaded.compute_backend,
            "This backend invokes every call from the client; remove remote_invoker")
    return loaded  # remote_invoker=False asks for what this backend does anyway


__all__ = ["MODES", "REFUSED", "RENAMED", "executor_config", "log_level_setting",
           "standalone_refusal"]
