"""What a worker's failures and a tampered function blob become on the client: data on
that call's future, never a client exit, never code run from storage."""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

import pytest
from test_runner import build, outcomes
from wren import RemoteBaseException, RemoteError, TamperedDataError
from wren.protocol import keys
from wren.protocol.results import load_document_values
from wren.protocol.signing import check_digest, new_key, open_sealed, seal
from wren.serialize import CloudpickleSerializer
from wren.serialize.function_blob import pack_function
from wren.testing import TEST_KEY, MemoryStorage
from wren.worker import run_task


@pytest.fixture
def storage() -> MemoryStorage:
    return MemoryStorage()


def exits(x: int) -> int:
    if x == 1:
        raise SystemExit(3)
    return x


def interrupts(x: int) -> int:
    raise KeyboardInterrupt("stop")


def test_system_exit_in_a_call_is_data_on_that_call(storage: MemoryStorage) -> None:
    (task,) = build(storage, exits, [0, 1, 2])
    run_task(task, storage, key=TEST_KEY)
    [(_, values)] = outcomes(storage, task)
    assert values[0] == 0 and values[2] == 2
    assert isinstance(values[1], RemoteBaseException) and not isinstance(values[1], SystemExit)
    assert "SystemExit" in str(values[1]) and "3" in str(values[1])


def test_keyboard_interrupt_never_interrupts_the_client(storage: MemoryStorage) -> None:
    (task,) = build(storage, interrupts, [0])
    run_task(task, storage, key=TEST_KEY)
    [(_, [value])] = outcomes(storage, task)
    assert isinstance(value, RemoteBaseException) and "KeyboardInterrupt" in str(value)


def test_an_exception_class_the_client_lacks_spoils_only_its_call(
        storage: MemoryStorage) -> None:
    module = types.ModuleType("wren_test_worker_only")
    exec("class OnlyOnWorker(Exception):\n    pass\n", module.__dict__)
    sys.modules[module.__name__] = module
    try:
        def picky(x: int) -> int:
            if x == 1:
                raise module.OnlyOnWorker("worker-side class")
            return x * 10

        (task,) = build(storage, picky, [0, 1, 2])
        run_task(task, storage, key=TEST_KEY)
    finally:
        del sys.modules[module.__name__]  # the client cannot import it
    [(_, values)] = outcomes(storage, task)
    assert values[0] == 0 and values[2] == 20
    assert isinstance(values[1], RemoteError)
    assert values[1].type_name.endswith("OnlyOnWorker")
    assert "worker-side class" in str(values[1])


def test_a_replaced_function_blob_is_refused_by_the_worker(storage: MemoryStorage,
                                                            tmp_path: Path) -> None:
    canary = tmp_path / "canary"
    (task,) = build(storage, exits, [0])

    def attacker(x: Any) -> None:
        canary.write_text("pwned")

    evil = pack_function(attacker, CloudpickleSerializer(), None, (), frozenset())
    storage.put_object("b", task.func_key, evil.data)  # same key, other content
    run_task(task, storage, key=TEST_KEY)
    [(document, _)] = outcomes(storage, task)
    assert not canary.exists()
    assert "not what wren wrote" in document.errors[0]["message"]
    assert task.func_key in document.errors[0]["message"]


def test_the_client_uploads_again_over_a_replaced_blob(storage: MemoryStorage,
                                                       tmp_path: Path) -> None:
    (task,) = build(storage, exits, [0])
    storage.put_object("b", task.func_key, b"WRENFN1\n junk")
    (again,) = build(storage, exits, [5])  # a new builder checks what it finds
    check_digest(again.func_key, storage.get_object("b", again.func_key),
                 keys.func_digest(again.func_key))
    run_task(again, storage, key=TEST_KEY)
    [(_, values)] = outcomes(storage, again)
    assert values == [5]


def test_sealed_objects_are_bound_to_their_key_and_context() -> None:
    key = new_key()
    blob = seal(key, "wren.jobs/e/M000/result/t0.0000.bin", b"payload")
    assert bytes(open_sealed(key, "wren.jobs/e/M000/result/t0.0000.bin", blob)) == b"payload"
    with pytest.raises(TamperedDataError, match="t1"):  # moved to another key
        open_sealed(key, "wren.jobs/e/M000/result/t1.0000.bin", blob)
    with pytest.raises(TamperedDataError):  # another executor's key
        open_sealed(new_key(), "wren.jobs/e/M000/result/t0.0000.bin", blob)
    with pytest.raises(TamperedDataError, match="no wren signature"):
        open_sealed(key, "x", b"\x80\x04K\x01.")
    tampered = bytearray(blob)
    tampered[-1] ^= 1
    with pytest.raises(TamperedDataError):
        open_sealed(key, "wren.jobs/e/M000/result/t0.0000.bin", bytes(tampered))


def test_results_that_are_not_a_list_of_the_right_size_are_errors() -> None:
    from wren.protocol.status import StatusDocument

    document = StatusDocument("e/M000", "t0", 0, "r", {}, range(2), [0.0, 0.0], [0.0, 0.0])
    blob = seal(TEST_KEY, "r", CloudpickleSerializer().dumps([1]))
    values = load_document_values(document, blob, CloudpickleSerializer(), TEST_KEY)
    assert all(isinstance(v, Exception) for v in values)


def test_a_result_object_someone_replaced_is_never_unpickled(tmp_path: Path) -> None:
    from wren.protocol.status import StatusDocument

    canary = tmp_path / "canary"

    class Payload:
        def __reduce__(self) -> Any:
            return (Path.write_text, (canary, "pwned"))

    document = StatusDocument("e/M000", "t0", 0, "r", {}, range(1), [0.0], [0.0])
    evil = CloudpickleSerializer().dumps([Payload()])
    for blob in (evil, seal(new_key(), "r", evil), seal(TEST_KEY, "elsewhere", evil)):
        [value] = load_document_values(document, blob, CloudpickleSerializer(), TEST_KEY)
        assert isinstance(value, TamperedDataError) and not canary.exists()


def test_a_python_mismatch_on_a_backend_without_builds_names_no_build_command(
        thread_backends: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import wren
    from wren.ports import RuntimeInfo

    monkeypatch.setattr(thread_backends, "runtime_info",
                        lambda self: RuntimeInfo("old", "3.8", wren.__version__), raising=False)
    with wren.FunctionExecutor(backend="threads", storage="shared_memory") as fexec:
        for _ in range(2):  # and the check does not pass on a second try
            with pytest.raises(wren.RuntimeMismatchError, match="builds no runtimes") as caught:
                fexec.map(exits, [0])
            assert "wren runtime build" not in str(caught.value)
