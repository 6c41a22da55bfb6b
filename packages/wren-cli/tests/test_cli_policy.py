"""Issue 18, a CLI without surprises: the shared options before or after the verb, one
exit-code policy that `--help`, the README and the real exit codes agree on, a quiet end
on a closed pipe (real processes in a shell), and runtime verbs on localhost without a
container engine that say so and succeed."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from wren_cli import exit_codes
from wren_cli.options import Target

Run = Callable[..., Result]
README = Path(__file__).parents[3] / "README.md"
NO_ENGINE = "unix:///nonexistent/wren-test-no-engine.sock"


def _shell(command: str, home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`command` run by bash with `wren` standing for this interpreter's `wren_cli`; its
    stdout is what the shell printed, and the exit code is the pipeline's first command's."""
    wren = f"{shlex.quote(sys.executable)} -m wren_cli"
    script = f"{command.replace('wren ', wren + ' ', 1)}; exit ${{PIPESTATUS[0]}}"
    temp = home / "tmp"  # this test's /tmp: `wren clean` empties the per-user cache there
    temp.mkdir(exist_ok=True)
    temp.chmod(0o1777)
    environ = {**os.environ, "HOME": str(home), "TMPDIR": str(temp), **env}
    environ.pop("WREN_CONFIG_FILE", None)
    return subprocess.run(["bash", "-c", script], cwd=home, env=environ,
                          capture_output=True, text=True, errors="replace", timeout=120,
                          check=False)


@pytest.mark.parametrize("args", [
    ("-c", "{config}", "hello", "before"),
    ("hello", "after", "-c", "{config}"),
    ("--config", "{config}", "-b", "localhost", "hello", "mixed", "--storage", "localhost"),
    ("-b", "nope", "hello", "wins", "-b", "localhost", "-c", "{config}"),  # after wins
])
def test_options_before_or_after_the_verb(wren_cli: Run, storage_config: Path,
                                          args: tuple[str, ...]) -> None:
    result = wren_cli(*(a.format(config=storage_config) for a in args))
    assert result.exit_code == 0, result.output
    assert f"Hello {args[args.index('hello') + 1]}! wren ran this on" in result.stdout


@pytest.mark.parametrize("args", [("-d", "-b", "nope", "hello"), ("hello", "-d", "-b", "nope")])
def test_debug_before_or_after_the_verb_shows_the_traceback(wren_cli: Run,
                                                            args: tuple[str, ...]) -> None:
    import wren

    with pytest.raises(wren.WrenError, match="unknown compute backend 'nope'"):
        wren_cli(*args)  # --debug lets the error through (the runner re-raises it)


def test_options_before_a_verb_of_a_group(wren_cli: Run, fake_backend: Any) -> None:
    for args in (("-b", "plain", "runtime", "list"), ("runtime", "-b", "plain", "list"),
                 ("runtime", "list", "-b", "plain")):
        result = wren_cli(*args)
        assert result.exit_code == 0, result.output
        assert "backend 'plain' has no runtimes to list" in result.stdout


def _readme_codes() -> dict[int, str]:
    """The exit codes the README's table lists."""
    text = README.read_text()
    section = text[text.index("Exit codes of `wren`"):]
    return {int(code): meaning for code, meaning in
            re.findall(r"^\| `(\d+)` \| (.+?) \|$", section, re.MULTILINE)}


def test_help_and_readme_state_the_same_exit_codes(wren_cli: Run) -> None:
    shown = wren_cli("--help").stdout
    listed = dict(re.findall(r"^\s+(\d+)\s+(\S.*)$", shown.split("Exit codes:", 1)[1],
                             re.MULTILINE))
    policy = {exit_codes.OK, exit_codes.ERROR, exit_codes.USAGE, exit_codes.INTERRUPTED,
              exit_codes.PIPE_CLOSED}
    assert {int(code) for code in listed} == policy
    assert set(_readme_codes()) == policy


@pytest.mark.parametrize(("args", "code"), [
    (("--version",), exit_codes.OK),
    (("hello", "-b", "nope"), exit_codes.ERROR),  # failed while running
    (("storage", "get", "wren", "no/such", "-c", "{config}"), exit_codes.ERROR),
    (("no-such-verb",), exit_codes.USAGE),
    (("hello", "--no-such-option"), exit_codes.USAGE),
    (("storage", "get", "wren"), exit_codes.USAGE),  # a missing argument
    (("runtime", "deploy", "x", "--memory", "lots"), exit_codes.USAGE),  # a malformed one
    (("hello", "-c", "{config}.missing"), exit_codes.USAGE),
    (("logs", "get", "not-a-job-key"), exit_codes.USAGE),
])
def test_each_exit_code_of_the_policy(wren_cli: Run, storage_config: Path,
                                      args: tuple[str, ...], code: int) -> None:
    result = wren_cli(*(a.format(config=storage_config) for a in args))
    assert result.exit_code == code, result.output
    if code == exit_codes.ERROR:
        assert result.stderr.startswith("wren: error: ") and result.stderr.count("\n") == 1
    if code == exit_codes.USAGE:
        assert result.stderr.startswith("Usage: wren ") and "\nError: " in result.stderr


