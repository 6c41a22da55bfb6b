"""`wren storage` through the localhost storage adapter, and `wren verify` running the
contract suites against the configured backends in a process of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

Run = Callable[..., Result]


def test_put_list_get_delete_round_trip(wren_cli: Run, storage_config: Path,
                                        tmp_path: Path) -> None:
    source = tmp_path / "data.csv"
    source.write_bytes(b"a,b\n1,2\n" * 1000)
    config = ("-c", str(storage_config))
    put = wren_cli("storage", "put", str(source), "wren", "-k", "in/data.csv", *config)
    assert put.exit_code == 0, put.output
    assert "uploaded 8,000 bytes to localhost://wren/in/data.csv" in put.stdout
    assert wren_cli("storage", "put", "-", "wren", "-k", "in/piped.txt", *config,
                    input=b"from stdin").exit_code == 0

    listed = wren_cli("storage", "list", "wren", "-p", "in/", *config)
    assert listed.exit_code == 0, listed.output
    rows = [line for line in listed.stdout.splitlines() if "in/" in line]
    assert "in/data.csv" in rows[0] and "8000" in rows[0] and "in/piped.txt" in rows[1]
    assert "2 objects, 8,010 bytes" in listed.stdout

    target = tmp_path / "copy.csv"
    got = wren_cli("storage", "get", "wren", "in/data.csv", "-o", str(target), *config)
    assert got.exit_code == 0 and target.read_bytes() == source.read_bytes()
    piped = wren_cli("storage", "get", "wren", "in/piped.txt", "-o", "-", *config)
    assert piped.stdout_bytes == b"from stdin"

    deleted = wren_cli("storage", "delete", "wren", "in/data.csv", "in/nothing", *config)
    assert deleted.exit_code == 0 and "deleted 1 objects" in deleted.stdout
    assert "not found: in/nothing" in deleted.stderr
    assert wren_cli("storage", "delete", "wren", "-p", "in/", *config).exit_code == 0
    assert "no objects in localhost://wren/in/" in wren_cli("storage", "list", "wren", "-p",
                                                            "in/", *config).stdout


def test_storage_errors_are_one_line(wren_cli: Run, storage_config: Path) -> None:
    missing = wren_cli("storage", "get", "wren", "no/such.key", "-c", str(storage_config))
    assert missing.exit_code == 1
    assert missing.stderr == "wren: error: no object 'no/such.key' in bucket 'wren'\n"
    # a wrong command line is a usage error (exit code 2, click's usage text; issue 18)
    nothing = wren_cli("storage", "delete", "wren", "-c", str(storage_config))
    assert nothing.exit_code == 2
    assert nothing.stderr.splitlines()[-1].startswith("Error: name the keys to delete")
    stdin = wren_cli("storage", "put", "-", "wren", "-c", str(storage_config))
    assert stdin.exit_code == 2
    assert stdin.stderr.splitlines()[-1] == "Error: reading stdin needs a key: add -k KEY"


def _verify(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOME": str(home)}
    env.pop("WREN_CONFIG_FILE", None)
    return subprocess.run([sys.executable, "-m", "wren_cli", "verify", *args], cwd=home,
                          env=env, capture_output=True, text=True, timeout=300, check=False)


def test_verify_runs_the_contract_against_the_configured_backends(storage_config: Path,
                                                                  tmp_path: Path) -> None:
    result = _verify("-c", str(storage_config), "--suite", "storage", "--suite", "executor",
                     "-k", "ranged_get or call_async_returns_one_value", home=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "9 passed" in result.stdout
    assert "compute 'localhost' with storage 'localhost' keep the contract" in result.stdout


def test_verify_with_a_bad_config_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("localhost:\n  worker_procs: 2\n")
    result = _verify("-c", str(config), home=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("wren: error: unknown key 'worker_procs' in section "
                                    "'localhost'. Did you mean 'worker_processes'?")
    assert result.stderr.count("\n") == 1


def test_verify_reports_when_nothing_matches(storage_config: Path, tmp_path: Path) -> None:
    result = _verify("-c", str(storage_config), "-k", "no_such_test_anywhere", home=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "wren: error: no contract test matched -k no_such_test_anywhere")


def test_verify_runs_every_suite(storage_config: Path, tmp_path: Path) -> None:
    """One test of each suite, so a suite that is not bound (or not found) shows."""
    picks = ["test_put_then_get_returns_the_same_bytes", "test_head_list_and_delete",
             "test_chunk_n_and_empty_objects", "test_name_is_the_registered_name",
             "test_call_async_returns_one_value", "test_max_workers_and_plan_chunksize",
             "test_map_over_a_list_of_keys", "test_os_exit_names_the_exit_code"]
    result = _verify("-c", str(storage_config), "-k", " or ".join(picks), home=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "8 passed" in result.stdout, result.stdout  # each name is in exactly one suite
    # issue 18: the suites' jobs left statuses and function blobs; verify removes them all
    assert "objects the suites left" in result.stdout
    assert [p for p in (storage_config.parent / "storage").rglob("*") if p.is_file()] == []


@pytest.mark.parametrize("module", ["hypothesis", "pytest_timeout"])
def test_verify_without_the_testing_extra_names_the_extra(
        wren_cli: Run, storage_config: Path, monkeypatch: pytest.MonkeyPatch,
        module: str) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # as if it were not installed
    result = wren_cli("verify", "-c", str(storage_config))
    assert result.exit_code == 1
    assert result.stderr == (f"wren: error: wren verify needs wren-core's testing extra "
                             f"(missing: {module}): pip install 'wren-core[testing]'\n")
    assert "No module named" not in result.output
