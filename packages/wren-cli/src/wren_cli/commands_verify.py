"""`wren verify`: run wren's contract suites against the configured backends, with pytest."""

from __future__ import annotations

import importlib
import os
import tempfile
from pathlib import Path
from typing import Any

import click

from wren_cli.options import Target, common_options, fail

_SUITES = {"storage": "TestStorage", "storage-api": "TestStorageApi",
           "partitioner": "TestPartitioner", "serializer": "TestSerializer",
           "executor": "TestExecutor", "compute": "TestCompute", "data": "TestDataProcessing",
           "failures": "TestWorkerFailures"}
#: What the contract suites import: the `testing` extra of wren-core.
_TESTING_MODULES = ("pytest", "pytest_timeout", "hypothesis")
TESTING_EXTRA = "pip install 'wren-core[testing]'"


def missing_testing_modules() -> list[str]:
    """The modules of wren-core's `testing` extra that cannot be imported here."""
    missing = []
    for name in _TESTING_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    return missing


def _remove_what_it_stored(config: Any) -> None:
    """Delete the objects the suites' jobs left (statuses of results read through futures,
    the functions this run uploaded), so verifying leaves the bucket as it was."""
    from wren.backends import open_storage
    from wren.own_objects import delete_own_objects

    storage = open_storage(config)
    try:
        removed = delete_own_objects(storage, storage.default_bucket)
    except Exception as exc:  # the verdict stands; say what is left
        click.echo(f"wren: warning: could not remove the suites' objects: {exc}", err=True)
        return
    finally:
        storage.close()
    click.echo(f"wren verify: removed the {removed} objects the suites left")


@click.command()
@click.option("--suite", "suites", multiple=True, type=click.Choice(sorted(_SUITES)),
              help="Run only this suite (repeatable). Default: all of them.")
@click.option("-k", "expression", help="Only tests matching this pytest -k expression.")
@click.option("-x", "--exitfirst", is_flag=True, help="Stop at the first failure.")
@common_options
def verify(target: Target, suites: tuple[str, ...], expression: str | None,
           exitfirst: bool) -> None:
    """Check that the configured compute and storage backends keep wren's contract: run every
    contract suite (storage, Storage API, partitioner, serializer, executor, compute, data
    processing, worker failures) against them, then delete what their jobs stored. Needs the
    extra: pip install 'wren-core[testing]'.

    Example: wren verify -b localhost -s localhost --suite executor
    """
    missing = missing_testing_modules()
    if missing:
        fail(f"wren verify needs wren-core's testing extra (missing: {', '.join(missing)}): "
             f"{TESTING_EXTRA}")
    import pytest

    from wren_cli import contract_suite

    config = target.config()  # a bad config is one clear line, not a pytest error
    module = Path(contract_suite.__file__)
    selected = [f"{module}::{_SUITES[s]}" for s in suites] or [str(module)]
    with tempfile.TemporaryDirectory(prefix="wren-verify-") as temp:
        ini = Path(temp) / "pytest.ini"
        ini.write_text("[pytest]\n")
        args = [*selected, "-c", str(ini), "--rootdir", temp, "--noconftest",
                "-p", "no:cacheprovider", "-q", "-rfEs"]
        if expression:
            args += ["-k", expression]
        if exitfirst:
            args.append("-x")
        saved = {name: os.environ.get(name) for name in (contract_suite.BACKEND_ENV,
                                                          contract_suite.STORAGE_ENV)}
        os.environ[contract_suite.BACKEND_ENV] = config.compute_backend
        os.environ[contract_suite.STORAGE_ENV] = config.storage_backend
        try:
            code = pytest.main(args)
        finally:
            _remove_what_it_stored(config)
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
    where = f"compute {config.compute_backend!r} with storage {config.storage_backend!r}"
    if code == pytest.ExitCode.OK:
        click.echo(f"wren verify: {where} keep the contract")
        return
    if code == pytest.ExitCode.NO_TESTS_COLLECTED:
        fail(f"no contract test matched{' -k ' + expression if expression else ''}")
    fail(f"{where} broke the contract: see the failures above (pytest exit code {int(code)})")