def test_ctrl_c_ends_with_one_line_and_130(wren_cli: Run,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(self: Target, **overrides: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(Target, "executor", interrupted)
    result = wren_cli("hello")
    assert result.exit_code == exit_codes.INTERRUPTED
    assert result.stderr.strip() == "wren: interrupted"


def test_a_closed_pipe_ends_quietly(storage_config: Path, tmp_path: Path) -> None:
    bucket = tmp_path / "storage" / "wren"
    (bucket / "many").mkdir(parents=True)
    for number in range(3000):  # far more than a pipe buffer holds once listed
        (bucket / "many" / f"object-{number:05d}").write_bytes(b"x")
    (bucket / "big.txt").write_text("line\n" * 400_000)
    config = shlex.quote(str(storage_config))
    for command in (f"wren storage list wren -c {config} | head -1",
                    f"wren storage get wren big.txt -o - -c {config} | head -1",
                    f"wren -c {config} storage list wren -p many/ | head -c 10"):
        result = _shell(command, tmp_path)
        assert result.stderr == "", (command, result.stderr)
        assert result.stdout, command
        assert result.returncode == exit_codes.PIPE_CLOSED, (command, result.returncode)


def test_help_into_a_closed_pipe_is_quiet(tmp_path: Path) -> None:
    result = _shell("wren --help | head -1", tmp_path)
    assert result.stdout.startswith("Usage: ") and result.stderr == ""


@pytest.mark.parametrize("verb", ["list", "update all", "delete all"])
def test_runtime_verbs_on_localhost_without_an_engine_succeed(tmp_path: Path,
                                                              storage_config: Path,
                                                              verb: str) -> None:
    result = _shell(f"wren runtime {verb} -b localhost -c {shlex.quote(str(storage_config))}",
                    tmp_path, DOCKER_HOST=NO_ENGINE)
    assert result.returncode == exit_codes.OK, result.stdout + result.stderr
    assert result.stderr == ""
    assert result.stdout.strip() == (
        f"no runtimes to {verb.split()[0]} on backend 'localhost': cannot reach a container "
        f"engine at {NO_ENGINE}; start Docker or podman and set DOCKER_HOST to its socket")


def test_clean_all_without_an_engine_reports_and_succeeds(tmp_path: Path,
                                                          storage_config: Path) -> None:
    job = tmp_path / "storage" / "wren" / "wren.jobs" / "abc-0" / "M000" / "data"
    job.parent.mkdir(parents=True)
    job.write_bytes(b"args")
    result = _shell(f"wren clean -a -b localhost -c {shlex.quote(str(storage_config))}",
                    tmp_path, DOCKER_HOST=NO_ENGINE)
    assert result.returncode == exit_codes.OK, result.stdout + result.stderr
    assert result.stderr == ""
    assert "removed 1 objects from localhost://wren" in result.stdout
    assert "no runtimes to delete on backend 'localhost'" in result.stdout
    assert not job.exists()


def test_hello_in_a_real_process_leaves_nothing(tmp_path: Path, storage_config: Path) -> None:
    result = _shell(f"wren hello -c {shlex.quote(str(storage_config))}", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Hello World!" in result.stdout
    assert [p for p in (tmp_path / "storage").rglob("*") if p.is_file()] == []


def test_storage_verbs_read_b_as_the_storage_like_lithops(wren_cli: Run,
                                                          storage_config: Path) -> None:
    config = str(storage_config)
    assert wren_cli("storage", "put", "-", "wren", "-k", "a.txt", "-b", "localhost", "-c",
                    config, input=b"hi").exit_code == 0
    listed = wren_cli("storage", "list", "wren", "-b", "localhost", "-c", config)
    assert listed.exit_code == 0 and "a.txt" in listed.stdout
    wrong = wren_cli("storage", "list", "wren", "-b", "nope", "-c", config)
    assert wrong.exit_code == 1 and "unknown storage backend 'nope'" in wrong.stderr
    assert wren_cli("storage", "list", "wren", "-b", "nope", "-s", "localhost", "-c",
                    config).exit_code == 0  # -s, when given, names it
