"""`wren runtime build` builds for the backend's platform, not the building machine's (issue 15):
cloud backends default to linux/amd64 (`runtime_platform`), `--platform` overrides it and
localhost keeps the engine's own. The build itself runs on a real engine (podman's Docker API,
tests/servers/podman.py), whose build call is watched to carry the platform."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from wren.backends import open_compute
from wren.config import load_config
from wren_cli.image_builder import DockerImageBuilder
from wren_cli.main import cli

from tests.servers.podman import BASE_IMAGE, PodmanEngine, podman_engine

__all__ = ["podman_engine"]


@pytest.fixture
def engine(podman_engine: PodmanEngine, monkeypatch: pytest.MonkeyPatch) -> PodmanEngine:
    monkeypatch.setenv("DOCKER_HOST", podman_engine.docker_host)
    return podman_engine


class WatchedBuilder(DockerImageBuilder):
    """The real builder, keeping the keyword arguments of each build call to the engine."""

    calls: list[dict[str, Any]]

    @property
    def client(self) -> Any:
        client = super().client
        real_build, calls = client.api.build, self.calls

        def build(**kwargs: Any) -> Iterator[dict[str, Any]]:
            calls.append(kwargs)
            return real_build(**kwargs)  # type: ignore[no-any-return]

        client.api.build = build
        return client


def test_the_engine_builds_for_the_platform_given(engine: PodmanEngine, tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(f"FROM {BASE_IMAGE}\nRUN uname -m > /arch\n")
    builder = WatchedBuilder("ibm_cf", [], platform="linux/amd64")
    builder.calls = []
    image_id = builder.build("wren-test/platform:1", str(dockerfile))
    assert [call.get("platform") for call in builder.calls] == ["linux/amd64"]
    image = builder.client.images.get(image_id)
    assert (image.attrs["Os"], image.attrs["Architecture"]) == ("linux", "amd64")
    native = WatchedBuilder("localhost", [])  # no platform: the engine's own, not sent
    native.calls = []
    native.build("wren-test/platform:2", str(dockerfile))
    assert "platform" not in native.calls[0]
    engine.podman("rmi", "-f", "wren-test/platform:1", "wren-test/platform:2")


def test_cloud_backends_default_to_linux_amd64_and_localhost_to_native() -> None:
    for backend, section in (("openwhisk", {"endpoint": "http://127.0.0.1:9",
                                            "api_key": "a:b"}),
                             ("ibm_cf", {"endpoint": "http://127.0.0.1:9",
                                         "namespace_id": "n", "iam_api_key": "k"})):
        config = load_config({backend: section, "ibm_cos": {"storage_bucket": "b"}},
                             backend=backend, storage="ibm_cos", read_files=False)
        assert config.compute["runtime_platform"] == "linux/amd64"
    local = load_config({}, backend="localhost", storage="localhost", read_files=False)
    compute = open_compute(local)
    try:
        assert compute.build_platform() is None
    finally:
        compute.close()


@pytest.mark.parametrize(("options", "section", "expected"), [
    ((), {}, "linux/amd64"),
    (("--platform", "linux/arm64"), {}, "linux/arm64"),
    ((), {"runtime_platform": "linux/arm64/v8"}, "linux/arm64/v8"),
])
def test_wren_runtime_build_hands_the_platform_to_the_builder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, options: tuple[str, ...],
        section: dict[str, Any], expected: str) -> None:
    seen: list[tuple[str, str | None]] = []

    def build(self: DockerImageBuilder, name: str, dockerfile: str | None = None,
              **_: Any) -> str:
        seen.append((name, self.platform))
        return "image-id"

    monkeypatch.setattr(DockerImageBuilder, "build", build)
    monkeypatch.setattr(DockerImageBuilder, "push", lambda self, name, **_: None)
    config = tmp_path / "wren.yaml"
    config.write_text(yaml.safe_dump({
        "wren": {"backend": "openwhisk", "storage": "ibm_cos"},
        "openwhisk": {"endpoint": "http://127.0.0.1:9", "api_key": "a:b", **section},
        "ibm_cos": {"storage_bucket": "b", "endpoint": "http://127.0.0.1:9"}}))
    monkeypatch.setenv("WREN_CONFIG_FILE", str(config))
    result = CliRunner().invoke(cli, ["runtime", "build", "me/wren-ow:1", *options],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert seen == [("me/wren-ow:1", expected)]
