"""What the contract mixins share: the "override me" error of a fixture a binding must
provide, and the types of the fixtures they declare.

Each mixin defines every fixture it needs; those an adapter's test module must supply raise
`ContractBindingError` until a subclass overrides them (as fsspec's abstract tests do), so a
forgotten binding fails with a sentence naming the fixture instead of a pytest lookup error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import ClassVar, NoReturn

import pytest

import wren
from wren.ports.storage import StorageBackend

#: `make_executor(**overrides)`: a `FunctionExecutor` for the adapter under test (the test
#: closes it).
MakeExecutor = Callable[..., wren.FunctionExecutor]

#: How long a contract waits for one result, a crash report or a status document: long
#: enough for a cold container, short enough that a lost call fails the test in seconds.
WAIT = 60.0


class ContractBindingError(NotImplementedError):
    """A contract fixture was not bound by the adapter's test module."""


def override_me(fixture: str, what: str) -> NoReturn:
    """Raise the error of an unbound contract fixture `fixture` (`what` says what it is)."""
    raise ContractBindingError(
        f"override me: bind `{fixture}` ({what}) in your test module, see "
        "docs/writing-a-backend.md")


class KnownGaps:
    """Lets a binding name the contract tests its adapter is known to fail, with the reason
    (`known_gaps = {"test_name": "why"}`): each runs as a strict xfail, so the suite stays
    green, the gap stays visible, and fixing it fails the run until the entry is removed."""

    known_gaps: ClassVar[Mapping[str, str]] = {}

    @pytest.fixture(autouse=True)
    def _known_gaps(self, request: pytest.FixtureRequest) -> None:
        reason = self.known_gaps.get(request.function.__name__)
        if reason is not None:
            request.applymarker(pytest.mark.xfail(strict=True, reason=reason))


class StorageBinding(KnownGaps):
    """The fixtures of the suites that run on a storage adapter: `storage` and `bucket`."""

    @pytest.fixture
    def storage(self) -> StorageBackend:
        """Override me: the storage adapter under test."""
        override_me("storage", "a StorageBackend instance")

    @pytest.fixture
    def bucket(self) -> str:
        """Override me: an existing bucket the tests may write to."""
        override_me("bucket", "the name of an existing bucket")


class ExecutorBinding(KnownGaps):
    """The fixtures of the suites that run on a compute + storage pair: `make_executor`,
    and `fexec`, one executor from it that the test's end closes."""

    @pytest.fixture
    def make_executor(self) -> MakeExecutor:
        """Override me: `(**overrides) -> FunctionExecutor` for the adapter under test."""
        override_me("make_executor", "a callable (**overrides) -> FunctionExecutor")

    @pytest.fixture
    def fexec(self, make_executor: MakeExecutor) -> Iterator[wren.FunctionExecutor]:
        with make_executor() as executor:
            yield executor
