"""Configuration: files merged in order, overrides routed to the right section, and every
bad key or value rejected with a message naming the key and its section."""

from __future__ import annotations

from pathlib import Path

import pytest
from wren import BackendNotFoundError, ConfigError
from wren.config import load_config


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_no_configuration_means_localhost_everywhere() -> None:
    config = load_config()
    assert (config.compute_backend, config.storage_backend) == ("localhost", "localhost")
    assert config.wren["execution_timeout"] == 1800.0
    assert config.wren["data_cleaner"] is True
    assert config.sources == ()


def test_files_merge_in_order_key_by_key(home_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                         tmp_path: Path) -> None:
    write(home_dir / ".wren" / "config",
          "wren:\n  execution_timeout: 100\n  data_cleaner: false\n"
          "localhost:\n  worker_processes: 3\n  storage_bucket: home\n")
    write(Path.cwd() / ".wren_config", "localhost:\n  storage_bucket: cwd\n")
    named = write(tmp_path / "named.yaml", "wren:\n  execution_timeout: 50\n")
    monkeypatch.setenv("WREN_CONFIG_FILE", str(named))
    config = load_config(config={"localhost": {"worker_processes": 5}})
    assert config.wren["execution_timeout"] == 50.0
    assert config.wren["data_cleaner"] is False
    assert config.compute["worker_processes"] == 5
    assert config.storage["storage_bucket"] == "cwd"
    assert len(config.sources) == 3


def test_lithops_section_is_read_as_wren() -> None:
    config = load_config(config={"lithops": {"execution_timeout": 12}})
    assert config.wren["execution_timeout"] == 12.0


def test_overrides_go_to_the_section_that_owns_the_key() -> None:
    config = load_config(overrides={"worker_processes": 2, "storage_bucket": "b",
                                    "log_level": "DEBUG", "runtime": None})
    assert config.compute["worker_processes"] == 2
    assert config.storage["storage_bucket"] == "b"
    assert config.wren["log_level"] == "DEBUG"


def test_unknown_override_lists_valid_options() -> None:
    with pytest.raises(ConfigError, match="unknown key 'worker_proceses'.*'worker_processes'"):
        load_config(overrides={"worker_proceses": 2})


@pytest.mark.parametrize(("config", "pattern"), [
    ({"wren": {"exection_timeout": 5}}, "unknown key 'exection_timeout' in section 'wren'.*"
                                        "Did you mean 'execution_timeout'"),
    ({"wren": {"execution_timeout": "fast"}}, "'execution_timeout' in section 'wren' must be "
                                              "a number, got 'fast'"),
    ({"wren": {"data_cleaner": "yes"}}, "'data_cleaner' in section 'wren' must be true or "
                                        "false"),
    ({"localhost": {"worker_processes": 0}}, "'worker_processes' in section 'localhost' is 0; "
                                             "it must be at least 1"),
    ({"localhost": {"worker_processes": True}}, "must be an integer"),
    ({"wren": {"log_level": "LOUD"}}, "allowed values"),
    ({"localhost": {"colour": "red"}}, "unknown key 'colour' in section 'localhost'"),
])
def test_bad_values_name_key_and_section(config: dict, pattern: str) -> None:
    with pytest.raises(ConfigError, match=pattern):
        load_config(config=config)


def test_broken_yaml_names_the_file(home_dir: Path) -> None:
    path = write(home_dir / ".wren" / "config", "wren: [unclosed\n")
    with pytest.raises(ConfigError, match=str(path)):
        load_config()


def test_missing_named_file_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WREN_CONFIG_FILE", "/nonexistent/wren.yaml")
    with pytest.raises(ConfigError, match="WREN_CONFIG_FILE names '/nonexistent/wren.yaml'"):
        load_config()


def test_unknown_backend_lists_installed_and_hints_pip() -> None:
    with pytest.raises(BackendNotFoundError) as caught:
        load_config(backend="ibm_cf_typo")
    message = str(caught.value)
    assert "unknown compute backend 'ibm_cf_typo'" in message
    assert "localhost" in message and "pip install wren-backend-ibm-cf-typo" in message


def test_retired_lithops_keys_are_accepted_with_a_warning(caplog: pytest.LogCaptureFixture
                                                          ) -> None:
    config = load_config(config={"wren": {"mode": "serverless"}})
    assert config.compute_backend == "localhost"
    assert "mode" in caplog.text


def test_bounds_are_inclusive_and_the_error_cites_their_source() -> None:
    from wren.config.schema import ConfigKey

    key = ConfigKey("runtime_memory", int, 256, "MB", minimum=128, maximum=2048,
                    limit_source="the platform's published limits")
    assert key.check("demo", 128) == 128 and key.check("demo", 2048) == 2048
    assert key.bounds_text() == "between 128 and 2048"
    with pytest.raises(ConfigError, match=r"is 4096; it must be between 128 and 2048 "
                                          r"\(the platform's published limits\)"):
        key.check("demo", 4096)
    with pytest.raises(ConfigError, match="it must be at most 10$"):
        ConfigKey("n", int, 1, maximum=10).check("demo", 11)
