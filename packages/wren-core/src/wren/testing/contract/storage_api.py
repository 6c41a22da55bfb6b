"""The Storage API contract: `wren.Storage` over one storage adapter, as users call it.

Bind it with the storage contract's fixtures, `storage` (an adapter instance) and `bucket`.
It checks the Lithops-style verbs end to end on the adapter: bodies of every kind, byte
ranges in both forms, metadata, listing (with `match_pattern`), buckets, files, the service
client, and `CloudObject`s.
"""

from __future__ import annotations

import io
import os
import pickle
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import wren
from wren.ports.storage import StorageBackend
from wren.testing.contract._binding import StorageBinding


@pytest.mark.timeout(120)
class StorageApiContract(StorageBinding):
    """Mixin of `wren.Storage` tests; bind the fixtures `storage` and `bucket`."""

    @pytest.fixture
    def client(self, storage: StorageBackend) -> wren.Storage:
        return wren.Storage.from_backend(storage)

    @pytest.fixture
    def api_prefix(self, client: wren.Storage, bucket: str) -> Iterator[str]:
        prefix = f"wren-api-contract/{uuid.uuid4().hex}/"
        yield prefix
        client.delete_objects(bucket, client.list_keys(bucket, prefix))

    def test_put_and_get_bodies_of_every_kind(self, client: wren.Storage, bucket: str,
                                              api_prefix: str) -> None:
        client.put_object(bucket, api_prefix + "s", "héllo")
        client.put_object(bucket, api_prefix + "b", b"bytes")
        client.put_object(bucket, api_prefix + "f", io.BytesIO(b"file"))
        assert client.get_object(bucket, api_prefix + "s") == "héllo".encode()
        assert client.get_object(bucket, api_prefix + "b") == b"bytes"
        with client.get_object(bucket, api_prefix + "f", stream=True) as stream:
            assert stream.read() == b"file"

    @pytest.mark.parametrize(("header", "expected"), [
        ("bytes=0-0", b"0"), ("bytes=2-5", b"2345"), ("bytes=7-", b"789"),
        ("bytes=-3", b"789"), ("bytes=8-100", b"89"), ("bytes=-100", b"0123456789"),
    ])
    def test_ranges_in_both_forms(self, client: wren.Storage, bucket: str, api_prefix: str,
                                  header: str, expected: bytes) -> None:
        client.put_object(bucket, api_prefix + "d", b"0123456789")
        assert client.get_object(bucket, api_prefix + "d",
                                 extra_get_args={"Range": header}) == expected
        with client.get_object(bucket, api_prefix + "d", stream=True,
                               extra_get_args={"Range": header}) as stream:
            assert stream.read() == expected
        assert client.get_object(bucket, api_prefix + "d", byte_range=(2, 6)) == b"2345"

    def test_bad_range_is_a_clear_error(self, client: wren.Storage, bucket: str,
                                        api_prefix: str) -> None:
        client.put_object(bucket, api_prefix + "d", b"0123456789")
        with pytest.raises(wren.InvalidInputError, match="bytes=<first>-<last>"):
            client.get_object(bucket, api_prefix + "d", extra_get_args={"Range": "2-5"})
        with pytest.raises(wren.InvalidInputError, match="supports only 'Range'"):
            client.get_object(bucket, api_prefix + "d", extra_get_args={"IfMatch": "x"})

    def test_head_list_and_delete(self, client: wren.Storage, bucket: str,
                                  api_prefix: str) -> None:
        for name in ("x/2", "x/1", "y"):
            client.put_object(bucket, api_prefix + name, name * 10)
        head = client.head_object(bucket, api_prefix + "y")
        assert head["content-length"] == "10"
        listed = client.list_objects(bucket, api_prefix + "x/")
        assert [(o["Key"], o["Size"]) for o in listed] == [(api_prefix + "x/1", 30),
                                                           (api_prefix + "x/2", 30)]
        assert client.list_keys(bucket, api_prefix) == [api_prefix + k for k in
                                                        ("x/1", "x/2", "y")]
        client.delete_object(bucket, api_prefix + "y")
        client.delete_objects(bucket, [api_prefix + "x/1", api_prefix + "x/2"])
        assert client.list_keys(bucket, api_prefix) == []

    def test_missing_keys_raise_no_such_key(self, client: wren.Storage, bucket: str,
                                            api_prefix: str) -> None:
        key = api_prefix + "absent"
        for call in (lambda: client.get_object(bucket, key),
                     lambda: client.head_object(bucket, key),
                     lambda: client.get_object(bucket, key, extra_get_args={"Range":
                                                                            "bytes=-2"}),
                     lambda: client.get_cloudobject(wren.CloudObject(client.backend, bucket,
                                                                     key))):
            with pytest.raises(wren.StorageNoSuchKeyError) as caught:
                call()
            assert key in str(caught.value) and bucket in str(caught.value)

    def test_upload_and_download_files(self, client: wren.Storage, bucket: str,
                                       api_prefix: str, tmp_path: Path) -> None:
        body = os.urandom(3 * 1024 * 1024 + 5)
        source = tmp_path / "source.bin"
        source.write_bytes(body)
        assert client.upload_file(source, bucket, api_prefix + "up.bin")
        target = tmp_path / "out" / "copy.bin"
        assert client.download_file(bucket, api_prefix + "up.bin", target)
        assert target.read_bytes() == body

    def test_cloudobjects_round_trip_and_pickle(self, client: wren.Storage, bucket: str,
                                                api_prefix: str) -> None:
        named = client.put_cloudobject(b"named", bucket, api_prefix + "co")
        anonymous = client.put_cloudobject("anonymous", bucket)
        assert named == wren.CloudObject(client.backend, bucket, api_prefix + "co")
        assert anonymous.key.startswith("wren.cloudobjects/")
        assert pickle.loads(pickle.dumps(anonymous)) == anonymous
        assert client.get_cloudobject(named) == b"named"
        with client.get_cloudobject(anonymous, stream=True) as stream:
            assert stream.read() == b"anonymous"
        client.delete_cloudobjects([named, anonymous])
        assert not client.storage_handler.exists(anonymous.bucket, anonymous.key)
        with pytest.raises(wren.InvalidInputError, match="lives in storage backend"):
            client.get_cloudobject(wren.CloudObject("elsewhere", bucket, "k"))

    def test_list_objects_match_pattern(self, client: wren.Storage, bucket: str,
                                        api_prefix: str) -> None:
        for name in ("a.csv", "a.txt", "d/b.csv", "d/e/c.csv", "d/e/f.txt"):
            client.put_object(bucket, api_prefix + name, b"x")

        def keys(pattern: str) -> list[str]:
            found = client.list_objects(bucket, api_prefix, match_pattern=api_prefix + pattern)
            return [entry["Key"][len(api_prefix):] for entry in found]

        assert keys("*.csv") == ["a.csv"]  # `*` stays inside one part of the key
        assert keys("**/*.csv") == ["a.csv", "d/b.csv", "d/e/c.csv"]
        assert keys("d/**") == ["d/b.csv", "d/e/c.csv", "d/e/f.txt"]
        assert keys("d/?/*.txt") == ["d/e/f.txt"]
        entry = client.list_objects(bucket, api_prefix + "a.c")[0]
        assert (entry["Key"], entry["Size"]) == (api_prefix + "a.csv", 1)
        assert set(entry) >= {"Key", "Size", "LastModified"}

    def test_buckets_as_lithops_has_them(self, client: wren.Storage, bucket: str,
                                         api_prefix: str) -> None:
        client.put_object(bucket, api_prefix + "k", b"1")
        try:
            answer = client.head_bucket(bucket)
        except wren.NotSupportedError:
            pytest.skip("this adapter manages no buckets (bucket_exists is optional)")
        assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
        fresh = f"wren-api-{uuid.uuid4().hex[:12]}"
        with pytest.raises(wren.StorageNoSuchKeyError, match=fresh):
            client.head_bucket(fresh)
        client.create_bucket(fresh)
        client.create_bucket(fresh)
        assert client.head_bucket(fresh)["ResponseMetadata"]["HTTPStatusCode"] == 200

    def test_get_client_is_the_service_client(self, client: wren.Storage, bucket: str,
                                              api_prefix: str) -> None:
        native = client.storage_handler.native_client()
        service = client.get_client()
        if native is not None:
            assert service is native
            if not hasattr(service, "list_objects_v2"):
                return  # not an S3 client: nothing more to check in boto3's terms
        service.put_object(Bucket=bucket, Key=api_prefix + "b", Body=b"boto style")
        assert service.get_object(Bucket=bucket, Key=api_prefix + "b")["Body"].read() == (
            b"boto style")
        listed = service.list_objects_v2(Bucket=bucket, Prefix=api_prefix)
        assert [o["Key"] for o in listed["Contents"]] == [api_prefix + "b"]
