"""Big arguments and results through shared memory, played as an attacker would: values of
1 MiB or more travel as private files beside their (authenticated) pickles; a buffer file
that was rewritten, replaced, made a link or planted is a `TamperedDataError` naming it and
never reaches the function or the user; buffers go with their job, and what a dead client
left behind is swept by the next storage that starts."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import wren
from wren.ports import capabilities as caps
from wren.protocol import keys
from wren.serialize import out_of_band
from wren.serialize.local_buffers import BufferRef, read_buffer, write_buffer
from wren.serialize.out_of_band import offloading
from wren.testing import functions as fn
from wren_backend_local import LocalhostStorage

BIG = out_of_band.MIN_BYTES + 17
WAIT = 60


@pytest.fixture
def shm(tmp_path: Path) -> Path:
    """A private stand-in for /dev/shm, so sweeps see only this test's files."""
    root = tmp_path / "shm"
    root.mkdir()
    return root


@pytest.fixture
def fexec(tmp_path: Path, shm: Path) -> Iterator[wren.FunctionExecutor]:
    with wren.FunctionExecutor(backend="localhost", storage="localhost",
                               storage_dir=str(tmp_path / "storage"),
                               shared_memory_dir=str(shm),
                               worker_processes=2) as executor:
        yield executor


def _files(root: Path, min_size: int = 0) -> list[Path]:
    """Files of at least min_size bytes under root, sorted. A finished job's directory may
    vanish while this walks it (jobs are cleaned in the background); os.walk skips it."""
    found = []
    for folder, _, names in os.walk(root):
        for name in names:
            path = Path(folder, name)
            try:
                if path.stat().st_size >= min_size:
                    found.append(path)
            except FileNotFoundError:
                continue
    return sorted(found)


def _buffer_files(shm: Path) -> list[Path]:
    return [p for p in _files(shm) if "buffers" in p.parts]


def test_big_values_travel_through_shared_memory_and_go_with_their_job(
        fexec: wren.FunctionExecutor, shm: Path) -> None:
    assert fexec.storage.supports(caps.SHARED_MEMORY)
    assert fexec.compute.supports(caps.SHARED_MEMORY)
    seen: list[Path] = []
    put = fexec.storage.put_shared

    def spy(bucket: str, key: str, data: memoryview, writable: bool = False) -> BufferRef:
        ref = put(bucket, key, data, writable)
        seen.append(Path(ref.path))
        return ref

    fexec.storage.put_shared = spy  # type: ignore[method-assign]
    args = [bytes([i]) * BIG for i in range(3)]
    assert fexec.get_result(fexec.map(fn.payload_size, args)) == [BIG] * 3
    assert len(seen) == 3 and all(shm in p.parents for p in seen)
    values = fexec.get_result(fexec.map(fn.make_bytes, [BIG, 10]))
    assert values == [b"x" * BIG, b"x" * 10]
    data_dir = Path(fexec.storage.root)
    assert _files(data_dir, min_size=BIG) == []
    fexec.clean()
    assert _buffer_files(shm) == []


def test_a_rewritten_result_buffer_is_refused(fexec: wren.FunctionExecutor,
                                             shm: Path) -> None:
    futures = fexec.map(fn.make_bytes, [BIG, BIG], chunksize=1)
    fexec.wait(futures, timeout=WAIT)
    files = _buffer_files(shm)
    assert len(files) == 2
    time.sleep(0.05)  # a later change time, as any later write has
    with open(files[0], "r+b") as handle:  # same inode, same size, other bytes
        handle.write(b"evil")
    with pytest.raises(wren.TamperedDataError) as caught:
        fexec.get_result(futures)
    assert str(files[0]) in str(caught.value)


