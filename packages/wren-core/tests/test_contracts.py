"""The contract suites of `wren.testing.contract` bound where wren-core alone can run them:
the serializer contract on cloudpickle, the compute contract on the thread-backed test
backend, and the "override me" error of a contract nobody bound."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import wren
from wren.ports import ComputeBackend, Serializer
from wren.serialize import CloudpickleSerializer
from wren.testing.contract import ComputeBackendContract, MakeExecutor, SerializerContract


class TestCloudpickleSerializer(SerializerContract):
    @pytest.fixture
    def serializer(self) -> Serializer:
        return CloudpickleSerializer()


class TestThreadCompute(ComputeBackendContract):
    @pytest.fixture
    def make_executor(self, thread_backends: type[ComputeBackend]) -> Iterator[MakeExecutor]:
        def make(**overrides: Any) -> wren.FunctionExecutor:
            return wren.FunctionExecutor(backend="threads", storage="shared_memory",
                                         **overrides)

        yield make


@pytest.mark.parametrize(("contract", "fixture"), [
    ("ExecutorContract", "make_executor"), ("ComputeBackendContract", "make_executor"),
    ("StorageBackendContract", "storage"), ("SerializerContract", "serializer")])
def test_an_unbound_fixture_says_override_me(tmp_path: Path, contract: str,
                                             fixture: str) -> None:
    module = tmp_path / "test_unbound.py"
    module.write_text(textwrap.dedent(f"""
        from wren.testing.contract import {contract}

        class TestUnbound({contract}):
            pass
    """))
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    done = subprocess.run([sys.executable, "-m", "pytest", str(module), "-x", "-q",
                           "-p", "no:cacheprovider", "--rootdir", str(tmp_path)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 1, done.stdout + done.stderr
    assert (f"ContractBindingError: override me: bind `{fixture}`" in done.stdout
            and "docs/writing-a-backend.md" in done.stdout), done.stdout
