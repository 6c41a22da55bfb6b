"""Localhost storage keeps keys as file paths under `<storage_dir>/<bucket>/`, writes
atomically, and refuses keys that cannot be paths with a clear error."""

from __future__ import annotations

from pathlib import Path

import pytest
from wren import InvalidInputError, StorageError
from wren_backend_local import LocalhostStorage


@pytest.fixture
def storage(tmp_path: Path) -> LocalhostStorage:
    return LocalhostStorage({"storage_dir": str(tmp_path)})


def test_objects_are_files_at_their_key(storage: LocalhostStorage, tmp_path: Path) -> None:
    storage.put_object("b", "dir/sub/data.csv", b"a,b\n")
    assert (tmp_path / "b" / "dir" / "sub" / "data.csv").read_bytes() == b"a,b\n"


def test_files_dropped_in_by_hand_are_objects(storage: LocalhostStorage,
                                              tmp_path: Path) -> None:
    (tmp_path / "b" / "in").mkdir(parents=True)
    (tmp_path / "b" / "in" / "x.txt").write_text("hi")
    assert storage.list_keys("b", "in/") == ["in/x.txt"]
    assert storage.get_object("b", "in/x.txt") == b"hi"


def test_no_temp_files_are_left_or_listed(storage: LocalhostStorage, tmp_path: Path) -> None:
    storage.put_object("b", "k", b"1")
    storage.put_object("b", "k", b"2")
    assert [p.name for p in (tmp_path / "b").iterdir()] == ["k"]


def test_deleting_the_last_object_removes_empty_directories(storage: LocalhostStorage,
                                                            tmp_path: Path) -> None:
    storage.put_object("b", "x/y/z", b"1")
    storage.delete_objects("b", ["x/y/z"])
    assert list((tmp_path / "b").iterdir()) == []


@pytest.mark.parametrize("key", ["", "/abs", "a/../b", "./a", "a//b", ".wren-tmp-x"])
def test_keys_that_cannot_be_paths_are_refused(storage: LocalhostStorage, key: str) -> None:
    with pytest.raises(InvalidInputError, match="invalid key"):
        storage.put_object("b", key, b"x")


def test_an_object_cannot_also_be_a_prefix(storage: LocalhostStorage) -> None:
    storage.put_object("b", "a", b"1")
    with pytest.raises(StorageError, match="already an object"):
        storage.put_object("b", "a/b", b"2")
    storage.put_object("b", "c/d", b"3")
    with pytest.raises(StorageError, match="other objects live under it"):
        storage.put_object("b", "c", b"4")


def test_bad_bucket_names(storage: LocalhostStorage) -> None:
    with pytest.raises(InvalidInputError, match="invalid bucket name"):
        storage.put_object("a/b", "k", b"")


def test_default_storage_dir_is_per_user_under_tmp() -> None:
    storage = LocalhostStorage({})
    assert storage.root.name == "storage" and "wren-" in storage.root.parent.name
    assert storage.default_bucket == "wren"


def test_a_prefix_directory_can_be_made_ahead_of_its_objects(storage: LocalhostStorage,
                                                              tmp_path: Path) -> None:
    storage.make_prefix("b", "wren.jobs/e-0/M000/status/")
    assert (tmp_path / "b" / "wren.jobs" / "e-0" / "M000" / "status").is_dir()
    assert storage.list_keys("b", "wren.jobs/") == []  # a directory is no object
    storage.make_prefix("b", "wren.jobs/e-0/M000/status/")  # made already: nothing to do
    with pytest.raises(InvalidInputError):
        storage.make_prefix("b", "../outside/")


def test_the_compute_makes_each_jobs_status_directory_as_it_invokes(tmp_path: Path) -> None:
    from wren.ports import WorkerStorage
    from wren.protocol.invocation import Invocation
    from wren.protocol.task import Task
    from wren_backend_local import LocalhostCompute

    config = {"storage_dir": str(tmp_path), "shared_memory": False}
    compute = LocalhostCompute({}, WorkerStorage("localhost", config, {}))
    task = Task(job_key="e-0/M007", task_id="t00000", func_key="func/x",
                call_indices=range(1), data_range=(0, 0), storage_backend="localhost",
                storage_config=config, bucket="b", inline_data=b"")
    compute._make_status_dirs([Invocation(task, b"k" * 32)])
    assert (tmp_path / "b" / "wren.jobs" / "e-0" / "M007" / "status").is_dir()
    # with shared memory the statuses go there, and its workers make the directory
    (tmp_path / "shm").mkdir()
    shared = {"storage_dir": str(tmp_path / "s2"), "shared_memory_dir": str(tmp_path / "shm")}
    compute = LocalhostCompute({}, WorkerStorage("localhost", shared, {}))
    compute._make_status_dirs([Invocation(task, b"k" * 32)])
    assert not (tmp_path / "s2").exists() and not any((tmp_path / "shm").iterdir())