def test_a_replaced_result_buffer_is_refused(fexec: wren.FunctionExecutor,
                                            shm: Path) -> None:
    future = fexec.call_async(fn.make_bytes, BIG)
    fexec.wait([future], timeout=WAIT)
    [target] = _buffer_files(shm)
    planted = target.with_name("planted")
    planted.write_bytes(b"e" * BIG)
    os.chmod(planted, 0o600)
    os.replace(planted, target)  # same name and size, another file
    with pytest.raises(wren.TamperedDataError, match="replaced"):
        future.result(timeout=WAIT)


def test_a_replaced_argument_buffer_is_refused_by_the_worker(
        fexec: wren.FunctionExecutor, shm: Path) -> None:
    put = fexec.storage.put_shared

    def put_then_replace(bucket: str, key: str, data: memoryview,
                         writable: bool = False) -> BufferRef:
        ref = put(bucket, key, data, writable)
        os.unlink(ref.path)
        write_buffer(ref.path, memoryview(b"e" * ref.size))
        return ref

    fexec.storage.put_shared = put_then_replace  # type: ignore[method-assign]
    future = fexec.call_async(fn.payload_size, b"a" * BIG)
    with pytest.raises(wren.TamperedDataError, match="replaced"):
        future.result(timeout=WAIT)


def test_an_object_planted_in_the_storage_directory_is_not_read_for_a_buffer(
        fexec: wren.FunctionExecutor, shm: Path) -> None:
    future = fexec.call_async(fn.make_bytes, BIG)
    fexec.wait([future], timeout=WAIT)
    [key] = [k for k in fexec.storage.list_keys(fexec.bucket, keys.job_prefix(future.job_key))
             if "/buffers/" in k]
    fexec.storage.put_object(fexec.bucket, key, b"e" * BIG)  # the storage directory's copy
    assert future.result(timeout=WAIT) == b"x" * BIG


@pytest.mark.parametrize("attack", ["symlink", "mode", "link", "owner", "gone", "short"])
def test_read_buffer_refuses_what_it_did_not_write(tmp_path: Path, attack: str) -> None:
    path = tmp_path / "buf"
    ref = write_buffer(str(path), memoryview(b"a" * 64))
    assert read_buffer(ref) == b"a" * 64
    if attack == "symlink":
        os.replace(path, tmp_path / "real")
        os.symlink(tmp_path / "real", path)
    elif attack == "mode":
        os.chmod(path, 0o644)
    elif attack == "link":
        os.link(path, tmp_path / "other")
    elif attack == "owner":
        if os.geteuid() != 0:
            pytest.skip("changing a file's owner needs root")
        os.chown(path, 12345, -1)
    elif attack == "gone":
        path.unlink()
    else:
        ref = BufferRef(ref.path, 65, ref.device, ref.inode, ref.ctime_ns, ref.mtime_ns)
    with pytest.raises(wren.TamperedDataError):
        read_buffer(ref)


