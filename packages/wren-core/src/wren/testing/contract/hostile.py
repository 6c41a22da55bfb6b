"""The hostile-storage contract: someone who can write the bucket (or the broker) but cannot
run code on the client must never run code anywhere, nor change a result unnoticed.

Each test plays that attacker against a real job of the adapter under test. Every payload is
a pickle whose loading creates a canary file (`Canary`); each test asserts the canary is
absent *and* what the user sees: forged statuses are ignored (one warning each, counted in
`JobMonitor.rejected` and `JobState.rejected_statuses`) and the job still completes with its
real results; a replaced, moved or re-sealed result (in its own object or inside its status
object), argument or function blob (or a big value's buffer removed from shared memory) is a
`TamperedDataError` naming the object, or is replaced by the client before it is used. The
canary is a local file, so the suite proves most where workers share the test's filesystem
(every binding in wren's own tests). Bind `make_executor` for `HostileStorageContract`; bind
`publish_status` as well for `HostileMonitorContract` (a push channel such as RabbitMQ).
A pre-created foreign local directory is covered by wren-backend-local's own tests.
"""

from __future__ import annotations

import logging
import pickle
import re
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import wren
from wren.client.futures import ResponseFuture
from wren.ports import capabilities
from wren.protocol import keys
from wren.protocol.signing import HEADER_BYTES, new_key, seal
from wren.protocol.status import INLINE_RESULT_BYTES, StatusDocument
from wren.serialize.function_blob import pack_function
from wren.testing import functions as fn
from wren.testing.contract._binding import WAIT, ExecutorBinding, override_me

#: `publish_status(fexec, body)`: deliver `body` to the executor's status channel as any
#: publisher on the broker could.
PublishStatus = Callable[[wren.FunctionExecutor, bytes], None]

FORGERIES = ("pickle", "json", "wrong-key")
#: A value big enough to travel beside its pickle where the storage offers shared memory.
BIG_VALUE = 1024 * 1024 + 7


class Canary:
    """The attacker's payload: unpickling it writes `path`."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> Any:
        return (Path.write_text, (self.path, "pwned"))


def evil_pickle(canary: Path) -> bytes:
    return pickle.dumps(Canary(canary), protocol=pickle.HIGHEST_PROTOCOL)


def with_embedded(raw: bytes, result: bytes) -> bytes:
    """A status object that embeds its result (`StatusDocument.embed_result`) with `result`
    in place of that result: what an attacker who rewrites the object can make."""
    cut = raw.index(b"\x00", HEADER_BYTES)  # the sealed JSON document ends there
    return raw[:cut + 1] + result


def forged_status(kind: str, job_key: str, n_calls: int, result_key: str,
                  canary: Path) -> bytes:
    """A status claiming every call of `job_key` succeeded: a bare pickle, well-formed JSON,
    or a well-formed document sealed with a key that is not the executor's."""
    if kind == "pickle":
        return evil_pickle(canary)
    document = StatusDocument(job_key, "t00000", 0, result_key, {"host": "attacker"},
                              range(n_calls), [0.0] * n_calls, [0.0] * n_calls)
    return document.encode() if kind == "json" else document.seal(new_key())


class _Warnings(logging.Handler):
    """Collects the warnings of the `wren` logger that match `pattern`."""

    def __init__(self, pattern: str) -> None:
        super().__init__(logging.WARNING)
        self.pattern = re.compile(pattern)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if self.pattern.search(message):
            self.messages.append(message)


