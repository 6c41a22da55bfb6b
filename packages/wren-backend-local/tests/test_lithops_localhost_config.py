"""Lithops' `localhost:` keys (its compute_config/localhost.md table: `runtime`, `version`,
`worker_processes`) as wren's localhost section reads them."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest
from wren import ConfigError
from wren.config.loader import load_config
from wren_backend_local.config import lithops_runtime


@pytest.mark.parametrize("runtime", [
    "python3", "python", Path(sys.executable).name,
    f"python{sys.version_info[0]}.{sys.version_info[1]}", sys.executable,
])
def test_this_interpreter_means_plain_worker_processes(runtime: str) -> None:
    config = load_config(config={"localhost": {"runtime": runtime}})
    assert config.compute["runtime"] is None


@pytest.mark.parametrize("image", [
    "docker.io/lithopscloud/ibmcf-python-v312", "python:3.12-slim", "default", "me/img:1",
])
def test_container_images_stay_images(image: str) -> None:
    assert load_config(config={"localhost": {"runtime": image}}).compute["runtime"] == image


def test_another_interpreter_is_refused_with_the_fix(tmp_path: Path) -> None:
    other = tmp_path / "python3.7"
    other.write_text("")
    with pytest.raises(ConfigError, match=r"key 'runtime' in section 'localhost' is .*another "
                                          r"Python interpreter.*remove `runtime`"):
        load_config(config={"localhost": {"runtime": str(other)}})
    with pytest.raises(ConfigError, match="another Python interpreter"):
        lithops_runtime("python2.7")


def test_version_has_no_effect_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    config = load_config(config={"localhost": {"version": 1, "worker_processes": 2}})
    assert config.compute["worker_processes"] == 2
    [record] = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert "Lithops key 'version' in section 'localhost' (1) has no effect in wren: wren has " \
           "one localhost implementation" in record.getMessage()


def test_runtime_include_function_false_is_silent_true_is_named(
        caplog: pytest.LogCaptureFixture) -> None:
    load_config(config={"localhost": {"runtime_include_function": False}})
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    load_config(config={"localhost": {"runtime_include_function": True}})
    assert "uploads each function once" in caplog.text
