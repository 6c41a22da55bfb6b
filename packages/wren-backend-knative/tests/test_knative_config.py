"""The `knative` config section, the default runtime name, and the public surface."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
import wren
from wren import ConfigError
from wren.config.loader import load_config
from wren_backend_knative.config import SCHEMA, default_image, python_tag
from wren_backend_knative.errors import KnativeError
from wren_backend_knative.ingress import check_endpoint, service_host


def test_defaults_follow_lithops() -> None:
    config = SCHEMA.validate({})
    assert (config["runtime_memory"], config["runtime_timeout"], config["runtime_cpu"]) == \
        (256, 600, 0.5)
    assert config["networking_layer"] == "kourier"
    assert SCHEMA.get("docker_password").secret  # type: ignore[union-attr]


def test_config_errors_name_the_key() -> None:
    with pytest.raises(ConfigError, match="Did you mean 'kubecfg_path'"):
        SCHEMA.validate({"kubecfg_pth": "x"})
    with pytest.raises(ConfigError, match="allowed values: 'kourier', 'istio'"):
        SCHEMA.validate({"networking_layer": "contour"})
    with pytest.raises(ConfigError, match="allowed values: 'external', 'cluster-local'"):
        SCHEMA.validate({"visibility": "private"})


def test_visibility_defaults_to_external() -> None:
    assert SCHEMA.validate({})["visibility"] == "external"
    assert SCHEMA.validate({"visibility": "cluster-local"})["visibility"] == "cluster-local"


def test_executor_overrides_reach_the_knative_section() -> None:
    config = load_config({"knative": {"namespace": "jobs"}}, backend="knative",
                         overrides={"runtime": "me/r:1", "runtime_memory": 1024},
                         read_files=False)
    assert config.compute_backend == "knative"
    assert (config.compute["runtime"], config.compute["runtime_memory"],
            config.compute["namespace"]) == ("me/r:1", 1024, "jobs")


def test_default_image_names_python_and_wren() -> None:
    assert default_image("docker.io", "Jdoe") == \
        f"jdoe/wren-knative-v{python_tag()}:{wren.__version__}"
    assert default_image("us.icr.io", None).startswith("us.icr.io/wren/wren-knative-v")


def test_ingress_helpers() -> None:
    assert check_endpoint("http://10.0.0.1:80/") == "http://10.0.0.1:80"
    with pytest.raises(KnativeError, match="not a URL"):
        check_endpoint("10.0.0.1")
    assert service_host({"status": {"url": "http://a.b.example.com"}}) == "a.b.example.com"
    with pytest.raises(KnativeError, match="no URL"):
        service_host({"metadata": {"name": "a"}, "status": {}})


def test_public_surface() -> None:
    module = importlib.import_module("wren_backend_knative")
    assert module.__all__ == sorted(module.__all__)
    for name in module.__all__:
        assert getattr(module, name) is not None
    assert (Path(module.__file__).parent / "py.typed").is_file()
    assert callable(wren.knative_executor) and "knative_executor" in wren.__all__


def test_backend_is_found_by_name() -> None:
    from wren import plugins

    assert plugins.compute_backend_class("knative").__name__ == "KnativeCompute"


def test_bad_runtime_names_fail_before_the_cluster_is_contacted() -> None:
    from wren.ports.compute import WorkerStorage
    from wren_backend_knative import KnativeCompute

    config = SCHEMA.validate({"runtime": "Me/Runtime:1", "kubecfg_path": "/nonexistent"})
    compute = KnativeCompute(config, WorkerStorage("localhost", {}, {}))
    with pytest.raises(wren.InvalidInputError, match="must be lowercase"):
        compute.runtime_info()
    with pytest.raises(wren.InvalidInputError, match="has no tag"):
        compute.deploy_runtime("me/runtime")
    assert compute.supports("runtime_build") and compute.supports("runtime_management")