def wait_until(predicate: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"{what}: not reached in {timeout:g} s"
        time.sleep(0.05)


def _attacker(canary: Path) -> Callable[[Any], None]:
    """The attacker's function: it creates the canary if it ever runs."""
    def attacker(x: Any) -> None:
        canary.write_text("pwned")

    return attacker


def _tagged(tag: str) -> Callable[[int], tuple[str, int]]:
    """A function whose blob is new to the bucket (its digest covers `tag`)."""
    def tagged(x: int) -> tuple[str, int]:
        return tag, x

    return tagged


class _Gated:
    """A job whose calls run until the test opens their gate (an object in the bucket)."""

    def __init__(self, fexec: wren.FunctionExecutor, n_calls: int) -> None:
        self.fexec = fexec
        self.gate = f"wren-hostile/{uuid.uuid4().hex}/gate"
        self.futures: list[ResponseFuture] = fexec.map(
            fn.wait_for_object, [(fexec.bucket, self.gate, i) for i in range(n_calls)],
            chunksize=1)
        self.job = self.futures[0].job

    def open(self) -> None:
        self.fexec.storage.put_object(self.fexec.bucket, self.gate, b"open")

    def close(self) -> None:
        self.fexec.storage.delete_objects(self.fexec.bucket, [self.gate])


def _attack_after_put(monkeypatch: pytest.MonkeyPatch, fexec: wren.FunctionExecutor,
                      target: Callable[[str], bool], replace: Callable[[str, bytes], bytes]
                      ) -> list[str]:
    """Let an attacker who watches the bucket replace each object the client writes under a
    key `target` accepts, right after it is written (before any worker can read it)."""
    storage, attacked = fexec.storage, []
    put = storage.put_object

    def put_then_replace(bucket: str, key: str, body: Any) -> None:
        put(bucket, key, body)
        if target(key):
            data = body if isinstance(body, bytes) else storage.get_object(bucket, key)
            put(bucket, key, replace(key, data))
            attacked.append(key)

    monkeypatch.setattr(storage, "put_object", put_then_replace)
    return attacked


class _Attacker(ExecutorBinding):
    """The fixtures every attack uses: its canary file and the monitor's warnings."""

    @pytest.fixture
    def canary(self, tmp_path: Path) -> Iterator[Path]:
        path = tmp_path / f"canary-{uuid.uuid4().hex}"
        yield path
        assert not path.exists(), "the attacker's pickle was loaded"

    @pytest.fixture
    def status_warnings(self) -> Iterator[_Warnings]:
        handler = _Warnings("ignored a status document")
        logger = logging.getLogger("wren")
        logger.addHandler(handler)
        try:
            yield handler
        finally:
            logger.removeHandler(handler)


@pytest.mark.timeout(180)
class HostileStorageContract(_Attacker):
    """Mixin of attacks through the bucket; bind the fixture `make_executor`."""

    @pytest.mark.parametrize("kind", FORGERIES)
    def test_a_forged_status_is_ignored_and_the_job_completes(
            self, fexec: wren.FunctionExecutor, canary: Path, kind: str,
            status_warnings: _Warnings) -> None:
        job = _Gated(fexec, 2)
        try:
            job_key, bucket = job.job.job_key, fexec.bucket
            evil_result = keys.result_key(job_key, "t00000", 9)
            fexec.storage.put_object(bucket, evil_result, evil_pickle(canary))
            # Where the real worker of task 0 will write its own status later.
            fexec.storage.put_object(bucket, keys.status_key(job_key, "t00000", 0),
                                     forged_status(kind, job_key, 2, evil_result, canary))
            fexec._monitor.sweep()
            wait_until(lambda: job.job.rejected_statuses >= 1, "the forged status was read")
            assert not any(f.done for f in job.futures), "a forged status completed a call"
            job.open()
            assert fexec.get_result(job.futures, timeout=WAIT) == [0, 1]
        finally:
            job.close()
        assert job.job.rejected_statuses == 1
        assert sum(fexec._monitor.rejected.values()) == 1
        assert len(status_warnings.messages) == 1, status_warnings.messages
        assert not canary.exists()

    def test_a_replaced_result_is_a_tampered_data_error(self, fexec: wren.FunctionExecutor,
                                                        canary: Path) -> None:
        big = INLINE_RESULT_BYTES + 1024  # big results keep their own objects
        futures = fexec.map(fn.make_bytes, [big, big + 1, big + 2], chunksize=1)
        fexec.wait(futures, throw_except=False, timeout=WAIT)
        result_keys = []
        for future in futures:
            document = future.job.docs[future.index]
            assert document is not None and document.result_key is not None
            result_keys.append(document.result_key)
        bucket, storage = fexec.bucket, fexec.storage
        storage.put_object(bucket, result_keys[0], evil_pickle(canary))  # a bare pickle
        storage.put_object(bucket, result_keys[1],  # a valid blob moved from another call
                           storage.get_object(bucket, result_keys[2]))
        for future, key in zip(futures[:2], result_keys):
            with pytest.raises(wren.TamperedDataError, match=re.escape(key)) as caught:
                fexec.get_result(future, timeout=WAIT)
            assert caught.value.key == key
        assert len(fexec.get_result(futures[2], timeout=WAIT)) == big + 2
        assert not canary.exists()

    def test_a_replaced_embedded_result_is_a_tampered_data_error(
            self, fexec: wren.FunctionExecutor, canary: Path) -> None:
        # The attacker rewrites the status objects (small results travel inside them)
        # before the client reads them: the monitor is held back until then.
        # Pushed copies (a broker's, a local pool's) are held back too, and all of them
        # must have come before the monitor is let go: one pushed later would complete
        # its call with the worker's genuine, sealed status.
        monitor = fexec._monitor
        held: list[str] = []
        pushes = 4 if monitor._feeds or (monitor.adapter_pushes and fexec.compute.supports(
            capabilities.PUSH_STATUS)) else 0
        monitor.poll_once = lambda: 0  # type: ignore[method-assign]
        monitor.status_received = (  # type: ignore[method-assign]
            lambda document, source: held.append(source))
        try:
            futures = fexec.map(fn.double, [1, 2, 3, 4], chunksize=1)
            bucket, storage = fexec.bucket, fexec.storage
            prefix = keys.status_prefix(futures[0].job_key)
            wait_until(lambda: len(storage.list_keys(bucket, prefix)) == 4,
                       "the workers wrote their status objects")
            wait_until(lambda: len(held) >= pushes, "every pushed status arrived")
            status = sorted(storage.list_keys(bucket, prefix))
            raws = [storage.get_object(bucket, key) for key in status]
            documents = [StatusDocument.open(raw, fexec._key, key)
                         for raw, key in zip(raws, status)]
            assert all(d.inline_result is not None for d in documents)
            storage.put_object(bucket, status[0], with_embedded(raws[0], evil_pickle(canary)))
            storage.put_object(bucket, status[1], with_embedded(  # another call's result
                raws[1], bytes(documents[3].inline_result or b"")))
            storage.put_object(bucket, status[2], raws[3])  # another call's status object
        finally:
            del monitor.poll_once, monitor.status_received
        monitor.sweep()
        for future, document in zip(futures[:2], documents):
            with pytest.raises(wren.TamperedDataError) as caught:
                fexec.get_result(future, timeout=WAIT)
            assert caught.value.key == document.result_key
        assert fexec.get_result(futures[3], timeout=WAIT) == 8
        wait_until(lambda: futures[0].job.rejected_statuses >= 1,
                   "the moved status object was refused")
        assert not futures[2].done, "a status object moved to another key completed a call"
        assert not canary.exists()

    def test_a_forged_input_of_a_chained_call_is_refused(self, fexec: wren.FunctionExecutor,
                                                         canary: Path) -> None:
        # futures as iterdata: the worker reads their statuses and results from storage
        first = fexec.map(fn.double, [1, 2, 3, 4], chunksize=1)
        fexec.wait(first, throw_except=False, timeout=WAIT)
        documents, results = [], []
        for future in first:
            document = future.job.docs[future.index]
            assert document is not None and document.result_key is not None
            documents.append(document)
            results.append(document.result_key)
        status = [keys.status_key(d.job_key, d.task_id, d.part) for d in documents]
        bucket, storage = fexec.bucket, fexec.storage
        raws = [storage.get_object(bucket, key) for key in status]
        # small results travel inside the status objects: rewrite those
        storage.put_object(bucket, status[0], with_embedded(raws[0], evil_pickle(canary)))
        storage.put_object(bucket, status[1], with_embedded(  # moved from another call
            raws[1], bytes(StatusDocument.open(raws[3], fexec._key).inline_result or b"")))
        storage.put_object(bucket, status[2], forged_status(  # sealed with another key
            "wrong-key", first[2].job_key, 4, results[2], canary))
        second = fexec.map(fn.double, first)
        for future in second[:3]:
            with pytest.raises(wren.TamperedDataError):
                future.result(timeout=WAIT)
        assert second[3].result(timeout=WAIT) == 16
        assert not canary.exists()

    def test_big_results_replaced_or_their_buffers_removed_are_refused(
            self, fexec: wren.FunctionExecutor, canary: Path) -> None:
        # Values of 1 MiB or more may travel beside their pickle (`shared_memory` storage).
        futures = fexec.map(fn.make_bytes, [BIG_VALUE] * 3, chunksize=1)
        fexec.wait(futures, throw_except=False, timeout=WAIT)
        document = futures[0].job.docs[futures[0].index]
        assert document is not None and document.result_key is not None
        bucket, storage = fexec.bucket, fexec.storage
        first_key = document.result_key
        rest: list[ResponseFuture] = list(futures)
        if not document.result_inline:  # an embedded one: test_a_replaced_embedded_result...
            storage.put_object(bucket, first_key, evil_pickle(canary))
            with pytest.raises(wren.TamperedDataError, match=re.escape(first_key)):
                fexec.get_result(futures[0], timeout=WAIT)
            rest = futures[1:]
        beside = [k for k in storage.list_keys(bucket, keys.job_prefix(futures[1].job_key))
                  if "/buffers/" in k]
        if not storage.supports(capabilities.SHARED_MEMORY):
            assert beside == []
            assert fexec.get_result(futures[1], timeout=WAIT) == b"x" * BIG_VALUE
        else:
            assert len(beside) >= 2, beside
            storage.delete_objects(bucket, beside)
            for future in rest:
                with pytest.raises(wren.TamperedDataError, match="cannot be opened"):
                    fexec.get_result(future, timeout=WAIT)
        assert not canary.exists()

    def test_a_replaced_function_blob_is_uploaded_again(
            self, make_executor: Callable[..., wren.FunctionExecutor], canary: Path) -> None:
        func = _tagged(uuid.uuid4().hex)
        with make_executor() as first:
            before = set(first.storage.list_keys(first.bucket, keys.FUNCS_PREFIX))
            assert first.get_result(first.call_async(func, 1), timeout=WAIT)[1] == 1
            [func_key] = set(first.storage.list_keys(first.bucket, keys.FUNCS_PREFIX)) - before
            evil = pack_function(_attacker(canary), first.serializer).data
            first.storage.put_object(first.bucket, func_key, evil)
        with make_executor() as second:  # the next job of the same function
            assert second.get_result(second.call_async(func, 2), timeout=WAIT)[1] == 2
            assert second.storage.get_object(second.bucket, func_key) != evil
        assert not canary.exists()

    def test_a_function_blob_replaced_before_the_run_is_refused(
            self, fexec: wren.FunctionExecutor, canary: Path,
            monkeypatch: pytest.MonkeyPatch) -> None:
        evil = pack_function(_attacker(canary), fexec.serializer).data
        attacked = _attack_after_put(monkeypatch, fexec,
                                     lambda key: key.startswith(keys.FUNCS_PREFIX),
                                     lambda key, data: evil)
        future = fexec.call_async(_tagged(uuid.uuid4().hex), 1)
        assert len(attacked) == 1
        with pytest.raises(wren.TamperedDataError, match=re.escape(attacked[0])) as caught:
            fexec.get_result(future, timeout=WAIT)
        assert caught.value.key == attacked[0] and "not what wren wrote" in str(caught.value)
        assert not canary.exists()

    def test_tampered_argument_data_is_refused(self, fexec: wren.FunctionExecutor,
                                               canary: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
        # Arguments above the inline limit travel in the job's data object.
        monkeypatch.setattr(fexec.compute, "max_payload_bytes", 1024)
        attacker_key = new_key()

        def replace(key: str, data: bytes) -> bytes:
            job_key = key.removeprefix(keys.JOBS_PREFIX).removesuffix("/data")
            size = len(data) // 2  # two calls of the same size, one per task
            bare = evil_pickle(canary).ljust(size, b".")
            resealed = seal(attacker_key, f"{job_key}/args/1", evil_pickle(canary))
            return bare + resealed.ljust(len(data) - size, b".")

        attacked = _attack_after_put(monkeypatch, fexec, lambda key: key.endswith("/data"),
                                     replace)
        futures = fexec.map(fn.payload_size, [b"a" * 4096, b"b" * 4096], chunksize=1)
        assert len(attacked) == 1
        fexec.wait(futures, throw_except=False, timeout=WAIT)
        for future in futures:
            with pytest.raises(wren.TamperedDataError, match=re.escape(attacked[0])) as caught:
                future.result(timeout=WAIT)
            assert caught.value.key == attacked[0]
            assert "not what wren wrote" in str(caught.value)
        assert not canary.exists()


@pytest.mark.timeout(180)
class HostileMonitorContract(_Attacker):
    """Mixin of attacks through a push channel; bind `make_executor` and `publish_status`."""

    @pytest.fixture
    def publish_status(self) -> PublishStatus:
        """Override me: `(fexec, body)` publishes `body` to the executor's status channel."""
        override_me("publish_status", "a callable (fexec, body) publishing to its channel")

    def test_forged_monitor_messages_are_ignored_and_counted(
            self, fexec: wren.FunctionExecutor, publish_status: PublishStatus,
            canary: Path, status_warnings: _Warnings) -> None:
        job = _Gated(fexec, 2)
        try:
            job_key = job.job.job_key
            evil_result = keys.result_key(job_key, "t00000", 9)
            fexec.storage.put_object(fexec.bucket, evil_result, evil_pickle(canary))
            for kind in FORGERIES:
                publish_status(fexec, forged_status(kind, job_key, 2, evil_result, canary))
            wait_until(lambda: sum(fexec._monitor.rejected.values()) >= len(FORGERIES),
                       "the forged messages were read")
            assert not any(f.done for f in job.futures), "a forged message completed a call"
            job.open()
            assert fexec.get_result(job.futures, timeout=WAIT) == [0, 1]
        finally:
            job.close()
        assert sum(fexec._monitor.rejected.values()) == len(FORGERIES)
        # The bare pickle names no job; the other two name this one.
        assert job.job.rejected_statuses == len(FORGERIES) - 1
        assert len(status_warnings.messages) == len(FORGERIES)
        assert not canary.exists()