def test_out_of_band_pickles_keep_small_values_inline_and_types_intact(
        tmp_path: Path) -> None:
    np = pytest.importorskip("numpy")
    refs: list[BufferRef] = []

    def put(view: memoryview, writable: bool) -> BufferRef:
        refs.append(write_buffer(str(tmp_path / f"b{len(refs)}"), view, writable))
        return refs[-1]

    serializer = wren.serialize.CloudpickleSerializer()
    with offloading(put) as offloaded:
        small = serializer.dumps([b"a" * 100, {"k": (1, "x")}])
    assert refs == [] and offloaded.bytes == 0
    value: dict[str, Any] = {"raw": (b"r" * BIG,), "array": np.arange(BIG // 8),
                             "mutable": [bytearray(b"m" * BIG)], "small": b"s"}
    with offloading(put) as offloaded:
        blob = serializer.dumps(value)
    assert len(refs) == 3 and offloaded.bytes >= 3 * (BIG - 8) and len(blob) < 4096
    back = serializer.loads(blob)
    assert type(back["raw"][0]) is bytes and back["raw"][0] == value["raw"][0]
    assert type(back["mutable"][0]) is bytearray and back["mutable"][0] == value["mutable"][0]
    assert (back["array"] == value["array"]).all() and back["array"].flags.writeable
    assert back["small"] == b"s" and serializer.loads(small)[1] == {"k": (1, "x")}


def test_a_long_list_is_searched_for_big_values_of_its_own_only(tmp_path: Path) -> None:
    refs: list[BufferRef] = []

    def put(view: memoryview, writable: bool) -> BufferRef:
        refs.append(write_buffer(str(tmp_path / f"b{len(refs)}"), view, writable))
        return refs[-1]

    serializer = wren.serialize.CloudpickleSerializer()
    rows = [(i,) for i in range(500)]  # a chunk of argument tuples: not searched inside
    with offloading(put):
        assert serializer.loads(serializer.dumps([*rows, (b"r" * BIG,)]))[-1][0] == b"r" * BIG
    assert refs == []  # the big value deep in a long list travelled in the pickle
    with offloading(put):
        blob = serializer.dumps([*rows, b"o" * BIG])  # a big value of the list's own
    assert len(refs) == 1 and len(blob) < BIG and serializer.loads(blob)[-1] == b"o" * BIG


def test_a_value_smaller_than_a_big_buffer_is_pickled_once_as_it_is(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    refs: list[BufferRef] = []

    def put(view: memoryview, writable: bool) -> BufferRef:
        refs.append(write_buffer(str(tmp_path / f"b{len(refs)}"), view, writable))
        return refs[-1]

    serializer = wren.serialize.CloudpickleSerializer()
    searched: list[int] = []
    real_wrap = out_of_band._wrap

    def wrap(obj: Any, depth: int, memo: dict[int, Any]) -> Any:
        searched.append(depth)
        return real_wrap(obj, depth, memo)

    monkeypatch.setattr(out_of_band, "_wrap", wrap)
    results = [list(range(i, i + 1250)) for i in range(0, 5000, 1250)]  # a chunk's results
    with offloading(put):
        assert serializer.loads(serializer.dumps(results)) == results
    assert searched == [] and refs == []
    # Past the limit the value is searched: small parts stay in, a big one goes beside it.
    many = [b"p" * (BIG // 8) for _ in range(12)]
    with offloading(put):
        assert serializer.loads(serializer.dumps(many)) == many
    assert searched and refs == []
    with offloading(put):
        blob = serializer.dumps({"rows": results, "raw": [b"r" * BIG]})
    assert len(refs) == 1 and len(blob) < BIG
    assert serializer.loads(blob)["raw"] == [b"r" * BIG]


_DEAD_CLIENT = """
import sys
from wren_backend_local import LocalhostStorage
storage = LocalhostStorage({"storage_dir": sys.argv[2], "shared_memory_dir": sys.argv[1]})
storage.create_bucket("b")
storage.share_prefix("b", "wren.jobs/dead-0/j/buffers/", claim=True)
ref = storage.put_shared("b", "wren.jobs/dead-0/j/buffers/x", memoryview(b"z" * 4096))
storage.put_object("b", "wren.jobs/dead-0/j/status/t0.0000.status", b"status")
print(ref.path)
"""


def test_a_dead_clients_buffers_are_swept_by_the_next_storage(tmp_path: Path,
                                                             shm: Path) -> None:
    storage_dir = str(tmp_path / "storage")
    live = LocalhostStorage({"storage_dir": storage_dir, "shared_memory_dir": str(shm)})
    live.create_bucket("b")
    assert live.share_prefix("b", "wren.jobs/live-0/j/buffers/", claim=True)
    kept = live.put_shared("b", "wren.jobs/live-0/j/buffers/y", memoryview(b"y" * 10))
    out = subprocess.run([sys.executable, "-c", _DEAD_CLIENT, str(shm), storage_dir],
                         check=True, capture_output=True, text=True).stdout
    dead = Path(out.strip())
    assert dead.exists()  # its process is gone, its lock with it
    assert live.share_prefix("b", "wren.jobs/live-0/j/buffers/", claim=False)
    assert not live.share_prefix("b", "wren.jobs/dead-0/j/buffers/", claim=False)
    subprocess.run([sys.executable, "-c", _SWEEPING_CLIENT, str(shm), storage_dir],
                   check=True)  # a new client starts
    assert not dead.exists() and not dead.parent.parent.parent.exists()  # its statuses too
    assert live.list_keys("b", "wren.jobs/dead-0/") == []
    assert Path(kept.path).exists()
    assert live.list_keys("b", "wren.jobs/live-0/") == ["wren.jobs/live-0/j/buffers/y"]
    live.delete_objects("b", ["wren.jobs/live-0/j/buffers/y"])
    assert not Path(kept.path).exists()


def test_a_jobs_statuses_live_in_shared_memory_while_its_client_does(tmp_path: Path,
                                                                     shm: Path) -> None:
    storage_dir = tmp_path / "storage"
    client = LocalhostStorage({"storage_dir": str(storage_dir), "shared_memory_dir": str(shm)})
    client.create_bucket("b")
    early = keys.status_key("e-0/M000", "t0", 0)
    client.put_object("b", early, b"before the claim")  # nobody claimed e-0: on disk
    assert (storage_dir / "b" / early).is_file()
    assert client.share_prefix("b", "wren.jobs/e-0/M000/buffers/", claim=True)
    client.make_prefix("b", keys.status_prefix("e-0/M001"))
    worker = LocalhostStorage({"storage_dir": str(storage_dir), "shared_memory_dir": str(shm)})
    statuses = [keys.status_key("e-0/M001", f"t{i}", 0) for i in range(2)]
    client.put_object("b", statuses[0], b"from the client")  # a lost call's document
    worker.put_object("b", statuses[1], b"from a worker")
    worker.put_object("b", keys.data_key("e-0/M001"), b"arguments")
    on_disk = {p.relative_to(storage_dir / "b").as_posix() for p in _files(storage_dir)}
    assert on_disk == {early, keys.data_key("e-0/M001")}  # no status directory made there
    assert len([p for p in _files(shm) if p.name.endswith(".status")]) == 2
    assert [worker.get_object("b", key) for key in statuses] == [b"from the client",
                                                                 b"from a worker"]
    assert client.list_keys("b", "wren.jobs/e-0/") == sorted(
        [early, *statuses, keys.data_key("e-0/M001")])
    assert client.head_object("b", statuses[1]).size == len(b"from a worker")
    client.delete_objects("b", client.list_keys("b", "wren.jobs/e-0/"))
    assert client.list_keys("b") == [] and not [p for p in _files(shm)
                                                if p.name.endswith(".status")]
    off = LocalhostStorage({"storage_dir": str(storage_dir), "shared_memory": False,
                            "shared_memory_dir": str(shm)})
    off.put_object("b", statuses[0], b"no shared memory")
    assert (storage_dir / "b" / statuses[0]).is_file()


def test_a_jobs_statuses_never_touch_the_storage_directory(
        fexec: wren.FunctionExecutor, tmp_path: Path, shm: Path) -> None:
    futures = fexec.map(fn.double, range(6), chunksize=2)
    fexec.wait(futures, timeout=WAIT)
    statuses = [p for p in _files(shm) if p.name.endswith(".status")]
    assert statuses and all(futures[0].job_key.split("/")[1] in p.parts for p in statuses)
    assert not [p for p in _files(tmp_path / "storage") if "status" in p.parts]
    assert fexec.get_result(futures) == [2 * i for i in range(6)]


_SWEEPING_CLIENT = """
import sys
from wren_backend_local import LocalhostStorage
storage = LocalhostStorage({"storage_dir": sys.argv[2], "shared_memory_dir": sys.argv[1]})
print(storage.list_keys("b", "wren.jobs/dead-0/"), "shutil" in sys.modules)
"""


def test_the_sweep_of_a_fresh_client_imports_no_heavy_module(tmp_path: Path,
                                                              shm: Path) -> None:
    storage_dir = str(tmp_path / "storage")
    for script in (_DEAD_CLIENT, _SWEEPING_CLIENT):
        out = subprocess.run([sys.executable, "-c", script, str(shm), storage_dir],
                             check=True, capture_output=True, text=True).stdout
    assert out.split() == ["[]", "False"]  # swept, without shutil (and its bz2 and lzma)
    assert not [p for p in _files(shm) if "dead-0" in p.parts]


def test_a_process_sweeps_the_shared_directory_once(tmp_path: Path, shm: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from wren_backend_local import shared_memory

    swept: list[Path] = []
    real_sweep = shared_memory.SharedArea.sweep

    def sweep(area: shared_memory.SharedArea) -> None:
        swept.append(area.top)
        real_sweep(area)

    monkeypatch.setattr(shared_memory, "_swept", set())
    monkeypatch.setattr(shared_memory.SharedArea, "sweep", sweep)
    for directory in ("executor", "compute", "executor"):  # an executor's and its compute's
        LocalhostStorage({"storage_dir": str(tmp_path / directory),
                          "shared_memory_dir": str(shm)}).list_keys("b")
    assert len(swept) == 1


def test_without_shared_memory_nothing_is_put_there(tmp_path: Path, shm: Path) -> None:
    storage = LocalhostStorage({"storage_dir": str(tmp_path / "s"), "shared_memory": False,
                                "shared_memory_dir": str(shm)})
    assert not storage.supports(caps.SHARED_MEMORY)
    assert not storage.share_prefix("wren", "wren.jobs/e-0/j/buffers/", claim=True)
    with pytest.raises(wren.NotSupportedError):
        storage.put_shared("wren", "wren.jobs/e-0/j/buffers/x", memoryview(b"x"))


def test_a_value_shared_in_the_arguments_stays_shared(tmp_path: Path) -> None:
    refs: list[BufferRef] = []

    def put(view: memoryview, writable: bool) -> BufferRef:
        refs.append(write_buffer(str(tmp_path / f"b{len(refs)}"), view, writable))
        return refs[-1]

    inner = [b"i" * BIG]
    serializer = wren.serialize.CloudpickleSerializer()
    with offloading(put):
        back = serializer.loads(serializer.dumps({"a": inner, "b": inner}))
    assert len(refs) == 1 and back["a"] is back["b"] and back["a"] == inner


def test_claims_of_many_executors_hold_one_descriptor(tmp_path: Path, shm: Path) -> None:
    storage = LocalhostStorage({"storage_dir": str(tmp_path / "s"),
                                "shared_memory_dir": str(shm)})
    storage.share_prefix("b", "wren.jobs/first-0/", claim=True)
    before = len(os.listdir("/proc/self/fd"))
    for number in range(1, 60):
        assert storage.share_prefix("b", f"wren.jobs/first-{number}/", claim=True)
    assert len(os.listdir("/proc/self/fd")) == before


def test_an_executor_claims_its_shared_memory_when_it_is_created(tmp_path: Path,
                                                                 shm: Path) -> None:
    """The claim (a directory and an owner file in the shared area) is made with the
    executor, not by its first job; an executor inside a worker claims nothing."""
    with wren.FunctionExecutor(backend="localhost", storage="localhost",
                               storage_dir=str(tmp_path / "storage"),
                               shared_memory_dir=str(shm)) as fexec:
        owned = [p for p in _files(shm) if fexec.executor_id in p.parts]
        assert owned, "no claim in the shared area before any job"
        assert fexec.get_result(fexec.map(fn.double, range(3))) == [0, 2, 4]
    from wren import context
    from wren.serialize.out_of_band import claim_shared

    storage = LocalhostStorage({"storage_dir": str(tmp_path / "storage"),
                                "shared_memory_dir": str(shm)})
    context.set_current(storage, object())  # as a worker's executor would be
    try:
        claim_shared(storage, "b", "inside-0")
    finally:
        context.set_current(None, None)
    assert not [p for p in _files(shm) if "inside-0" in p.parts]
