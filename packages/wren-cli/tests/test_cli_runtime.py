"""The generic `wren runtime` verbs and `wren clean --all` against a fake backend that keeps
its runtimes in memory, and the errors of backends and input that must stay one line."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import pytest
import wren
from click.testing import Result
from wren.ports import check_image_name
from wren_cli.image_builder import DockerImageBuilder
from wren_cli.main import cli

Run = Callable[..., Result]


def _one_line_error(result: Result) -> str:
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("wren: error: "), result.stderr
    return lines[0][len("wren: error: "):]


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for name, command in group.commands.items():
        found.append((*prefix, name))
        if isinstance(command, click.Group):
            found.extend(_commands(command, (*prefix, name)))
    return found


@pytest.mark.parametrize("path", _commands(cli), ids=" ".join)
def test_every_verb_has_help_with_an_example(wren_cli: Run, path: tuple[str, ...]) -> None:
    result = wren_cli(*path, "--help")
    assert result.exit_code == 0
    assert "Example: wren " in result.output


def test_deploy_list_update_delete_through_the_port(wren_cli: Run, fake_backend: Any) -> None:
    deployed = wren_cli("runtime", "deploy", "jdoe/rt:1", "-b", "fake", "--memory", "512",
                        "--timeout", "60")
    assert deployed.exit_code == 0, deployed.output
    assert fake_backend.deployed == {("jdoe/rt:1", 512): 60.0}
    row = next(line for line in deployed.stdout.splitlines() if "jdoe/rt:1" in line)
    assert "512" in row and wren.__version__ in row and "fake-jdoe/rt:1-512" in row

    created = wren_cli("runtime", "create", "default", "-b", "fake")
    assert created.exit_code == 0, created.output
    assert ("fake/default-runtime:py3", 256) in fake_backend.deployed

    listed = wren_cli("runtime", "list", "-b", "fake")
    rows = [line for line in listed.stdout.splitlines() if "fake-" in line]
    assert len(rows) == 2 and "fake/default-runtime:py3" in rows[0] and "jdoe/rt:1" in rows[1]
    assert "memory (MB)" in listed.stdout and "worker name" in listed.stdout

    updated = wren_cli("runtime", "update", "all", "-b", "fake")
    assert updated.exit_code == 0, updated.output
    assert sorted(c[1:] for c in fake_backend.calls if c[0] == "update") == [
        ("fake/default-runtime:py3", 256), ("jdoe/rt:1", 512)]

    assert wren_cli("runtime", "delete", "default", "-b", "fake").exit_code == 0
    assert wren_cli("runtime", "delete", "all", "-b", "fake").exit_code == 0
    assert fake_backend.deployed == {}
    assert "no runtimes deployed on backend 'fake'" in wren_cli(
        "runtime", "list", "-b", "fake").stdout


def test_delete_one_memory_keeps_the_others(wren_cli: Run, fake_backend: Any) -> None:
    for memory in ("256", "1024"):
        wren_cli("runtime", "deploy", "jdoe/rt:1", "-b", "fake", "--memory", memory)
    assert wren_cli("runtime", "delete", "jdoe/rt:1", "-b", "fake", "--memory",
                    "256").exit_code == 0
    assert list(fake_backend.deployed) == [("jdoe/rt:1", 1024)]


def test_a_backend_error_is_one_line(wren_cli: Run, fake_backend: Any) -> None:
    error = _one_line_error(wren_cli("runtime", "update", "jdoe/missing:1", "-b", "fake"))
    assert error == "runtime 'jdoe/missing:1' is not deployed on the fake backend"


# Issue 18: with nothing to list, update or delete, the verbs say so and succeed (they
# exited 1 before); asked to make a runtime (deploy, build, update NAME) they still fail.
@pytest.mark.parametrize(("verb", "said"), [
    (("list",), "backend 'plain' has no runtimes to list"),
    (("update", "all"), "backend 'plain' has no runtimes to update"),
    (("delete", "default"), "backend 'plain' has no runtimes to delete"),
    (("delete", "all"), "backend 'plain' has no runtimes to delete"),
])
def test_a_backend_without_runtimes_says_so_and_succeeds(wren_cli: Run, fake_backend: Any,
                                                         verb: tuple[str, ...],
                                                         said: str) -> None:
    result = wren_cli("runtime", *verb, "-b", "plain")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"{said}: it runs calls without deploying any"
    assert result.stderr == ""


@pytest.mark.parametrize("verb", [("deploy", "jdoe/rt:1"), ("update", "jdoe/rt:1"),
                                  ("build", "jdoe/rt:1")])
def test_a_backend_without_runtimes_cannot_make_one(wren_cli: Run, fake_backend: Any,
                                                    verb: tuple[str, ...]) -> None:
    error = _one_line_error(wren_cli("runtime", *verb, "-b", "plain"))
    assert "is not supported by backend 'plain'" in error


def test_an_unknown_backend_names_the_installed_ones(wren_cli: Run) -> None:
    error = _one_line_error(wren_cli("runtime", "list", "-b", "nope"))
    assert "unknown compute backend 'nope'" in error and "localhost" in error
    assert "pip install wren-backend-nope" in error


def test_a_broken_backend_names_the_distribution_that_installed_it(wren_cli: Run,
                                                                  fake_backend: Any) -> None:
    # `broken` is registered by wren-backend-fake: the hint comes from that metadata, not
    # from the name (the naming convention would say wren-backend-broken)
    error = _one_line_error(wren_cli("runtime", "list", "-b", "broken"))
    assert "compute backend 'broken' is installed (wren_backend_fake_gone:GoneCompute)" in error
    assert error.endswith("pip install --force-reinstall wren-backend-fake")


def test_the_image_builder_gets_its_engine_from_core(monkeypatch: pytest.MonkeyPatch) -> None:
    import wren.containers

    engine = object()
    monkeypatch.setattr(wren.containers, "docker_client", lambda: engine)
    assert DockerImageBuilder("fake", ["wren-core"]).client is engine


def _usage_error(result: Result) -> str:
    """The error of a refused command line: exit code 2, click's usage text, one error."""
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("Usage: wren "), result.stderr
    assert "Error: " in result.stderr
    return " ".join(result.stderr.split("Error: ", 1)[1].split())


