"""A Lithops 3.8 user's configuration: Lithops' own file is read when wren has none, every key
of the documented `lithops:` section is honoured or answered with its replacement, sections
are known or refused, and "did you mean" proposes only keys of the same meaning.

Each parametrized row names the Lithops key as Lithops' config reference lists it
(docs/source/lithops_config_keys.csv of Lithops 3.8), beside what wren makes of it.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from wren import ConfigError
from wren.config import loader
from wren.config.loader import load_config
from wren.config.schema import close_key
from wren.monitoring.settings import MonitoringPlan


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def notices(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


# -- which file ----------------------------------------------------------------------------

def test_lithops_home_config_is_read_when_wren_has_none(
        home_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = write(home_dir / ".lithops" / "config",
                 "lithops:\n  execution_timeout: 42\nlocalhost:\n  worker_processes: 3\n")
    config = load_config()
    config = load_config()  # a second executor: no second notice
    assert config.wren["execution_timeout"] == 42.0
    assert config.compute["worker_processes"] == 3
    assert config.sources == (str(path),)
    said = [m for m in notices(caplog) if "Lithops config" in m]
    assert said == [f"no wren config found; reading Lithops config {path} (its `lithops:` "
                    "section as `wren:`)"]


def test_lithops_config_file_variable_wins_over_lithops_home(
        home_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(home_dir / ".lithops" / "config", "lithops:\n  execution_timeout: 1\n")
    named = write(tmp_path / "mine.yaml", "lithops:\n  execution_timeout: 7\n")
    monkeypatch.setenv("LITHOPS_CONFIG_FILE", str(named))
    assert load_config().wren["execution_timeout"] == 7.0


def test_machine_wide_lithops_file_is_read_last() -> None:
    write(loader.LITHOPS_GLOBAL_FILE, "lithops:\n  execution_timeout: 9\n")
    assert load_config().wren["execution_timeout"] == 9.0


def test_any_wren_config_means_lithops_files_are_not_read(
        home_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    write(home_dir / ".lithops" / "config", "lithops:\n  execution_timeout: 42\n")
    write(home_dir / ".wren" / "config", "wren:\n  data_cleaner: false\n")
    config = load_config()
    assert config.wren["execution_timeout"] == 1800.0
    assert not [m for m in notices(caplog) if "Lithops config" in m]


def test_missing_lithops_config_file_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LITHOPS_CONFIG_FILE", "/nonexistent/lithops.yaml")
    with pytest.raises(ConfigError, match="LITHOPS_CONFIG_FILE names '/nonexistent/lithops"):
        load_config()


@pytest.mark.parametrize("as_path", [str, Path])
def test_config_may_be_the_path_of_a_yaml_file(tmp_path: Path, as_path: Any) -> None:
    path = write(tmp_path / "run.yaml", "lithops:\n  execution_timeout: 5\n")
    config = load_config(as_path(path))
    assert config.wren["execution_timeout"] == 5.0
    assert str(path) in config.sources


def test_config_path_that_names_no_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="names no file"):
        load_config(str(tmp_path / "absent.yaml"))
    with pytest.raises(ConfigError, match="mapping of sections.*or the path of a YAML file"):
        load_config(42)  # type: ignore[arg-type]


# -- the lithops: section ------------------------------------------------------------------

@pytest.mark.parametrize(("lithops_key", "value", "wren_key", "expected"), [
    ("backend", "localhost", "backend", "localhost"),
    ("storage", "localhost", "storage", "localhost"),
    ("data_cleaner", False, "data_cleaner", False),
    ("monitoring", "storage", "monitoring", "storage"),
    ("monitoring_interval", 0.5, "monitoring_interval", 0.5),
    ("execution_timeout", 60, "execution_timeout", 60.0),
    ("include_modules", None, "include_modules", None),
    ("exclude_modules", ["secret"], "exclude_modules", ["secret"]),
    ("log_level", "info", "log_level", "INFO"),
    ("log_level", None, "log_level", None),
    ("chunksize", 4, "chunksize", 4),
    ("rabbitmq_monitor", False, "monitoring", "storage"),
])
def test_honoured_lithops_keys(lithops_key: str, value: Any, wren_key: str, expected: Any,
                               caplog: pytest.LogCaptureFixture) -> None:
    config = load_config(config={"lithops": {lithops_key: value}})
    assert config.wren[wren_key] == expected
    assert notices(caplog) == []


def test_rabbitmq_monitor_true_means_monitoring_rabbitmq() -> None:
    config = load_config(config={"lithops": {"rabbitmq_monitor": True},
                                 "rabbitmq": {"amqp_url": "amqp://u:p@broker:5672/"}})
    assert config.wren["monitoring"] == "rabbitmq"


@pytest.mark.parametrize(("lithops_key", "value", "said"), [
    ("mode", "serverless", "picks the mode from `backend`"),
    ("data_limit", 8, "no size limit on call data"),
    ("customized_runtime", True, "uploads each function once"),
    ("log_format", "%(message)s", "Python's `logging` module"),
    ("log_stream", "ext://sys.stdout", "Python's `logging` module"),
    ("log_filename", "/tmp/lithops.log", "Python's `logging` module"),
    ("telemetry", True, "no telemetry"),
])
def test_lithops_keys_without_effect_are_named_once(
        lithops_key: str, value: Any, said: str, caplog: pytest.LogCaptureFixture) -> None:
    load_config(config={"lithops": {lithops_key: value}})
    load_config(config={"lithops": {lithops_key: value}})
    [message] = notices(caplog)
    assert message.startswith(f"Lithops key {lithops_key!r} in section 'wren' ({value!r}) has "
                              "no effect in wren: ")
    assert said in message


@pytest.mark.parametrize(("lithops_key", "value"), [
    ("data_limit", False), ("customized_runtime", False), ("telemetry", False),
])
def test_lithops_values_meaning_what_wren_does_are_silent(
        lithops_key: str, value: Any, caplog: pytest.LogCaptureFixture) -> None:
    load_config(config={"lithops": {lithops_key: value}})
    assert notices(caplog) == []


def test_lithops_executor_keywords_reach_the_wren_section(
        caplog: pytest.LogCaptureFixture) -> None:
    config = load_config(overrides={"mode": "localhost", "monitoring_interval": 0.2})
    assert config.wren["monitoring_interval"] == 0.2
    assert "mode" in " ".join(notices(caplog))


def test_monitoring_interval_is_the_longest_wait_between_polls() -> None:
    plan = MonitoringPlan.from_config(load_config(config={"wren": {"monitoring_interval": 0.5}}),
                                      "x")
    assert plan.poll_interval == 0.5
    assert MonitoringPlan.from_config(load_config(), "x").poll_interval is None
    with pytest.raises(ConfigError, match="'monitoring_interval' in section 'wren'"):
        load_config(config={"wren": {"monitoring_interval": 0}})


# -- sections ------------------------------------------------------------------------------

def test_unknown_section_names_the_known_ones_and_the_fix() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(config={"localhots": {"worker_processes": 2}})
    message = str(caught.value)
    assert message.startswith("unknown config section 'localhots'. Did you mean 'localhost'?")
    listed = message.split("Known sections: ")[1].split(". ")[0].split(", ")
    assert {"wren", "lithops", "localhost", "rabbitmq"} <= set(listed)
    assert message.endswith("Fix its name, remove it, or install the wren backend it "
                            "configures")


def test_section_of_a_lithops_backend_wren_lacks_is_ignored_with_one_notice(
        caplog: pytest.LogCaptureFixture) -> None:
    body = {"aws_lambda": {"execution_role": "arn:x"}, "aws": {"region": "us-east-1"}}
    load_config(config=body)
    load_config(config=body)
    said = notices(caplog)
    assert sorted(said) == [
        f"config section {name!r} configures a Lithops backend that no installed wren "
        "package provides; it is ignored" for name in ("aws", "aws_lambda")]


def test_choosing_a_lithops_backend_wren_lacks_says_so() -> None:
    from wren import BackendNotFoundError

    with pytest.raises(BackendNotFoundError, match="'aws_lambda' is a Lithops backend; no "
                                                   "installed wren package provides it"):
        load_config(config={"lithops": {"backend": "aws_lambda"}})
    with pytest.raises(BackendNotFoundError, match="'aws_s3' is a Lithops backend"):
        load_config(storage="aws_s3")


def test_service_sections_are_validated_when_present() -> None:
    with pytest.raises(ConfigError, match="unknown key 'amqp_uri' in section 'rabbitmq'.*"
                                          "Did you mean 'amqp_url'"):
        load_config(config={"rabbitmq": {"amqp_uri": "amqp://h"}})


# -- did you mean --------------------------------------------------------------------------

@pytest.mark.parametrize(("typed", "valid", "proposed"), [
    ("exection_timeout", ["execution_timeout", "data_cleaner"], "execution_timeout"),
    ("runtime_cpus", ["runtime_cpu", "runtime"], "runtime_cpu"),
    ("docker_namespace", ["namespace", "docker_user"], None),  # not a spelling of namespace
    ("region_name", ["region"], None),
    ("namespace_id", ["namespace"], None),
    ("colour", ["worker_processes"], None),
])
def test_did_you_mean_proposes_only_misspellings(typed: str, valid: list[str],
                                                 proposed: str | None) -> None:
    assert close_key(typed, valid) == proposed


# -- through the executor ------------------------------------------------------------------

@pytest.mark.usefixtures("thread_backends")
def test_executor_takes_a_lithops_yaml_path_and_polls_at_its_interval(tmp_path: Path) -> None:
    import wren
    from wren.testing import functions as fn

    path = write(tmp_path / "lithops.yaml",
                 "lithops:\n  backend: threads\n  storage: shared_memory\n"
                 "  monitoring_interval: 0.3\n  log_level: null\n")
    with wren.FunctionExecutor(config=path) as fexec:
        assert fexec._monitor.poll_max == 0.3
        assert fexec.get_result(fexec.map(fn.double, [1, 2])) == [2, 4]


def test_a_section_that_is_not_a_mapping_is_named() -> None:
    with pytest.raises(ConfigError, match="section 'localhost' must be a mapping of keys to "
                                          "values, got \\['a'\\]"):
        load_config(config={"localhost": ["a"]})
    with pytest.raises(ConfigError, match="section 'wren' must be a mapping"):
        load_config(config={"lithops": "localhost"})
