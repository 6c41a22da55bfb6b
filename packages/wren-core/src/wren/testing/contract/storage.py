"""The storage contract: what every `StorageBackend` adapter must do, checked for real.

Bind it with two fixtures: `storage` (an adapter instance) and `bucket` (an existing bucket
the tests may write to). Every test works under its own random prefix, so the suite can run
against a shared bucket and in parallel.
"""

from __future__ import annotations

import io
import os
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from wren import NotSupportedError, StorageNoSuchKeyError
from wren.ports.storage import StorageBackend
from wren.testing.contract._binding import StorageBinding


@pytest.mark.timeout(120)
class StorageBackendContract(StorageBinding):
    """Mixin of storage tests; bind the fixtures `storage` and `bucket`."""

    @pytest.fixture
    def prefix(self, storage: StorageBackend, bucket: str) -> Iterator[str]:
        prefix = f"wren-contract/{uuid.uuid4().hex}/"
        yield prefix
        storage.delete_objects(bucket, storage.list_keys(bucket, prefix))

    def test_put_then_get_returns_the_same_bytes(self, storage: StorageBackend, bucket: str,
                                                 prefix: str) -> None:
        body = os.urandom(1000)
        storage.put_object(bucket, prefix + "a", body)
        assert storage.get_object(bucket, prefix + "a") == body

    def test_put_accepts_bytearray_memoryview_and_files(self, storage: StorageBackend, bucket: str,
                                                        prefix: str) -> None:
        storage.put_object(bucket, prefix + "ba", bytearray(b"abc"))
        storage.put_object(bucket, prefix + "mv", memoryview(b"def"))
        storage.put_object(bucket, prefix + "file", io.BytesIO(b"ghi"))
        assert [storage.get_object(bucket, prefix + k) for k in ("ba", "mv", "file")] == [
            b"abc", b"def", b"ghi"]

    def test_empty_object(self, storage: StorageBackend, bucket: str, prefix: str) -> None:
        storage.put_object(bucket, prefix + "empty", b"")
        assert storage.get_object(bucket, prefix + "empty") == b""
        assert storage.head_object(bucket, prefix + "empty").size == 0

    def test_put_replaces_an_existing_object(self, storage: StorageBackend, bucket: str,
                                             prefix: str) -> None:
        storage.put_object(bucket, prefix + "k", b"old value that is longer")
        storage.put_object(bucket, prefix + "k", b"new")
        assert storage.get_object(bucket, prefix + "k") == b"new"

    @pytest.mark.parametrize(("byte_range", "expected"), [
        ((0, 1), b"0"), ((0, 10), b"0123456789"), ((3, 7), b"3456"), ((9, 10), b"9"),
        ((8, 100), b"89"), ((10, 20), b""), ((50, 60), b""), ((5, 5), b""),
    ])
    def test_ranged_get_is_half_open_and_clipped(self, storage: StorageBackend, bucket: str,
                                                 prefix: str, byte_range: tuple[int, int],
                                                 expected: bytes) -> None:
        storage.put_object(bucket, prefix + "digits", b"0123456789")
        assert storage.get_object(bucket, prefix + "digits", byte_range) == expected

    @pytest.mark.parametrize(("byte_range", "expected"), [
        ((0, 1), b"0"), ((3, 7), b"3456"), ((9, 10), b"9"), ((8, 100), b"89"),
        ((10, 20), b""), ((50, 60), b""), ((5, 5), b""),
    ])
    def test_ranged_stream_is_half_open_and_clipped(self, storage: StorageBackend, bucket: str,
                                                    prefix: str, byte_range: tuple[int, int],
                                                    expected: bytes) -> None:
        storage.put_object(bucket, prefix + "digits", b"0123456789")
        with storage.get_object_stream(bucket, prefix + "digits", byte_range) as stream:
            assert stream.read() == expected

    def test_stream_reads_the_object_and_ranges(self, storage: StorageBackend, bucket: str,
                                                prefix: str) -> None:
        body = os.urandom(3 * 1024 * 1024 + 7)
        storage.put_object(bucket, prefix + "big", body)
        with storage.get_object_stream(bucket, prefix + "big") as stream:
            chunks = []
            while chunk := stream.read(1 << 20):
                chunks.append(chunk)
        assert b"".join(chunks) == body
        with storage.get_object_stream(bucket, prefix + "big", (10, 20)) as stream:
            assert stream.read() == body[10:20]

    def test_head_reports_size(self, storage: StorageBackend, bucket: str, prefix: str) -> None:
        storage.put_object(bucket, prefix + "h", b"x" * 1234)
        info = storage.head_object(bucket, prefix + "h")
        assert (info.key, info.size) == (prefix + "h", 1234)

    def test_missing_key_raises_no_such_key_naming_bucket_and_key(
            self, storage: StorageBackend, bucket: str, prefix: str) -> None:
        key = prefix + "missing"
        for call in (lambda: storage.get_object(bucket, key),
                     lambda: storage.head_object(bucket, key),
                     lambda: storage.get_object(bucket, key, (0, 5)),
                     lambda: storage.get_object_stream(bucket, key, (0, 5)).read()):
            with pytest.raises(StorageNoSuchKeyError) as caught:
                call()
            assert key in str(caught.value) and bucket in str(caught.value)
            assert isinstance(caught.value, KeyError)
        assert storage.exists(bucket, key) is False

    def test_list_returns_keys_under_prefix_in_order(self, storage: StorageBackend, bucket: str,
                                                     prefix: str) -> None:
        keys = ["b/2", "a", "b/1", "c.txt", "b/10", "ab"]
        for key in keys:
            storage.put_object(bucket, prefix + key, key.encode())
        assert storage.list_keys(bucket, prefix) == [prefix + k for k in sorted(keys)]
        assert storage.list_keys(bucket, prefix + "b/") == [prefix + k for k in
                                                             ("b/1", "b/10", "b/2")]
        assert storage.list_keys(bucket, prefix + "a") == [prefix + "a", prefix + "ab"]
        infos = {i.key: i.size for i in storage.list_objects(bucket, prefix + "b/1")}
        assert infos == {prefix + "b/1": 3, prefix + "b/10": 4}
        assert storage.list_keys(bucket, prefix + "nothing-here/") == []

    def test_listing_pages_past_a_thousand_keys(self, storage: StorageBackend, bucket: str,
                                                prefix: str) -> None:
        keys = [f"{prefix}many/{i:05d}" for i in range(1100)]
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda k: storage.put_object(bucket, k, b"."), keys))
        assert storage.list_keys(bucket, prefix + "many/") == keys
        storage.delete_objects(bucket, keys)
        assert storage.list_keys(bucket, prefix + "many/") == []

    def test_delete_objects_ignores_missing_keys(self, storage: StorageBackend, bucket: str,
                                                 prefix: str) -> None:
        storage.put_object(bucket, prefix + "x", b"1")
        storage.put_object(bucket, prefix + "y", b"2")
        storage.delete_objects(bucket, [prefix + "x", prefix + "never-existed"])
        assert storage.list_keys(bucket, prefix) == [prefix + "y"]
        storage.delete_object(bucket, prefix + "y")
        storage.delete_object(bucket, prefix + "y")
        assert storage.list_keys(bucket, prefix) == []

    def test_large_object_round_trip(self, storage: StorageBackend, bucket: str,
                                     prefix: str) -> None:
        body = os.urandom(24 * 1024 * 1024 + 3)
        storage.put_object(bucket, prefix + "large", io.BytesIO(body))
        assert storage.head_object(bucket, prefix + "large").size == len(body)
        assert storage.get_object(bucket, prefix + "large") == body
        assert storage.get_object(bucket, prefix + "large", (len(body) - 10, len(body) + 10)) \
            == body[-10:]

    def test_concurrent_writers_leave_one_whole_body(self, storage: StorageBackend, bucket: str,
                                                     prefix: str) -> None:
        bodies = [bytes([i]) * (512 * 1024) for i in range(8)]
        seen: list[bytes] = []
        stop = threading.Event()

        def read_while_writing() -> None:
            while not stop.is_set():
                try:
                    seen.append(storage.get_object(bucket, prefix + "race"))
                except StorageNoSuchKeyError:
                    pass

        reader = threading.Thread(target=read_while_writing)
        reader.start()
        try:
            with ThreadPoolExecutor(8) as pool:
                list(pool.map(lambda b: storage.put_object(bucket, prefix + "race", b), bodies))
        finally:
            stop.set()
            reader.join()
        assert storage.get_object(bucket, prefix + "race") in bodies
        assert all(body in bodies for body in seen), "a reader saw a mixed or partial object"

    def test_keys_with_unusual_characters(self, storage: StorageBackend, bucket: str,
                                          prefix: str) -> None:
        key = prefix + "dir with space/ünïcode+plus=eq%pct.csv"
        storage.put_object(bucket, key, b"ok")
        assert storage.get_object(bucket, key) == b"ok"
        assert storage.list_keys(bucket, prefix) == [key]

    def test_buckets_are_created_once_and_seen(self, storage: StorageBackend, bucket: str,
                                               prefix: str) -> None:
        storage.put_object(bucket, prefix + "here", b"1")
        try:
            assert storage.bucket_exists(bucket) is True
        except NotSupportedError:
            pytest.skip("this adapter manages no buckets (bucket_exists is optional)")
        fresh = f"wren-contract-{uuid.uuid4().hex[:12]}"
        assert storage.bucket_exists(fresh) is False
        storage.create_bucket(fresh)
        storage.create_bucket(fresh)  # an existing bucket is not an error
        assert storage.bucket_exists(fresh) is True
        storage.put_object(fresh, "k", b"in the new bucket")
        assert storage.list_keys(fresh) == ["k"]
        storage.delete_objects(fresh, ["k"])