@pytest.mark.parametrize(("name", "problem"), [
    ("JDoe/rt:1", "must be lowercase: use 'jdoe/rt:1'"),
    ("Bad Name", "must be lowercase user/name:tag, e.g. 'jdoe/bad-name:latest'"),
    ("jdoe/rt", "has no tag, e.g. 'jdoe/rt:latest'"),
    ("rt:1", "has no user part"),
    ("jdoe/r t:1", "is not valid"),
])
def test_a_bad_image_name_fails_before_building(wren_cli: Run, fake_backend: Any, name: str,
                                                problem: str) -> None:
    error = _usage_error(wren_cli("runtime", "build", name, "-b", "fake"))
    assert error.startswith(f"runtime image name {name!r} ") and problem in error
    assert fake_backend.calls == []
    proposed = re.search(r"(?:use|e\.g\.) '([^']+)'", error)
    assert proposed is not None and check_image_name(proposed.group(1))


def test_build_hands_the_backend_a_docker_builder(wren_cli: Run, fake_backend: Any,
                                                  tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    dockerfile = tmp_path / "ctx" / "Dockerfile"
    dockerfile.parent.mkdir()
    dockerfile.write_text("FROM scratch\n")
    missing = tmp_path / "no-engine.sock"
    monkeypatch.setenv("DOCKER_HOST", f"unix://{missing}")
    result = wren_cli("runtime", "build", "jdoe/rt:1", "-b", "fake", "-f", str(dockerfile),
                      "--build-arg", "BASE_IMAGE=debian:12", "--build-arg", "EMPTY=")
    error = _one_line_error(result)
    assert error.startswith(f"cannot reach a container engine at unix://{missing}")
    assert "set DOCKER_HOST" in error
    (_, name, given, builder), = fake_backend.calls
    assert (name, given) == ("jdoe/rt:1", str(dockerfile))
    assert isinstance(builder, DockerImageBuilder) and builder.backend == "fake"
    assert builder.distributions == ["wren-core", "wren-backend-fake", "wren-backend-local"]
    assert builder.buildargs == {"BASE_IMAGE": "debian:12", "EMPTY": ""}


def test_build_default_without_a_dockerfile_for_the_backend(wren_cli: Run,
                                                            fake_backend: Any) -> None:
    error = _one_line_error(wren_cli("runtime", "build", "default", "-b", "fake"))
    assert error.startswith("no default Dockerfile for backend 'fake'")
    assert "-f Dockerfile" in error
    assert fake_backend.calls[0][1] == "fake/default-runtime:py3"


def test_a_malformed_build_arg_is_refused(wren_cli: Run, fake_backend: Any) -> None:
    error = _usage_error(wren_cli("runtime", "build", "jdoe/rt:1", "-b", "fake",
                                  "--build-arg", "NOEQUALS"))
    assert error == "--build-arg 'NOEQUALS' must be KEY=VALUE"
    assert fake_backend.calls == []


def test_clean_all_deletes_data_caches_and_runtimes(wren_cli: Run, fake_backend: Any,
                                                    storage_config: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WREN_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "cache" / "runtimes" / "fake").mkdir(parents=True)
    (tmp_path / "cache" / "runtimes" / "fake" / "meta.json").write_text("{}")
    job_file = tmp_path / "storage" / "wren" / "wren.jobs" / "x" / "M000" / "data"
    job_file.parent.mkdir(parents=True)
    job_file.write_bytes(b"data")
    kept = tmp_path / "storage" / "wren" / "mine.csv"
    kept.write_bytes(b"user data")
    for name in ("jdoe/a:1", "jdoe/b:1"):
        wren_cli("runtime", "deploy", name, "-b", "fake")

    plain = wren_cli("clean", "-b", "fake", "-c", str(storage_config))
    assert plain.exit_code == 0, plain.output
    assert not job_file.exists() and kept.exists()
    assert not (tmp_path / "cache" / "runtimes").exists()  # the directory named stays
    assert len(fake_backend.deployed) == 2

    everything = wren_cli("clean", "-b", "fake", "-c", str(storage_config), "--all")
    assert everything.exit_code == 0, everything.output
    assert fake_backend.deployed == {}
    assert "deleted runtime jdoe/a:1 (256 MB)" in everything.stdout
    assert storage_config.exists()


def test_clean_all_on_a_backend_without_runtimes(wren_cli: Run, fake_backend: Any,
                                                 storage_config: Path) -> None:
    result = wren_cli("clean", "-b", "plain", "-c", str(storage_config), "--all")
    assert result.exit_code == 0, result.output
    assert "backend 'plain' has no runtimes to delete" in result.stdout
