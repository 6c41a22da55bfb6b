"""The `wren` command: real runs through click's runner, one-line errors, exit codes."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from wren_cli import cli


def test_version_names_cli_and_core() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and "wren-cli" in result.output and "wren-core" in \
        result.output


def test_hello_runs_a_real_function_and_leaves_nothing(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(f"localhost:\n  storage_dir: {tmp_path / 's'}\n")
    result = CliRunner().invoke(cli, ["hello", "tester", "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert "Hello tester! wren ran this on" in result.output
    assert (tmp_path / "s" / "wren").is_dir()  # the run went through this storage...
    assert [p for p in (tmp_path / "s").rglob("*") if p.is_file()] == []  # ...and left it


def test_clean_removes_wren_data(tmp_path: Path, private_tmp: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(f"localhost:\n  storage_dir: {tmp_path / 's'}\n")
    runner = CliRunner()
    assert runner.invoke(cli, ["hello", "-c", str(config)]).exit_code == 0
    result = runner.invoke(cli, ["clean", "-c", str(config)])
    assert result.exit_code == 0 and "removed" in result.output
    leftover = [p for p in (tmp_path / "s" / "wren").rglob("*") if p.is_file()]
    assert leftover == []


def test_errors_are_one_line_and_exit_non_zero(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["hello", "-b", "nope"])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line]
    assert len(lines) == 1 and lines[0].startswith("wren: error: unknown compute backend")
    missing = CliRunner().invoke(cli, ["hello", "-c", str(tmp_path / "missing.yaml")])
    assert missing.exit_code == 2 and "does not exist" in missing.output  # a usage error


def test_every_verb_has_help_with_an_example() -> None:
    for verb in ("hello", "clean"):
        result = CliRunner().invoke(cli, [verb, "--help"])
        assert result.exit_code == 0 and "Example:" in result.output
        for option in ("--config", "--backend", "--storage", "--debug"):
            assert option in result.output
